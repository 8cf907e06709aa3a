import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { constants as osConstants } from "node:os";
import type { CliIo } from "../io.js";
import { splitCommand } from "../split-argv.js";
import { parseDurationS, parseNumber } from "../parse-values.js";
import { renderRunSummary } from "../render-run.js";
import { WattprintError } from "../../errors.js";
import { settingsFromEnvironment } from "../../config/settings.js";
import { resolveRegion } from "../../grid/regions.js";
import { assertWritable, writeFileAtomic } from "../../report/write-file.js";
import {
  createPlanClock,
  runWhenGreen,
  type GreenRunEvent,
  type GreenRunOutcome,
} from "../../schedule/run-when-green.js";
import { formatSpan } from "../../schedule/window.js";
import { formatCo2e, formatDuration, trimNumber } from "../../units/energy.js";
import {
  SCHEDULE_JSON_VERSION,
  loadRegionSeries,
  parseDeadlineMs,
  parsePowerW,
  parseSpanMs,
  parseTimeMs,
  planJson,
  regionList,
} from "./schedule.js";

export const RUN_HELP = `Usage: wattprint run --when-green [options] -- <command> [args...]

Waits for the cleanest time before the deadline, then runs the command and measures it
as \`wattprint track\` does. With --interruptible it pauses the command (SIGSTOP on its
process group) in dirty periods and resumes it (SIGCONT) so that it still finishes by the
deadline. At the end it reports the emissions realised against starting at once.
Ctrl-C during the wait cancels; during a pause it resumes the command, ends it and saves
the run.

Options:
  --when-green            plan and wait for clean electricity (required)
  --deadline <t|time>     when the command must be done: 24h, 2022-06-03T00:00:00Z (default 24h)
  --duration <t>          how long the command runs (required with --interruptible; without
                          it the command starts at the beginning of the greenest hour)
  --max-intensity <n>     start (or run) as soon as the grid is at or below n gCO2e/kWh
  --interruptible         pause in dirty periods; the command runs in its own process group
                          and does not read the terminal (stdin is closed)
  --min-chunk <t>         interruptible: the shortest slot worth running
  --region <code>         the grid the machine is on (default WATTPRINT_REGION)
  --intensity-file <f>    intensity data (CSV, Carbon Aware SDK JSON, EIA/dc-rl CSV)
  --intensity-timezone <tz>  IANA zone for file timestamps without an offset
  --intensity-source <n>  live forecast: electricitymaps, watttime, uk-carbon-intensity,
                          carbon-aware-sdk (credentials: docs/schedule.md)
  --fill-gaps <t>         interpolate gaps in the data up to this long
  --now <time>            plan from this time instead of now (replays past data)
  --power <W>             the command's power, for the plan's predicted grams
  --pue <n>               data-centre PUE (default: the cloud region's, else 1.0)
  --interval <t>          sampling interval (default 1s)
  --out <file>            write the outcome (plan, run, realised vs run-now) as JSON
  --no-store              save neither the run nor the outcome log
  --quiet                 no progress lines or summary
  -h, --help              this help

Every outcome, a cancelled wait included, is appended to $WATTPRINT_HOME/green-runs.jsonl
(unless --no-store); the run itself goes to the run store as with track.`;

const VALUE_OPTIONS = new Set([
  "deadline",
  "duration",
  "max-intensity",
  "min-chunk",
  "region",
  "intensity-file",
  "intensity-timezone",
  "intensity-source",
  "fill-gaps",
  "now",
  "power",
  "pue",
  "interval",
  "out",
]);

/**
 * Environment variable that runs plan time faster than real time, for tests only: plan
 * seconds per real second (3600: an hour of data per second). Read here, in the CLI layer.
 */
export const TIME_SCALE_ENV = "WATTPRINT_TIME_SCALE";

/** The file (under WATTPRINT_HOME) each green-run outcome is appended to, one JSON line each. */
export const GREEN_RUN_LOG = "green-runs.jsonl";

/** Runs `wattprint run --when-green`; returns the command's exit code (128 + signal when cancelled). */
export async function runWhenGreenCli(argv: string[], io: CliIo): Promise<number> {
  const { options: optionArgs, command } = splitCommand(argv, VALUE_OPTIONS);
  const { values } = parseArgs({
    args: optionArgs,
    strict: true,
    allowPositionals: false,
    options: {
      "when-green": { type: "boolean" },
      deadline: { type: "string" },
      duration: { type: "string" },
      "max-intensity": { type: "string" },
      interruptible: { type: "boolean" },
      "min-chunk": { type: "string" },
      region: { type: "string" },
      "intensity-file": { type: "string" },
      "intensity-timezone": { type: "string" },
      "intensity-source": { type: "string" },
      "fill-gaps": { type: "string" },
      now: { type: "string" },
      power: { type: "string" },
      pue: { type: "string" },
      interval: { type: "string" },
      out: { type: "string" },
      "no-store": { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${RUN_HELP}\n`);
    return 0;
  }
  if (!values["when-green"]) {
    throw new WattprintError("USAGE", "wattprint run needs --when-green", {
      hint: "wattprint run --when-green -- <command> waits for clean electricity; wattprint track -- <command> runs it now",
    });
  }
  if (command.length === 0) {
    throw new WattprintError("USAGE", "no command to run", {
      hint: "put the command after --, for example: wattprint run --when-green -- python train.py",
    });
  }
  const scaleText = io.env[TIME_SCALE_ENV];
  const timeScale =
    scaleText === undefined || scaleText.trim() === ""
      ? undefined
      : parseNumber(
          scaleText,
          TIME_SCALE_ENV,
          "a positive number of plan seconds per real second (tests only)",
        );
  const startMs =
    values.now === undefined ? undefined : parseTimeMs(values.now, "--now", Date.now());
  const clock = createPlanClock({ startMs, timeScale });
  const nowMs = clock.now();
  const deadlineMs = parseDeadlineMs(values.deadline ?? "24h", nowMs);
  const durationS =
    values.duration === undefined ? undefined : parseSpanMs(values.duration, "--duration") / 1000;
  const minChunkS =
    values["min-chunk"] === undefined
      ? undefined
      : parseSpanMs(values["min-chunk"], "--min-chunk") / 1000;
  const maxIntensity =
    values["max-intensity"] === undefined
      ? undefined
      : parseNumber(values["max-intensity"], "--max-intensity", "give gCO2e/kWh, such as 150");
  const pue =
    values.pue === undefined
      ? undefined
      : parseNumber(
          values.pue,
          "--pue",
          "PUE is a number such as 1.1 (facility energy / IT energy)",
        );
  const intervalS =
    values.interval === undefined ? undefined : parseDurationS(values.interval, "--interval");
  if (values.out !== undefined) assertWritable(values.out, "--out");
  const files = values["intensity-file"] === undefined ? [] : [values["intensity-file"]];
  const regions = regionList(values.region, undefined, io.env, files.length > 0);
  const [candidate] = await loadRegionSeries({
    regions,
    intensityFiles: files,
    intensityTimezone: values["intensity-timezone"],
    intensitySource: values["intensity-source"],
    fillGapsMs:
      values["fill-gaps"] === undefined
        ? undefined
        : parseSpanMs(values["fill-gaps"], "--fill-gaps"),
    env: io.env,
  });
  if (candidate === undefined) {
    throw new WattprintError("USAGE", "no intensity data to plan with", {
      hint: "give --region or --intensity-file",
    });
  }
  const region =
    values.region ?? settingsFromEnvironment(io.env).region ?? knownZone(candidate.series.zone);
  const say = (text: string) => {
    if (!values.quiet) io.stderr(`wattprint: ${text}\n`);
  };
  const outcome = await runWhenGreen(command, {
    series: candidate.series,
    deadlineMs,
    durationS,
    interruptible: values.interruptible === true,
    minChunkS,
    maxIntensityGPerKWh: maxIntensity,
    powerW: values.power === undefined ? null : parsePowerW(values.power),
    clock,
    region,
    pue,
    intervalS,
    store: !values["no-store"],
    env: io.env,
    forwardSigint: !io.stdinIsTTY,
    onEvent: (event) => say(describeEvent(event)),
  });
  const json = outcomeJson(command, candidate.region, outcome);
  if (values.out !== undefined) writeFileAtomic(values.out, `${JSON.stringify(json, null, 2)}\n`);
  if (!values["no-store"]) appendOutcomeLog(settingsFromEnvironment(io.env).home, json);
  if (!values.quiet) {
    if (outcome.run !== null) io.stderr(`${renderRunSummary(outcome.run)}\n`);
    io.stderr(`${renderOutcome(outcome)}\n`);
    if (outcome.run !== null && !values["no-store"]) {
      io.stderr(
        `  saved as run ${outcome.run.id.slice(0, 8)} (wattprint runs show ${outcome.run.id.slice(0, 8)})\n`,
      );
    }
  }
  if (outcome.status === "cancelled") return 128 + cancelSignalNumber(outcome);
  return outcome.exitCode ?? 1;
}

/** The series' zone when wattprint knows it as a region (an EIA file's "US-CAL-CISO"), else undefined. */
function knownZone(zone: string): string | undefined {
  try {
    return resolveRegion(zone).code;
  } catch {
    return undefined;
  }
}

function cancelSignalNumber(outcome: GreenRunOutcome): number {
  const name = outcome.stoppedBy as NodeJS.Signals | null;
  return (name === null ? undefined : osConstants.signals[name]) ?? osConstants.signals.SIGINT;
}

const iso = (timeMs: number) => new Date(timeMs).toISOString();

function describeEvent(event: GreenRunEvent): string {
  switch (event.type) {
    case "planned": {
      const plan = event.plan;
      const wait = plan.startMs - plan.nowMs;
      const slots =
        plan.slots.length > 1
          ? `; runs in ${plan.slots.length} slots: ${plan.slots.map((slot) => `${iso(slot.startMs)} → ${iso(slot.endMs)}`).join(", ")}`
          : "";
      const saving =
        plan.savingsPercent === null ? "" : ` (${trimNumber(plan.savingsPercent)}% less)`;
      return `green plan for ${plan.zone}: start ${iso(plan.startMs)}${wait > 0 ? ` (in ${formatSpan(wait)})` : " (now)"}, ${trimNumber(plan.meanIntensityGPerKWh)} gCO2e/kWh vs ${trimNumber(plan.runNow.meanIntensityGPerKWh)} now${saving}${slots}`;
    }
    case "waiting":
      return `waiting until ${iso(event.untilMs)} (Ctrl-C cancels)`;
    case "started":
      return `started at ${iso(event.atMs)} (pid ${event.pid}, run ${event.runId.slice(0, 8)})`;
    case "paused":
      return `paused at ${iso(event.atMs)} until ${iso(event.untilMs)} (dirty grid)`;
    case "resumed":
      return `resumed at ${iso(event.atMs)}`;
    case "overran":
      return `still running at ${iso(event.atMs)}, past the planned end: it runs on`;
    case "stopping":
      return `stopping (${event.reason}) at ${iso(event.atMs)}`;
  }
}

/** The outcome as written by --out and to the outcome log (docs/schedule.md). */
export function outcomeJson(command: string[], region: string, outcome: GreenRunOutcome) {
  return {
    schemaVersion: SCHEDULE_JSON_VERSION,
    command,
    status: outcome.status,
    stoppedBy: outcome.stoppedBy,
    exitCode: outcome.exitCode,
    runId: outcome.run?.id ?? null,
    plannedAt: iso(outcome.plannedAtMs),
    startedAt: outcome.startedAtMs === null ? null : iso(outcome.startedAtMs),
    endedAt: outcome.endedAtMs === null ? null : iso(outcome.endedAtMs),
    waitedS: outcome.waitedS,
    pauses: outcome.pauses.map((pause) => ({ start: iso(pause.startMs), end: iso(pause.endMs) })),
    pausedS: outcome.pausedS,
    energyJ: outcome.energyJ,
    pue: outcome.pue,
    co2eG: outcome.co2eG,
    runNowCo2eG: outcome.runNowCo2eG,
    savingsG: outcome.savingsG,
    savingsPercent: outcome.savingsPercent,
    uncoveredEnergyJ: outcome.uncoveredEnergyJ,
    plan: planJson({ ...outcome.plan, region }),
    warnings: outcome.warnings,
  };
}

function renderOutcome(outcome: GreenRunOutcome): string {
  if (outcome.status === "cancelled") {
    return `wattprint: when-green run cancelled after waiting ${formatDuration(outcome.waitedS)}: the command never started`;
  }
  const lines: string[] = [];
  if (outcome.co2eG !== null && outcome.runNowCo2eG !== null) {
    const saving =
      outcome.savingsPercent === null
        ? ""
        : ` (${trimNumber(outcome.savingsPercent)}% ${outcome.savingsPercent >= 0 ? "less" : "more"})`;
    lines.push(
      `  when green     ${formatCo2e(outcome.co2eG)} realised vs ${formatCo2e(outcome.runNowCo2eG)} had it started at once${saving}`,
    );
  } else {
    lines.push("  when green     emissions unknown (no energy measured)");
  }
  lines.push(
    `  waited ${formatDuration(outcome.waitedS)}, paused ${formatDuration(outcome.pausedS)} in ${outcome.pauses.length} pause${outcome.pauses.length === 1 ? "" : "s"}`,
  );
  for (const warning of outcome.warnings) lines.push(`  warning: ${warning}`);
  return lines.join("\n");
}

function appendOutcomeLog(home: string, json: object): void {
  try {
    mkdirSync(home, { recursive: true });
    appendFileSync(join(home, GREEN_RUN_LOG), `${JSON.stringify(json)}\n`);
  } catch (error) {
    throw new WattprintError(
      "OUTPUT_UNWRITABLE",
      `cannot append to ${join(home, GREEN_RUN_LOG)}: ${(error as Error).message}`,
      {
        hint: "check WATTPRINT_HOME is writable, or pass --no-store",
        cause: error,
      },
    );
  }
}
