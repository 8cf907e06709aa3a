import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { ReduceLrOnPlateau } from "../../../src/optimize/callbacks/reduce-lr-on-plateau.js";
import type { TrainingCallback } from "../../../src/optimize/callbacks/training-callback.js";
import { loadDigits } from "../../../src/optimize/datasets.js";
import { buildMlp } from "../../../src/optimize/models.js";
import { initTensorflow } from "../../../src/optimize/runtime.js";
import { trainModel } from "../../../src/optimize/train.js";
import { headOf } from "../helpers.js";
import { recordingControl } from "./fake-control.js";

describe("reduce learning rate on plateau", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  it("multiplies the rate by the factor after `patience` epochs without improvement, respecting cooldown and the floor", () => {
    const plateau = new ReduceLrOnPlateau({
      patience: 2,
      factor: 0.5,
      cooldown: 2,
      minLearningRate: 0.002,
    });
    const control = recordingControl(0.01);
    plateau.onTrainBegin();
    const losses = [1.0, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89];
    losses.forEach((valLoss, epoch) =>
      plateau.onEpochEnd({ epoch, loss: 1, valLoss, durationS: 0 }, control),
    );
    expect(plateau.reductions.map((r) => r.epoch)).toEqual([3, 6, 9]);
    expect(control.learningRates.map((r) => Number(r.toFixed(6)))).toEqual([
      0.01, 0.005, 0.0025, 0.002,
    ]);
  });

  it("changes the learning rate the optimizer really uses", async () => {
    const digits = loadDigits();
    const optimizer = tf.train.adam(0.02);
    const rates: (number | null | undefined)[] = [];
    const script: TrainingCallback = {
      name: "script",
      onEpochEnd: (logs) => {
        logs.valLoss = 1; // never improves
        rates.push(logs.learningRate);
      },
    };
    await trainModel(
      buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [8], classes: 10 }),
      headOf(digits.train, 64),
      {
        epochs: 4,
        batchSize: 64,
        optimizer,
        callbacks: [script, new ReduceLrOnPlateau({ patience: 1, factor: 0.1 })],
      },
    );
    expect(rates.map((r) => Number((r as number).toPrecision(6)))).toEqual([
      0.02, 0.02, 0.002, 0.0002,
    ]);
    expect((optimizer as unknown as { learningRate: number }).learningRate).toBeCloseTo(
      0.00002,
      10,
    );
    optimizer.dispose();
  });
});
