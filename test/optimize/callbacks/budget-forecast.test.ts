import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { forecastTotal } from "../../../src/optimize/callbacks/budget-forecast.js";
import { studentTQuantile } from "../../../src/optimize/stats.js";

describe("budget forecast", () => {
  it("adds the remaining epochs at the post-warm-up mean to what was spent", () => {
    const forecast = forecastTotal([50, 10, 12, 11], 10, { warmupEpochs: 1 });
    expect(forecast?.spent).toBe(83);
    expect(forecast?.perEpochMean).toBeCloseTo(11);
    expect(forecast?.predictedTotal).toBeCloseTo(83 + 6 * 11);
    const s = 1; // sample std of 10, 12, 11
    const halfWidth = studentTQuantile(0.975, 2) * s * Math.sqrt(6 + 36 / 3);
    expect(forecast?.high).toBeCloseTo(83 + 66 + halfWidth, 6);
    expect(forecast?.low).toBeCloseTo(83 + 66 - halfWidth, 6);
  });

  it("has no interval from a single post-warm-up epoch and no forecast before one", () => {
    expect(forecastTotal([50], 10)).toBeNull();
    const one = forecastTotal([50, 10], 10);
    expect(one?.predictedTotal).toBeCloseTo(50 + 10 + 8 * 10);
    expect(one?.low).toBeNull();
  });

  it("is exact when every post-warm-up epoch costs the same, whatever the warm-up cost (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 0, max: 30 }),
        (warmup, perEpoch, seen, extra) => {
          const values = [warmup, ...Array(seen).fill(perEpoch)];
          const planned = values.length + extra;
          const forecast = forecastTotal(values, planned, { warmupEpochs: 1 });
          const truth = warmup + (planned - 1) * perEpoch;
          expect(forecast?.predictedTotal).toBeCloseTo(truth, 6);
          expect(forecast?.low).toBeCloseTo(truth, 6);
          expect(forecast?.high).toBeCloseTo(truth, 6);
        },
      ),
    );
  });

  it("covers the true total about 95% of the time for noisy epochs (simulation)", () => {
    let state = 42;
    const uniform = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const normal = () =>
      Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
    let covered = 0;
    const trials = 2000;
    for (let trial = 0; trial < trials; trial++) {
      const epochs = Array.from({ length: 20 }, (_, i) => (i === 0 ? 40 : 10 + 2 * normal()));
      const forecast = forecastTotal(epochs.slice(0, 5), 20, { warmupEpochs: 1 });
      const truth = epochs.reduce((a, b) => a + b, 0);
      if ((forecast?.low as number) <= truth && truth <= (forecast?.high as number)) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.92);
    expect(covered / trials).toBeLessThan(0.98);
  });
});
