/**
 * Regenerates data/grid/hourly/<zone>.csv, the hourly 2022 intensity series wattprint
 * ships, from the dc-rl copies of EIA-930 data.
 *
 *   npx tsx scripts/generate-hourly-series.ts [--dc-rl DIR] [--out DIR] [--check]
 *
 * Input (offline): `<DIR>/<EIA code>.csv` with columns timestamp, fuel columns and avg_CI
 * (gCO2/kWh, lifecycle factors), hourly over 2022 in UTC. Default DIR: the first of
 * shared/data/carbon-intensity/dc-rl and ../shared/data/carbon-intensity/dc-rl that
 * exists, relative to the package root. Source: U.S. EIA, via HewlettPackard/dc-rl (MIT).
 *
 * Output: `timestamp,intensity_g_per_kwh`, one row per UTC hour start from the first to
 * the last hour with a value (all of 2022 for the shipped files), ISO 8601 with `Z`; an hour without a value keeps an empty
 * cell so that it stays a gap; values rounded to 0.001 g/kWh.
 *
 * --out writes (or checks) another folder than data/grid/hourly.
 * --check writes nothing and exits 1 when a file on disk differs from what would be written.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EMBEDDED_SERIES_ZONES } from "../src/grid/embedded-series.js";
import { loadIntensityFile } from "../src/grid/series-files.js";
import { intensityAt } from "../src/grid/series.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_OUTPUT_DIR = join(ROOT, "data/grid/hourly");
const HOUR_MS = 3_600_000;
const DECIMALS = 3;

function main(argv: string[]): number {
  let dcRlDir: string | undefined;
  let outputDir = DEFAULT_OUTPUT_DIR;
  let check = false;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === "--check") check = true;
    else if (argument === "--dc-rl") {
      dcRlDir = argv[(index += 1)];
      if (dcRlDir === undefined) throw new Error("--dc-rl needs a folder");
    } else if (argument === "--out") {
      const value = argv[(index += 1)];
      if (value === undefined) throw new Error("--out needs a folder");
      outputDir = resolve(value);
    } else throw new Error(`unknown argument ${argument ?? ""}`);
  }
  const candidates =
    dcRlDir === undefined
      ? [
          join(ROOT, "shared/data/carbon-intensity/dc-rl"),
          join(ROOT, "../shared/data/carbon-intensity/dc-rl"),
        ]
      : [resolve(dcRlDir)];
  const inputDir = candidates.find((dir) => existsSync(dir));
  if (inputDir === undefined) {
    throw new Error(`no dc-rl folder at ${candidates.join(" or ")}; pass --dc-rl DIR`);
  }

  let differences = 0;
  if (!check) mkdirSync(outputDir, { recursive: true });
  for (const { zone, eiaCode } of EMBEDDED_SERIES_ZONES) {
    const text = hourlyCsv(join(inputDir, `${eiaCode}.csv`), zone);
    const output = join(outputDir, `${zone}.csv`);
    if (check) {
      const current = existsSync(output) ? readFileSync(output, "utf8") : null;
      if (current !== text) {
        differences += 1;
        console.error(`${output} differs from what ${eiaCode}.csv gives`);
      }
    } else {
      writeFileSync(output, text);
      console.log(`wrote ${output}`);
    }
  }
  return differences === 0 ? 0 : 1;
}

/** The compact CSV of one dc-rl file: every hour from the first to the last, empty when unknown. */
function hourlyCsv(input: string, zone: string): string {
  const series = loadIntensityFile(input, { format: "eia-csv", zone });
  const first = series.points[0];
  const last = series.points[series.points.length - 1];
  if (first === undefined || last === undefined) throw new Error(`${input}: no data`);
  for (const point of series.points) {
    if (point.endMs - point.startMs !== HOUR_MS || point.startMs % HOUR_MS !== 0) {
      throw new Error(`${input}: a point is not one whole UTC hour`);
    }
  }
  const lines = ["timestamp,intensity_g_per_kwh"];
  for (let startMs = first.startMs; startMs < last.endMs; startMs += HOUR_MS) {
    const point = intensityAt(series, startMs);
    const value = point === null ? "" : Number(point.intensityGPerKWh.toFixed(DECIMALS)).toString();
    lines.push(`${new Date(startMs).toISOString().replace(".000Z", "Z")},${value}`);
  }
  return `${lines.join("\n")}\n`;
}

process.exitCode = main(process.argv.slice(2));
