import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DEFAULT_QUERIES_PER_REPEAT,
  DEFAULT_REPEATS,
  DEFAULT_WARMUP_QUERIES,
  labelProtocol,
  median,
} from "../../src/label/protocol.js";
import { resolveLabelTask } from "../../src/label/tasks.js";

const task = resolveLabelTask("mnist-classification");

describe("labelProtocol", () => {
  it("uses the documented defaults and the task's query selection", () => {
    const protocol = labelProtocol(task);
    expect(protocol.warmupQueries).toBe(DEFAULT_WARMUP_QUERIES);
    expect(protocol.queriesPerRepeat).toBe(DEFAULT_QUERIES_PER_REPEAT);
    expect(protocol.repeats).toBe(DEFAULT_REPEATS);
    expect(protocol.batchSize).toBe(1);
    expect(protocol.intraOpThreads).toBe(1);
    expect(protocol.task).toBe("mnist-classification");
    expect(protocol.querySelection).toBe(task.querySelection);
  });

  it("takes overrides and refuses counts that are not whole numbers in range", () => {
    const protocol = labelProtocol(task, { queriesPerRepeat: 50, repeats: 2, warmupQueries: 0 });
    expect([protocol.queriesPerRepeat, protocol.repeats, protocol.warmupQueries]).toEqual([
      50, 2, 0,
    ]);
    for (const overrides of [
      { queriesPerRepeat: 0 },
      { queriesPerRepeat: 2.5 },
      { repeats: 0 },
      { repeats: Number.NaN },
      { warmupQueries: -1 },
      { queriesPerRepeat: 1e12 },
    ]) {
      expect(() => labelProtocol(task, overrides)).toThrow(
        expect.objectContaining({ code: "USAGE" }),
      );
    }
  });
});

describe("median", () => {
  it("is the middle value, or the mean of the middle two", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBeCloseTo(2.5, 12);
    expect(() => median([])).toThrow();
  });

  it("has as many values at or below it as at or above it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1 }),
        (values) => {
          const middle = median(values);
          const below = values.filter((value) => value <= middle).length;
          const above = values.filter((value) => value >= middle).length;
          expect(below).toBeGreaterThanOrEqual(values.length / 2);
          expect(above).toBeGreaterThanOrEqual(values.length / 2);
        },
      ),
    );
  });
});
