import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { EarlyStopping } from "../../src/optimize/callbacks/early-stopping.js";
import { EnergyLogger } from "../../src/optimize/callbacks/energy-logger.js";
import { tfjsCallbacks } from "../../src/optimize/callbacks/tfjs-adapter.js";
import { loadDigits } from "../../src/optimize/datasets.js";
import { EnergyMeter } from "../../src/optimize/energy-meter.js";
import { buildMlp } from "../../src/optimize/models.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { headOf, tempDir, testTracker } from "./helpers.js";

describe("green callbacks inside TF.js model.fit", () => {
  const home = tempDir();
  beforeAll(async () => {
    await initTensorflow();
  });
  afterAll(() => home.cleanup());

  it("measures each epoch and stops model.fit when a callback asks", async () => {
    const digits = loadDigits();
    const data = headOf(digits.train, 200);
    const model = buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [8], classes: 10 });
    model.compile({
      optimizer: tf.train.adam(0.01),
      loss: "categoricalCrossentropy",
      metrics: ["accuracy"],
    });
    const x = tf.tensor(data.x, [data.count, 8, 8, 1]);
    const y = tf.oneHot(tf.tensor1d(data.y, "int32"), 10);
    const tracker = testTracker(home.path);
    await tracker.start();
    try {
      const logger = new EnergyLogger();
      // With minDelta 1e9 no epoch counts as an improvement: patience 1 stops after epoch 2.
      const stopping = new EarlyStopping({
        monitor: "loss",
        patience: 1,
        minDelta: 1e9,
        restoreBestWeights: false,
      });
      const bridge = tfjsCallbacks(model, [logger, stopping], {
        epochs: 10,
        meter: new EnergyMeter(tracker),
      });
      const history = await model.fit(x, y, {
        epochs: 10,
        batchSize: 50,
        callbacks: bridge.callback,
        verbose: 0,
      });
      expect(history.epoch).toEqual([0, 1]);
      expect(bridge.stopReason()).toMatch(/early-stopping/);
      expect(bridge.history).toHaveLength(2);
      expect(bridge.history[0]?.loss).toBeCloseTo(history.history.loss?.[0] as number, 6);
      expect(bridge.history[0]?.accuracy).toBeCloseTo(history.history.acc?.[0] as number, 6);
      expect(bridge.history.every((h) => typeof h.energyJ === "number" && h.energyJ > 0)).toBe(
        true,
      );
      expect(logger.entries[1]?.totalEnergyJ).toBeCloseTo(
        (bridge.history[0]?.energyJ as number) + (bridge.history[1]?.energyJ as number),
        9,
      );
    } finally {
      await tracker.stop();
      x.dispose();
      y.dispose();
    }
  });
});
