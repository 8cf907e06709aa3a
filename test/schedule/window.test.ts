import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { makeSeries, type IntensitySeries, type TimeSpan } from "../../src/grid/series.js";
import { findGreenestWindow, type WindowOptions } from "../../src/schedule/window.js";
import { WattprintError } from "../../src/errors.js";

const HOUR_MS = 3_600_000;
const T0 = Date.parse("2022-06-01T00:00:00Z");

/** An hourly series starting at T0 with the given intensities. */
function hourly(values: readonly number[], zone = "TEST", stepMs = HOUR_MS): IntensitySeries {
  return makeSeries({
    zone,
    signal: "average",
    source: "test",
    originalUnit: "gCO2e/kWh",
    points: values.map((value, index) => ({
      startMs: T0 + index * stepMs,
      endMs: T0 + (index + 1) * stepMs,
      intensityGPerKWh: value,
    })),
  });
}

/** Reference: ∫ intensity over [from, to), by brute force over every point (g/kWh × ms). */
function integral(series: IntensitySeries, from: number, to: number): number {
  let sum = 0;
  for (const point of series.points) {
    const overlap = Math.min(point.endMs, to) - Math.max(point.startMs, from);
    if (overlap > 0) sum += overlap * point.intensityGPerKWh;
  }
  return sum;
}

const cost = (series: IntensitySeries, slots: readonly TimeSpan[]) =>
  slots.reduce((sum, slot) => sum + integral(series, slot.startMs, slot.endMs), 0);
const length = (slots: readonly TimeSpan[]) =>
  slots.reduce((sum, slot) => sum + slot.endMs - slot.startMs, 0);

function expectError(run: () => unknown, code: string, pattern: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WattprintError);
    expect((error as WattprintError).code).toBe(code);
    expect((error as WattprintError).message).toMatch(pattern);
    expect((error as WattprintError).message).not.toContain("\n");
    expect((error as WattprintError).hint).toBeTruthy();
    return;
  }
  throw new Error("expected an error");
}

describe("findGreenestWindow: contiguous", () => {
  const series = hourly([300, 200, 100, 50, 400, 100, 90, 500]);

  it("finds the lowest 2 h window and compares it with starting now", () => {
    const plan = findGreenestWindow(series, {
      durationS: 7200,
      nowMs: T0,
      deadlineMs: T0 + 8 * HOUR_MS,
      powerW: 300,
    });
    // Windows of two hours: 250, 150, 75, 225, 250, 95, 295 → hours 2–4.
    expect(plan.slots).toEqual([{ startMs: T0 + 2 * HOUR_MS, endMs: T0 + 4 * HOUR_MS }]);
    expect(plan.startMs).toBe(T0 + 2 * HOUR_MS);
    expect(plan.endMs).toBe(T0 + 4 * HOUR_MS);
    expect(plan.meanIntensityGPerKWh).toBeCloseTo(75, 9);
    expect(plan.runNow.meanIntensityGPerKWh).toBeCloseTo(250, 9);
    expect(plan.savingsPercent).toBeCloseTo(70, 9);
    // 300 W for 2 h = 0.6 kWh.
    expect(plan.energyJ).toBeCloseTo(300 * 7200, 6);
    expect(plan.co2eG).toBeCloseTo(0.6 * 75, 9);
    expect(plan.runNow.co2eG).toBeCloseTo(0.6 * 250, 9);
    expect(plan.savingsG).toBeCloseTo(0.6 * 175, 9);
    expect(plan.dataEndsBeforeDeadline).toBe(false);
    expect(plan.selection).toBe("lowest");
  });

  it("weighs partial slots by time when now and the duration cut hours", () => {
    const plan = findGreenestWindow(series, {
      durationS: 5400,
      nowMs: T0 + HOUR_MS / 2,
      deadlineMs: T0 + 8 * HOUR_MS,
    });
    // Best 90 min: half of hour 2 (100) then hour 3 (50): (0.5·100 + 1·50) / 1.5.
    expect(plan.startMs).toBe(T0 + 2.5 * HOUR_MS);
    expect(plan.meanIntensityGPerKWh).toBeCloseTo(100 / 1.5, 9);
    // Run now: half of hour 0 (300) and hour 1 (200).
    expect(plan.runNow.meanIntensityGPerKWh).toBeCloseTo((0.5 * 300 + 200) / 1.5, 9);
    expect(plan.co2eG).toBeNull();
    expect(plan.savingsG).toBeNull();
  });

  it("takes the earliest start among equal windows, and now when nothing is better", () => {
    const flat = hourly([100, 100, 100, 100, 100, 100]);
    const plan = findGreenestWindow(flat, {
      durationS: 7200,
      nowMs: T0 + 60_000,
      deadlineMs: T0 + 6 * HOUR_MS,
    });
    expect(plan.startMs).toBe(T0 + 60_000);
    expect(plan.savingsPercent).toBeCloseTo(0, 9);
    const twoMinima = hourly([300, 50, 300, 50, 300]);
    const early = findGreenestWindow(twoMinima, {
      durationS: 3600,
      nowMs: T0,
      deadlineMs: T0 + 5 * HOUR_MS,
    });
    expect(early.startMs).toBe(T0 + HOUR_MS);
  });

  it("plans within the data when it ends before the deadline, and says so", () => {
    const plan = findGreenestWindow(series, {
      durationS: 7200,
      nowMs: T0,
      deadlineMs: T0 + 30 * HOUR_MS,
    });
    expect(plan.dataEndsBeforeDeadline).toBe(true);
    expect(plan.horizonEndMs).toBe(T0 + 8 * HOUR_MS);
    expect(plan.endMs).toBeLessThanOrEqual(T0 + 8 * HOUR_MS);
    expect(plan.warnings.join("\n")).toMatch(
      /ends at 2022-06-01T08:00:00.000Z, before the deadline/,
    );
  });

  it("with a threshold, starts at the first moment the window is green enough", () => {
    const plan = findGreenestWindow(series, {
      durationS: 7200,
      nowMs: T0,
      deadlineMs: T0 + 8 * HOUR_MS,
      maxIntensityGPerKWh: 160,
    });
    expect(plan.selection).toBe("threshold");
    expect(plan.meanIntensityGPerKWh).toBeLessThanOrEqual(160 + 1e-9);
    // (x·300 + 200 + (1−x)·100)/2 = 160 at x = 0.1 of an hour.
    expect(plan.startMs).toBe(T0 + 0.9 * HOUR_MS);
    const none = findGreenestWindow(series, {
      durationS: 7200,
      nowMs: T0,
      deadlineMs: T0 + 8 * HOUR_MS,
      maxIntensityGPerKWh: 10,
    });
    expect(none.selection).toBe("threshold-not-met");
    expect(none.startMs).toBe(T0 + 2 * HOUR_MS);
    expect(none.warnings.join("\n")).toMatch(/no plan before the deadline averages 10/);
  });
});

describe("findGreenestWindow: interruptible", () => {
  const series = hourly([300, 200, 100, 50, 400, 100, 90, 500]);

  it("runs in the cleanest hours, earliest first among equal ones", () => {
    const plan = findGreenestWindow(series, {
      durationS: 3 * 3600,
      nowMs: T0,
      deadlineMs: T0 + 8 * HOUR_MS,
      interruptible: true,
    });
    // 50 (h3), 90 (h6), then the first 100 (h2, not h5).
    expect(plan.slots).toEqual([
      { startMs: T0 + 2 * HOUR_MS, endMs: T0 + 4 * HOUR_MS },
      { startMs: T0 + 6 * HOUR_MS, endMs: T0 + 7 * HOUR_MS },
    ]);
    expect(plan.meanIntensityGPerKWh).toBeCloseTo(240 / 3, 9);
    expect(plan.minChunkS).toBeNull();
  });

  it("cuts the last slot at its start when the job needs part of it", () => {
    const plan = findGreenestWindow(series, {
      durationS: 1.5 * 3600,
      nowMs: T0,
      deadlineMs: T0 + 8 * HOUR_MS,
      interruptible: true,
    });
    expect(plan.slots).toEqual([
      { startMs: T0 + 3 * HOUR_MS, endMs: T0 + 4 * HOUR_MS },
      { startMs: T0 + 6 * HOUR_MS, endMs: T0 + 6.5 * HOUR_MS },
    ]);
  });

  it("keeps every slot at least the minimum chunk", () => {
    const plan = findGreenestWindow(series, {
      durationS: 4 * 3600,
      nowMs: T0,
      deadlineMs: T0 + 8 * HOUR_MS,
      interruptible: true,
      minChunkS: 2 * 3600,
    });
    for (const slot of plan.slots)
      expect(slot.endMs - slot.startMs).toBeGreaterThanOrEqual(2 * HOUR_MS);
    expect(length(plan.slots)).toBe(4 * HOUR_MS);
    // Chunks of ≥ 2 h: hours 2–4 (150) and 5–7 (190) beat every other choice.
    expect(plan.slots).toEqual([
      { startMs: T0 + 2 * HOUR_MS, endMs: T0 + 4 * HOUR_MS },
      { startMs: T0 + 5 * HOUR_MS, endMs: T0 + 7 * HOUR_MS },
    ]);
    expect(plan.minChunkS).toBe(7200);
  });

  it("with a threshold runs in every green hour in time order", () => {
    const plan = findGreenestWindow(series, {
      durationS: 3 * 3600,
      nowMs: T0,
      deadlineMs: T0 + 8 * HOUR_MS,
      interruptible: true,
      maxIntensityGPerKWh: 100,
    });
    expect(plan.slots).toEqual([
      { startMs: T0 + 2 * HOUR_MS, endMs: T0 + 4 * HOUR_MS },
      { startMs: T0 + 5 * HOUR_MS, endMs: T0 + 6 * HOUR_MS },
    ]);
    expect(plan.selection).toBe("threshold");
  });

  it("rounds a too-fine chunked search up to the data's step, and says so", () => {
    const long = hourly(Array.from({ length: 48 }, (_, index) => 100 + ((index * 37) % 50)));
    const plan = findGreenestWindow(long, {
      durationS: 3601,
      nowMs: T0,
      deadlineMs: T0 + 48 * HOUR_MS,
      interruptible: true,
      minChunkS: 1801,
    });
    expect(plan.warnings.join("\n")).toMatch(/rounded up to whole 1 h steps/);
    expect(plan.durationS).toBe(7200);
    expect(plan.minChunkS).toBe(3600);
  });
});

describe("findGreenestWindow: bad input", () => {
  const series = hourly([300, 200, 100, 50]);
  const base: WindowOptions = { durationS: 3600, nowMs: T0, deadlineMs: T0 + 4 * HOUR_MS };

  it("refuses a deadline shorter than the job or in the past", () => {
    expectError(
      () => findGreenestWindow(series, { ...base, durationS: 5 * 3600 }),
      "USAGE",
      /shorter than the 5 h job/,
    );
    expectError(
      () => findGreenestWindow(series, { ...base, deadlineMs: T0 - 1 }),
      "USAGE",
      /not after the planning time/,
    );
    expectError(() => findGreenestWindow(series, { ...base, durationS: 0 }), "USAGE", /positive/);
    expectError(
      () => findGreenestWindow(series, { ...base, minChunkS: 60 }),
      "USAGE",
      /only to interruptible/,
    );
  });

  it("refuses empty, gapped and out-of-range data", () => {
    const empty = makeSeries({
      zone: "E",
      signal: "average",
      source: "t",
      originalUnit: "g",
      points: [],
    });
    expectError(() => findGreenestWindow(empty, base), "BAD_INPUT", /has no data/);
    const gapped = makeSeries({
      zone: "G",
      signal: "average",
      source: "t",
      originalUnit: "g",
      points: [
        { startMs: T0, endMs: T0 + HOUR_MS, intensityGPerKWh: 100 },
        { startMs: T0 + 2 * HOUR_MS, endMs: T0 + 4 * HOUR_MS, intensityGPerKWh: 100 },
      ],
    });
    expectError(
      () => findGreenestWindow(gapped, base),
      "BAD_INPUT",
      /gap from 2022-06-01T01:00:00.000Z to 2022-06-01T02:00:00.000Z/,
    );
    // A gap after the deadline does not matter.
    expect(findGreenestWindow(gapped, { ...base, deadlineMs: T0 + HOUR_MS }).startMs).toBe(T0);
    expectError(
      () => findGreenestWindow(series, { ...base, nowMs: T0 - HOUR_MS }),
      "BAD_INPUT",
      /starts at .* after the planning time/,
    );
    expectError(
      () =>
        findGreenestWindow(series, {
          ...base,
          nowMs: T0 + 5 * HOUR_MS,
          deadlineMs: T0 + 9 * HOUR_MS,
        }),
      "BAD_INPUT",
      /before the planning time/,
    );
    expectError(
      () =>
        findGreenestWindow(series, {
          ...base,
          nowMs: T0 + 3.5 * HOUR_MS,
          deadlineMs: T0 + 9 * HOUR_MS,
        }),
      "BAD_INPUT",
      /too short for the 1 h job/,
    );
  });
});

// ---- properties -------------------------------------------------------------------------

const intensities = fc.array(fc.integer({ min: 0, max: 800 }), { minLength: 3, maxLength: 40 });
/** A random planning problem over hourly integer data: now and the duration in minutes. */
const problem = intensities.chain((values) => {
  const hours = values.length;
  return fc.record({
    values: fc.constant(values),
    nowMin: fc.integer({ min: 0, max: (hours - 1) * 60 }),
    durationMin: fc.integer({ min: 1, max: 6 * 60 }),
    slackMin: fc.integer({ min: 0, max: hours * 60 }),
  });
});

function options(p: { nowMin: number; durationMin: number; slackMin: number }): WindowOptions {
  const nowMs = T0 + p.nowMin * 60_000;
  return {
    nowMs,
    durationS: p.durationMin * 60,
    deadlineMs: nowMs + (p.durationMin + p.slackMin) * 60_000,
  };
}

/** Whether the data covers the job at all (else the search must refuse it). */
const fits = (values: readonly number[], o: WindowOptions) =>
  o.nowMs + o.durationS * 1000 <= T0 + values.length * HOUR_MS;

describe("findGreenestWindow: properties", () => {
  it("never emits more than starting now, whatever the mode", () => {
    fc.assert(
      fc.property(
        problem,
        fc.constantFrom("contiguous", "interruptible", "chunked", "threshold"),
        (p, mode) => {
          const series = hourly(p.values);
          const o = options(p);
          fc.pre(fits(p.values, o));
          const extra: Partial<WindowOptions> =
            mode === "interruptible"
              ? { interruptible: true }
              : mode === "chunked"
                ? { interruptible: true, minChunkS: 30 * 60 }
                : mode === "threshold"
                  ? { maxIntensityGPerKWh: 300 }
                  : {};
          const plan = findGreenestWindow(series, { ...o, ...extra });
          const planned = cost(series, plan.slots);
          const runNow = integral(series, o.nowMs, o.nowMs + length(plan.slots));
          expect(planned).toBeLessThanOrEqual(runNow * (1 + 1e-9) + 1e-6);
          expect(plan.savingsPercent ?? 0).toBeGreaterThanOrEqual(-1e-7);
          // Every slot lies between now and the end of the usable data / deadline.
          for (const slot of plan.slots) {
            expect(slot.startMs).toBeGreaterThanOrEqual(o.nowMs);
            expect(slot.endMs).toBeLessThanOrEqual(
              Math.min(o.deadlineMs, T0 + p.values.length * HOUR_MS),
            );
          }
          expect(plan.meanIntensityGPerKWh * length(plan.slots)).toBeCloseTo(planned, 0);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("a contiguous plan is no worse than any start on a one-minute grid (exact optimum)", () => {
    fc.assert(
      fc.property(problem, (p) => {
        const series = hourly(p.values);
        const o = options(p);
        fc.pre(fits(p.values, o));
        const plan = findGreenestWindow(series, o);
        const durationMs = o.durationS * 1000;
        const latest = Math.min(o.deadlineMs, T0 + p.values.length * HOUR_MS) - durationMs;
        const best = integral(series, plan.startMs, plan.startMs + durationMs);
        for (let start = o.nowMs; start <= latest; start += 60_000) {
          const other = integral(series, start, start + durationMs);
          expect(best).toBeLessThanOrEqual(other * (1 + 1e-9) + 1e-6);
          // Earliest on ties: nothing strictly earlier is as good.
          if (start < plan.startMs) expect(other).toBeGreaterThan(best * (1 - 1e-9));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("splitting the search in two does not change the optimum (contiguous)", () => {
    fc.assert(
      fc.property(problem, fc.double({ min: 0, max: 1, noNaN: true }), (p, cut) => {
        const series = hourly(p.values);
        const o = options(p);
        fc.pre(fits(p.values, o));
        const durationMs = o.durationS * 1000;
        const latest = Math.min(o.deadlineMs, T0 + p.values.length * HOUR_MS) - durationMs;
        const mid = o.nowMs + Math.round((latest - o.nowMs) * cut);
        const whole = findGreenestWindow(series, o);
        const first = findGreenestWindow(series, { ...o, deadlineMs: mid + durationMs });
        const second = findGreenestWindow(series, { ...o, nowMs: mid });
        const costOf = (plan: typeof whole) => integral(series, plan.startMs, plan.endMs);
        const a = costOf(first);
        const b = costOf(second);
        const combined = b < a * (1 - 1e-9) ? second : first;
        expect(costOf(whole)).toBeCloseTo(costOf(combined), 3);
        expect(whole.startMs).toBe(combined.startMs);
      }),
      { numRuns: 300 },
    );
  });

  it("interruptible plans on hour-aligned data use the cheapest hours", () => {
    fc.assert(
      fc.property(intensities, fc.integer({ min: 1, max: 10 }), (values, hours) => {
        fc.pre(hours <= values.length);
        const series = hourly(values);
        const plan = findGreenestWindow(series, {
          durationS: hours * 3600,
          nowMs: T0,
          deadlineMs: T0 + values.length * HOUR_MS,
          interruptible: true,
        });
        const cheapest = [...values]
          .sort((x, y) => x - y)
          .slice(0, hours)
          .reduce((s, v) => s + v, 0);
        expect(cost(series, plan.slots)).toBeCloseTo(cheapest * HOUR_MS, 0);
        expect(length(plan.slots)).toBe(hours * HOUR_MS);
      }),
      { numRuns: 300 },
    );
  });

  it("chunked plans match a brute force over every set of hours", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 2, maxLength: 11 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        (values, hours, chunkHours) => {
          fc.pre(hours <= values.length);
          const series = hourly(values);
          const plan = findGreenestWindow(series, {
            durationS: hours * 3600,
            nowMs: T0,
            deadlineMs: T0 + values.length * HOUR_MS,
            interruptible: true,
            minChunkS: chunkHours * 3600,
          });
          const minRun = Math.min(chunkHours, hours);
          let best = Infinity;
          for (let mask = 0; mask < 1 << values.length; mask += 1) {
            let count = 0;
            let ok = true;
            let run = 0;
            let sum = 0;
            for (let hour = 0; hour <= values.length; hour += 1) {
              if (hour < values.length && mask & (1 << hour)) {
                run += 1;
                count += 1;
                sum += values[hour] as number;
              } else {
                if (run > 0 && run < minRun) ok = false;
                run = 0;
              }
            }
            if (ok && count === hours) best = Math.min(best, sum);
          }
          expect(cost(series, plan.slots) / HOUR_MS).toBeCloseTo(best, 6);
          expect(length(plan.slots)).toBe(hours * HOUR_MS);
          for (const slot of plan.slots)
            expect(slot.endMs - slot.startMs).toBeGreaterThanOrEqual(minRun * HOUR_MS);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("with a threshold, no earlier start (by a second) is green enough", () => {
    fc.assert(
      fc.property(problem, fc.integer({ min: 0, max: 800 }), (p, threshold) => {
        const series = hourly(p.values);
        const o = options(p);
        fc.pre(fits(p.values, o));
        const plan = findGreenestWindow(series, { ...o, maxIntensityGPerKWh: threshold });
        const durationMs = o.durationS * 1000;
        const mean = (start: number) => integral(series, start, start + durationMs) / durationMs;
        if (plan.selection === "threshold") {
          expect(mean(plan.startMs)).toBeLessThanOrEqual(threshold + 1e-6);
          if (plan.startMs - 1000 >= o.nowMs)
            expect(mean(plan.startMs - 1000)).toBeGreaterThan(threshold - 1e-6);
        } else {
          for (
            let start = o.nowMs;
            start + durationMs <= Math.min(o.deadlineMs, T0 + p.values.length * HOUR_MS);
            start += 60_000
          ) {
            expect(mean(start)).toBeGreaterThan(threshold - 1e-6);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
