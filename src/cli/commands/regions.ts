import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { listRegions, resolveRegion } from "../../grid/regions.js";
import { trimNumber } from "../../units/energy.js";
import { WattprintError } from "../../errors.js";

export const REGIONS_HELP = `Usage: wattprint regions [country|subdivision|cloud] [--json]
       wattprint regions show <region> [--json]

Lists the grid regions wattprint knows (annual average intensity, source, year), or
resolves one (FR, France, US-CA, aws:us-east-1).`;

const KINDS = ["country", "subdivision", "cloud", "world"] as const;

export async function regionsCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    io.stdout(`${REGIONS_HELP}\n`);
    return 0;
  }
  const [first, second] = positionals;
  if (first === "show") {
    if (second === undefined) {
      throw new WattprintError("USAGE", "regions show needs a region", {
        hint: "for example: wattprint regions show FR",
      });
    }
    const region = resolveRegion(second);
    io.stdout(
      values.json
        ? `${JSON.stringify(region, null, 2)}\n`
        : `${region.code}  ${region.name}\n  ${trimNumber(region.intensityGPerKWh)} gCO2e/kWh (${region.signal}, zone ${region.zone}), ${region.source}${region.fallback ? `\n  fallback: ${region.fallbackReason}` : ""}${region.pue !== undefined ? `\n  PUE ${region.pue} (${region.pueSource})` : ""}\n`,
    );
    return 0;
  }
  const kind = first as (typeof KINDS)[number] | undefined;
  if (kind !== undefined && !KINDS.includes(kind)) {
    throw new WattprintError("USAGE", `unknown region kind "${first}"`, {
      hint: `use one of ${KINDS.join(", ")}, or \`wattprint regions show ${first}\``,
    });
  }
  const regions = listRegions(kind);
  if (values.json) {
    io.stdout(`${JSON.stringify(regions, null, 2)}\n`);
    return 0;
  }
  for (const r of regions) {
    io.stdout(
      `${r.code.padEnd(28)}${trimNumber(r.intensityGPerKWh).padStart(6)} g/kWh  ${r.name}${r.fallback ? " (fallback)" : ""}\n`,
    );
  }
  return 0;
}
