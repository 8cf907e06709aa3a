/**
 * The greenest time to run a job of known length before a deadline, over a carbon-intensity
 * series: one contiguous window, or (interruptible jobs) a set of slots, optionally with a
 * minimum chunk length. Exact over the data it is given, time-weighted over partial slots,
 * earliest start on ties, never worse than starting now. Method: docs/schedule.md.
 */
import { WattprintError } from "../errors.js";
import type { IntensityPoint, IntensitySeries, TimeSpan } from "../grid/series.js";
import { J_PER_KWH } from "../units/energy.js";

/** What {@link findGreenestWindow} plans for. */
export interface WindowOptions {
  /** How long the job runs, seconds (> 0). */
  durationS: number;
  /** When the job must be finished, UTC epoch ms (after `nowMs`). */
  deadlineMs: number;
  /** When planning starts ("now"), UTC epoch ms; the run-now counterfactual starts here. */
  nowMs: number;
  /** The job may be paused and resumed: plan a set of slots. Default false (one window). */
  interruptible?: boolean;
  /**
   * Interruptible jobs only: the shortest slot worth running, seconds. Default none (any
   * split). A value ≥ `durationS` means one contiguous window.
   */
  minChunkS?: number;
  /** Mean power of the job, watts, to turn intensities into grams. Default null (grams unknown). */
  powerW?: number | null;
  /**
   * "Green enough": instead of the lowest plan, take the earliest one whose mean intensity is
   * at most this many gCO2e/kWh (interruptible: run in every slot at or below it, earliest
   * first). When none qualifies, the lowest plan is taken and a warning says so. Default none.
   * Not combinable with `minChunkS`.
   */
  maxIntensityGPerKWh?: number;
}

/** How a plan was chosen. */
export type PlanSelection = "lowest" | "threshold" | "threshold-not-met";

/** The run-now counterfactual: the same job started at `nowMs` and run without pause. */
export interface RunNowFigures {
  startMs: number;
  endMs: number;
  /** Time-weighted mean intensity over the window, gCO2e/kWh. */
  meanIntensityGPerKWh: number;
  /** Grams CO2e at the plan's `powerW`; null when the power is unknown. */
  co2eG: number | null;
}

/** A plan from {@link findGreenestWindow}. Times are UTC epoch ms, spans half-open. */
export interface WindowPlan {
  /** The series' zone, signal and source (echoed). */
  zone: string;
  signal: IntensitySeries["signal"];
  source: string;
  nowMs: number;
  deadlineMs: number;
  /** The end of the data the plan could use (≤ the deadline). */
  horizonEndMs: number;
  /** True when the data ends before the deadline: the plan was made within the data. */
  dataEndsBeforeDeadline: boolean;
  durationS: number;
  interruptible: boolean;
  /** The minimum chunk used, seconds (after any rounding); null when none applied. */
  minChunkS: number | null;
  /** Start of the first slot. */
  startMs: number;
  /** End of the last slot. */
  endMs: number;
  /** When to run, in time order, merged where they touch; one slot for a contiguous plan. */
  slots: TimeSpan[];
  /** Time-weighted mean intensity over the slots, gCO2e/kWh. */
  meanIntensityGPerKWh: number;
  runNow: RunNowFigures;
  /** The power the grams assume, watts; null when unknown. */
  powerW: number | null;
  /** Energy of the job at `powerW`, joules; null when the power is unknown. */
  energyJ: number | null;
  /** Grams CO2e of the plan at `powerW`; null when the power is unknown. */
  co2eG: number | null;
  /** Run-now grams minus planned grams; null when the power is unknown. */
  savingsG: number | null;
  /** 100 × (1 − planned / run-now intensity); null when the run-now intensity is 0. */
  savingsPercent: number | null;
  selection: PlanSelection;
  /** What a user should know: data ending early, rounding, the series' own warnings. */
  warnings: string[];
}

/** Two costs closer than this share of their size are a tie (the earlier plan wins). */
export const TIE_RELATIVE_TOLERANCE = 1e-9;

/**
 * Largest number of dynamic-programming cells (time units × states) a plan with a minimum
 * chunk may use before the duration and chunk are rounded up to the data's step.
 */
export const MAX_CHUNKED_PLAN_CELLS = 20_000_000;

const MS_PER_S = 1000;

/**
 * The intensity over `[now, horizonEnd)` as contiguous cells, times relative to now.
 * `bounds[i]..bounds[i+1]` is cell i; `prefix[i]` is ∫ intensity from 0 to `bounds[i]`,
 * in gCO2e/kWh × ms.
 */
interface Horizon {
  originMs: number;
  bounds: Float64Array;
  intensity: Float64Array;
  prefix: Float64Array;
}

/**
 * Finds when to run a job of `durationS` seconds so that it ends by `deadlineMs` with the
 * lowest emissions over `series` (or, with `maxIntensityGPerKWh`, the earliest plan that is
 * green enough). Contiguous plans: the exact optimum over all start times (the cost is
 * piecewise linear in the start, so only now, the latest start and slot edges need
 * checking). Interruptible plans: the cleanest slots (exact, partial slots cut at their
 * start); with `minChunkS`, a dynamic programme on a grid anchored at now whose step divides
 * the data's slots, the duration and the chunk (exact on that grid). The plan is never worse
 * than starting now; ties go to the earliest start. When the data ends before the deadline,
 * the plan stays within the data and `dataEndsBeforeDeadline` says so.
 * @throws WattprintError `USAGE` for a duration, chunk or power that is not a positive
 *   finite number, a deadline in the past or shorter than the job; `BAD_INPUT` for an empty
 *   series, data that does not cover now, a gap before the deadline, or data that ends
 *   before the job could finish.
 */
export function findGreenestWindow(series: IntensitySeries, options: WindowOptions): WindowPlan {
  const checked = checkOptions(options);
  const { nowMs, deadlineMs, durationMs } = checked;
  const warnings = [...series.warnings];
  const horizon = buildHorizon(series, nowMs, deadlineMs, durationMs);
  const horizonEndMs = nowMs + lastOf(horizon.bounds);
  const dataEndsBeforeDeadline = horizonEndMs < deadlineMs;
  if (dataEndsBeforeDeadline) {
    warnings.push(
      `the intensity data ends at ${iso(horizonEndMs)}, before the deadline ${iso(deadlineMs)}: planned within the data`,
    );
  }

  let slotsRel: TimeSpan[];
  let selection: PlanSelection = "lowest";
  let minChunkS: number | null = null;
  if (!checked.interruptible || (checked.minChunkMs !== null && checked.minChunkMs >= durationMs)) {
    const threshold = checked.maxIntensity;
    let startRel: number | null = null;
    if (threshold !== null) {
      startRel = firstGreenEnoughStart(horizon, durationMs, threshold);
      selection = startRel === null ? "threshold-not-met" : "threshold";
    }
    startRel ??= lowestStart(horizon, durationMs);
    slotsRel = [{ startMs: startRel, endMs: startRel + durationMs }];
    if (checked.interruptible) minChunkS = durationMs / MS_PER_S;
  } else if (checked.minChunkMs === null) {
    const threshold = checked.maxIntensity;
    if (threshold !== null) {
      const planned = thresholdSlots(horizon, durationMs, threshold);
      slotsRel = planned.slots;
      selection = planned.met ? "threshold" : "threshold-not-met";
    } else {
      slotsRel = cleanestSlots(horizon, durationMs);
    }
  } else {
    const chunked = chunkedSlots(horizon, durationMs, checked.minChunkMs, series);
    slotsRel = chunked.slots;
    minChunkS = chunked.minChunkMs / MS_PER_S;
    warnings.push(...chunked.warnings);
  }
  if (selection === "threshold-not-met") {
    const threshold = String(checked.maxIntensity);
    warnings.push(
      slotsRel.length > 1 || (checked.interruptible && checked.minChunkMs === null)
        ? `less than the job's duration before the deadline is at or below ${threshold} gCO2e/kWh: topped up with the cleanest remaining time`
        : `no plan before the deadline averages ${threshold} gCO2e/kWh or less: took the lowest one`,
    );
  }

  const plannedMs = slotsRel.reduce((sum, slot) => sum + slot.endMs - slot.startMs, 0);
  const plannedIntegral = slotsRel.reduce(
    (sum, slot) => sum + integralBetween(horizon, slot.startMs, slot.endMs),
    0,
  );
  const runNowIntegral = integralBetween(horizon, 0, plannedMs);
  // Running now is always a valid plan: never return one that emits more (rounding aside).
  if (plannedIntegral > runNowIntegral) slotsRel = [{ startMs: 0, endMs: plannedMs }];
  const meanIntensity = Math.min(plannedIntegral, runNowIntegral) / plannedMs;
  const runNowMean = runNowIntegral / plannedMs;
  const powerW = checked.powerW;
  const energyJ = powerW === null ? null : (powerW * plannedMs) / MS_PER_S;
  const co2eG = energyJ === null ? null : (energyJ / J_PER_KWH) * meanIntensity;
  const runNowCo2eG = energyJ === null ? null : (energyJ / J_PER_KWH) * runNowMean;
  const slots = slotsRel.map((slot) => ({
    startMs: nowMs + slot.startMs,
    endMs: nowMs + slot.endMs,
  }));
  return {
    zone: series.zone,
    signal: series.signal,
    source: series.source,
    nowMs,
    deadlineMs,
    horizonEndMs,
    dataEndsBeforeDeadline,
    durationS: plannedMs / MS_PER_S,
    interruptible: checked.interruptible,
    minChunkS,
    startMs: (slots[0] as TimeSpan).startMs,
    endMs: lastOf(slots).endMs,
    slots,
    meanIntensityGPerKWh: meanIntensity,
    runNow: {
      startMs: nowMs,
      endMs: nowMs + plannedMs,
      meanIntensityGPerKWh: runNowMean,
      co2eG: runNowCo2eG,
    },
    powerW,
    energyJ,
    co2eG,
    savingsG: co2eG === null || runNowCo2eG === null ? null : runNowCo2eG - co2eG,
    savingsPercent: runNowMean > 0 ? 100 * (1 - meanIntensity / runNowMean) : null,
    selection,
    warnings,
  };
}

interface CheckedOptions {
  nowMs: number;
  deadlineMs: number;
  durationMs: number;
  interruptible: boolean;
  minChunkMs: number | null;
  powerW: number | null;
  maxIntensity: number | null;
}

function checkOptions(options: WindowOptions): CheckedOptions {
  const { durationS, deadlineMs, nowMs } = options;
  if (!Number.isFinite(durationS) || durationS <= 0) {
    throw usage(
      `the job's duration must be a positive number of seconds, got ${String(durationS)}`,
      "give a duration such as 6h or 90m",
    );
  }
  if (!Number.isFinite(nowMs) || !Number.isFinite(deadlineMs)) {
    throw usage(
      "the planning time and the deadline must be finite times",
      "give times as ISO 8601 (2022-06-01T00:00:00Z) or durations from now (48h)",
    );
  }
  const durationMs = Math.round(durationS * MS_PER_S);
  if (durationMs <= 0) {
    throw usage(
      `the job's duration ${String(durationS)} s is shorter than a millisecond`,
      "give a duration of at least 1 ms",
    );
  }
  if (deadlineMs <= nowMs) {
    throw usage(
      `the deadline ${iso(deadlineMs)} is not after the planning time ${iso(nowMs)}`,
      "give a deadline in the future, such as --deadline 48h",
    );
  }
  if (deadlineMs - nowMs < durationMs) {
    throw usage(
      `the deadline is ${formatSpan(deadlineMs - nowMs)} away, shorter than the ${formatSpan(durationMs)} job`,
      "give a later deadline or a shorter duration",
    );
  }
  let minChunkMs: number | null = null;
  if (options.minChunkS !== undefined) {
    const value = options.minChunkS;
    if (!Number.isFinite(value) || value <= 0) {
      throw usage(
        `the minimum chunk must be a positive number of seconds, got ${String(value)}`,
        "give a minimum chunk such as 1h",
      );
    }
    if (options.interruptible !== true) {
      throw usage(
        "a minimum chunk applies only to interruptible jobs",
        "add --interruptible, or drop --min-chunk",
      );
    }
    minChunkMs = Math.max(1, Math.round(value * MS_PER_S));
  }
  const power = options.powerW ?? null;
  if (power !== null && (!Number.isFinite(power) || power <= 0)) {
    throw usage(
      `the power must be a positive number of watts, got ${String(power)}`,
      "give a power such as 300W",
    );
  }
  const threshold = options.maxIntensityGPerKWh ?? null;
  if (threshold !== null && (!Number.isFinite(threshold) || threshold < 0)) {
    throw usage(
      `the maximum intensity must be a number ≥ 0 g/kWh, got ${String(threshold)}`,
      "give a threshold such as --max-intensity 150",
    );
  }
  if (threshold !== null && minChunkMs !== null && minChunkMs < durationMs) {
    throw usage(
      "a maximum intensity cannot be combined with a minimum chunk",
      "drop --max-intensity to get the lowest plan with chunks, or drop --min-chunk",
    );
  }
  return {
    nowMs,
    deadlineMs,
    durationMs,
    interruptible: options.interruptible === true,
    minChunkMs,
    powerW: power,
    maxIntensity: threshold,
  };
}

/** Checks the data covers `[now, …)` without gaps and cuts it into cells up to the horizon. */
function buildHorizon(
  series: IntensitySeries,
  nowMs: number,
  deadlineMs: number,
  durationMs: number,
): Horizon {
  const first = series.points[0];
  if (first === undefined) {
    throw badData(
      `the intensity series for ${series.zone} has no data`,
      "give a file or source with hourly (or finer) intensities",
    );
  }
  const dataEndMs = lastOf(series.points).endMs;
  if (first.startMs > nowMs) {
    throw badData(
      `the intensity data for ${series.zone} starts at ${iso(first.startMs)}, after the planning time ${iso(nowMs)}`,
      "plan from a time the data covers (--now) or give data that includes now",
    );
  }
  if (dataEndMs <= nowMs) {
    throw badData(
      `the intensity data for ${series.zone} ends at ${iso(dataEndMs)}, before the planning time ${iso(nowMs)}`,
      "give current data or forecasts (--intensity-file, --intensity-source), or replay past data with --now",
    );
  }
  const endMs = Math.min(deadlineMs, dataEndMs);
  const points = series.points;
  const firstIndex = firstEndingAfter(points, nowMs);
  let lastIndex = firstIndex;
  let coveredTo = nowMs;
  // Walk the points up to the horizon without copying them; the first hole is an error.
  for (; lastIndex < points.length; lastIndex += 1) {
    const point = points[lastIndex] as IntensityPoint;
    if (point.startMs >= endMs) break;
    if (point.startMs > coveredTo) {
      throw badData(
        `the intensity data for ${series.zone} has a gap from ${iso(coveredTo)} to ${iso(point.startMs)}, before the deadline`,
        "fill short gaps (--fill-gaps 3h interpolates them) or give complete data",
      );
    }
    coveredTo = point.endMs;
  }
  if (endMs - nowMs < durationMs) {
    throw badData(
      `the intensity data for ${series.zone} ends at ${iso(dataEndMs)}, ${formatSpan(endMs - nowMs)} after the planning time: too short for the ${formatSpan(durationMs)} job`,
      "give data (or a forecast) that reaches further, or a shorter duration",
    );
  }
  const count = lastIndex - firstIndex;
  const bounds = new Float64Array(count + 1);
  const intensity = new Float64Array(count);
  const prefix = new Float64Array(count + 1);
  for (let index = 0; index < count; index += 1) {
    const point = points[firstIndex + index] as IntensityPoint;
    const start = Math.max(point.startMs, nowMs) - nowMs;
    const end = Math.min(point.endMs, endMs) - nowMs;
    bounds[index] = start;
    bounds[index + 1] = end;
    intensity[index] = point.intensityGPerKWh;
    prefix[index + 1] = (prefix[index] as number) + point.intensityGPerKWh * (end - start);
  }
  return { originMs: nowMs, bounds, intensity, prefix };
}

/** Index of the first point that ends after `timeMs` (points sorted and disjoint). */
function firstEndingAfter(points: readonly IntensityPoint[], timeMs: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((points[middle] as IntensityPoint).endMs <= timeMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Index of the cell containing relative time `t` (the last cell for t at the horizon's end). */
function cellAt(horizon: Horizon, t: number): number {
  const { bounds } = horizon;
  let low = 0;
  let high = bounds.length - 2;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if ((bounds[middle] as number) <= t) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** ∫ intensity from 0 to relative time t, gCO2e/kWh × ms. */
function integralTo(horizon: Horizon, t: number): number {
  const index = cellAt(horizon, t);
  return (
    (horizon.prefix[index] as number) +
    (horizon.intensity[index] as number) * (t - (horizon.bounds[index] as number))
  );
}

function integralBetween(horizon: Horizon, from: number, to: number): number {
  return integralTo(horizon, to) - integralTo(horizon, from);
}

/**
 * Visits, in ascending order, every start time at which the cost of a contiguous window can
 * change slope: now, the latest start, and each slot edge at which the window's start or
 * end can sit; `visit` gets the start and the window's integral and returns true to stop.
 * Cursors only move forward, so a scan is linear in the number of cells.
 */
function scanWindows(
  horizon: Horizon,
  durationMs: number,
  visit: (start: number, cost: number) => boolean,
): void {
  const { bounds, intensity, prefix } = horizon;
  const cells = intensity.length;
  const latest = (bounds[cells] as number) - durationMs;
  let startCell = 0;
  let endCell = 0;
  const costAt = (start: number): number => {
    const end = start + durationMs;
    while (startCell < cells - 1 && (bounds[startCell + 1] as number) <= start) startCell += 1;
    while (endCell < cells - 1 && (bounds[endCell + 1] as number) <= end) endCell += 1;
    return (
      (prefix[endCell] as number) +
      (intensity[endCell] as number) * (end - (bounds[endCell] as number)) -
      (prefix[startCell] as number) -
      (intensity[startCell] as number) * (start - (bounds[startCell] as number))
    );
  };
  if (visit(0, costAt(0))) return;
  let previous = 0;
  let i = 1;
  let j = 1;
  // Merge two sorted lists: edges (a start on an edge) and edges − duration (an end on an edge).
  while (i <= cells || j <= cells) {
    const onEdge = i <= cells ? (bounds[i] as number) : Infinity;
    const endOnEdge = j <= cells ? (bounds[j] as number) - durationMs : Infinity;
    let next: number;
    if (onEdge <= endOnEdge) {
      next = onEdge;
      i += 1;
    } else {
      next = endOnEdge;
      j += 1;
    }
    if (next >= latest) break;
    if (next <= previous) continue;
    previous = next;
    if (visit(next, costAt(next))) return;
  }
  if (latest > 0) visit(latest, costAt(latest));
}

/** The start of the lowest contiguous window; the earliest among ties. */
function lowestStart(horizon: Horizon, durationMs: number): number {
  let bestStart = 0;
  let bestCost = Infinity;
  scanWindows(horizon, durationMs, (start, cost) => {
    if (isLower(cost, bestCost)) {
      bestCost = cost;
      bestStart = start;
    }
    return false;
  });
  return bestStart;
}

/**
 * The earliest start whose window averages at most `threshold`, or null. Between two
 * candidates the cost is linear, so the first crossing is found exactly (rounded up to the
 * next whole millisecond).
 */
function firstGreenEnoughStart(
  horizon: Horizon,
  durationMs: number,
  threshold: number,
): number | null {
  const limit = threshold * durationMs;
  let previousStart: number | null = null;
  let previousCost = 0;
  let found: number | null = null;
  scanWindows(horizon, durationMs, (start, cost) => {
    if (cost <= limit) {
      if (previousStart === null || previousCost <= limit) {
        found = start;
      } else {
        const crossing =
          previousStart +
          ((previousCost - limit) / (previousCost - cost)) * (start - previousStart);
        found = Math.min(start, Math.ceil(crossing));
      }
      return true;
    }
    previousStart = start;
    previousCost = cost;
    return false;
  });
  return found;
}

/** Interruptible, no minimum chunk: the cleanest cells, earliest first among equal ones. */
function cleanestSlots(horizon: Horizon, durationMs: number): TimeSpan[] {
  const all = Array.from({ length: horizon.intensity.length }, (_, index) => index);
  return takeCleanest(horizon, all, durationMs);
}

/**
 * Interruptible with a threshold: every cell at or below it, in time order, until the job
 * fits; the rest (if any) from the cleanest remaining cells.
 */
function thresholdSlots(
  horizon: Horizon,
  durationMs: number,
  threshold: number,
): { slots: TimeSpan[]; met: boolean } {
  const pieces: TimeSpan[] = [];
  const others: number[] = [];
  let remaining = durationMs;
  for (let index = 0; index < horizon.intensity.length; index += 1) {
    if ((horizon.intensity[index] as number) <= threshold && remaining > 0) {
      remaining -= takePiece(horizon, index, remaining, pieces);
    } else {
      others.push(index);
    }
  }
  if (remaining <= 0) return { slots: mergeSpans(pieces), met: true };
  const rest = takeCleanest(horizon, others, remaining);
  return { slots: mergeSpans([...pieces, ...rest]), met: false };
}

/**
 * The cleanest of `cells` (indices in time order) filling `durationMs`, earliest first among
 * equal intensities, the last one cut at its start. Finds the intensity at which the job is
 * filled from a sorted copy of the values (a numeric sort, no comparator), then walks the
 * cells in time order: every cell below that intensity, and cells at it until the job is full.
 */
function takeCleanest(horizon: Horizon, cells: readonly number[], durationMs: number): TimeSpan[] {
  const values = new Float64Array(cells.length);
  cells.forEach((cell, index) => (values[index] = horizon.intensity[cell] as number));
  const sorted = values.slice().sort();
  const lengthByValue = new Map<number, number>();
  for (const cell of cells) {
    const value = horizon.intensity[cell] as number;
    lengthByValue.set(value, (lengthByValue.get(value) ?? 0) + cellLength(horizon, cell));
  }
  // The intensity at which the job is filled: walk the distinct values upwards.
  let cutoff = sorted[sorted.length - 1] as number;
  let filled = 0;
  for (let index = 0; index < sorted.length; index += 1) {
    const value = sorted[index] as number;
    if (index > 0 && value === sorted[index - 1]) continue;
    filled += lengthByValue.get(value) ?? 0;
    if (filled >= durationMs) {
      cutoff = value;
      break;
    }
  }
  const pieces: TimeSpan[] = [];
  let remaining = durationMs;
  for (const cell of cells) {
    if ((horizon.intensity[cell] as number) < cutoff) remaining -= cellLength(horizon, cell);
  }
  for (const cell of cells) {
    const value = horizon.intensity[cell] as number;
    if (value < cutoff) takePiece(horizon, cell, Infinity, pieces);
    else if (value === cutoff && remaining > 0)
      remaining -= takePiece(horizon, cell, remaining, pieces);
  }
  return mergeSpans(pieces);
}

/** Adds up to `maxMs` of a cell, from its start, to `pieces`; returns the length taken. */
function takePiece(horizon: Horizon, cell: number, maxMs: number, pieces: TimeSpan[]): number {
  const start = horizon.bounds[cell] as number;
  const length = Math.min(cellLength(horizon, cell), maxMs);
  const last = pieces[pieces.length - 1];
  if (last !== undefined && last.endMs === start) last.endMs = start + length;
  else pieces.push({ startMs: start, endMs: start + length });
  return length;
}

function cellLength(horizon: Horizon, index: number): number {
  return (horizon.bounds[index + 1] as number) - (horizon.bounds[index] as number);
}

/** Sorts spans by start and merges those that touch. */
export function mergeSpans(spans: readonly TimeSpan[]): TimeSpan[] {
  const sorted = [...spans].sort((a, b) => a.startMs - b.startMs);
  const merged: TimeSpan[] = [];
  for (const span of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && span.startMs <= last.endMs) {
      last.endMs = Math.max(last.endMs, span.endMs);
    } else {
      merged.push({ ...span });
    }
  }
  return merged;
}

/**
 * Interruptible with a minimum chunk: a dynamic programme over units of `step` ms from now,
 * each unit costing its time-weighted intensity. State: units used so far and the length
 * of the current run (capped at the chunk). Backward values, decisions kept as bytes, then a
 * forward walk that runs a unit whenever that is (within {@link TIE_RELATIVE_TOLERANCE})
 * optimal: the earliest of the lowest plans.
 */
function chunkedSlots(
  horizon: Horizon,
  durationMs: number,
  minChunkMs: number,
  series: IntensitySeries,
): { slots: TimeSpan[]; minChunkMs: number; warnings: string[] } {
  const warnings: string[] = [];
  const horizonMs = lastOf(horizon.bounds);
  const dataStepMs = typicalStepMs(series);
  let duration = durationMs;
  let chunk = minChunkMs;
  let step = gcd(gcd(dataStepMs, duration), chunk);
  let units = Math.floor(horizonMs / step);
  let cells = units * (duration / step + 1) * (chunk / step + 1);
  if (cells > MAX_CHUNKED_PLAN_CELLS) {
    const roundedDuration = Math.ceil(duration / dataStepMs) * dataStepMs;
    const roundedChunk = Math.ceil(chunk / dataStepMs) * dataStepMs;
    if (roundedDuration > horizonMs) {
      throw badData(
        `planning ${formatSpan(duration)} in chunks of at least ${formatSpan(chunk)} over ${formatSpan(horizonMs)} of data needs too fine a grid`,
        `give a duration and minimum chunk in whole multiples of the data's ${formatSpan(dataStepMs)} step`,
      );
    }
    warnings.push(
      `duration ${formatSpan(duration)} and minimum chunk ${formatSpan(chunk)} rounded up to whole ${formatSpan(dataStepMs)} steps of the data (${formatSpan(roundedDuration)}, ${formatSpan(roundedChunk)}) to keep the search small`,
    );
    duration = roundedDuration;
    chunk = roundedChunk;
    step = dataStepMs;
    units = Math.floor(horizonMs / step);
    cells = units * (duration / step + 1) * (chunk / step + 1);
  }
  const need = duration / step;
  const maxRun = Math.min(chunk, duration) / step;
  const states = (need + 1) * (maxRun + 1);
  const unitCost = new Float64Array(units);
  let previous = 0;
  for (let unit = 0; unit < units; unit += 1) {
    const next = integralTo(horizon, (unit + 1) * step);
    unitCost[unit] = next - previous;
    previous = next;
  }
  // value[u * (maxRun + 1) + r]: the lowest cost to finish from the current unit in state (u, r).
  let value = new Float64Array(states).fill(Infinity);
  let nextValue = new Float64Array(states);
  value[need * (maxRun + 1) + 0] = 0;
  value[need * (maxRun + 1) + maxRun] = 0;
  const take = new Uint8Array(units * states);
  for (let unit = units - 1; unit >= 0; unit -= 1) {
    [nextValue, value] = [value, nextValue];
    const cost = unitCost[unit] as number;
    for (let used = 0; used <= need; used += 1) {
      for (let run = 0; run <= maxRun; run += 1) {
        const state = used * (maxRun + 1) + run;
        const skip =
          run === 0 || run === maxRun ? (nextValue[used * (maxRun + 1)] as number) : Infinity;
        const run2 = Math.min(run + 1, maxRun);
        const taken =
          used < need ? cost + (nextValue[(used + 1) * (maxRun + 1) + run2] as number) : Infinity;
        if (taken !== Infinity && !isLower(skip, taken)) {
          value[state] = taken;
          take[unit * states + state] = 1;
        } else {
          value[state] = skip;
        }
      }
    }
  }
  const pieces: TimeSpan[] = [];
  let used = 0;
  let run = 0;
  for (let unit = 0; unit < units && used < need; unit += 1) {
    if (take[unit * states + used * (maxRun + 1) + run] === 1) {
      pieces.push({ startMs: unit * step, endMs: (unit + 1) * step });
      used += 1;
      run = Math.min(run + 1, maxRun);
    } else {
      run = 0;
    }
  }
  return { slots: mergeSpans(pieces), minChunkMs: chunk, warnings };
}

/** The most common point length of a series, ms (its data step; 1 h for hourly data). */
function typicalStepMs(series: IntensitySeries): number {
  const counts = new Map<number, number>();
  for (const point of series.points) {
    const length = point.endMs - point.startMs;
    counts.set(length, (counts.get(length) ?? 0) + 1);
  }
  let best = 3_600_000;
  let bestCount = 0;
  for (const [length, count] of counts) {
    if (count > bestCount) {
      best = length;
      bestCount = count;
    }
  }
  return Math.max(1, Math.round(best));
}

function gcd(a: number, b: number): number {
  let x = Math.abs(Math.round(a));
  let y = Math.abs(Math.round(b));
  while (y !== 0) [x, y] = [y, x % y];
  return Math.max(1, x);
}

/** `a` is lower than `b` by more than the tie tolerance. */
function isLower(a: number, b: number): boolean {
  if (b === Infinity) return a !== Infinity;
  return a < b - TIE_RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

function lastOf<T>(items: ArrayLike<T>): T {
  return items[items.length - 1] as T;
}

function iso(timeMs: number): string {
  return Number.isFinite(timeMs) && Math.abs(timeMs) <= 8.64e15
    ? new Date(timeMs).toISOString()
    : String(timeMs);
}

/** "6 h", "90 min", "45 s", "1.5 d": a duration in ms for messages. */
export function formatSpan(durationMs: number): string {
  const abs = Math.abs(durationMs);
  const trim = (value: number) => Number(value.toFixed(3)).toString();
  if (abs >= 172_800_000) return `${trim(durationMs / 86_400_000)} d`;
  if (abs >= 3_600_000) return `${trim(durationMs / 3_600_000)} h`;
  if (abs >= 60_000) return `${trim(durationMs / 60_000)} min`;
  return `${trim(durationMs / 1000)} s`;
}

function usage(message: string, hint: string): WattprintError {
  return new WattprintError("USAGE", message, { hint });
}

function badData(message: string, hint: string): WattprintError {
  return new WattprintError("BAD_INPUT", message, { hint });
}
