import { describe, expect, it } from "vitest";
import { makeSeries, type IntensityPoint, type IntensitySeries } from "../../src/grid/series.js";
import { backtestSchedule, distribution } from "../../src/schedule/backtest.js";
import { loadEmbeddedSeries } from "../../src/grid/embedded-series.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const T0 = Date.parse("2022-06-01T00:00:00Z");

/** `days` days of hourly data, each day 100 + 10·|hour − 12| g/kWh, without the hours listed. */
function daily(days: number, missingHours: readonly number[] = []): IntensitySeries {
  const points: IntensityPoint[] = [];
  for (let hour = 0; hour < days * 24; hour += 1) {
    if (missingHours.includes(hour)) continue;
    points.push({
      startMs: T0 + hour * HOUR_MS,
      endMs: T0 + (hour + 1) * HOUR_MS,
      intensityGPerKWh: 100 + 10 * Math.abs((hour % 24) - 12),
    });
  }
  return makeSeries({ zone: "D", signal: "average", source: "test", originalUnit: "g", points });
}

describe("distribution", () => {
  it("gives the mean and the percentiles between order statistics", () => {
    const d = distribution([10, 0, 9, 1, 8, 2, 7, 3, 6, 4, 5]);
    expect(d.mean).toBeCloseTo(5, 12);
    expect(d.median).toBeCloseTo(5, 12);
    expect(d.p10).toBeCloseTo(1, 12);
    expect(d.p90).toBeCloseTo(9, 12);
    expect([d.min, d.max]).toEqual([0, 10]);
    const two = distribution([2, 1]);
    expect(two.median).toBeCloseTo(1.5, 12);
    expect(two.p10).toBeCloseTo(1.1, 12);
    expect(two.p90).toBeCloseTo(1.9, 12);
    expect(() => distribution([])).toThrow(/no values/);
  });
});

describe("backtestSchedule", () => {
  it("replays daily jobs and summarises their savings", () => {
    const result = backtestSchedule(daily(10), {
      durationS: 7200,
      windowS: 86_400,
      everyS: 86_400,
    });
    // Each job: run now 00–02 (220, 210) → 215; best 11–13 (110, 100) → 105.
    const expected = 100 * (1 - 105 / 215);
    expect(result.jobs).toBe(10);
    expect(result.skipped.count).toBe(0);
    expect(result.jobSavingsPercent).toHaveLength(10);
    for (const saving of result.jobSavingsPercent) expect(saving).toBeCloseTo(expected, 9);
    expect(result.savingsPercent?.mean).toBeCloseTo(expected, 9);
    expect(result.savingsPercent?.p10).toBeCloseTo(expected, 9);
    expect(result.overallSavingsPercent).toBeCloseTo(expected, 9);
    expect(result.meanRunNowIntensityGPerKWh).toBeCloseTo(215, 9);
    expect(result.meanPlannedIntensityGPerKWh).toBeCloseTo(105, 9);
    expect(result.fromMs).toBe(T0);
    expect(result.toMs).toBe(T0 + 10 * DAY_MS);
  });

  it("skips and counts the jobs whose window has a gap", () => {
    const result = backtestSchedule(daily(10, [3 * 24 + 5, 3 * 24 + 6]), {
      durationS: 7200,
      windowS: 86_400,
      everyS: 86_400,
    });
    expect(result.jobs).toBe(9);
    expect(result.skipped).toEqual({
      count: 1,
      reasons: [{ reason: "the window overlaps a gap in the data", count: 1 }],
    });
  });

  it("interruptible jobs save at least as much as contiguous ones", () => {
    const series = daily(7);
    const contiguous = backtestSchedule(series, {
      durationS: 4 * 3600,
      windowS: 86_400,
      everyS: 43_200,
    });
    const interruptible = backtestSchedule(series, {
      durationS: 4 * 3600,
      windowS: 86_400,
      everyS: 43_200,
      interruptible: true,
    });
    expect(interruptible.jobs).toBe(contiguous.jobs);
    interruptible.jobSavingsPercent.forEach((saving, index) =>
      expect(saving).toBeGreaterThanOrEqual((contiguous.jobSavingsPercent[index] ?? 0) - 1e-9),
    );
  });

  it("refuses a window shorter than the job and a period outside the data", () => {
    const series = daily(3);
    expect(() =>
      backtestSchedule(series, { durationS: 7200, windowS: 3600, everyS: 86_400 }),
    ).toThrow(/shorter than the 2 h job/);
    expect(() => backtestSchedule(series, { durationS: 7200, windowS: 86_400, everyS: 0 })).toThrow(
      /positive/,
    );
    expect(() =>
      backtestSchedule(series, {
        durationS: 7200,
        windowS: 86_400,
        everyS: 86_400,
        fromMs: T0 - DAY_MS,
      }),
    ).toThrow(/covers 2022-06-01T00:00:00.000Z to 2022-06-04T00:00:00.000Z/);
  });

  it("on a year of real hourly data (CISO 2022), each job's saving matches a brute-force search", () => {
    const series = loadEmbeddedSeries("US-CAL-CISO");
    if (series === null) throw new Error("embedded CISO series missing");
    const result = backtestSchedule(series, {
      durationS: 6 * 3600,
      windowS: 86_400,
      everyS: 86_400,
    });
    expect(result.jobs + result.skipped.count).toBe(365);
    expect(result.skipped.count).toBeLessThanOrEqual(3);
    // Brute force over whole-hour starts (data and jobs are hour-aligned).
    const byStart = new Map(series.points.map((point) => [point.startMs, point.intensityGPerKWh]));
    const mean = (start: number) => {
      let sum = 0;
      for (let hour = 0; hour < 6; hour += 1)
        sum += byStart.get(start + hour * HOUR_MS) ?? Number.NaN;
      return sum / 6;
    };
    const first = series.points[0]?.startMs ?? 0;
    const expected: number[] = [];
    for (let submit = first; submit + DAY_MS <= first + 365 * DAY_MS; submit += DAY_MS) {
      const now = mean(submit);
      let best = now;
      for (let start = submit; start + 6 * HOUR_MS <= submit + DAY_MS; start += HOUR_MS)
        best = Math.min(best, mean(start));
      if (Number.isFinite(best) && Number.isFinite(now)) expected.push(100 * (1 - best / now));
    }
    // A NaN anywhere in the day marks a gap, which the backtest skips.
    expect(result.jobSavingsPercent).toHaveLength(expected.length);
    result.jobSavingsPercent.forEach((saving, index) =>
      expect(saving).toBeCloseTo(expected[index] ?? Number.NaN, 6),
    );
    expect(result.savingsPercent?.median ?? 0).toBeGreaterThan(0);
  });
});
