/**
 * Backtesting a scheduling policy on past data: jobs submitted at a fixed rhythm over a
 * series (a year of hourly data, say), each planned with {@link findGreenestWindow} against
 * its own deadline, and the distribution of what planning saved against starting at once.
 * Method: docs/schedule.md.
 */
import { WattprintError } from "../errors.js";
import type { IntensitySeries, TimeSpan } from "../grid/series.js";
import { findGreenestWindow, formatSpan } from "./window.js";

/** The policy and period of a backtest. */
export interface BacktestOptions {
  /** Length of every job, seconds. */
  durationS: number;
  /** Time from a job's submission to its deadline, seconds (≥ `durationS`). */
  windowS: number;
  /** Time between two submissions, seconds (86 400 for one job a day). */
  everyS: number;
  /** Jobs may be paused and resumed. Default false. */
  interruptible?: boolean;
  /** Interruptible jobs: shortest slot, seconds. Default none. */
  minChunkS?: number;
  /** First submission, UTC epoch ms. Default: the start of the series. */
  fromMs?: number;
  /** No job's deadline is later than this, UTC epoch ms. Default: the end of the series. */
  toMs?: number;
}

/** Savings of the jobs, percent of their run-now emissions. */
export interface SavingsDistribution {
  mean: number;
  /** Percentiles by linear interpolation between order statistics (numpy's default). */
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
}

/** What {@link backtestSchedule} returns. */
export interface BacktestResult {
  zone: string;
  signal: IntensitySeries["signal"];
  source: string;
  durationS: number;
  windowS: number;
  everyS: number;
  interruptible: boolean;
  minChunkS: number | null;
  /** First submission and latest deadline, UTC epoch ms. */
  fromMs: number;
  toMs: number;
  /** Jobs planned (skipped ones excluded). */
  jobs: number;
  /** Jobs not planned, by reason (a gap in their window; a run-now intensity of 0). */
  skipped: { count: number; reasons: { reason: string; count: number }[] };
  /** Distribution of the per-job savings; null when no job was planned. */
  savingsPercent: SavingsDistribution | null;
  /** 100 × (1 − Σ planned / Σ run-now intensity × time) over all jobs; null when no job was planned. */
  overallSavingsPercent: number | null;
  /** Mean over jobs of the run-now and planned mean intensities, gCO2e/kWh. */
  meanRunNowIntensityGPerKWh: number | null;
  meanPlannedIntensityGPerKWh: number | null;
  /** Per-job savings, percent, in submission order (skipped jobs left out). */
  jobSavingsPercent: number[];
  warnings: string[];
}

const MS_PER_S = 1000;

/**
 * Replays jobs of `durationS` submitted every `everyS` from `fromMs`, each with a deadline
 * `windowS` after its submission, against `series`; each is planned as
 * {@link findGreenestWindow} would with "now" at its submission, and compared with starting
 * at once. Jobs whose window overlaps a gap in the data are skipped and counted.
 * @throws WattprintError `USAGE` for a duration, window or rhythm that is not a positive
 *   number of seconds, or a window shorter than the job; `BAD_INPUT` for an empty series or
 *   a period the data does not cover.
 */
export function backtestSchedule(
  series: IntensitySeries,
  options: BacktestOptions,
): BacktestResult {
  const { durationS, windowS, everyS } = options;
  for (const [name, value] of [
    ["duration", durationS],
    ["window", windowS],
    ["rhythm (--every)", everyS],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new WattprintError(
        "USAGE",
        `the backtest's ${name} must be a positive number of seconds, got ${String(value)}`,
        {
          hint: "give durations such as --duration 6h --window 24h --every 1d",
        },
      );
    }
  }
  if (windowS < durationS) {
    throw new WattprintError(
      "USAGE",
      `the window (${formatSpan(windowS * MS_PER_S)}) is shorter than the ${formatSpan(durationS * MS_PER_S)} job`,
      {
        hint: "give a window at least as long as the job",
      },
    );
  }
  const first = series.points[0];
  const last = series.points[series.points.length - 1];
  if (first === undefined || last === undefined) {
    throw new WattprintError("BAD_INPUT", `the intensity series for ${series.zone} has no data`, {
      hint: "give a file with hourly (or finer) intensities",
    });
  }
  const fromMs = options.fromMs ?? first.startMs;
  const toMs = options.toMs ?? last.endMs;
  const windowMs = windowS * MS_PER_S;
  const everyMs = everyS * MS_PER_S;
  if (
    !Number.isFinite(fromMs) ||
    !Number.isFinite(toMs) ||
    fromMs < first.startMs ||
    toMs > last.endMs ||
    toMs - fromMs < windowMs
  ) {
    throw new WattprintError(
      "BAD_INPUT",
      `the intensity data for ${series.zone} covers ${iso(first.startMs)} to ${iso(last.endMs)}, not a ${formatSpan(windowMs)} window from ${iso(fromMs)} to ${iso(toMs)}`,
      { hint: "pick a period (--from, --to) inside the data, at least one window long" },
    );
  }

  const savings: number[] = [];
  const skipReasons = new Map<string, number>();
  const skip = (reason: string) => skipReasons.set(reason, (skipReasons.get(reason) ?? 0) + 1);
  let runNowSum = 0;
  let plannedSum = 0;
  let gapIndex = 0;
  const gaps: readonly TimeSpan[] = series.gaps;
  let minChunkS: number | null = null;
  for (let submitMs = fromMs; submitMs + windowMs <= toMs; submitMs += everyMs) {
    const deadlineMs = submitMs + windowMs;
    while (gapIndex < gaps.length && (gaps[gapIndex] as TimeSpan).endMs <= submitMs) gapIndex += 1;
    const gap = gaps[gapIndex];
    if (gap !== undefined && gap.startMs < deadlineMs) {
      skip("the window overlaps a gap in the data");
      continue;
    }
    const plan = findGreenestWindow(series, {
      durationS,
      deadlineMs,
      nowMs: submitMs,
      interruptible: options.interruptible,
      minChunkS: options.minChunkS,
    });
    minChunkS = plan.minChunkS;
    if (plan.savingsPercent === null) {
      skip("the run-now intensity is 0 (no saving can be expressed in percent)");
      continue;
    }
    savings.push(plan.savingsPercent);
    runNowSum += plan.runNow.meanIntensityGPerKWh;
    plannedSum += plan.meanIntensityGPerKWh;
  }
  const jobs = savings.length;
  return {
    zone: series.zone,
    signal: series.signal,
    source: series.source,
    durationS,
    windowS,
    everyS,
    interruptible: options.interruptible === true,
    minChunkS,
    fromMs,
    toMs,
    jobs,
    skipped: {
      count: [...skipReasons.values()].reduce((sum, count) => sum + count, 0),
      reasons: [...skipReasons].map(([reason, count]) => ({ reason, count })),
    },
    savingsPercent: jobs === 0 ? null : distribution(savings),
    overallSavingsPercent:
      jobs === 0 || runNowSum === 0 ? null : 100 * (1 - plannedSum / runNowSum),
    meanRunNowIntensityGPerKWh: jobs === 0 ? null : runNowSum / jobs,
    meanPlannedIntensityGPerKWh: jobs === 0 ? null : plannedSum / jobs,
    jobSavingsPercent: savings,
    warnings: [...series.warnings],
  };
}

/**
 * Mean, median, p10, p90, min and max of a list of savings.
 * @throws WattprintError `BAD_INPUT` for an empty list.
 */
export function distribution(values: readonly number[]): SavingsDistribution {
  if (values.length === 0) {
    throw new WattprintError("BAD_INPUT", "no values to summarise", {
      hint: "plan at least one job",
    });
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {
    mean,
    median: percentile(sorted, 50),
    p10: percentile(sorted, 10),
    p90: percentile(sorted, 90),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
  };
}

/** The `p`-th percentile of non-empty sorted values, linear between order statistics. */
function percentile(sorted: readonly number[], p: number): number {
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (rank - low);
}

function iso(timeMs: number): string {
  return Number.isFinite(timeMs) && Math.abs(timeMs) <= 8.64e15
    ? new Date(timeMs).toISOString()
    : String(timeMs);
}
