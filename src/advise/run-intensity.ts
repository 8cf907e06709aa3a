/**
 * Hourly intensity for the time a run happened, from src/grid/intensity.ts: a trace file,
 * the shipped hourly data at the run's own hours, or — when the run is outside the shipped
 * data's year — the same hours replayed on that year ("as if" the run had started then, on
 * the same weekday near the same date).
 */
import { WattprintError } from "../errors.js";
import { embeddedSeriesZones, loadEmbeddedSeries } from "../grid/embedded-series.js";
import { getIntensitySeries, type IntensitySeriesResult } from "../grid/intensity.js";
import { resolveRegion } from "../grid/regions.js";
import { interpolateGaps, type IntensitySeries } from "../grid/series.js";

const MS_PER_DAY = 86_400_000;

/** Gaps in the shipped hourly data up to this long are filled by linear interpolation, ms. */
export const MAX_FILLED_GAP_MS = 3 * 3_600_000;

/** Intensity data lined up with a run. */
export interface RunIntensity {
  series: IntensitySeries;
  origin: IntensitySeriesResult["origin"];
  /** Add to the run's times to land on the series' times (0 unless replayed). */
  shiftMs: number;
  /** True when the run's hours were replayed on another year's data. */
  replayed: boolean;
  /** Says what was replayed, or null. */
  note: string | null;
}

/** Why no hourly data applies, and what would supply it. */
export interface MissingIntensity {
  missing: string;
  hint: string;
}

/** The span a rule needs around a run. */
export interface RunSpan {
  /** The run's start, UTC epoch ms. */
  startMs: number;
  /** What must be covered from the start: the run, or the run's deadline, ms. */
  coverMs: number;
  /** Extra data wanted on both sides where there is some (neighbouring days), ms. Default 0. */
  marginMs?: number;
}

/**
 * The hourly intensity of `region` over `[start − margin, start + cover + margin)` (shifted
 * when replayed). With a file, the file's data at the run's own time. Without, the shipped
 * hourly data of the region's zone, gaps of up to 3 h filled by linear interpolation (with a
 * warning); a run whose `[start, start + cover)` it does not hold is replayed on the same
 * hours of the data's year. A region without shipped data is missing.
 * @throws WattprintError from the file or the region lookup.
 */
export async function hourlyIntensityForRun(
  region: string,
  span: RunSpan,
  intensityFile: string | null,
): Promise<RunIntensity | MissingIntensity> {
  const { startMs, coverMs } = span;
  const marginMs = span.marginMs ?? 0;
  if (intensityFile !== null) {
    const result = await getIntensitySeries(
      region,
      startMs - marginMs,
      startMs + coverMs + marginMs,
      { file: intensityFile },
    );
    return {
      series: result.series,
      origin: result.origin,
      shiftMs: 0,
      replayed: false,
      note: null,
    };
  }
  const resolved = resolveRegion(region);
  const embedded = loadEmbeddedSeries(resolved.zone);
  if (embedded === null) {
    return {
      missing: `hourly intensity for ${resolved.code} (zone ${resolved.zone}): wattprint ships hourly data only for ${embeddedSeriesZones().join(", ")}`,
      hint: "give --intensity-file with hourly intensities for the run's region",
    };
  }
  const shiftMs = replayShiftMs(embedded, startMs, coverMs);
  const result = await getIntensitySeries(
    region,
    startMs + shiftMs - marginMs,
    startMs + shiftMs + coverMs + marginMs,
  );
  if (result.origin !== "embedded-hourly") {
    throw new WattprintError(
      "BAD_INPUT",
      `no shipped hourly data for ${resolved.code} at the run's time`,
      {
        hint: "give --intensity-file with hourly intensities for the run's region",
      },
    );
  }
  const replayed = shiftMs !== 0;
  const year = new Date(startMs + shiftMs).getUTCFullYear();
  return {
    // The shipped 2022 data misses a few single hours; a plan should not fail on them.
    series: interpolateGaps(result.series, MAX_FILLED_GAP_MS),
    origin: result.origin,
    shiftMs,
    replayed,
    note: replayed
      ? `the run (${iso(startMs)}) is outside the shipped ${year} data: replayed as if it had started at ${iso(startMs + shiftMs)}, the same hour and weekday of ${year}`
      : null,
  };
}

/**
 * The shift that puts `[startMs, startMs + spanMs)` inside a series: 0 when it is covered,
 * else onto the same month, day and time of the series' year, moved by up to 3 days to the
 * same weekday, and by whole weeks to stay inside the data.
 */
export function replayShiftMs(series: IntensitySeries, startMs: number, spanMs: number): number {
  const first = series.points[0];
  const last = series.points[series.points.length - 1];
  if (first === undefined || last === undefined) return 0;
  const dataStartMs = first.startMs;
  const dataEndMs = last.endMs;
  if (startMs >= dataStartMs && startMs + spanMs <= dataEndMs) return 0;
  const year = new Date(dataStartMs).getUTCFullYear();
  const start = new Date(startMs);
  const month = start.getUTCMonth();
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  let candidate = Date.UTC(
    year,
    month,
    Math.min(start.getUTCDate(), daysInMonth),
    start.getUTCHours(),
    start.getUTCMinutes(),
    start.getUTCSeconds(),
    start.getUTCMilliseconds(),
  );
  let days = (start.getUTCDay() - new Date(candidate).getUTCDay() + 7) % 7;
  if (days > 3) days -= 7;
  candidate += days * MS_PER_DAY;
  const weekMs = 7 * MS_PER_DAY;
  while (candidate + spanMs > dataEndMs && candidate - weekMs >= dataStartMs) candidate -= weekMs;
  while (candidate < dataStartMs && candidate + weekMs + spanMs <= dataEndMs) candidate += weekMs;
  return candidate - startMs;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
