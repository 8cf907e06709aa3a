import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readLabelModel } from "../../src/label/model-file.js";
import { readOnnxInput, valuesPerSample } from "../../src/label/onnx-input.js";
import { resolveLabelTask } from "../../src/label/tasks.js";
import { exportModelToOnnx, quantizeOnnxDynamicInt8 } from "../../src/optimize/onnx/export.js";
import { buildReferenceSpec } from "../../src/label/reference-family.js";
import { writeModel } from "./model-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "wattprint-label-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mnist = resolveLabelTask("mnist-classification");
const digits = resolveLabelTask("digits-classification");

describe("readOnnxInput", () => {
  it("reads the input name, type and batch-first shape of exported float32 and int8 models", () => {
    const cnn = buildReferenceSpec(mnist, { kind: "cnn", channels: 4, dense: 16 }, 1);
    const mlp = buildReferenceSpec(digits, { kind: "mlp", hidden: [8] }, 1);
    for (const [spec, bytes] of [
      [cnn, exportModelToOnnx(cnn)],
      [cnn, quantizeOnnxDynamicInt8(cnn)],
      [mlp, exportModelToOnnx(mlp)],
      [mlp, quantizeOnnxDynamicInt8(mlp)],
    ] as const) {
      const input = readOnnxInput(bytes);
      expect(input.name).toBe("input");
      expect(input.elemType).toBe(1);
      expect(input.shape?.slice(1)).toEqual(spec.inputShape);
      expect(typeof input.shape?.[0]).toBe("string");
      expect(valuesPerSample(input)).toBe(spec.inputShape.reduce((a, b) => a * b, 1));
    }
  });

  it("refuses bytes that are not an ONNX model", () => {
    expect(() => readOnnxInput(new TextEncoder().encode("hello, this is not a model"))).toThrow(
      /not an ONNX model/,
    );
    expect(() => readOnnxInput(new Uint8Array())).toThrow(/no graph/);
    const whole = exportModelToOnnx(buildReferenceSpec(digits, { kind: "mlp", hidden: [8] }, 1));
    expect(() => readOnnxInput(whole.subarray(0, Math.floor(whole.length / 2)))).toThrow(
      /not an ONNX model/,
    );
  });

  it("gives no per-sample size when a dimension is symbolic", () => {
    expect(valuesPerSample({ name: "x", elemType: 1, shape: ["batch", "features"] })).toBeNull();
    expect(valuesPerSample({ name: "x", elemType: 1, shape: null })).toBeNull();
  });
});

describe("readLabelModel", () => {
  const hasSha256sum = spawnSync("sha256sum", ["--version"]).status === 0;

  it.skipIf(!hasSha256sum)("hashes the file as sha256sum does", () => {
    const path = writeModel(dir, "hashed", "mnist-classification", { kind: "mlp", hidden: [16] });
    const model = readLabelModel(path, mnist);
    const expected = spawnSync("sha256sum", [path]).stdout.toString().split(" ")[0];
    expect(model.sha256).toBe(expected);
    expect(model.fileName).toBe("hashed.onnx");
    expect(model.sizeBytes).toBeGreaterThan(16 * 784 * 4);
  });

  it("refuses a model whose input does not take the task's queries, naming both sizes", () => {
    const path = writeModel(dir, "digits-mlp", "digits-classification", {
      kind: "mlp",
      hidden: [16],
    });
    let error: unknown;
    try {
      readLabelModel(path, mnist);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "BAD_INPUT" });
    expect((error as Error).message).toMatch(/takes 64 values per query .* gives 784/);
    expect((error as { hint?: string }).hint).toMatch(/784/);
  });

  it("says what is wrong with a missing file, a directory and a file that is not ONNX", () => {
    expect(() => readLabelModel(join(dir, "absent.onnx"), mnist)).toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
    const folder = join(dir, "folder.onnx");
    mkdirSync(folder);
    expect(() => readLabelModel(folder, mnist)).toThrow(/is a directory/);
    const text = join(dir, "notes.onnx");
    writeFileSync(text, "not a model\n");
    expect(() => readLabelModel(text, mnist)).toThrow(
      expect.objectContaining({
        code: "BAD_INPUT",
        message: expect.stringMatching(/not an ONNX model/),
      }),
    );
  });
});
