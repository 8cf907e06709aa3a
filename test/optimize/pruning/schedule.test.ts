import { describe, expect, it } from "vitest";
import { scheduledSparsity } from "../../../src/optimize/pruning/schedule.js";

describe("gradual pruning schedule (Zhu & Gupta 2017)", () => {
  const schedule = {
    initialSparsity: 0.1,
    finalSparsity: 0.9,
    beginStep: 10,
    endStep: 110,
    frequency: 10,
  };

  it("follows s_f + (s_i − s_f)(1 − progress)³ at update steps", () => {
    expect(scheduledSparsity(9, schedule)).toBeNull();
    expect(scheduledSparsity(10, schedule)).toBeCloseTo(0.1, 12);
    for (const step of [20, 60, 90]) {
      const progress = (step - 10) / 100;
      expect(scheduledSparsity(step, schedule)).toBeCloseTo(
        0.9 + (0.1 - 0.9) * (1 - progress) ** 3,
        12,
      );
    }
    expect(scheduledSparsity(110, schedule)).toBeCloseTo(0.9, 12);
    expect(scheduledSparsity(500, schedule)).toBeCloseTo(0.9, 12);
  });

  it("holds the last update's sparsity between updates and never decreases", () => {
    expect(scheduledSparsity(25, schedule)).toBe(scheduledSparsity(20, schedule));
    let previous = 0;
    for (let step = 10; step <= 130; step++) {
      const s = scheduledSparsity(step, schedule) as number;
      expect(s).toBeGreaterThanOrEqual(previous);
      previous = s;
    }
  });
});
