import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDigits, type DataSplit } from "../../src/optimize/datasets.js";
import { EnergyMeter } from "../../src/optimize/energy-meter.js";
import {
  measurePredictor,
  predictorAccuracy,
  tfjsPredictor,
  type Predictor,
} from "../../src/optimize/measure.js";
import { buildMlp } from "../../src/optimize/models.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { burnCpu, headOf, tempDir, testTracker } from "./helpers.js";

/** A stand-in classifier: right on every sample whose index is a multiple of `every`, and `costMs` of CPU per call. */
function standIn(data: DataSplit, every: number, costMs: number): Predictor {
  return {
    features: 64,
    classes: 10,
    async predict(input, batch) {
      if (costMs > 0) burnCpu(costMs);
      const out = new Float32Array(batch * 10);
      for (let i = 0; i < batch; i++) {
        // Find the sample by its pixels (the inputs are rows of `data`).
        const row = findRow(data, input.subarray(i * 64, (i + 1) * 64));
        const label = data.y[row] as number;
        out[i * 10 + (row % every === 0 ? label : (label + 1) % 10)] = 1;
      }
      return out;
    },
  };
}

function findRow(data: DataSplit, sample: Float32Array): number {
  for (let r = 0; r < data.count; r++) {
    let same = true;
    for (let f = 0; f < 64 && same; f++) same = data.x[r * 64 + f] === sample[f];
    if (same) return r;
  }
  throw new Error("sample not found");
}

describe("measuring a variant", () => {
  const home = tempDir();
  beforeAll(async () => {
    await initTensorflow();
  });
  afterAll(() => home.cleanup());

  it("computes accuracy as the share of right answers", async () => {
    const test = headOf(loadDigits().test, 120);
    expect(await predictorAccuracy(standIn(test, 1, 0), test)).toBe(1);
    expect(await predictorAccuracy(standIn(test, 3, 0), test)).toBeCloseTo(40 / 120, 10);
    expect(await predictorAccuracy(standIn(test, 4, 0), test, 7)).toBeCloseTo(30 / 120, 10);
  });

  it("measures latency and energy per 1,000 inferences that follow the work done per call", async () => {
    const test = headOf(loadDigits().test, 64);
    const tracker = testTracker(home.path);
    await tracker.start();
    try {
      const meter = new EnergyMeter(tracker);
      const options = { meter, energyMinDurationS: 0.6, latencyDurationS: 0.1, warmupS: 0.05 };
      const cheap = await measurePredictor(standIn(test, 1, 1), test, options);
      const costly = await measurePredictor(standIn(test, 1, 4), test, options);
      expect(cheap.accuracy).toBe(1);
      expect(cheap.latencyMsP50.batch1).toBeGreaterThanOrEqual(1);
      expect(costly.latencyMsP50.batch64).toBeGreaterThanOrEqual(4);
      expect(cheap.energyBatchSize).toBe(64);
      expect(cheap.inferencesMeasured % 64).toBe(0);
      expect(cheap.energyJPer1kInferences).toBeGreaterThan(0);
      // 4 ms of CPU per call against 1 ms (plus the same lookup work): clearly more energy per inference.
      expect(
        (costly.energyJPer1kInferences as number) / (cheap.energyJPer1kInferences as number),
      ).toBeGreaterThan(1.8);
      expect(
        (costly.cpuSPer1kInferences as number) / (cheap.cpuSPer1kInferences as number),
      ).toBeGreaterThan(1.8);
      const [low, high] = cheap.energyJPer1kRange as [number, number];
      expect(low).toBeLessThanOrEqual(cheap.energyJPer1kInferences as number);
      expect(high).toBeGreaterThanOrEqual(cheap.energyJPer1kInferences as number);
    } finally {
      await tracker.stop();
    }
  });

  it("runs TF.js models through model.predict", async () => {
    const test = headOf(loadDigits().test, 50);
    const model = buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [4], classes: 10 });
    const measured = await measurePredictor(tfjsPredictor(model), test, {
      latencyDurationS: 0.05,
      warmupS: 0,
    });
    expect(measured.accuracy).toBeGreaterThanOrEqual(0);
    expect(measured.accuracy).toBeLessThanOrEqual(1);
    expect(measured.energyJPer1kInferences).toBeNull(); // no meter
  });
});
