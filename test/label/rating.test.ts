import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { rateEnergy, ratingBoundaries, type RatingBoundaries } from "../../src/label/rating.js";
import { WattprintError } from "../../src/errors.js";

describe("ratingBoundaries", () => {
  it("puts the quintiles of the log energy between the reference values", () => {
    // Five decades: ln-positions (n − 1)·p = 0.8, 1.6, 2.4, 3.2 decades.
    const boundaries = ratingBoundaries([1000, 1, 100, 10, 10_000]);
    expect(boundaries[0]).toBeCloseTo(10 ** 0.8, 9);
    expect(boundaries[1]).toBeCloseTo(10 ** 1.6, 9);
    expect(boundaries[2]).toBeCloseTo(10 ** 2.4, 9);
    expect(boundaries[3]).toBeCloseTo(10 ** 3.2, 9);
  });

  it("splits a reference set of 5k distinct models into five bins of k", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((k) =>
          fc.uniqueArray(fc.integer({ min: -200_000, max: 50_000 }), {
            minLength: 5 * k,
            maxLength: 5 * k,
          }),
        ),
        (steps) => {
          const k = steps.length / 5;
          // Distinct log energies at least 1e-4 apart, so that rounding cannot put a boundary on a reference value.
          const values = steps.map((step) => Math.exp(step / 10_000));
          const boundaries = ratingBoundaries(values);
          const counts = [0, 0, 0, 0, 0, 0];
          for (const value of values) {
            const rating = rateEnergy(value, boundaries);
            counts[rating] = (counts[rating] ?? 0) + 1;
          }
          expect(counts.slice(1)).toEqual([k, k, k, k, k]);
        },
      ),
    );
  });

  it("is ascending and does not depend on the order of the reference set", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-9, max: 1e3, noNaN: true }), { minLength: 5, maxLength: 30 }),
        (values) => {
          const boundaries = ratingBoundaries(values);
          for (let i = 1; i < 4; i++)
            expect(boundaries[i]).toBeGreaterThanOrEqual(boundaries[i - 1]!);
          const reversed = ratingBoundaries([...values].reverse());
          reversed.forEach((value, i) => expect(value).toBeCloseTo(boundaries[i]!, 12));
        },
      ),
    );
  });

  it("refuses fewer than five models and energies that are not positive", () => {
    expect(() => ratingBoundaries([1, 2, 3, 4])).toThrow(/at least 5 reference models/);
    expect(() => ratingBoundaries([1, 2, 3, 4, 0])).toThrow(WattprintError);
    expect(() => ratingBoundaries([1, 2, 3, 4, Number.NaN])).toThrow(/not a positive number/);
    expect(() => ratingBoundaries([1, 2, 3, -4, 5])).toThrow(/not a positive number/);
  });
});

describe("rateEnergy", () => {
  const boundaries: RatingBoundaries = [0.001, 0.01, 0.1, 1];

  it("counts a figure exactly on a boundary in the better bin", () => {
    expect(rateEnergy(0.001, boundaries)).toBe(5);
    expect(rateEnergy(0.01, boundaries)).toBe(4);
    expect(rateEnergy(0.1, boundaries)).toBe(3);
    expect(rateEnergy(1, boundaries)).toBe(2);
  });

  it("drops one level just above each boundary", () => {
    const above = (value: number) => value * (1 + Number.EPSILON * 2);
    expect(rateEnergy(above(0.001), boundaries)).toBe(4);
    expect(rateEnergy(above(0.01), boundaries)).toBe(3);
    expect(rateEnergy(above(0.1), boundaries)).toBe(2);
    expect(rateEnergy(above(1), boundaries)).toBe(1);
  });

  it("rates 0 best and anything huge worst", () => {
    expect(rateEnergy(0, boundaries)).toBe(5);
    expect(rateEnergy(1e300, boundaries)).toBe(1);
  });

  it("never rates more energy better than less", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          expect(rateEnergy(high, boundaries)).toBeLessThanOrEqual(rateEnergy(low, boundaries));
        },
      ),
    );
  });

  it("refuses unknown or negative energy and unordered boundaries", () => {
    expect(() => rateEnergy(Number.NaN, boundaries)).toThrow(/cannot rate/);
    expect(() => rateEnergy(-1, boundaries)).toThrow(/cannot rate/);
    expect(() => rateEnergy(Number.POSITIVE_INFINITY, boundaries)).toThrow(/cannot rate/);
    expect(() => rateEnergy(0.5, [1, 0.1, 2, 3])).toThrow(/not ascending/);
  });
});
