/**
 * Rule "time-shift": the greenest start for a job of the run's length that still ends by the
 * assumed deadline, from the hourly intensity of the run's region (src/schedule/window.ts),
 * and the spread of that saving over the neighbouring days (src/schedule/backtest.ts).
 * Formulas and thresholds: docs/advise.md, "Time shifting".
 */
import type { IntensitySeries } from "../grid/series.js";
import { backtestSchedule } from "../schedule/backtest.js";
import { findGreenestWindow, formatSpan, type WindowPlan } from "../schedule/window.js";
import { trimNumber } from "../units/energy.js";
import { commandLine, spanArgument } from "./command-line.js";
import { notEnoughData, nothingFound, orderedRange, withFindings } from "./outcome.js";
import { hourlyIntensityForRun } from "./run-intensity.js";
import { RULE_TITLES, type Confidence, type RuleContext, type RuleOutcome } from "./types.js";

const TITLE = RULE_TITLES["time-shift"];

/** Smallest saving, percent of the run-now CO2e, worth a finding. */
export const MIN_TIME_SHIFT_SAVING_PERCENT = 5;

/** Neighbouring days on each side replayed for the saving's range. */
export const TIME_SHIFT_RANGE_DAYS = 7;

const MS_PER_S = 1000;
const MS_PER_DAY = 86_400_000;

/** Runs the rule. */
export async function checkTimeShift(context: RuleContext): Promise<RuleOutcome> {
  const { run, options } = context;
  const energyJ = run.energyJ.total;
  const startMs = Date.parse(run.startedAt);
  const missing: string[] = [];
  if (energyJ === null || !(energyJ > 0)) missing.push("the run's energy");
  if (!(run.durationS > 0)) missing.push("the run's duration");
  if (!Number.isFinite(startMs)) missing.push("the run's start time");
  if (energyJ === null || missing.length > 0) {
    return notEnoughData("time-shift", TITLE, missing, null);
  }
  const durationS = run.durationS;
  const deadlineS = options.deadlineS;
  if (deadlineS < durationS) {
    return nothingFound(
      "time-shift",
      TITLE,
      `the run (${formatSpan(durationS * MS_PER_S)}) is longer than the ${formatSpan(deadlineS * MS_PER_S)} deadline: no room to shift it`,
    );
  }
  const data = await hourlyIntensityForRun(
    run.region,
    { startMs, coverMs: deadlineS * MS_PER_S, marginMs: TIME_SHIFT_RANGE_DAYS * MS_PER_DAY },
    options.intensityFile,
  );
  if ("missing" in data) return notEnoughData("time-shift", TITLE, [data.missing], data.hint);

  const nowMs = startMs + data.shiftMs;
  const plan = findGreenestWindow(data.series, {
    durationS,
    nowMs,
    deadlineMs: nowMs + deadlineS * MS_PER_S,
    powerW: energyJ / durationS,
  });
  const percent = plan.savingsPercent ?? 0;
  const savingG = (plan.savingsG ?? 0) * run.pue;
  if (percent < MIN_TIME_SHIFT_SAVING_PERCENT || savingG <= 0) {
    return nothingFound(
      "time-shift",
      TITLE,
      `starting when it did was within ${MIN_TIME_SHIFT_SAVING_PERCENT}% of the greenest start before the ${formatSpan(deadlineS * MS_PER_S)} deadline (the best saves ${trimNumber(percent)}%)`,
    );
  }
  const runNowG = (plan.runNow.co2eG ?? 0) * run.pue;
  const spread = neighbourSpread(context, data.series, nowMs);
  const range =
    spread === null
      ? { central: savingG, low: savingG, high: savingG }
      : orderedRange(savingG, (runNowG * spread.p10) / 100, (runNowG * spread.p90) / 100);
  const waitMs = plan.startMs - nowMs;
  const confidence: Confidence = data.replayed ? "medium" : "high";
  const filled = plan.warnings.some((warning) => /invented by linear interpolation/.test(warning));
  const notes = [
    ...(data.note === null ? [] : [data.note]),
    // Gaps the shipped data reports were filled before planning: their warning would mislead.
    ...plan.warnings.filter((warning) => !(filled && /left as gaps, not filled/.test(warning))),
  ];
  notes.push(
    `To run it at a green time (live forecast: add --intensity-source): ${commandLine([
      "wattprint",
      "run",
      "--when-green",
      "--duration",
      spanArgument(durationS),
      "--deadline",
      spanArgument(deadlineS),
      "--region",
      run.region,
      "--",
      ...run.command,
    ])}`,
  );
  return withFindings(
    "time-shift",
    TITLE,
    `a ${trimNumber(percent)}% cleaner start was available`,
    [
      {
        rule: "time-shift",
        title: `Start ${waitText(waitMs)} later (at ${hourOf(plan.startMs)} UTC${data.replayed ? " on the replayed day" : ""}): ${trimNumber(percent)}% less CO2e within the ${formatSpan(deadlineS * MS_PER_S)} deadline`,
        evidence: [
          { label: "run start", value: run.startedAt, unit: "", source: "run record: startedAt" },
          ...(data.replayed
            ? [
                {
                  label: "replayed start",
                  value: new Date(nowMs).toISOString(),
                  unit: "",
                  source: data.series.source,
                },
              ]
            : []),
          { label: "duration", value: durationS, unit: "s", source: "run record: durationS" },
          { label: "deadline after the start", value: deadlineS, unit: "s", source: "--deadline" },
          {
            label: "mean power of the run",
            value: energyJ / durationS,
            unit: "W",
            source: "energyJ / durationS",
          },
          {
            label: "intensity at the run's hours",
            value: plan.runNow.meanIntensityGPerKWh,
            unit: "gCO2e/kWh",
            source: `${data.series.source} (zone ${data.series.zone})`,
          },
          {
            label: "intensity the run was booked at",
            value: run.intensityGPerKWh,
            unit: "gCO2e/kWh",
            source: `run record: ${run.intensitySource.source}`,
          },
          {
            label: "intensity at the greenest start",
            value: plan.meanIntensityGPerKWh,
            unit: "gCO2e/kWh",
            source: `${data.series.source} (zone ${data.series.zone})`,
          },
          {
            label: "greenest start",
            value: new Date(plan.startMs).toISOString(),
            unit: "",
            source: "findGreenestWindow",
          },
          { label: "PUE", value: run.pue, unit: "ratio", source: `run record: ${run.pueSource}` },
        ],
        saving: {
          energyJ: 0,
          co2eG: range.central,
          low: { energyJ: 0, co2eG: range.low },
          high: { energyJ: 0, co2eG: range.high },
          basis: "this run",
          derivation:
            `central: energy × PUE × (intensity at the run's hours − intensity over the greenest window before the deadline) (findGreenestWindow, contiguous); ` +
            (spread === null
              ? "no range: too few neighbouring days in the data"
              : `low and high: the 10th and 90th percentile of the saving (percent) of the same job started at the same hour on ${spread.jobs} days around it (backtestSchedule, ±${TIME_SHIFT_RANGE_DAYS} days), applied to this run's run-now CO2e`),
        },
        confidence,
        confidenceReason: data.replayed
          ? "replayed on another year's hourly data: the grid at the run's own time differs"
          : `hourly intensity of the run's own hours (${data.series.source})`,
        command: scheduleCommand(context, plan, nowMs),
        notes,
      },
    ],
  );
}

/** Distribution of the saving for the same job started at the same hour on nearby days. */
function neighbourSpread(
  context: RuleContext,
  series: IntensitySeries,
  nowMs: number,
): { p10: number; p90: number; jobs: number } | null {
  const first = series.points[0];
  const last = series.points[series.points.length - 1];
  if (first === undefined || last === undefined) return null;
  const deadlineMs = context.options.deadlineS * MS_PER_S;
  let fromMs = nowMs - TIME_SHIFT_RANGE_DAYS * MS_PER_DAY;
  while (fromMs < first.startMs) fromMs += MS_PER_DAY;
  const toMs = Math.min(last.endMs, nowMs + TIME_SHIFT_RANGE_DAYS * MS_PER_DAY + deadlineMs);
  try {
    const result = backtestSchedule(series, {
      durationS: context.run.durationS,
      windowS: context.options.deadlineS,
      everyS: MS_PER_DAY / MS_PER_S,
      fromMs,
      toMs,
    });
    if (result.savingsPercent === null || result.jobs < 3) return null;
    return { p10: result.savingsPercent.p10, p90: result.savingsPercent.p90, jobs: result.jobs };
  } catch {
    // Too little data around the run for a range: the central figure stands alone.
    return null;
  }
}

function scheduleCommand(context: RuleContext, plan: WindowPlan, nowMs: number): string {
  const words = [
    "wattprint",
    "schedule",
    "--duration",
    spanArgument(context.run.durationS),
    "--deadline",
    spanArgument(context.options.deadlineS),
    "--region",
    context.run.region,
    "--power",
    `${trimNumber(plan.powerW ?? 0)}W`,
    "--now",
    new Date(nowMs).toISOString(),
  ];
  if (context.options.intensityFile !== null)
    words.push("--intensity-file", context.options.intensityFile);
  return commandLine(words);
}

/** "11 h 40 min", "45 min", "3 h". */
function waitText(waitMs: number): string {
  const minutes = Math.round(waitMs / 60_000);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

function hourOf(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}
