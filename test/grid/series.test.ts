import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WattprintError } from "../../src/errors.js";
import {
  LBS_PER_MWH_TO_G_PER_KWH,
  assertSameSignal,
  averageIntensity,
  emissionsOverTimeline,
  intensityAt,
  interpolateGaps,
  makeSeries,
  sliceSeries,
  type IntensityPoint,
  type IntensitySeries,
} from "../../src/grid/series.js";

const HOUR = 3_600_000;
const MINUTE = 60_000;
const T0 = Date.UTC(2024, 0, 1);

function thrown(action: () => unknown): WattprintError {
  try {
    action();
  } catch (error) {
    if (error instanceof WattprintError) return error;
    throw error;
  }
  throw new Error("expected a WattprintError, nothing was thrown");
}

/** Hourly points from T0 with these values; null leaves the hour out (a gap). */
function hourly(values: (number | null)[], signal: "average" | "marginal" = "average") {
  const points: IntensityPoint[] = [];
  values.forEach((value, index) => {
    if (value !== null) {
      points.push({
        startMs: T0 + index * HOUR,
        endMs: T0 + (index + 1) * HOUR,
        intensityGPerKWh: value,
      });
    }
  });
  return makeSeries({
    zone: "TEST",
    signal,
    source: "test",
    originalUnit: "gCO2e/kWh",
    points,
  });
}

describe("makeSeries", () => {
  it("sorts the points, finds the holes between them and copies its input", () => {
    const input: IntensityPoint[] = [
      { startMs: 3 * HOUR, endMs: 4 * HOUR, intensityGPerKWh: 30 },
      { startMs: 0, endMs: HOUR, intensityGPerKWh: 10 },
      { startMs: HOUR, endMs: 2 * HOUR, intensityGPerKWh: 20, forecast: true },
    ];
    const series = makeSeries({
      zone: " GB ",
      signal: "marginal",
      source: "unit test",
      originalUnit: "lbs/MWh",
      points: input,
      warnings: ["w"],
    });
    expect(series.zone).toBe("GB");
    expect(series.points.map((point) => point.intensityGPerKWh)).toEqual([10, 20, 30]);
    expect(series.points[1]?.forecast).toBe(true);
    expect(series.gaps).toEqual([{ startMs: 2 * HOUR, endMs: 3 * HOUR }]);
    expect(series.warnings).toEqual(["w"]);
    (input[1] as IntensityPoint).intensityGPerKWh = 999;
    expect(series.points[0]?.intensityGPerKWh).toBe(10);
  });

  it("accepts an empty list of points", () => {
    const series = hourly([]);
    expect(series.points).toEqual([]);
    expect(series.gaps).toEqual([]);
    expect(intensityAt(series, T0)).toBeNull();
  });

  it.each([
    [
      "overlapping points",
      [
        { startMs: 0, endMs: 2 * HOUR, intensityGPerKWh: 1 },
        { startMs: HOUR, endMs: 3 * HOUR, intensityGPerKWh: 2 },
      ],
      /overlap/,
    ],
    ["a NaN intensity", [{ startMs: 0, endMs: HOUR, intensityGPerKWh: Number.NaN }], /finite/],
    ["a negative intensity", [{ startMs: 0, endMs: HOUR, intensityGPerKWh: -1 }], /negative/],
    ["an empty point", [{ startMs: HOUR, endMs: HOUR, intensityGPerKWh: 1 }], /ends before/],
    [
      "an infinite time",
      [{ startMs: 0, endMs: Number.POSITIVE_INFINITY, intensityGPerKWh: 1 }],
      /finite/,
    ],
  ])("rejects %s with BAD_INPUT", (_label, points, pattern) => {
    const error = thrown(() =>
      makeSeries({ zone: "X", signal: "average", source: "s", originalUnit: "u", points }),
    );
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toMatch(pattern);
    expect(error.hint).toBeTruthy();
  });

  it("rejects a missing zone and an unknown signal", () => {
    const base = { source: "s", originalUnit: "u", points: [] };
    expect(thrown(() => makeSeries({ ...base, zone: " ", signal: "average" })).code).toBe(
      "BAD_INPUT",
    );
    expect(
      thrown(() => makeSeries({ ...base, zone: "X", signal: "hourly" as "average" })).message,
    ).toMatch(/signal/);
  });
});

describe("intensityAt", () => {
  const series = hourly([100, 200, null, 400]);

  it("finds the point whose half-open interval holds the time", () => {
    expect(intensityAt(series, T0)?.intensityGPerKWh).toBe(100);
    expect(intensityAt(series, T0 + HOUR - 1)?.intensityGPerKWh).toBe(100);
    expect(intensityAt(series, T0 + HOUR)?.intensityGPerKWh).toBe(200);
    expect(intensityAt(series, T0 + 3 * HOUR + 30 * MINUTE)?.intensityGPerKWh).toBe(400);
  });

  it("answers null in a gap and outside the series", () => {
    expect(intensityAt(series, T0 + 2 * HOUR)).toBeNull();
    expect(intensityAt(series, T0 - 1)).toBeNull();
    expect(intensityAt(series, T0 + 4 * HOUR)).toBeNull();
  });
});

describe("sliceSeries", () => {
  const series = hourly([100, 200, null, 400, 500]);

  it("keeps the points that overlap the window whole, and the gaps between them", () => {
    const slice = sliceSeries(series, T0 + 90 * MINUTE, T0 + 3 * HOUR + 1);
    expect(slice.points.map((point) => point.intensityGPerKWh)).toEqual([200, 400]);
    expect(slice.points[0]?.startMs).toBe(T0 + HOUR);
    expect(slice.gaps).toEqual([{ startMs: T0 + 2 * HOUR, endMs: T0 + 3 * HOUR }]);
    expect(slice.zone).toBe("TEST");
    expect(slice.signal).toBe("average");
  });

  it("drops gaps outside the kept points and leaves the original untouched", () => {
    const slice = sliceSeries(series, T0 + 3 * HOUR, T0 + 5 * HOUR);
    expect(slice.points.map((point) => point.intensityGPerKWh)).toEqual([400, 500]);
    expect(slice.gaps).toEqual([]);
    (slice.points[0] as IntensityPoint).intensityGPerKWh = 0;
    expect(intensityAt(series, T0 + 3 * HOUR)?.intensityGPerKWh).toBe(400);
  });

  it("is empty for a window inside a gap, and refuses a reversed window", () => {
    expect(sliceSeries(series, T0 + 2 * HOUR, T0 + 3 * HOUR).points).toEqual([]);
    expect(thrown(() => sliceSeries(series, 10, 5)).code).toBe("BAD_INPUT");
  });
});

describe("averageIntensity", () => {
  it("weights points by the part of them inside the window", () => {
    const series = hourly([100, 300]);
    // 30 min of 100 and 60 min of 300 → (100·30 + 300·60) / 90.
    const result = averageIntensity(series, T0 + 30 * MINUTE, T0 + 2 * HOUR);
    expect(result.intensityGPerKWh).toBeCloseTo((100 * 30 + 300 * 60) / 90, 9);
    expect(result.coveredS).toBeCloseTo(90 * 60, 9);
    expect(result.missingS).toBeCloseTo(0, 9);
  });

  it("counts gaps and time outside the series as missing, not as zero", () => {
    const series = hourly([100, null, 300]);
    const result = averageIntensity(series, T0 - HOUR, T0 + 3 * HOUR);
    expect(result.intensityGPerKWh).toBeCloseTo(200, 9);
    expect(result.coveredS).toBeCloseTo(2 * 3600, 9);
    expect(result.missingS).toBeCloseTo(2 * 3600, 9);
  });

  it("is null when nothing is covered", () => {
    const series = hourly([100, null, 300]);
    const result = averageIntensity(series, T0 + HOUR, T0 + 2 * HOUR);
    expect(result.intensityGPerKWh).toBeNull();
    expect(result.missingS).toBeCloseTo(3600, 9);
    expect(averageIntensity(series, T0, T0).intensityGPerKWh).toBeNull();
    expect(thrown(() => averageIntensity(series, Number.NaN, T0)).code).toBe("BAD_INPUT");
  });
});

describe("emissionsOverTimeline", () => {
  const KWH_J = 3_600_000;

  it("multiplies each slice's energy by the time-weighted intensity over its span", () => {
    const series = hourly([100, 300]);
    // 2 kWh evenly over two hours: 1 kWh at 100 g/kWh plus 1 kWh at 300 g/kWh.
    const result = emissionsOverTimeline(series, [
      { startMs: T0, endMs: T0 + 2 * HOUR, energyJ: 2 * KWH_J },
    ]);
    expect(result.co2eG).toBeCloseTo(400, 9);
    expect(result.coveredEnergyJ).toBeCloseTo(2 * KWH_J, 6);
    expect(result.uncoveredEnergyJ).toBeCloseTo(0, 6);
  });

  it("reports energy in gaps and outside the data as uncovered instead of guessing", () => {
    const series = hourly([100, null, 300]);
    const result = emissionsOverTimeline(series, [
      { startMs: T0, endMs: T0 + 2 * HOUR, energyJ: 2 * KWH_J },
      { startMs: T0 + 5 * HOUR, endMs: T0 + 6 * HOUR, energyJ: 7 },
    ]);
    expect(result.co2eG).toBeCloseTo(100, 9);
    expect(result.coveredEnergyJ).toBeCloseTo(KWH_J, 6);
    expect(result.uncoveredEnergyJ).toBeCloseTo(KWH_J + 7, 6);
  });

  it("gives an instantaneous slice the intensity of its instant", () => {
    const series = hourly([100, 300]);
    const result = emissionsOverTimeline(series, [
      { startMs: T0 + HOUR, endMs: T0 + HOUR, energyJ: KWH_J },
      { startMs: T0 + 9 * HOUR, endMs: T0 + 9 * HOUR, energyJ: 5 },
    ]);
    expect(result.co2eG).toBeCloseTo(300, 9);
    expect(result.uncoveredEnergyJ).toBeCloseTo(5, 9);
  });

  it("rejects negative or NaN energy and reversed slices", () => {
    const series = hourly([100]);
    for (const slice of [
      { startMs: T0, endMs: T0 + 1, energyJ: -1 },
      { startMs: T0, endMs: T0 + 1, energyJ: Number.NaN },
      { startMs: T0 + 1, endMs: T0, energyJ: 1 },
    ]) {
      expect(thrown(() => emissionsOverTimeline(series, [slice])).code).toBe("BAD_INPUT");
    }
  });
});

describe("interpolateGaps", () => {
  it("fills short gaps linearly, labels the points and says how many hours it invented", () => {
    const series = hourly([100, null, null, 400, null, null, null, null, 0]);
    const filled = interpolateGaps(series, 2 * HOUR);
    const at = (hour: number) => intensityAt(filled, T0 + hour * HOUR);
    expect(at(1)?.intensityGPerKWh).toBeCloseTo(200, 9);
    expect(at(2)?.intensityGPerKWh).toBeCloseTo(300, 9);
    expect(at(1)?.interpolated).toBe(true);
    expect(at(3)?.interpolated).toBeUndefined();
    // The 4-hour gap is longer than the limit: still a gap.
    expect(at(5)).toBeNull();
    expect(filled.gaps).toEqual([{ startMs: T0 + 4 * HOUR, endMs: T0 + 8 * HOUR }]);
    expect(filled.warnings.at(-1)).toMatch(/^2 h of intensity invented .* 1 gap of at most 2 h/);
    // The input is not changed.
    expect(series.points).toHaveLength(3);
    expect(series.gaps).toHaveLength(2);
  });

  it("cuts the last invented point at the end of a gap that is not a whole number of steps", () => {
    const series = makeSeries({
      zone: "X",
      signal: "average",
      source: "s",
      originalUnit: "u",
      points: [
        { startMs: 0, endMs: HOUR, intensityGPerKWh: 0 },
        { startMs: 150 * MINUTE, endMs: 210 * MINUTE, intensityGPerKWh: 150, forecast: true },
      ],
    });
    const filled = interpolateGaps(series, 3 * HOUR);
    expect(filled.points.map((point) => [point.startMs, point.endMs])).toEqual([
      [0, HOUR],
      [HOUR, 2 * HOUR],
      [2 * HOUR, 150 * MINUTE],
      [150 * MINUTE, 210 * MINUTE],
    ]);
    // Linear in start time from (0 min, 0) to (150 min, 150): the value equals the minute.
    expect(filled.points[1]?.intensityGPerKWh).toBeCloseTo(60, 9);
    expect(filled.points[2]?.intensityGPerKWh).toBeCloseTo(120, 9);
    expect(filled.points[2]?.forecast).toBe(true);
    expect(filled.gaps).toEqual([]);
    expect(filled.warnings.at(-1)).toMatch(/^1\.5 h/);
  });

  it("adds no warning when nothing is filled, and refuses a negative limit", () => {
    const series = hourly([1, null, 3]);
    expect(interpolateGaps(series, HOUR - 1).warnings).toEqual([]);
    expect(thrown(() => interpolateGaps(series, -1)).code).toBe("BAD_INPUT");
  });
});

describe("assertSameSignal", () => {
  it("lets two series of one signal pass and stops average mixed with marginal", () => {
    expect(() => assertSameSignal(hourly([1]), hourly([2]))).not.toThrow();
    const error = thrown(() => assertSameSignal(hourly([1]), hourly([2], "marginal")));
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toMatch(/average and marginal/);
    expect(error.hint).toMatch(/scheduling/);
  });
});

describe("LBS_PER_MWH_TO_G_PER_KWH", () => {
  it("converts WattTime-style lbs/MWh to g/kWh (1 lb = 0.45359237 kg exactly)", () => {
    // 2204.62262 lbs is one metric tonne: 1 t/MWh = 1000 g/kWh.
    expect(2204.62262 * LBS_PER_MWH_TO_G_PER_KWH).toBeCloseTo(1000, 4);
  });
});

// ---------------------------------------------------------------------------------------
// Properties

interface PointSpec {
  gapMs: number;
  lengthMs: number;
  value: number;
}

const pointSpecs = fc.array(
  fc.record({
    gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 * HOUR })),
    lengthMs: fc.integer({ min: 1, max: 3 * HOUR }),
    value: fc.double({ min: 0, max: 2000, noNaN: true }),
  }),
  { minLength: 1, maxLength: 40 },
);

function seriesOf(specs: readonly PointSpec[], constant?: number): IntensitySeries {
  let cursor = T0;
  const points = specs.map((spec) => {
    const startMs = cursor + spec.gapMs;
    cursor = startMs + spec.lengthMs;
    return { startMs, endMs: cursor, intensityGPerKWh: constant ?? spec.value };
  });
  return makeSeries({ zone: "P", signal: "average", source: "p", originalUnit: "u", points });
}

function spanOf(series: IntensitySeries): { fromMs: number; toMs: number } {
  const first = series.points[0] as IntensityPoint;
  const last = series.points[series.points.length - 1] as IntensityPoint;
  return { fromMs: first.startMs, toMs: last.endMs };
}

describe("properties", () => {
  it("the average of a constant series is the constant over any window it touches", () => {
    fc.assert(
      fc.property(
        pointSpecs,
        fc.double({ min: 0, max: 2000, noNaN: true }),
        fc.double({ min: -0.2, max: 1.2, noNaN: true }),
        fc.double({ min: 0, max: 1.5, noNaN: true }),
        (specs, constant, fromFraction, widthFraction) => {
          const series = seriesOf(specs, constant);
          const { fromMs, toMs } = spanOf(series);
          const span = toMs - fromMs;
          const from = Math.round(fromMs + fromFraction * span);
          const to = Math.round(from + widthFraction * span);
          const result = averageIntensity(series, from, to);
          expect(result.coveredS + result.missingS).toBeCloseTo((to - from) / 1000, 6);
          if (result.coveredS > 0) {
            expect(result.intensityGPerKWh).not.toBeNull();
            expect(result.intensityGPerKWh as number).toBeCloseTo(constant, 6);
          } else {
            expect(result.intensityGPerKWh).toBeNull();
          }
        },
      ),
    );
  });

  it("emissions are additive over splits of the timeline", () => {
    fc.assert(
      fc.property(
        pointSpecs,
        fc.array(
          fc.record({
            startFraction: fc.double({ min: -0.3, max: 1.3, noNaN: true }),
            lengthMs: fc.integer({ min: 1, max: 6 * HOUR }),
            energyJ: fc.double({ min: 0, max: 1e7, noNaN: true }),
            splitFraction: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        (specs, slices) => {
          const series = seriesOf(specs);
          const { fromMs, toMs } = spanOf(series);
          const timeline = slices.map((slice) => {
            const startMs = Math.round(fromMs + slice.startFraction * (toMs - fromMs));
            return { startMs, endMs: startMs + slice.lengthMs, energyJ: slice.energyJ };
          });
          // Each slice cut in two at a point inside it, energy shared in proportion to time.
          const split = timeline.flatMap((slice, index) => {
            const fraction = (slices[index] as { splitFraction: number }).splitFraction;
            const cutMs = slice.startMs + Math.round(fraction * (slice.endMs - slice.startMs));
            const firstEnergyJ =
              (slice.energyJ * (cutMs - slice.startMs)) / (slice.endMs - slice.startMs);
            return [
              { startMs: slice.startMs, endMs: cutMs, energyJ: firstEnergyJ },
              { startMs: cutMs, endMs: slice.endMs, energyJ: slice.energyJ - firstEnergyJ },
            ].filter((part) => part.endMs > part.startMs);
          });
          const whole = emissionsOverTimeline(series, timeline);
          const parts = emissionsOverTimeline(series, split);
          const tolerance = Math.max(1e-6, whole.co2eG * 1e-9);
          expect(Math.abs(parts.co2eG - whole.co2eG)).toBeLessThanOrEqual(tolerance);
          expect(parts.coveredEnergyJ).toBeCloseTo(whole.coveredEnergyJ, 3);
          expect(parts.uncoveredEnergyJ).toBeCloseTo(whole.uncoveredEnergyJ, 3);
          // And over a split of the list: the sum of the halves is the whole.
          const half = Math.floor(timeline.length / 2);
          const a = emissionsOverTimeline(series, timeline.slice(0, half));
          const b = emissionsOverTimeline(series, timeline.slice(half));
          expect(Math.abs(a.co2eG + b.co2eG - whole.co2eG)).toBeLessThanOrEqual(tolerance);
          const energyJ = timeline.reduce((sum, slice) => sum + slice.energyJ, 0);
          expect(whole.coveredEnergyJ + whole.uncoveredEnergyJ).toBeCloseTo(energyJ, 3);
        },
      ),
    );
  });

  it("intensityAt agrees with a linear scan", () => {
    fc.assert(
      fc.property(
        pointSpecs,
        fc.array(fc.double({ min: -0.1, max: 1.1, noNaN: true }), { minLength: 1, maxLength: 30 }),
        (specs, fractions) => {
          const series = seriesOf(specs);
          const { fromMs, toMs } = spanOf(series);
          const times = fractions.map((fraction) =>
            Math.round(fromMs + fraction * (toMs - fromMs)),
          );
          // Every boundary too: starts are inside, ends are outside their own point.
          for (const point of series.points) times.push(point.startMs, point.endMs);
          for (const time of times) {
            const scanned =
              series.points.find((point) => point.startMs <= time && time < point.endMs) ?? null;
            expect(intensityAt(series, time)).toBe(scanned);
          }
        },
      ),
    );
  });

  it("a slice gives the same average as the whole series over a window inside it", () => {
    fc.assert(
      fc.property(
        pointSpecs,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (specs, a, b) => {
          const series = seriesOf(specs);
          const { fromMs, toMs } = spanOf(series);
          const from = Math.round(fromMs + Math.min(a, b) * (toMs - fromMs));
          const to = Math.round(fromMs + Math.max(a, b) * (toMs - fromMs));
          const whole = averageIntensity(series, from, to);
          const sliced = averageIntensity(sliceSeries(series, from, to), from, to);
          expect(sliced.coveredS).toBeCloseTo(whole.coveredS, 6);
          if (whole.intensityGPerKWh === null) expect(sliced.intensityGPerKWh).toBeNull();
          else expect(sliced.intensityGPerKWh as number).toBeCloseTo(whole.intensityGPerKWh, 6);
        },
      ),
    );
  });
});
