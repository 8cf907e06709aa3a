/**
 * The green-run executor behind `wattprint run --when-green`: plans a job over an intensity
 * series, waits for the planned start, runs the command tracked (as `track` does), pauses
 * its process group (SIGSTOP) between the slots of an interruptible plan and resumes it
 * (SIGCONT), and reports the emissions realised against starting at once. A stop during
 * the wait cancels cleanly; a stop during a pause resumes the command before it ends.
 * Method: docs/schedule.md.
 */
import { setTimeout as delay } from "node:timers/promises";
import { WattprintError } from "../errors.js";
import {
  emissionsOverTimeline,
  type EnergySlice,
  type IntensitySeries,
  type TimeSpan,
} from "../grid/series.js";
import type { RunRecord, TimelineSample } from "../record/run-record.js";
import { commandRunBase, resolveTrackOptions, type TrackOptions } from "../api/options.js";
import { runTrackedCommand } from "../track/track-command.js";
import { J_PER_KWH } from "../units/energy.js";
import { findGreenestWindow, type WindowPlan } from "./window.js";

/**
 * Plan time: the time the intensity series speaks of. Real time by default; tests and
 * replays of past data start it elsewhere and may run it faster.
 */
export interface PlanClock {
  /** Plan time now, UTC epoch ms. */
  now(): number;
  /** The plan time of a real wall-clock time (`Date.now()` ms). */
  toPlanTime(realMs: number): number;
  /** Resolves once plan time reaches `planMs`, or at once when `signal` aborts. */
  sleepUntil(planMs: number, signal?: AbortSignal): Promise<void>;
  /** True when plan time is real time (no replay, no time scale). */
  readonly isRealTime: boolean;
}

/** Options of {@link createPlanClock}. */
export interface PlanClockOptions {
  /** Plan time at creation, UTC epoch ms. Default: the real time (no replay). */
  startMs?: number;
  /**
   * Plan seconds per real second (3600: one hour of plan per second). Default 1. For tests
   * and demonstrations; the CLI reads it from WATTPRINT_TIME_SCALE.
   */
  timeScale?: number;
}

/** Longest single timer, real ms (timers overflow past 2^31 − 1 ms). */
const MAX_TIMER_MS = 3_600_000;

/**
 * A plan clock that starts at `startMs` and runs `timeScale` times faster than real time.
 * @throws WattprintError `USAGE` for a start that is not finite or a scale that is not a positive finite number.
 */
export function createPlanClock(options: PlanClockOptions = {}): PlanClock {
  const realStartMs = Date.now();
  const startMs = options.startMs ?? realStartMs;
  const scale = options.timeScale ?? 1;
  if (!Number.isFinite(startMs)) {
    throw new WattprintError("USAGE", `invalid plan start time ${String(startMs)}`, {
      hint: "give --now as ISO 8601, such as 2022-06-01T00:00:00Z",
    });
  }
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new WattprintError("USAGE", `invalid time scale ${String(scale)}`, {
      hint: "the time scale (WATTPRINT_TIME_SCALE, for tests) is a positive number of plan seconds per real second",
    });
  }
  const toPlanTime = (realMs: number) => startMs + (realMs - realStartMs) * scale;
  return {
    now: () => toPlanTime(Date.now()),
    toPlanTime,
    isRealTime: options.startMs === undefined && scale === 1,
    async sleepUntil(planMs, signal) {
      for (;;) {
        if (signal?.aborted) return;
        const realMs = (planMs - toPlanTime(Date.now())) / scale;
        if (realMs <= 0) return;
        try {
          await delay(Math.min(Math.ceil(realMs), MAX_TIMER_MS), undefined, { signal });
        } catch {
          return; // aborted
        }
      }
    },
  };
}

/** What happens during a green run, for progress output. Times are plan times, UTC epoch ms. */
export type GreenRunEvent =
  | { type: "planned"; plan: WindowPlan }
  | { type: "waiting"; untilMs: number }
  | { type: "started"; atMs: number; pid: number; runId: string }
  | { type: "paused"; atMs: number; untilMs: number }
  | { type: "resumed"; atMs: number }
  | { type: "overran"; atMs: number }
  | { type: "stopping"; atMs: number; reason: string };

/** Options of {@link runWhenGreen}: the plan, the tracking, and the clock. */
export interface GreenRunOptions extends TrackOptions {
  /** Intensity of the grid the command runs on, covering now to the deadline. */
  series: IntensitySeries;
  /** When the command must be done, plan time, UTC epoch ms. */
  deadlineMs: number;
  /**
   * How long the command is expected to run, seconds. Default: unknown, and the command
   * starts at the beginning of the greenest hour before the deadline (required when
   * `interruptible`).
   */
  durationS?: number;
  /** Pause the command in dirty periods and resume it in clean ones. Default false. */
  interruptible?: boolean;
  /** Interruptible: shortest slot, seconds. Default none. */
  minChunkS?: number;
  /** Start (or run) as soon as the intensity is at most this, gCO2e/kWh, rather than at the lowest. Default none. */
  maxIntensityGPerKWh?: number;
  /** Power for the plan's predicted grams, watts. Default null (plan in intensity only). */
  powerW?: number | null;
  /** Plan time. Default real time ({@link createPlanClock}()). */
  clock?: PlanClock;
  /** The command's stdio; default "inherit". */
  stdio?: "inherit" | "ignore" | "pipe";
  cwd?: string;
  /** Forward SIGINT to a command run in the terminal's group; default: when stdin is not a terminal. */
  forwardSigint?: boolean;
  /**
   * Listen for SIGINT, SIGTERM and SIGHUP: during the wait they cancel the run; during the
   * run they stop further pauses (a paused command is resumed to receive the signal).
   * Default true.
   */
  handleSignals?: boolean;
  /** Aborting cancels the wait, or stops pausing and ends the command with SIGTERM. */
  signal?: AbortSignal;
  onEvent?: (event: GreenRunEvent) => void;
}

/** How a green run ended. "cancelled": stopped during the wait, the command never started. */
export type GreenRunStatus = "completed" | "failed" | "interrupted" | "cancelled";

/** What {@link runWhenGreen} returns. Times are plan times, UTC epoch ms. */
export interface GreenRunOutcome {
  status: GreenRunStatus;
  /** What stopped the run early: "SIGINT", "SIGTERM", "SIGHUP" or "abort"; null when nothing did. */
  stoppedBy: string | null;
  /** The command's exit code (or 128 + signal number); null when it never started. */
  exitCode: number | null;
  plan: WindowPlan;
  /** The tracked run (saved in the store unless `store: false`); null when it never started. */
  run: RunRecord | null;
  /** Plan time when planning began. */
  plannedAtMs: number;
  startedAtMs: number | null;
  endedAtMs: number | null;
  /** Plan seconds waited before the start (until the stop, when cancelled). */
  waitedS: number;
  /** The pauses, plan time. */
  pauses: TimeSpan[];
  pausedS: number;
  /** Energy attributed to the command, joules (IT energy, before PUE); null when unknown. */
  energyJ: number | null;
  pue: number | null;
  /** Grams CO2e realised: each interval's energy × PUE × the intensity at its plan time; null when unknown. */
  co2eG: number | null;
  /** Grams CO2e had the same energy been used from the planning time on, without pauses; null when unknown. */
  runNowCo2eG: number | null;
  savingsG: number | null;
  /** 100 × (1 − realised / run-now); null when either is unknown or run-now is 0. */
  savingsPercent: number | null;
  /** Energy that fell where the series has no data (counted at the run's own intensity), joules. */
  uncoveredEnergyJ: number;
  warnings: string[];
}

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** Assumed job length when none is given: start at the greenest hour. */
const UNKNOWN_DURATION_S = 3600;

/**
 * Plans `command` over `options.series`, waits for the planned start, runs it tracked and
 * follows the plan's slots (pausing the command's process group in between), then returns
 * what happened with the realised emissions and the run-now counterfactual.
 * @throws WattprintError `USAGE` for an empty command or an interruptible run without a
 *   duration; any planning error of {@link findGreenestWindow}; `COMMAND_NOT_FOUND` when the
 *   command cannot start.
 */
export async function runWhenGreen(
  command: string[],
  options: GreenRunOptions,
): Promise<GreenRunOutcome> {
  if (command.length === 0 || command[0] === undefined || command[0] === "") {
    throw new WattprintError("USAGE", "no command to run", {
      hint: "put the command after --, for example: wattprint run --when-green -- python train.py",
    });
  }
  const clock = options.clock ?? createPlanClock();
  const plannedAtMs = clock.now();
  const warnings: string[] = [];
  let durationS = options.durationS;
  if (durationS === undefined) {
    if (options.interruptible === true) {
      throw new WattprintError("USAGE", "an interruptible run needs the command's duration", {
        hint: "give --duration (how long the command runs without pauses), such as --duration 6h",
      });
    }
    if (options.deadlineMs > plannedAtMs) {
      durationS = Math.min(UNKNOWN_DURATION_S, (options.deadlineMs - plannedAtMs) / 1000);
    } else {
      durationS = UNKNOWN_DURATION_S;
    }
    warnings.push(
      "the command's duration is unknown: it starts at the beginning of the greenest hour before the deadline (give --duration to plan a window that fits it)",
    );
  }
  const plan = findGreenestWindow(options.series, {
    durationS,
    deadlineMs: options.deadlineMs,
    nowMs: plannedAtMs,
    interruptible: options.interruptible,
    minChunkS: options.minChunkS,
    maxIntensityGPerKWh: options.maxIntensityGPerKWh,
    powerW: options.powerW,
  });
  options.onEvent?.({ type: "planned", plan });

  // In real time the run record itself can book each interval at the series' intensity.
  const resolved = await resolveTrackOptions({
    ...options,
    intensitySeries: clock.isRealTime ? options.series : options.intensitySeries,
  });
  const stop = new AbortController();
  const listeners: { name: NodeJS.Signals; handler: () => void }[] = [];
  if (options.handleSignals !== false) {
    for (const name of STOP_SIGNALS) {
      const handler = () => stop.abort(name);
      process.on(name, handler);
      listeners.push({ name, handler });
    }
  }
  const onAbort = () => stop.abort("abort");
  if (options.signal?.aborted) stop.abort("abort");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (plan.startMs > clock.now()) {
      options.onEvent?.({ type: "waiting", untilMs: plan.startMs });
      await clock.sleepUntil(plan.startMs, stop.signal);
    }
    if (stop.signal.aborted) {
      const stoppedAtMs = clock.now();
      options.onEvent?.({
        type: "stopping",
        atMs: stoppedAtMs,
        reason: String(stop.signal.reason),
      });
      return {
        ...emptyOutcome(plan, plannedAtMs, warnings, String(stop.signal.reason)),
        waitedS: Math.max(0, stoppedAtMs - plannedAtMs) / 1000,
      };
    }
    return await runFollowingPlan(command, options, plan, clock, resolved, stop.signal, {
      plannedAtMs,
      warnings,
    });
  } finally {
    for (const { name, handler } of listeners) process.off(name, handler);
    options.signal?.removeEventListener("abort", onAbort);
    resolved.store?.close();
  }
}

function emptyOutcome(
  plan: WindowPlan,
  plannedAtMs: number,
  warnings: string[],
  stoppedBy: string,
): GreenRunOutcome {
  return {
    status: "cancelled",
    stoppedBy,
    exitCode: null,
    plan,
    run: null,
    plannedAtMs,
    startedAtMs: null,
    endedAtMs: null,
    waitedS: 0,
    pauses: [],
    pausedS: 0,
    energyJ: null,
    pue: null,
    co2eG: null,
    runNowCo2eG: null,
    savingsG: null,
    savingsPercent: null,
    uncoveredEnergyJ: 0,
    warnings: [...warnings, "stopped during the wait: the command never started"],
  };
}

/** A pause in real time (`Date.now()` ms); `endMs` null while it lasts. */
interface RealPause {
  startMs: number;
  endMs: number | null;
}

async function runFollowingPlan(
  command: string[],
  options: GreenRunOptions,
  plan: WindowPlan,
  clock: PlanClock,
  resolved: Awaited<ReturnType<typeof resolveTrackOptions>>,
  stop: AbortSignal,
  context: { plannedAtMs: number; warnings: string[] },
): Promise<GreenRunOutcome> {
  const warnings = [...context.warnings];
  const pausing = plan.slots.length > 1;
  const samples: TimelineSample[] = [];
  const pauses: RealPause[] = [];
  const done = new AbortController();
  let startedRealMs = Date.now();
  let following: Promise<void> = Promise.resolve();
  const either = anySignal(stop, done.signal);

  // Process signals reach the command through runTrackedCommand; a programmatic stop ends it here.
  const terminate = new AbortController();
  const onStop = () => {
    options.onEvent?.({ type: "stopping", atMs: clock.now(), reason: String(stop.reason) });
    if (!STOP_SIGNALS.includes(stop.reason as (typeof STOP_SIGNALS)[number])) terminate.abort();
  };
  if (stop.aborted) onStop();
  else stop.addEventListener("abort", onStop, { once: true });
  let ran: Awaited<ReturnType<typeof runTrackedCommand>>;
  try {
    ran = await runTrackedCommand(command, {
      ...commandRunBase(resolved, options),
      detached: pausing,
      signal: terminate.signal,
      onStart: ({ pid: started, runId }) => {
        startedRealMs = Date.now();
        options.onEvent?.({
          type: "started",
          atMs: clock.toPlanTime(startedRealMs),
          pid: started,
          runId,
        });
        if (pausing) following = followSlots(started, plan.slots, clock, either, pauses, options);
      },
      onSample: (sample) => {
        samples.push(sample);
        options.onSample?.(sample);
      },
    });
  } finally {
    done.abort();
    stop.removeEventListener("abort", onStop);
    await following;
  }
  const endedRealMs = Date.now();
  const record = ran.record;
  const lastSlot = plan.slots[plan.slots.length - 1] as TimeSpan;
  if (clock.toPlanTime(endedRealMs) > lastSlot.endMs + 1000 && record.status === "completed") {
    warnings.push(
      `the command ran past the end of its plan (${new Date(lastSlot.endMs).toISOString()}): it took longer than the duration given`,
    );
  }
  const emissions = greenRunEmissions({
    series: options.series,
    samples,
    record,
    clock,
    plannedAtMs: context.plannedAtMs,
    startedRealMs,
    endedRealMs,
    pauses,
  });
  warnings.push(...emissions.warnings);
  const planPauses = pauses.map((pause) => ({
    startMs: clock.toPlanTime(pause.startMs),
    endMs: clock.toPlanTime(pause.endMs ?? endedRealMs),
  }));
  const startedAtMs = clock.toPlanTime(startedRealMs);
  const { co2eG, runNowCo2eG } = emissions;
  return {
    status: record.status === "running" ? "interrupted" : record.status,
    stoppedBy: stop.aborted ? String(stop.reason) : null,
    exitCode: ran.exitCode,
    plan,
    run: record,
    plannedAtMs: context.plannedAtMs,
    startedAtMs,
    endedAtMs: clock.toPlanTime(endedRealMs),
    waitedS: Math.max(0, startedAtMs - context.plannedAtMs) / 1000,
    pauses: planPauses,
    pausedS: planPauses.reduce((sum, pause) => sum + pause.endMs - pause.startMs, 0) / 1000,
    energyJ: record.energyJ.total,
    pue: record.pue,
    co2eG,
    runNowCo2eG,
    savingsG: co2eG === null || runNowCo2eG === null ? null : runNowCo2eG - co2eG,
    savingsPercent:
      co2eG === null || runNowCo2eG === null || runNowCo2eG <= 0
        ? null
        : 100 * (1 - co2eG / runNowCo2eG),
    uncoveredEnergyJ: emissions.uncoveredEnergyJ,
    warnings,
  };
}

/**
 * Follows an interruptible plan once the command has started: at the end of each slot but
 * the last, stops the command's process group; at the start of the next, continues it. A
 * stop (or the command's end) while paused continues it at once.
 */
async function followSlots(
  pid: number,
  slots: readonly TimeSpan[],
  clock: PlanClock,
  signal: AbortSignal,
  pauses: RealPause[],
  options: GreenRunOptions,
): Promise<void> {
  for (let index = 0; index < slots.length - 1; index += 1) {
    const slot = slots[index] as TimeSpan;
    const next = slots[index + 1] as TimeSpan;
    await clock.sleepUntil(slot.endMs, signal);
    if (signal.aborted) return;
    if (!signalGroup(pid, "SIGSTOP")) return;
    const pause: RealPause = { startMs: Date.now(), endMs: null };
    pauses.push(pause);
    options.onEvent?.({
      type: "paused",
      atMs: clock.toPlanTime(pause.startMs),
      untilMs: next.startMs,
    });
    await clock.sleepUntil(next.startMs, signal);
    signalGroup(pid, "SIGCONT");
    pause.endMs = Date.now();
    options.onEvent?.({ type: "resumed", atMs: clock.toPlanTime(pause.endMs) });
    if (signal.aborted) return;
  }
  const last = slots[slots.length - 1] as TimeSpan;
  await clock.sleepUntil(last.endMs, signal);
  if (!signal.aborted) options.onEvent?.({ type: "overran", atMs: clock.now() });
}

/** Signals the command's process group; false when it is gone. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

function anySignal(...signals: AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

/** Inputs of {@link greenRunEmissions}: real times are `Date.now()` ms. */
export interface GreenRunEmissionsInput {
  series: IntensitySeries;
  samples: readonly TimelineSample[];
  record: Pick<RunRecord, "energyJ" | "pue" | "intensityGPerKWh">;
  clock: Pick<PlanClock, "toPlanTime">;
  /** Plan time at which the run-now counterfactual starts. */
  plannedAtMs: number;
  startedRealMs: number;
  endedRealMs: number;
  pauses: readonly { startMs: number; endMs: number | null }[];
}

/**
 * Realised and run-now emissions of a green run, grams CO2e. The run's attributed energy
 * (its total, shaped over time by the samples' power) is placed at the plan times it was
 * used (realised) and, for the counterfactual, at the plan times it would have been used
 * had the command started when planning began and never paused. Energy outside the series
 * is counted at the run's own intensity, with a warning.
 */
export function greenRunEmissions(input: GreenRunEmissionsInput): {
  co2eG: number | null;
  runNowCo2eG: number | null;
  uncoveredEnergyJ: number;
  warnings: string[];
} {
  const { record, clock } = input;
  const totalJ = record.energyJ.total;
  if (totalJ === null) {
    return {
      co2eG: null,
      runNowCo2eG: null,
      uncoveredEnergyJ: 0,
      warnings: ["the command's energy is unknown: no emissions to compare"],
    };
  }
  const real: EnergySlice[] = [];
  for (const sample of input.samples) {
    const endMs = Date.parse(sample.t);
    const powers = Object.values(sample.attributedPowerW).filter((w): w is number => w !== null);
    const energyJ = powers.reduce((sum, w) => sum + w, 0) * sample.intervalS;
    if (Number.isFinite(endMs) && energyJ > 0) {
      real.push({ startMs: endMs - sample.intervalS * 1000, endMs, energyJ });
    }
  }
  const sampledJ = real.reduce((sum, slice) => sum + slice.energyJ, 0);
  const shaped =
    sampledJ > 0
      ? real.map((slice) => ({ ...slice, energyJ: (slice.energyJ * totalJ) / sampledJ }))
      : [{ startMs: input.startedRealMs, endMs: input.endedRealMs, energyJ: totalJ }];

  const planPauses = input.pauses.map((pause) => ({
    startMs: clock.toPlanTime(pause.startMs),
    endMs: clock.toPlanTime(pause.endMs ?? input.endedRealMs),
  }));
  const startedPlanMs = clock.toPlanTime(input.startedRealMs);
  // Plan time of a real instant had the run started at planning time and never paused.
  const runNowTime = (realMs: number) => {
    const planMs = Math.max(clock.toPlanTime(realMs), startedPlanMs);
    let pausedMs = 0;
    for (const pause of planPauses) {
      pausedMs += Math.max(0, Math.min(planMs, pause.endMs) - pause.startMs);
    }
    return input.plannedAtMs + (planMs - startedPlanMs - pausedMs);
  };
  const realised = shaped.map((slice) => ({
    startMs: clock.toPlanTime(slice.startMs),
    endMs: clock.toPlanTime(slice.endMs),
    energyJ: slice.energyJ,
  }));
  const runNow = shaped.map((slice) => ({
    startMs: runNowTime(slice.startMs),
    endMs: Math.max(runNowTime(slice.startMs), runNowTime(slice.endMs)),
    energyJ: slice.energyJ,
  }));
  const warnings: string[] = [];
  const fallbackGPerKWh = record.intensityGPerKWh;
  const grams = (slices: EnergySlice[], label: string) => {
    const result = emissionsOverTimeline(input.series, slices);
    if (result.uncoveredEnergyJ > 1e-9) {
      warnings.push(
        `${label}: ${result.uncoveredEnergyJ.toPrecision(3)} J fell outside the intensity data and were counted at the run's ${fallbackGPerKWh.toPrecision(4)} gCO2e/kWh`,
      );
    }
    return {
      co2eG: record.pue * (result.co2eG + (result.uncoveredEnergyJ / J_PER_KWH) * fallbackGPerKWh),
      uncoveredEnergyJ: result.uncoveredEnergyJ,
    };
  };
  const realisedGrams = grams(realised, "realised");
  const runNowGrams = grams(runNow, "run-now counterfactual");
  return {
    co2eG: realisedGrams.co2eG,
    runNowCo2eG: runNowGrams.co2eG,
    uncoveredEnergyJ: realisedGrams.uncoveredEnergyJ,
    warnings,
  };
}
