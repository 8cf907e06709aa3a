import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  dominates,
  meetsConstraint,
  paretoFront,
  recommend,
  type RecommendCandidate,
} from "../../src/optimize/pareto.js";

const point = fc.record({
  // A coarse grid makes ties (equal accuracy or equal energy) common.
  accuracy: fc.integer({ min: 0, max: 20 }).map((v) => v / 20),
  energyJ: fc.option(
    fc.integer({ min: 1, max: 20 }).map((v) => v / 4),
    { nil: null, freq: 8 },
  ),
  sizeBytes: fc.integer({ min: 1, max: 5 }),
});

describe("Pareto front", () => {
  it("holds exactly the points no other point dominates (property)", () => {
    fc.assert(
      fc.property(fc.array(point, { maxLength: 30 }), (points) => {
        const front = new Set(paretoFront(points));
        points.forEach((p, i) => {
          const dominated = points.some((q) => dominates(q, p));
          const expected = p.energyJ !== null && !dominated;
          expect(front.has(i)).toBe(expected);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("has every point off the front dominated by a point on it (property)", () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 30 }), (points) => {
        const frontIndices = paretoFront(points);
        points.forEach((p, i) => {
          if (p.energyJ === null || frontIndices.includes(i)) return;
          expect(frontIndices.some((j) => dominates(points[j] as (typeof points)[number], p))).toBe(
            true,
          );
        });
      }),
      { numRuns: 300 },
    );
  });

  it("keeps a simple hand-made case right", () => {
    const points = [
      { accuracy: 0.98, energyJ: 10 }, // baseline
      { accuracy: 0.97, energyJ: 4 },
      { accuracy: 0.96, energyJ: 5 }, // dominated by the one above
      { accuracy: 0.99, energyJ: 12 },
      { accuracy: 0.5, energyJ: null },
    ];
    expect(paretoFront(points)).toEqual([0, 1, 3]);
  });
});

describe("recommend", () => {
  it("picks the lowest-energy candidate meeting the constraint, which is on the front (property)", () => {
    fc.assert(
      fc.property(
        fc.array(point, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 0, max: 20 }).map((v) => v / 20),
        fc.integer({ min: 0, max: 30 }),
        (candidates: RecommendCandidate[], baselineAccuracy, dropPoints) => {
          const constraint = { baselineAccuracy, maxAccuracyDropPoints: dropPoints };
          const chosen = recommend(candidates, constraint);
          const feasible = candidates.filter(
            (c) => c.energyJ !== null && meetsConstraint(c, constraint),
          );
          if (feasible.length === 0) {
            expect(chosen).toBeNull();
            return;
          }
          expect(chosen).not.toBeNull();
          const best = candidates[chosen as number] as RecommendCandidate;
          expect(meetsConstraint(best, constraint)).toBe(true);
          for (const c of feasible)
            expect(best.energyJ as number).toBeLessThanOrEqual(c.energyJ as number);
          expect(paretoFront(candidates)).toContain(chosen);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("applies the accuracy drop in points, the minimum accuracy and the size limit", () => {
    const candidates = [
      { accuracy: 0.98, energyJ: 10, sizeBytes: 1000 },
      { accuracy: 0.972, energyJ: 3, sizeBytes: 250 }, // 0.8 points down
      { accuracy: 0.965, energyJ: 1, sizeBytes: 100 }, // 1.5 points down
    ];
    expect(recommend(candidates, { baselineAccuracy: 0.98, maxAccuracyDropPoints: 1 })).toBe(1);
    expect(recommend(candidates, { baselineAccuracy: 0.98, maxAccuracyDropPoints: 2 })).toBe(2);
    expect(recommend(candidates, { baselineAccuracy: 0.98, maxAccuracyDropPoints: 0.5 })).toBe(0);
    expect(
      recommend(candidates, {
        baselineAccuracy: 0.98,
        maxAccuracyDropPoints: 2,
        minAccuracy: 0.97,
      }),
    ).toBe(1);
    expect(
      recommend(candidates, {
        baselineAccuracy: 0.98,
        maxAccuracyDropPoints: 0.5,
        maxSizeBytes: 500,
      }),
    ).toBeNull();
  });
});
