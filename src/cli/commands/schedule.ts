import { parseArgs } from "node:util";
import { totalmem } from "node:os";
import type { CliIo } from "../io.js";
import { parseNumber } from "../parse-values.js";
import { WattprintError } from "../../errors.js";
import {
  providerSettingsFromEnvironment,
  settingsFromEnvironment,
  type Environment,
} from "../../config/settings.js";
import { resolveRegion } from "../../grid/regions.js";
import { loadIntensityFile } from "../../grid/series-files.js";
import { embeddedSeriesZones, loadEmbeddedSeries } from "../../grid/embedded-series.js";
import {
  interpolateGaps,
  makeSeries,
  type IntensitySeries,
  type TimeSpan,
} from "../../grid/series.js";
import { createProvider } from "../../grid/providers/registry.js";
import { readCpuInfo } from "../../hardware/cpu-info.js";
import { matchCpu } from "../../hardware/cpu-table.js";
import { RAM_POWER_W_PER_GB, BYTES_PER_GB } from "../../sensors/ram-model.js";
import {
  findGreenestRegion,
  type RegionCandidate,
  type RegionPlan,
} from "../../schedule/region.js";
import { formatSpan, type WindowPlan } from "../../schedule/window.js";
import { backtestSchedule, type BacktestResult } from "../../schedule/backtest.js";
import { formatCo2e, trimNumber } from "../../units/energy.js";

export const SCHEDULE_HELP = `Usage: wattprint schedule --duration <t> [--deadline <t|time>] [options]
       wattprint schedule backtest --duration <t> [--window <t>] [--every <t>] [options]

Finds when (and, with several regions, where) to run a job of known length so that it
emits the least CO2e and still finishes by its deadline, and what that saves against
starting now. \`backtest\` replays jobs over past data and prints the savings.

Options:
  --duration <t>          how long the job runs: 90m, 6h, 1.5d (required)
  --deadline <t|time>     when it must be done: a duration from now (48h) or a time
                          (2022-06-03T00:00:00Z); default 24h
  --region <code>         region to plan in: US-CA, FR, aws:us-west-2 (default WATTPRINT_REGION)
  --regions <a,b,...>     several regions: one plan each, the best marked
  --interruptible         the job can pause and resume: plan a set of slots
  --min-chunk <t>         interruptible jobs: the shortest slot worth running
  --max-intensity <n>     take the earliest plan at or below n gCO2e/kWh, not the lowest
  --power <W>             the job's power draw: 300W, 1.2kW (default: this machine's CPU
                          TDP + RAM model; GPUs are not counted)
  --intensity-file <f>    intensity data: CSV timestamp,intensity, Carbon Aware SDK JSON or
                          EIA/dc-rl CSV; repeat it for several regions (REGION=FILE names one)
  --intensity-timezone <tz>  IANA zone for file timestamps without an offset
  --intensity-source <n>  live forecast: electricitymaps, watttime, uk-carbon-intensity,
                          carbon-aware-sdk (credentials: docs/schedule.md)
  --fill-gaps <t>         interpolate gaps in the data up to this long (default: a gap
                          before the deadline is an error)
  --now <time>            plan from this time instead of now (replays past data)
  --json                  machine-readable output (docs/schedule.md)
  -h, --help              this help

Without --intensity-file or --intensity-source the shipped 2022 hourly data is used (8 US
balancing authorities: ${embeddedSeriesZones().join(", ")}); replay it with
--now 2022-06-01T00:00:00Z.

Backtest options: --window <t> (deadline after submission, default 24h), --every <t>
(time between jobs, default 1d), --from/--to <time> (period; default all the data), and
--duration, --interruptible, --min-chunk, --region(s), --intensity-file, --fill-gaps, --json.`;

/** Version of the `--json` output of `schedule` and `schedule backtest` (docs/schedule.md). */
export const SCHEDULE_JSON_VERSION = 1;

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses "90m", "6h", "1.5d", "2w", "500ms" or a bare number of seconds into ms. */
export function parseSpanMs(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|min|h|d|w)?\s*$/.exec(text);
  const factor = DURATION_UNITS_MS[match?.[2] ?? "s"];
  if (!match || match[1] === undefined || factor === undefined || Number(match[1]) <= 0) {
    throw new WattprintError("USAGE", `invalid ${flag} "${text}"`, {
      hint: "give a positive duration such as 90m, 6h or 1d",
    });
  }
  return Number(match[1]) * factor;
}

/**
 * Parses a time: ISO 8601 with a date and, when it has a time of day, an offset or Z
 * ("2022-06-01", "2022-06-01T12:00:00Z", "2022-06-01T14:00+02:00"), or "now".
 */
export function parseTimeMs(text: string, flag: string, nowMs: number): number {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === "now") return nowMs;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(trimmed);
  const withZone = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(
    trimmed,
  );
  const value = dateOnly || withZone ? Date.parse(trimmed.replace(" ", "T")) : Number.NaN;
  if (!Number.isFinite(value)) {
    throw new WattprintError("USAGE", `invalid ${flag} "${text}"`, {
      hint: "give a time as ISO 8601 with a zone, such as 2022-06-01T12:00:00Z",
    });
  }
  return value;
}

/** A deadline: a duration after `fromMs` ("48h") or a time. */
export function parseDeadlineMs(text: string, fromMs: number): number {
  if (/^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|min|h|d|w)\s*$/.test(text)) {
    return fromMs + parseSpanMs(text, "--deadline");
  }
  return parseTimeMs(text, "--deadline", fromMs);
}

/** Parses a power: "300W", "1.2kW", "300" (watts). */
export function parsePowerW(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(w|kw|mw)?\s*$/i.exec(text);
  const factor = { w: 1, kw: 1000, mw: 1e6 }[(match?.[2] ?? "w").toLowerCase() as "w"];
  const value = match?.[1] === undefined ? Number.NaN : Number(match[1]) * factor;
  if (!Number.isFinite(value) || value <= 0) {
    throw new WattprintError("USAGE", `invalid --power "${text}"`, {
      hint: "give the job's mean power draw, such as 300W or 1.2kW",
    });
  }
  return value;
}

/** The power a plan assumes when none is given: this machine's CPU TDP plus the RAM model. */
export function defaultPowerW(procRoot: string): { powerW: number; source: string } {
  const cpu = readCpuInfo(procRoot);
  const match = matchCpu(cpu.modelName, {
    logicalCpus: cpu.logicalCpus,
    sockets: cpu.sockets,
    virtualized: cpu.virtualized,
  });
  const memoryGB = totalmem() / BYTES_PER_GB;
  const ramW = RAM_POWER_W_PER_GB * memoryGB;
  return {
    powerW: match.tdpW + ramW,
    source: `this machine: CPU ${trimNumber(match.tdpW)} W (${match.label}, TDP) + RAM ${trimNumber(ramW)} W (${RAM_POWER_W_PER_GB} W/GB × ${trimNumber(memoryGB)} GB); GPUs not counted, give --power for a GPU job`,
  };
}

/** Where intensity data comes from, as the CLI flags say. */
export interface SeriesFlags {
  regions: string[];
  intensityFiles: string[];
  intensityTimezone?: string;
  intensitySource?: string;
  fillGapsMs?: number;
  env: Environment;
}

/**
 * The intensity series for each region: from files (REGION=FILE, or the file's own zone),
 * from a live provider's forecast (joined with its latest figure so that now is covered),
 * or from the shipped hourly data of the region's zone.
 * @throws WattprintError `USAGE` when there is no region and no file, or files and regions
 *   do not pair up; `UNKNOWN_REGION`; `BAD_INPUT` when no data is shipped for a region.
 */
export async function loadRegionSeries(flags: SeriesFlags): Promise<RegionCandidate[]> {
  const fill = (series: IntensitySeries) =>
    flags.fillGapsMs === undefined ? series : interpolateGaps(series, flags.fillGapsMs);
  if (flags.intensityFiles.length > 0) {
    if (flags.intensitySource !== undefined) {
      throw new WattprintError(
        "USAGE",
        "--intensity-file and --intensity-source exclude each other",
        {
          hint: "give one source of intensity data",
        },
      );
    }
    const named = flags.intensityFiles.map((entry) => {
      const match = /^([^=/\\]+)=(.+)$/.exec(entry);
      return match
        ? { region: match[1] as string, path: match[2] as string }
        : { region: null, path: entry };
    });
    if (flags.regions.length > 0 && named.some((file) => file.region === null)) {
      if (flags.regions.length !== named.length || named.some((file) => file.region !== null)) {
        throw new WattprintError(
          "USAGE",
          "cannot tell which intensity file belongs to which region",
          {
            hint: "name each file's region: --intensity-file US-CA=ciso.csv --intensity-file US-WA=bpat.csv",
          },
        );
      }
      named.forEach((file, index) => (file.region = flags.regions[index] as string));
    }
    return named.map((file) => {
      const series = fill(loadIntensityFile(file.path, { timezone: flags.intensityTimezone }));
      return { region: file.region ?? series.zone, series };
    });
  }
  if (flags.regions.length === 0) {
    throw new WattprintError("USAGE", "no region to plan in", {
      hint: "give --region (US-CA, FR, ...) or --intensity-file, or set WATTPRINT_REGION",
    });
  }
  if (flags.intensitySource !== undefined) {
    const source = flags.intensitySource;
    const provider = createProvider(source, providerSettingsFromEnvironment(source, flags.env));
    return Promise.all(
      flags.regions.map(async (region) => {
        const zone = zoneForProvider(region);
        const [latest, forecast] = await Promise.all([
          provider.latest(zone),
          provider.forecast(zone),
        ]);
        return { region, series: fill(latestThenForecast(latest, forecast)) };
      }),
    );
  }
  return flags.regions.map((region) => {
    const resolved = resolveRegion(region);
    const series = loadEmbeddedSeries(resolved.zone);
    if (series === null) {
      throw new WattprintError(
        "BAD_INPUT",
        `no hourly intensity data is shipped for ${resolved.code} (zone ${resolved.zone})`,
        {
          hint: `give --intensity-file or --intensity-source; shipped hourly data covers ${embeddedSeriesZones().join(", ")}`,
        },
      );
    }
    return { region, series: fill(series) };
  });
}

/**
 * A provider's latest figure followed by its forecast, so that the series covers now: the
 * latest points that start before the forecast, cut at its first start.
 */
function latestThenForecast(latest: IntensitySeries, forecast: IntensitySeries): IntensitySeries {
  const forecastStartMs = forecast.points[0]?.startMs ?? Infinity;
  const before = latest.points
    .filter((point) => point.startMs < forecastStartMs)
    .map((point) => ({ ...point, endMs: Math.min(point.endMs, forecastStartMs) }));
  return makeSeries({
    zone: forecast.zone,
    signal: forecast.signal,
    source: before.length > 0 ? `${latest.source}; ${forecast.source}` : forecast.source,
    originalUnit: forecast.originalUnit,
    points: [...before, ...forecast.points],
    warnings: [...new Set([...latest.warnings, ...forecast.warnings])],
  });
}

/** The zone a provider is asked for: the region's grid zone when wattprint knows the region, else the name as given (WattTime's CAISO_NORTH). */
function zoneForProvider(region: string): string {
  try {
    return resolveRegion(region).zone;
  } catch {
    return region;
  }
}

/** Environment prefix per provider name and alias (WATTPRINT_<PREFIX>_URL, …). */
/** The regions named by --region and --regions (comma-separated), else WATTPRINT_REGION. */
export function regionList(
  region: string | undefined,
  regions: string | undefined,
  env: Environment,
  hasFiles: boolean,
): string[] {
  const listed = [
    ...(region === undefined ? [] : [region]),
    ...(regions ?? "")
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ""),
  ];
  if (listed.length > 0 || hasFiles) return listed;
  const fallback = settingsFromEnvironment(env).region;
  return fallback === undefined ? [] : [fallback];
}

const iso = (timeMs: number) => new Date(timeMs).toISOString();
const slotJson = (slot: TimeSpan) => ({ start: iso(slot.startMs), end: iso(slot.endMs) });

/** One region's plan as it appears in `--json` (docs/schedule.md). */
export function planJson(plan: WindowPlan & { region: string; best?: boolean }) {
  return {
    region: plan.region,
    zone: plan.zone,
    best: plan.best ?? true,
    start: iso(plan.startMs),
    end: iso(plan.endMs),
    slots: plan.slots.map(slotJson),
    meanIntensityGPerKWh: plan.meanIntensityGPerKWh,
    co2eG: plan.co2eG,
    runNowStart: iso(plan.runNow.startMs),
    runNowEnd: iso(plan.runNow.endMs),
    runNowMeanIntensityGPerKWh: plan.runNow.meanIntensityGPerKWh,
    runNowCo2eG: plan.runNow.co2eG,
    savingsG: plan.savingsG,
    savingsPercent: plan.savingsPercent,
    selection: plan.selection,
    dataEnd: iso(plan.horizonEndMs),
    dataEndsBeforeDeadline: plan.dataEndsBeforeDeadline,
    signal: plan.signal,
    source: plan.source,
    warnings: plan.warnings,
  };
}

/** Runs `wattprint schedule` (and `schedule backtest`); returns the exit code. */
export async function scheduleCli(argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === "backtest") return backtestCli(argv.slice(1), io);
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      duration: { type: "string" },
      deadline: { type: "string" },
      region: { type: "string" },
      regions: { type: "string" },
      interruptible: { type: "boolean" },
      "min-chunk": { type: "string" },
      "max-intensity": { type: "string" },
      power: { type: "string" },
      "intensity-file": { type: "string", multiple: true },
      "intensity-timezone": { type: "string" },
      "intensity-source": { type: "string" },
      "fill-gaps": { type: "string" },
      now: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${SCHEDULE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    throw new WattprintError("USAGE", `unexpected argument "${positionals[0] ?? ""}"`, {
      hint: "the only sub-action is backtest; see wattprint schedule --help",
    });
  }
  if (values.duration === undefined) {
    throw new WattprintError("USAGE", "--duration is required", {
      hint: "say how long the job runs, such as --duration 6h",
    });
  }
  const durationMs = parseSpanMs(values.duration, "--duration");
  const nowMs =
    values.now === undefined ? Date.now() : parseTimeMs(values.now, "--now", Date.now());
  const deadlineMs = parseDeadlineMs(values.deadline ?? "24h", nowMs);
  const minChunkS =
    values["min-chunk"] === undefined
      ? undefined
      : parseSpanMs(values["min-chunk"], "--min-chunk") / 1000;
  const maxIntensity =
    values["max-intensity"] === undefined
      ? undefined
      : parseNumber(values["max-intensity"], "--max-intensity", "give gCO2e/kWh, such as 150");
  const settings = settingsFromEnvironment(io.env);
  const power =
    values.power === undefined
      ? defaultPowerW(settings.procRoot)
      : { powerW: parsePowerW(values.power), source: "user" };
  const files = values["intensity-file"] ?? [];
  const candidates = await loadRegionSeries({
    regions: regionList(values.region, values.regions, io.env, files.length > 0),
    intensityFiles: files,
    intensityTimezone: values["intensity-timezone"],
    intensitySource: values["intensity-source"],
    fillGapsMs:
      values["fill-gaps"] === undefined
        ? undefined
        : parseSpanMs(values["fill-gaps"], "--fill-gaps"),
    env: io.env,
  });
  const search = findGreenestRegion(candidates, {
    durationS: durationMs / 1000,
    deadlineMs,
    nowMs,
    interruptible: values.interruptible === true,
    minChunkS,
    powerW: power.powerW,
    maxIntensityGPerKWh: maxIntensity,
  });
  if (values.json) {
    const best = planJson(search.best);
    io.stdout(
      `${JSON.stringify(
        {
          schemaVersion: SCHEDULE_JSON_VERSION,
          now: iso(nowMs),
          deadline: iso(deadlineMs),
          durationS: search.best.durationS,
          interruptible: search.best.interruptible,
          minChunkS: search.best.minChunkS,
          powerW: power.powerW,
          powerSource: power.source,
          ...best,
          savingsVsFirstRegionNowPercent: search.savingsVsFirstRegionNowPercent,
          regions: search.plans.map(planJson),
        },
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  io.stdout(renderSchedule(search.plans, { nowMs, deadlineMs, powerSource: power.source }));
  return 0;
}

function renderSchedule(
  plans: readonly RegionPlan[],
  context: { nowMs: number; deadlineMs: number; powerSource: string },
): string {
  const first = plans[0] as RegionPlan;
  const lines = [
    `${formatSpan(first.durationS * 1000)} ${first.interruptible ? "interruptible " : ""}job from ${iso(context.nowMs)}, done by ${iso(context.deadlineMs)}`,
  ];
  for (const plan of plans) {
    const marker = plans.length > 1 && plan.best ? "  ← best" : "";
    lines.push(`${plan.region} (${plan.zone})${marker}`);
    const waitMs = plan.startMs - context.nowMs;
    lines.push(
      `  start ${iso(plan.startMs)}${waitMs > 0 ? ` (in ${formatSpan(waitMs)})` : " (now)"}, end ${iso(plan.endMs)}`,
    );
    if (plan.slots.length > 1) {
      lines.push(
        `  slots: ${plan.slots.map((slot) => `${iso(slot.startMs)} → ${iso(slot.endMs)}`).join(", ")}`,
      );
    }
    const percent =
      plan.savingsPercent === null ? "n/a" : `${trimNumber(plan.savingsPercent)}% less`;
    lines.push(
      `  ${trimNumber(plan.meanIntensityGPerKWh)} gCO2e/kWh vs ${trimNumber(plan.runNow.meanIntensityGPerKWh)} if started now: ${percent}`,
    );
    if (plan.co2eG !== null && plan.runNow.co2eG !== null) {
      lines.push(
        `  ${formatCo2e(plan.co2eG)} vs ${formatCo2e(plan.runNow.co2eG)} (saves ${formatCo2e(plan.savingsG)}) at ${trimNumber(plan.powerW ?? 0)} W`,
      );
    }
    lines.push(`  data: ${plan.source} (${plan.signal})`);
    for (const warning of plan.warnings) lines.push(`  warning: ${warning}`);
  }
  lines.push(`power: ${context.powerSource}`);
  return `${lines.join("\n")}\n`;
}

async function backtestCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      duration: { type: "string" },
      window: { type: "string" },
      every: { type: "string" },
      interruptible: { type: "boolean" },
      "min-chunk": { type: "string" },
      region: { type: "string" },
      regions: { type: "string" },
      "intensity-file": { type: "string", multiple: true },
      "intensity-timezone": { type: "string" },
      "fill-gaps": { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${SCHEDULE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    throw new WattprintError("USAGE", `unexpected argument "${positionals[0] ?? ""}"`, {
      hint: "see wattprint schedule --help",
    });
  }
  if (values.duration === undefined) {
    throw new WattprintError("USAGE", "--duration is required", {
      hint: "say how long each job runs, such as --duration 6h",
    });
  }
  const files = values["intensity-file"] ?? [];
  const candidates = await loadRegionSeries({
    regions: regionList(values.region, values.regions, io.env, files.length > 0),
    intensityFiles: files,
    intensityTimezone: values["intensity-timezone"],
    fillGapsMs:
      values["fill-gaps"] === undefined
        ? undefined
        : parseSpanMs(values["fill-gaps"], "--fill-gaps"),
    env: io.env,
  });
  const nowMs = Date.now();
  const options = {
    durationS: parseSpanMs(values.duration, "--duration") / 1000,
    windowS: parseSpanMs(values.window ?? "24h", "--window") / 1000,
    everyS: parseSpanMs(values.every ?? "1d", "--every") / 1000,
    interruptible: values.interruptible === true,
    minChunkS:
      values["min-chunk"] === undefined
        ? undefined
        : parseSpanMs(values["min-chunk"], "--min-chunk") / 1000,
    fromMs: values.from === undefined ? undefined : parseTimeMs(values.from, "--from", nowMs),
    toMs: values.to === undefined ? undefined : parseTimeMs(values.to, "--to", nowMs),
  };
  const results = candidates.map((candidate) => {
    try {
      return { region: candidate.region, result: backtestSchedule(candidate.series, options) };
    } catch (error) {
      if (!(error instanceof WattprintError)) throw error;
      throw new WattprintError(error.code, `${candidate.region}: ${error.message}`, {
        hint: error.hint,
        cause: error,
      });
    }
  });
  if (values.json) {
    io.stdout(
      `${JSON.stringify(
        {
          schemaVersion: SCHEDULE_JSON_VERSION,
          backtests: results.map(({ region, result }) => backtestJson(region, result)),
        },
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  io.stdout(`${results.map(({ region, result }) => renderBacktest(region, result)).join("\n")}`);
  return 0;
}

/** One backtest as it appears in `--json` (docs/schedule.md); per-job savings left out. */
export function backtestJson(region: string, result: BacktestResult) {
  const { jobSavingsPercent, fromMs, toMs, ...rest } = result;
  void jobSavingsPercent;
  return { region, ...rest, from: iso(fromMs), to: iso(toMs) };
}

function renderBacktest(region: string, result: BacktestResult): string {
  const lines = [
    `${region} (${result.zone}): ${result.jobs} jobs of ${formatSpan(result.durationS * 1000)}${result.interruptible ? " (interruptible)" : ""}, one every ${formatSpan(result.everyS * 1000)}, deadline ${formatSpan(result.windowS * 1000)} after submission, ${iso(result.fromMs)} → ${iso(result.toMs)}`,
  ];
  const savings = result.savingsPercent;
  if (savings === null) {
    lines.push("  no job could be planned");
  } else {
    const pct = (value: number) => `${value.toFixed(1)}%`;
    lines.push(
      `  savings per job: mean ${pct(savings.mean)}, median ${pct(savings.median)}, p10 ${pct(savings.p10)}, p90 ${pct(savings.p90)} (min ${pct(savings.min)}, max ${pct(savings.max)})`,
    );
    lines.push(
      `  mean intensity ${trimNumber(result.meanRunNowIntensityGPerKWh ?? 0)} gCO2e/kWh if started at once → ${trimNumber(result.meanPlannedIntensityGPerKWh ?? 0)} planned (${pct(result.overallSavingsPercent ?? 0)} less overall)`,
    );
  }
  for (const { reason, count } of result.skipped.reasons) {
    lines.push(`  skipped ${count} job${count === 1 ? "" : "s"}: ${reason}`);
  }
  lines.push(`  data: ${result.source} (${result.signal})`);
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  return `${lines.join("\n")}\n`;
}
