import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { exportModelToOnnx } from "../../../src/optimize/onnx/export.js";
import { createOnnxRunner } from "../../../src/optimize/onnx/session.js";
import { encodeModel, OnnxDataType } from "../../../src/optimize/onnx/onnx-proto.js";
import { WattprintError } from "../../../src/errors.js";
import { denseLayer } from "./model-fixtures.js";
import { randomValues, referenceForwardBatch, seededRandom } from "./reference.js";

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

async function expectBadInput(action: () => Promise<unknown>, message: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WattprintError);
  expect((caught as WattprintError).code).toBe("BAD_INPUT");
  expect((caught as WattprintError).message).toMatch(message);
}

describe("createOnnxRunner", () => {
  const spec = { inputShape: [6], layers: [denseLayer(seededRandom(21), 6, 3, "relu")] };

  it("names the input, runs batches of any size and can be closed", async () => {
    const runner = await createOnnxRunner(exportModelToOnnx(spec), { intraOpThreads: 2 });
    expect(runner.inputName).toBe("input");
    for (const batch of [1, 4]) {
      const input = randomValues(seededRandom(batch), batch * 6);
      const output = await runner.run(input, batch);
      const expected = referenceForwardBatch(spec, input, batch).flatMap((sample) =>
        Array.from(sample),
      );
      expect(output).toHaveLength(batch * 3);
      expected.forEach((value, index) => expect(output[index]).toBeCloseTo(value, 5));
    }
    await runner.close();
  });

  it("rejects input that does not fit the model, a bad batch and bad options", async () => {
    const runner = await createOnnxRunner(exportModelToOnnx(spec));
    await expectBadInput(
      () => runner.run(new Float32Array(7), 1),
      /7 values; a batch of 1 needs 6/,
    );
    await expectBadInput(() => runner.run(new Float32Array(12), 3), /a batch of 3 needs 18/);
    await expectBadInput(
      () => runner.run(new Float32Array(6), 0),
      /batch must be a positive integer/,
    );
    await runner.close();
    await expectBadInput(
      () => createOnnxRunner(exportModelToOnnx(spec), { intraOpThreads: 0 }),
      /intraOpThreads/,
    );
  });

  it("rejects bytes that are not an ONNX model and a model without a float32 input", async () => {
    await expectBadInput(
      () => createOnnxRunner(new TextEncoder().encode("not a model at all")),
      /onnxruntime rejected the model/,
    );
    const int64Identity = encodeModel({
      irVersion: 7,
      opsetImports: [{ domain: "", version: 13 }],
      producerName: "test",
      producerVersion: "0",
      graph: {
        name: "g",
        nodes: [{ name: "id", opType: "Identity", inputs: ["x"], outputs: ["y"], attributes: [] }],
        initializers: [],
        inputs: [{ name: "x", elemType: OnnxDataType.int64, shape: ["batch", 2] }],
        outputs: [{ name: "y", elemType: OnnxDataType.int64, shape: ["batch", 2] }],
      },
    });
    await expectBadInput(() => createOnnxRunner(int64Identity), /float32 tensor input/);
  });
});

describe("lazy loading", () => {
  it("does not resolve onnxruntime-node when the exporter and session modules are imported, only when a runner is created", () => {
    const dir = mkdtempSync(join(tmpdir(), "wattprint-onnx-lazy-"));
    tempDirs.push(dir);
    const log = join(dir, "resolved.log");
    writeFileSync(log, "");
    // A module resolve hook logs every specifier that names onnxruntime; the script logs its own progress in between.
    writeFileSync(
      join(dir, "hooks.mjs"),
      `import { appendFileSync } from "node:fs";
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  if (specifier.includes("onnxruntime")) appendFileSync(log, "resolve " + specifier + "\\n");
  return next(specifier, context);
}
`,
    );
    writeFileSync(
      join(dir, "register.mjs"),
      `import { register } from "node:module";
register(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)}, { data: { log: ${JSON.stringify(log)} } });
`,
    );
    const srcUrl = (file: string) =>
      JSON.stringify(pathToFileURL(resolve("src/optimize/onnx", file)).href);
    writeFileSync(
      join(dir, "main.mts"),
      `import { appendFileSync } from "node:fs";
const log = ${JSON.stringify(log)};
const exporter = await import(${srcUrl("export.ts")});
const session = await import(${srcUrl("session.ts")});
appendFileSync(log, "imported\\n");
const bytes = exporter.exportModelToOnnx({ inputShape: [2], layers: [{ kind: "flatten" }] });
const runner = await session.createOnnxRunner(bytes);
appendFileSync(log, "created\\n");
await runner.close();
`,
    );
    execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--import",
        pathToFileURL(join(dir, "register.mjs")).href,
        join(dir, "main.mts"),
      ],
      {
        cwd: process.cwd(),
        stdio: "pipe",
        timeout: 60_000,
      },
    );
    const lines = readFileSync(log, "utf8").trim().split("\n");
    const imported = lines.indexOf("imported");
    const created = lines.indexOf("created");
    const firstOnnx = lines.findIndex((line) => line === "resolve onnxruntime-node");
    expect(imported).toBeGreaterThanOrEqual(0);
    expect(firstOnnx).toBeGreaterThan(imported);
    expect(firstOnnx).toBeLessThan(created);
  });
});
