import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { WattprintError } from "../../src/errors.js";
import { loadDigits } from "../../src/optimize/datasets.js";
import { buildCnn, buildMlp } from "../../src/optimize/models.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { evaluateLoss, trainModel } from "../../src/optimize/train.js";
import { headOf } from "./helpers.js";

describe("training loop", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  it("trains an MLP and a CNN on the digits well above chance, loss falling, without leaking tensors", async () => {
    const digits = loadDigits();
    const train = headOf(digits.train, 800);
    for (const model of [
      buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [32], classes: 10, seed: 1 }),
      buildCnn({
        inputShape: [8, 8, 1],
        classes: 10,
        filters: [8],
        denseUnits: 16,
        padding: "same",
        seed: 1,
      }),
    ]) {
      const before = evaluateLoss(model, digits.test);
      const tensors = tf.memory().numTensors;
      const result = await trainModel(model, train, {
        epochs: 4,
        batchSize: 32,
        learningRate: 0.01,
        validation: digits.test,
      });
      expect(tf.memory().numTensors).toBe(tensors);
      expect(result.epochsRun).toBe(4);
      expect(result.steps).toBe(4 * Math.ceil(800 / 32));
      const losses = result.history.map((h) => h.loss);
      expect(losses[3]).toBeLessThan(losses[0] as number);
      const after = evaluateLoss(model, digits.test);
      expect(after.loss).toBeLessThan(before.loss);
      expect(after.accuracy).toBeGreaterThan(0.6);
      expect(result.history.at(-1)?.valAccuracy).toBeCloseTo(after.accuracy, 6);
      expect(result.energyJ).toBeNull(); // no meter given
      model.dispose();
    }
  });

  it("rejects data that do not fit the model with a shape-mismatch line", async () => {
    const digits = loadDigits();
    const model = buildMlp({ inputShape: [28, 28, 1], classes: 10 });
    const error = await trainModel(model, digits.train, { epochs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WattprintError);
    expect((error as WattprintError).message).toMatch(
      /shape mismatch: the model takes inputs of shape \[28, 28, 1\] \(784 values\), the training data have 64 values per sample/,
    );
    const fewClasses = buildMlp({ inputShape: [8, 8, 1], classes: 5 });
    await expect(trainModel(fewClasses, digits.train, { epochs: 1 })).rejects.toThrow(
      /have label 9, the model outputs 5 classes/,
    );
  });
});
