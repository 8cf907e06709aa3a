import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  mean,
  percentile,
  sampleStd,
  studentTCdf,
  studentTQuantile,
} from "../../src/optimize/stats.js";

describe("stats", () => {
  it("gives Student's t quantiles that match the published two-sided 95% table", () => {
    // t(0.975, df) from any statistics table (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
    const table: [number, number][] = [
      [1, 12.706],
      [2, 4.303],
      [3, 3.182],
      [5, 2.571],
      [10, 2.228],
      [30, 2.042],
    ];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 2);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-studentTQuantile(0.975, 4), 10);
  });

  it("inverts its own CDF", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer({ min: 1, max: 200 }),
        (p, df) => {
          expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 6);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("computes percentiles, means and spreads, null when undefined", () => {
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 50)).toBeCloseTo(2.5);
    expect(percentile([], 50)).toBeNull();
    expect(mean([2, 4])).toBeCloseTo(3);
    expect(mean([])).toBeNull();
    expect(sampleStd([1])).toBeNull();
    expect(sampleStd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.138, 3);
  });
});
