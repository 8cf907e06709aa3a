import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { makeSeries, type IntensitySeries, type IntensitySignal } from "../../src/grid/series.js";
import { findGreenestRegion, type RegionCandidate } from "../../src/schedule/region.js";
import { findGreenestWindow } from "../../src/schedule/window.js";
import { WattprintError } from "../../src/errors.js";

const HOUR_MS = 3_600_000;
const T0 = Date.parse("2022-06-01T00:00:00Z");

function hourly(
  values: readonly number[],
  zone: string,
  signal: IntensitySignal = "average",
): IntensitySeries {
  return makeSeries({
    zone,
    signal,
    source: `test ${zone}`,
    originalUnit: "gCO2e/kWh",
    points: values.map((value, index) => ({
      startMs: T0 + index * HOUR_MS,
      endMs: T0 + (index + 1) * HOUR_MS,
      intensityGPerKWh: value,
    })),
  });
}

const options = { durationS: 2 * 3600, nowMs: T0, deadlineMs: T0 + 6 * HOUR_MS, powerW: 1000 };

describe("findGreenestRegion", () => {
  it("plans every region and marks the lowest", () => {
    const search = findGreenestRegion(
      [
        { region: "US-CA", series: hourly([300, 200, 100, 100, 300, 300], "US-CAL-CISO") },
        { region: "US-WA", series: hourly([60, 50, 40, 45, 60, 70], "US-NW-BPAT") },
        { region: "US-TX", series: hourly([400, 300, 300, 300, 300, 300], "US-TEX-ERCO") },
      ],
      options,
    );
    expect(search.plans.map((plan) => plan.region)).toEqual(["US-CA", "US-WA", "US-TX"]);
    expect(search.plans.map((plan) => plan.best)).toEqual([false, true, false]);
    expect(search.best.region).toBe("US-WA");
    expect(search.best.meanIntensityGPerKWh).toBeCloseTo(42.5, 9);
    expect(search.plans[0]?.meanIntensityGPerKWh).toBeCloseTo(100, 9);
    // Against running now in the first region (250 g/kWh): 1 − 42.5 / 250.
    expect(search.savingsVsFirstRegionNowPercent).toBeCloseTo(83, 9);
    // 1 kW for 2 h = 2 kWh.
    expect(search.best.co2eG).toBeCloseTo(85, 9);
  });

  it("breaks ties by the earlier start, then by the order given", () => {
    const same = [100, 50, 50, 100, 100, 100];
    const tied = findGreenestRegion(
      [
        { region: "A", series: hourly(same, "A") },
        { region: "B", series: hourly(same, "B") },
      ],
      options,
    );
    expect(tied.best.region).toBe("A");
    const earlier = findGreenestRegion(
      [
        { region: "A", series: hourly([100, 100, 100, 50, 50, 100], "A") },
        { region: "B", series: hourly(same, "B") },
      ],
      options,
    );
    expect(earlier.best.region).toBe("B");
  });

  it("refuses no region, a region twice, and mixed signals; names the region in errors", () => {
    const a = { region: "A", series: hourly([1, 2, 3, 4, 5, 6], "A") };
    expect(() => findGreenestRegion([], options)).toThrow(/no region to plan in/);
    expect(() => findGreenestRegion([a, { ...a, region: "a" }], options)).toThrow(/listed twice/);
    const marginal = { region: "M", series: hourly([1, 2, 3, 4, 5, 6], "M", "marginal") };
    expect(() => findGreenestRegion([a, marginal], options)).toThrow(
      /cannot mix average and marginal/,
    );
    const short = { region: "S", series: hourly([1, 2, 3], "S") };
    try {
      findGreenestRegion([a, short], { ...options, durationS: 4 * 3600 });
      throw new Error("expected an error");
    } catch (error) {
      expect(error).toBeInstanceOf(WattprintError);
      expect((error as WattprintError).code).toBe("BAD_INPUT");
      expect((error as WattprintError).message).toMatch(/^S: the intensity data for S ends/);
    }
  });

  it("splitting the regions in two groups does not change the best plan", () => {
    const regionSet = fc.array(
      fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 8, maxLength: 8 }),
      {
        minLength: 2,
        maxLength: 6,
      },
    );
    fc.assert(
      fc.property(
        regionSet,
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        (sets, cut, hours) => {
          fc.pre(cut < sets.length);
          const candidates: RegionCandidate[] = sets.map((values, index) => ({
            region: `R${index}`,
            series: hourly(values, `R${index}`),
          }));
          const o = { durationS: hours * 3600, nowMs: T0, deadlineMs: T0 + 8 * HOUR_MS };
          const whole = findGreenestRegion(candidates, o).best;
          const left = findGreenestRegion(candidates.slice(0, cut), o).best;
          const right = findGreenestRegion(candidates.slice(cut), o).best;
          const better =
            right.meanIntensityGPerKWh < left.meanIntensityGPerKWh * (1 - 1e-9) ||
            (Math.abs(right.meanIntensityGPerKWh - left.meanIntensityGPerKWh) <=
              1e-9 * left.meanIntensityGPerKWh &&
              right.startMs < left.startMs)
              ? right
              : left;
          expect(whole.region).toBe(better.region);
          expect(whole.startMs).toBe(better.startMs);
          // And it is the lowest of the regions planned one by one.
          const lowest = Math.min(
            ...candidates.map((c) => findGreenestWindow(c.series, o).meanIntensityGPerKWh),
          );
          expect(whole.meanIntensityGPerKWh).toBeCloseTo(lowest, 9);
        },
      ),
      { numRuns: 300 },
    );
  });
});
