import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { counterDeltaJ } from "../../src/track/counter-delta.js";

describe("counterDeltaJ", () => {
  it("is the difference when the counter grows", () => {
    expect(counterDeltaJ(10.5, 12.25, 262143.32885)).toEqual({
      deltaJ: 1.75,
      wrapped: false,
      reset: false,
    });
  });

  it("adds the distance to the wrap point when the counter wrapped", () => {
    const result = counterDeltaJ(262_140, 5, 262_143.32885);
    expect(result.wrapped).toBe(true);
    expect(result.deltaJ).toBeCloseTo(8.32885, 6);
  });

  it("treats a decrease without a wrap point as a reset and counts from it", () => {
    expect(counterDeltaJ(500, 20, null)).toEqual({ deltaJ: 20, wrapped: false, reset: true });
  });

  it("recovers any true increment smaller than the range (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (wrapJ, startFraction, incrementFraction) => {
          const start = wrapJ * startFraction;
          const increment = wrapJ * incrementFraction;
          const raw = (start + increment) % wrapJ;
          const { deltaJ } = counterDeltaJ(start, raw, wrapJ);
          expect(deltaJ).toBeCloseTo(increment, 3);
        },
      ),
    );
  });
});
