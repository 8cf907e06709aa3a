/**
 * Time series of grid carbon intensity (hourly data from a table, a trace file or a live
 * provider) and the pure functions over them: point lookup, slicing, time-weighted
 * averages, emissions of an energy timeline, gap interpolation. Intensities are always
 * gCO2e/kWh internally; times are UTC epoch milliseconds; spans are half-open
 * `[startMs, endMs)`. See docs/intensity-series.md.
 */
import { WattprintError } from "../errors.js";
import { J_PER_KWH } from "../units/energy.js";

/**
 * What an intensity means: `average` (attributional: the mix of the electricity produced,
 * for accounting) or `marginal` (consequential: the plant that answers one more kWh, for
 * decisions such as scheduling). The two must never be mixed in one figure.
 */
export type IntensitySignal = "average" | "marginal";

/** One interval of a series with one intensity. */
export interface IntensityPoint {
  /** Start of the interval, UTC epoch milliseconds, inclusive. */
  startMs: number;
  /** End of the interval, UTC epoch milliseconds, exclusive; the next point's start for regular data. */
  endMs: number;
  /** Carbon intensity over the interval, gCO2e/kWh (converted from the source's unit). */
  intensityGPerKWh: number;
  /** True when the source labels the value a forecast. */
  forecast?: boolean;
  /** True only for points that {@link interpolateGaps} invented. */
  interpolated?: boolean;
}

/** A span of time, UTC epoch milliseconds, half-open `[startMs, endMs)`. */
export interface TimeSpan {
  startMs: number;
  endMs: number;
}

/** A carbon-intensity time series for one zone and one signal. Build it with {@link makeSeries}. */
export interface IntensitySeries {
  /** Grid zone, Electricity Maps spelling where there is one: "US-CAL-CISO", "GB", "FR". */
  zone: string;
  signal: IntensitySignal;
  /**
   * Where the values come from, with licence and year when known:
   * "U.S. EIA, via HewlettPackard/dc-rl (MIT), 2022", "file:/path/x.csv", "electricitymaps:history".
   */
  source: string;
  /** The unit the source gave before conversion to gCO2e/kWh: "gCO2e/kWh", "lbs/MWh". */
  originalUnit: string;
  /** Sorted by `startMs`, non-overlapping, each with `endMs > startMs`. */
  points: IntensityPoint[];
  /** Holes between consecutive points (inside the covered span), reported, never filled silently. */
  gaps: TimeSpan[];
  /** Things a user should know about the data (assumptions made, hours invented, rows skipped). */
  warnings: string[];
}

/** What {@link makeSeries} takes: the series' fields, points in any order, no gaps (they are computed). */
export interface SeriesInput {
  zone: string;
  signal: IntensitySignal;
  source: string;
  originalUnit: string;
  points: readonly IntensityPoint[];
  warnings?: readonly string[];
}

/** Time-weighted mean intensity over a window, from {@link averageIntensity}. */
export interface IntensityAverage {
  /** gCO2e/kWh over the covered part of the window; null when no part is covered. */
  intensityGPerKWh: number | null;
  /** Seconds of the window that have data. */
  coveredS: number;
  /** Seconds of the window without data (gaps, or outside the series). */
  missingS: number;
}

/** One slice of an energy timeline: `energyJ` used evenly over `[startMs, endMs)`. */
export interface EnergySlice {
  startMs: number;
  endMs: number;
  /** Energy used over the slice, joules, ≥ 0. A zero-length slice is an instant. */
  energyJ: number;
}

/** Emissions of an energy timeline, from {@link emissionsOverTimeline}. */
export interface TimelineEmissions {
  /** Grams CO2e of the covered energy. */
  co2eG: number;
  /** Joules that fell on points of the series. */
  coveredEnergyJ: number;
  /** Joules that fell in gaps or outside the series; the caller picks a fallback for them. */
  uncoveredEnergyJ: number;
}

/** Grams per kilowatt-hour in one pound per megawatt-hour (1 lb = 453.59237 g, exact). */
export const LBS_PER_MWH_TO_G_PER_KWH = 453.59237 / 1000;

const SIGNALS: readonly IntensitySignal[] = ["average", "marginal"];
const MS_PER_S = 1000;
const MS_PER_HOUR = 3_600_000;

/**
 * Validates and normalises a series: copies and sorts the points by start and computes
 * the gaps between them.
 * @throws WattprintError `BAD_INPUT` for an empty zone, an unknown signal, a time or
 *   intensity that is not a finite number, a negative intensity, a point whose end is not
 *   after its start, or two points that overlap.
 */
export function makeSeries(input: SeriesInput): IntensitySeries {
  if (typeof input.zone !== "string" || input.zone.trim() === "") {
    throw badSeries("the series has no zone");
  }
  if (!SIGNALS.includes(input.signal)) {
    throw badSeries(
      `the signal is "${String(input.signal)}", expected one of ${SIGNALS.join(", ")}`,
    );
  }
  const points = input.points.map((point, index) => copyPoint(point, index));
  let inOrder = true;
  for (let index = 1; index < points.length && inOrder; index += 1) {
    inOrder =
      (points[index - 1] as IntensityPoint).startMs <= (points[index] as IntensityPoint).startMs;
  }
  if (!inOrder) points.sort((a, b) => a.startMs - b.startMs);
  for (let index = 1; index < points.length; index += 1) {
    const previous = points[index - 1] as IntensityPoint;
    const current = points[index] as IntensityPoint;
    if (current.startMs < previous.endMs) {
      throw badSeries(
        `points overlap: ${describeSpan(previous)} and ${describeSpan(current)} (zone ${input.zone})`,
      );
    }
  }
  return {
    zone: input.zone.trim(),
    signal: input.signal,
    source: input.source,
    originalUnit: input.originalUnit,
    points,
    gaps: gapsBetween(points),
    warnings: [...(input.warnings ?? [])],
  };
}

/** The holes between consecutive points of a sorted, disjoint list. */
function gapsBetween(points: readonly IntensityPoint[]): TimeSpan[] {
  const gaps: TimeSpan[] = [];
  for (let index = 1; index < points.length; index += 1) {
    const previous = points[index - 1] as IntensityPoint;
    const current = points[index] as IntensityPoint;
    if (current.startMs > previous.endMs) {
      gaps.push({ startMs: previous.endMs, endMs: current.startMs });
    }
  }
  return gaps;
}

function copyPoint(point: IntensityPoint, index: number): IntensityPoint {
  const { startMs, endMs, intensityGPerKWh } = point;
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) {
    throw badSeries(`point ${index}: start and end must be finite epoch milliseconds`);
  }
  if (endMs <= startMs)
    throw badSeries(`point ${index}: ${describeSpan(point)} is empty or ends before it starts`);
  if (!Number.isFinite(intensityGPerKWh)) {
    throw badSeries(
      `point ${index}: the intensity is not a finite number (${String(intensityGPerKWh)})`,
    );
  }
  if (intensityGPerKWh < 0) {
    throw badSeries(`point ${index}: the intensity is negative (${intensityGPerKWh} g/kWh)`);
  }
  const copy: IntensityPoint = { startMs, endMs, intensityGPerKWh };
  if (point.forecast === true) copy.forecast = true;
  if (point.interpolated === true) copy.interpolated = true;
  return copy;
}

/**
 * The point whose interval contains `timeMs`, or null when the time falls in a gap or
 * outside the series. Binary search: O(log n).
 */
export function intensityAt(series: IntensitySeries, timeMs: number): IntensityPoint | null {
  const index = lastStartingAtOrBefore(series.points, timeMs);
  if (index < 0) return null;
  const point = series.points[index] as IntensityPoint;
  return timeMs < point.endMs ? point : null;
}

/** Index of the last point with `startMs <= timeMs`, or -1 when there is none. */
function lastStartingAtOrBefore(points: readonly IntensityPoint[], timeMs: number): number {
  let low = 0;
  let high = points.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if ((points[middle] as IntensityPoint).startMs <= timeMs) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** Index of the first point that ends after `timeMs` (points are sorted and disjoint). */
function firstEndingAfter(points: readonly IntensityPoint[], timeMs: number): number {
  const index = lastStartingAtOrBefore(points, timeMs);
  if (index < 0) return 0;
  return timeMs < (points[index] as IntensityPoint).endMs ? index : index + 1;
}

/**
 * The points that overlap `[fromMs, toMs)`, kept whole (not cut at the window's edges),
 * with the gaps between them. Zone, signal, source, unit and warnings are kept.
 * @throws WattprintError `BAD_INPUT` when the window is not finite or ends before it starts.
 */
export function sliceSeries(
  series: IntensitySeries,
  fromMs: number,
  toMs: number,
): IntensitySeries {
  checkWindow(fromMs, toMs);
  const points: IntensityPoint[] = [];
  for (
    let index = firstEndingAfter(series.points, fromMs);
    index < series.points.length;
    index += 1
  ) {
    const point = series.points[index] as IntensityPoint;
    if (point.startMs >= toMs) break;
    points.push(point);
  }
  return {
    ...series,
    points: points.map((point) => ({ ...point })),
    gaps: gapsBetween(points),
    warnings: [...series.warnings],
  };
}

/**
 * Time-weighted mean intensity over `[fromMs, toMs)`. Points that stick out of the window
 * count only for the part inside it; gaps and time outside the series count as missing.
 * @returns the mean over the covered part (null when nothing is covered), and the covered
 *   and missing seconds, which add up to the window's length.
 * @throws WattprintError `BAD_INPUT` when the window is not finite or ends before it starts.
 */
export function averageIntensity(
  series: IntensitySeries,
  fromMs: number,
  toMs: number,
): IntensityAverage {
  checkWindow(fromMs, toMs);
  const { weightedMs, coveredMs } = integrate(series.points, fromMs, toMs);
  return {
    intensityGPerKWh: coveredMs > 0 ? weightedMs / coveredMs : null,
    coveredS: coveredMs / MS_PER_S,
    missingS: (toMs - fromMs - coveredMs) / MS_PER_S,
  };
}

/** Σ intensity × overlap (g/kWh·ms) and Σ overlap (ms) of the points over `[fromMs, toMs)`. */
function integrate(
  points: readonly IntensityPoint[],
  fromMs: number,
  toMs: number,
): { weightedMs: number; coveredMs: number } {
  let weightedMs = 0;
  let coveredMs = 0;
  for (let index = firstEndingAfter(points, fromMs); index < points.length; index += 1) {
    const point = points[index] as IntensityPoint;
    if (point.startMs >= toMs) break;
    const overlapMs = Math.min(point.endMs, toMs) - Math.max(point.startMs, fromMs);
    if (overlapMs > 0) {
      weightedMs += point.intensityGPerKWh * overlapMs;
      coveredMs += overlapMs;
    }
  }
  return { weightedMs, coveredMs };
}

/**
 * Emissions of an energy timeline: each slice's energy, assumed spread evenly over its
 * span, times the intensity of the points it overlaps (time-weighted). Energy that falls in
 * a gap or outside the series is not guessed at: it is returned as `uncoveredEnergyJ` so
 * the caller can apply (and report) a fallback. A zero-length slice takes the intensity
 * at its instant.
 * @throws WattprintError `BAD_INPUT` for a slice with non-finite times, an end before its
 *   start, or energy that is negative or not a finite number.
 */
export function emissionsOverTimeline(
  series: IntensitySeries,
  timeline: readonly EnergySlice[],
): TimelineEmissions {
  let co2eG = 0;
  let coveredEnergyJ = 0;
  let uncoveredEnergyJ = 0;
  timeline.forEach((slice, index) => {
    const { startMs, endMs, energyJ } = slice;
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs < startMs) {
      throw badSeries(`timeline slice ${index}: ${describeSpan(slice)} is not a valid span`);
    }
    if (!Number.isFinite(energyJ) || energyJ < 0) {
      throw badSeries(
        `timeline slice ${index}: energy must be a finite number ≥ 0, got ${String(energyJ)}`,
      );
    }
    if (endMs === startMs) {
      const point = intensityAt(series, startMs);
      if (point === null) {
        uncoveredEnergyJ += energyJ;
      } else {
        coveredEnergyJ += energyJ;
        co2eG += (energyJ / J_PER_KWH) * point.intensityGPerKWh;
      }
      return;
    }
    const durationMs = endMs - startMs;
    const { weightedMs, coveredMs } = integrate(series.points, startMs, endMs);
    const covered = energyJ * (coveredMs / durationMs);
    coveredEnergyJ += covered;
    uncoveredEnergyJ += energyJ - covered;
    co2eG += (energyJ / J_PER_KWH) * (weightedMs / durationMs);
  });
  return { co2eG, coveredEnergyJ, uncoveredEnergyJ };
}

/**
 * Fills each gap of at most `maxGapMs` with points interpolated linearly between the
 * values of the points on either side (by start time), each as long as the point before
 * the gap (the last one cut at the gap's end). New points carry `interpolated: true`
 * (and `forecast: true` when a neighbour is a forecast); a warning says how many hours
 * were invented. Longer gaps stay gaps.
 * @param maxGapMs longest gap to fill, milliseconds (e.g. 3 * 3_600_000 for three hours).
 * @throws WattprintError `BAD_INPUT` when `maxGapMs` is negative or not a finite number.
 */
export function interpolateGaps(series: IntensitySeries, maxGapMs: number): IntensitySeries {
  if (!Number.isFinite(maxGapMs) || maxGapMs < 0) {
    throw badSeries(
      `the longest gap to fill must be a finite number of ms ≥ 0, got ${String(maxGapMs)}`,
    );
  }
  const points: IntensityPoint[] = [];
  const gaps: TimeSpan[] = [];
  let filledGaps = 0;
  let inventedMs = 0;
  series.points.forEach((point, index) => {
    const next = series.points[index + 1];
    points.push({ ...point });
    if (next === undefined || next.startMs <= point.endMs) return;
    const gapMs = next.startMs - point.endMs;
    if (gapMs > maxGapMs) {
      gaps.push({ startMs: point.endMs, endMs: next.startMs });
      return;
    }
    filledGaps += 1;
    inventedMs += gapMs;
    const stepMs = point.endMs - point.startMs;
    const spanMs = next.startMs - point.startMs;
    const forecast = point.forecast === true || next.forecast === true;
    for (let startMs = point.endMs; startMs < next.startMs; startMs += stepMs) {
      const fraction = (startMs - point.startMs) / spanMs;
      const invented: IntensityPoint = {
        startMs,
        endMs: Math.min(startMs + stepMs, next.startMs),
        intensityGPerKWh:
          point.intensityGPerKWh + (next.intensityGPerKWh - point.intensityGPerKWh) * fraction,
        interpolated: true,
      };
      if (forecast) invented.forecast = true;
      points.push(invented);
    }
  });
  const warnings = [...series.warnings];
  if (filledGaps > 0) {
    warnings.push(
      `${formatHours(inventedMs)} h of intensity invented by linear interpolation over ${filledGaps} gap${filledGaps === 1 ? "" : "s"} of at most ${formatHours(maxGapMs)} h (points marked interpolated)`,
    );
  }
  return { ...series, points, gaps, warnings };
}

/**
 * Refuses to combine an average and a marginal series (their figures answer different
 * questions and must not be mixed in one result).
 * @throws WattprintError `BAD_INPUT` naming both series when their signals differ.
 */
export function assertSameSignal(a: IntensitySeries, b: IntensitySeries): void {
  if (a.signal === b.signal) return;
  throw new WattprintError(
    "BAD_INPUT",
    `cannot mix ${a.signal} and ${b.signal} carbon intensity: ${a.zone} (${a.source}) is ${a.signal}, ${b.zone} (${b.source}) is ${b.signal}`,
    {
      hint: "use average intensities for accounting and reports, marginal ones for scheduling decisions, and one kind per result",
    },
  );
}

function checkWindow(fromMs: number, toMs: number): void {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs < fromMs) {
    throw badSeries(
      `the window ${describeSpan({ startMs: fromMs, endMs: toMs })} is not a valid span`,
    );
  }
}

function describeSpan(span: TimeSpan): string {
  return `[${describeTime(span.startMs)}, ${describeTime(span.endMs)})`;
}

function describeTime(timeMs: number): string {
  return Number.isFinite(timeMs) && Math.abs(timeMs) <= 8.64e15
    ? new Date(timeMs).toISOString()
    : String(timeMs);
}

function formatHours(durationMs: number): string {
  return Number((durationMs / MS_PER_HOUR).toFixed(3)).toString();
}

function badSeries(problem: string): WattprintError {
  return new WattprintError("BAD_INPUT", `bad intensity series: ${problem}`, {
    hint: "check the intensity data: times in UTC epoch ms, end after start, no overlaps, intensities finite and ≥ 0",
  });
}
