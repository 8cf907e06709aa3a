import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { EarlyStopping } from "../../../src/optimize/callbacks/early-stopping.js";
import type { TrainingCallback } from "../../../src/optimize/callbacks/training-callback.js";
import { loadDigits } from "../../../src/optimize/datasets.js";
import { buildMlp } from "../../../src/optimize/models.js";
import { initTensorflow } from "../../../src/optimize/runtime.js";
import { trainModel } from "../../../src/optimize/train.js";
import { headOf } from "../helpers.js";
import { recordingControl } from "./fake-control.js";

/** A callback that writes a scripted validation loss into each epoch's logs. */
function scripted(values: number[]): TrainingCallback {
  return {
    name: "script",
    onEpochEnd: (logs) => {
      logs.valLoss = values[logs.epoch] as number;
    },
  };
}

describe("early stopping", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  it("stops once the metric has not improved for `patience` epochs (scripted sequence)", () => {
    const cases: {
      values: number[];
      patience: number;
      minDelta?: number;
      stopAfter: number | null;
      best: number;
    }[] = [
      { values: [1.0, 0.8, 0.7, 0.72, 0.71, 0.75, 0.6], patience: 2, stopAfter: 4, best: 2 },
      { values: [1.0, 0.8, 0.7, 0.72, 0.69, 0.75, 0.76], patience: 2, stopAfter: 6, best: 4 },
      // 0.695 is better than 0.7 by less than minDelta 0.01: not an improvement.
      {
        values: [1.0, 0.7, 0.695, 0.699, 0.692, 0.5],
        patience: 3,
        minDelta: 0.01,
        stopAfter: 4,
        best: 1,
      },
      { values: [3, 2, 1], patience: 1, stopAfter: null, best: 2 },
    ];
    for (const c of cases) {
      const stopping = new EarlyStopping({
        patience: c.patience,
        minDelta: c.minDelta,
        restoreBestWeights: false,
      });
      const control = recordingControl();
      stopping.onTrainBegin();
      let stoppedAt: number | null = null;
      for (const [epoch, valLoss] of c.values.entries()) {
        stopping.onEpochEnd({ epoch, loss: 1, valLoss, durationS: 0 }, control);
        if (control.stops.length > 0) {
          stoppedAt = epoch;
          break;
        }
      }
      expect(stoppedAt).toBe(c.stopAfter);
      expect(stopping.best?.epoch).toBe(c.best);
    }
  });

  it("watches accuracy upwards", () => {
    const stopping = new EarlyStopping({
      monitor: "valAccuracy",
      patience: 1,
      restoreBestWeights: false,
    });
    const control = recordingControl();
    stopping.onTrainBegin();
    [0.5, 0.7, 0.69].forEach((valAccuracy, epoch) =>
      stopping.onEpochEnd({ epoch, loss: 1, valAccuracy, durationS: 0 }, control),
    );
    expect(control.stops).toHaveLength(1);
    expect(stopping.best).toEqual({ value: 0.7, epoch: 1 });
  });

  it("ends real training at the right epoch and restores the best epoch's weights", async () => {
    const digits = loadDigits();
    const model = buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [16], classes: 10, seed: 2 });
    const weightsAtEpochEnd: Float32Array[] = [];
    const probe: TrainingCallback = {
      name: "probe",
      onEpochEnd: () => {
        weightsAtEpochEnd.push(Float32Array.from((model.getWeights()[0] as tf.Tensor).dataSync()));
      },
    };
    const stopping = new EarlyStopping({ patience: 2 });
    const result = await trainModel(model, headOf(digits.train, 200), {
      epochs: 10,
      batchSize: 50,
      learningRate: 0.01,
      callbacks: [scripted([0.9, 0.5, 0.6, 0.4, 0.45, 0.41, 0.3, 0.2, 0.1, 0.05]), probe, stopping],
    });
    expect(result.epochsRun).toBe(6);
    expect(result.history.map((h) => h.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(result.stopReason).toMatch(/did not improve for 2 epochs \(best 0\.4 at epoch 4\)/);
    const restored = (model.getWeights()[0] as tf.Tensor).dataSync();
    const best = weightsAtEpochEnd[3] as Float32Array;
    restored.forEach((v, i) => expect(v).toBe(best[i]));
    expect(restored).not.toEqual(weightsAtEpochEnd[5]);
  });
});
