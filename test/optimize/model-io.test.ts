import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { WattprintError } from "../../src/errors.js";
import {
  fileIoHandler,
  loadModel,
  saveModel,
  savedModelBytes,
} from "../../src/optimize/model-io.js";
import { buildCnn } from "../../src/optimize/models.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { predictValues, tempDir } from "./helpers.js";

describe("model files", () => {
  const dir = tempDir();
  beforeAll(async () => {
    await initTensorflow();
  });
  afterAll(() => dir.cleanup());

  it("saves model.json + weights.bin that load back to the same function", async () => {
    const model = buildCnn({
      inputShape: [8, 8, 1],
      classes: 10,
      filters: [4],
      denseUnits: 8,
      padding: "same",
      seed: 2,
    });
    const x = tf.randomUniform([3, 8, 8, 1], 0, 1, "float32", 9);
    const saved = await saveModel(model, join(dir.path, "cnn"));
    expect(existsSync(join(dir.path, "cnn", "model.json"))).toBe(true);
    expect(saved.weightsBytes).toBe(model.countParams() * 4);
    expect(statSync(join(dir.path, "cnn", "weights.bin")).size).toBe(saved.weightsBytes);
    expect(savedModelBytes(join(dir.path, "cnn"))).toBe(saved.totalBytes);
    const json = JSON.parse(readFileSync(join(dir.path, "cnn", "model.json"), "utf8"));
    expect(json.format).toBe("layers-model");
    expect(json.weightsManifest[0].paths).toEqual(["weights.bin"]);

    const loaded = await loadModel(join(dir.path, "cnn"));
    const before = predictValues(model, x);
    const after = predictValues(loaded, x);
    after.forEach((v, i) => expect(v).toBeCloseTo(before[i] as number, 6));
    // The path of model.json itself works too, and so does TF.js's own loader with the handler.
    expect((await loadModel(join(dir.path, "cnn", "model.json"))).countParams()).toBe(
      model.countParams(),
    );
    const viaHandler = await tfl.loadLayersModel(fileIoHandler(join(dir.path, "cnn")));
    expect(viaHandler.countParams()).toBe(model.countParams());
    await model.save(fileIoHandler(join(dir.path, "via-save")));
    expect((await loadModel(join(dir.path, "via-save"))).countParams()).toBe(model.countParams());
  });

  it("saves quantized weights at a quarter of the size (int8)", async () => {
    const model = buildCnn({
      inputShape: [8, 8, 1],
      classes: 10,
      filters: [8],
      denseUnits: 16,
      padding: "same",
    });
    const full = await saveModel(model, join(dir.path, "full"));
    const int8 = await saveModel(model, join(dir.path, "int8"), { quantization: "int8" });
    const biases = 8 + 16 + 10;
    expect(int8.weightsBytes).toBe(model.countParams() - biases + biases * 4);
    expect(full.weightsBytes / int8.weightsBytes).toBeGreaterThan(3.5);
    expect((await loadModel(join(dir.path, "int8"))).countParams()).toBe(model.countParams());
  });

  it("says clearly what is wrong with a missing or malformed model", async () => {
    const expectError = async (path: string, code: string, pattern: RegExp) => {
      const error = await loadModel(path).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WattprintError);
      expect((error as WattprintError).code).toBe(code);
      expect((error as WattprintError).message).toMatch(pattern);
      expect((error as WattprintError).hint).toBeTruthy();
    };
    await expectError(join(dir.path, "nothing-here"), "NOT_FOUND", /does not exist/);

    const bad = tempDir();
    writeFileSync(join(bad.path, "model.json"), "{ not json");
    await expectError(bad.path, "BAD_INPUT", /not valid JSON/);
    writeFileSync(join(bad.path, "model.json"), JSON.stringify({ format: "layers-model" }));
    await expectError(bad.path, "BAD_INPUT", /no modelTopology/);

    const model = buildCnn({
      inputShape: [8, 8, 1],
      classes: 10,
      filters: [4],
      denseUnits: 8,
      padding: "same",
    });
    await saveModel(model, bad.path);
    writeFileSync(join(bad.path, "weights.bin"), Buffer.alloc(10));
    await expectError(bad.path, "BAD_INPUT", /hold 10 bytes; its manifest describes/);
    bad.cleanup();
  });
});
