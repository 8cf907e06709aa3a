import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { getIntensity, getIntensitySeries } from "../../grid/intensity.js";
import { providerSettingsFromEnvironment } from "../../config/settings.js";
import { WattprintError } from "../../errors.js";
import { trimNumber } from "../../units/energy.js";
import { parseTimeMs } from "../parse-values.js";

export const INTENSITY_HELP = `Usage: wattprint intensity --region <code> [--at <time> | --from <time> --to <time>]
                          [--source <provider> | --intensity-file <file>] [--zone <id>] [--json]

Shows the grid carbon intensity of a region now, at a time, or over a range: from a live
provider (electricitymaps, watttime, uk-carbon-intensity, carbon-aware-sdk; keys from
WATTPRINT_ELECTRICITYMAPS_TOKEN, WATTPRINT_WATTTIME_USERNAME/_PASSWORD,
WATTPRINT_CARBON_AWARE_SDK_URL), a trace file, the shipped 2022 hourly data of 8 US
grids, or the annual average — and says which.

Times: ISO 8601 with an offset (2022-07-01T12:00:00Z) or "now".`;

export async function intensityCli(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      region: { type: "string" },
      at: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      source: { type: "string" },
      "intensity-file": { type: "string" },
      "intensity-timezone": { type: "string" },
      zone: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${INTENSITY_HELP}\n`);
    return 0;
  }
  if (values.region === undefined) {
    throw new WattprintError("USAGE", "intensity needs --region", {
      hint: "for example: wattprint intensity --region US-CA --at 2022-07-01T12:00:00Z",
    });
  }
  if (values.source !== undefined && values["intensity-file"] !== undefined) {
    throw new WattprintError("USAGE", "--source and --intensity-file cannot be used together", {
      hint: "pick a live provider or a file",
    });
  }
  if (values.at !== undefined && (values.from !== undefined || values.to !== undefined)) {
    throw new WattprintError("USAGE", "--at cannot be used with --from/--to", {
      hint: "ask for one time or one range",
    });
  }
  if ((values.from === undefined) !== (values.to === undefined)) {
    throw new WattprintError("USAGE", "a range needs both --from and --to", {
      hint: INTENSITY_HELP.split("\n")[0],
    });
  }
  const options = {
    source: values.source,
    file: values["intensity-file"],
    timezone: values["intensity-timezone"],
    zone: values.zone,
    providerOptions:
      values.source === undefined
        ? undefined
        : providerSettingsFromEnvironment(values.source, io.env),
  };
  if (values.from !== undefined && values.to !== undefined) {
    const fromMs = parseTimeMs(values.from, "--from");
    const toMs = parseTimeMs(values.to, "--to");
    const result = await getIntensitySeries(values.region, fromMs, toMs, options);
    const points = result.series.points;
    const values_ = points.map((p) => p.intensityGPerKWh);
    const summary = {
      region: result.region.code,
      zone: result.series.zone,
      signal: result.series.signal,
      source: result.series.source,
      origin: result.origin,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      points: points.map((p) => ({
        from: new Date(p.startMs).toISOString(),
        to: new Date(p.endMs).toISOString(),
        intensityGPerKWh: p.intensityGPerKWh,
        ...(p.forecast ? { forecast: true } : {}),
      })),
      gaps: result.series.gaps.map((g) => ({
        from: new Date(g.startMs).toISOString(),
        to: new Date(g.endMs).toISOString(),
      })),
      minGPerKWh: Math.min(...values_),
      maxGPerKWh: Math.max(...values_),
      warnings: result.warnings,
    };
    if (values.json) {
      io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
      return 0;
    }
    io.stdout(
      `${summary.region} (zone ${summary.zone}), ${summary.signal} intensity, ${summary.source}\n` +
        `${points.length} points from ${summary.from} to ${summary.to}: min ${trimNumber(summary.minGPerKWh)}, max ${trimNumber(summary.maxGPerKWh)} gCO2e/kWh\n`,
    );
    for (const p of summary.points)
      io.stdout(
        `  ${p.from}  ${trimNumber(p.intensityGPerKWh).padStart(6)}${p.forecast ? "  (forecast)" : ""}\n`,
      );
    for (const g of summary.gaps) io.stdout(`  gap: ${g.from} – ${g.to}\n`);
    for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
    return 0;
  }
  const atMs = values.at === undefined ? Date.now() : parseTimeMs(values.at, "--at");
  const point = await getIntensity(values.region, atMs, options);
  if (values.json) {
    io.stdout(`${JSON.stringify(point, null, 2)}\n`);
    return 0;
  }
  io.stdout(
    `${point.region} (zone ${point.zone}): ${trimNumber(point.intensityGPerKWh)} gCO2e/kWh ${point.signal}${point.forecast ? " (forecast)" : ""}, ${point.from} – ${point.to}\n  source: ${point.source} (${point.origin})\n`,
  );
  for (const w of point.warnings) io.stderr(`warning: ${w}\n`);
  return 0;
}
