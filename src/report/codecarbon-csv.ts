import { countryIso3 } from "../grid/regions.js";
import { closeSync, openSync, readSync, statSync, writeFileSync } from "node:fs";
import { WattprintError, describeError } from "../errors.js";
import type { RunRecord } from "../record/run-record.js";
import { J_PER_KWH } from "../units/energy.js";

/**
 * Writer of CodeCarbon's `emissions.csv` format, so tools that read CodeCarbon's files
 * (its dashboard, notebooks built on pandas) read wattprint runs too.
 */

/**
 * The CodeCarbon release whose emissions.csv columns this writer follows (the columns are
 * the same from 2.7.0, which added experiment_id, to 3.0.7; 3.0.8 added water_consumed and wue).
 */
export const CODECARBON_CSV_VERSION = "2.8.4";

/**
 * CodeCarbon 2.8.4's emissions.csv columns, in its order (its `EmissionsData` fields).
 * Units as CodeCarbon: duration s, emissions kg CO2e, emissions_rate kg/s, *_power W,
 * *_energy and energy_consumed kWh, ram_total_size GiB (CodeCarbon's "GB" is 1024³ bytes).
 */
export const CODECARBON_COLUMNS = [
  "timestamp",
  "project_name",
  "run_id",
  "experiment_id",
  "duration",
  "emissions",
  "emissions_rate",
  "cpu_power",
  "gpu_power",
  "ram_power",
  "cpu_energy",
  "gpu_energy",
  "ram_energy",
  "energy_consumed",
  "country_name",
  "country_iso_code",
  "region",
  "cloud_provider",
  "cloud_region",
  "os",
  "python_version",
  "codecarbon_version",
  "cpu_count",
  "cpu_model",
  "gpu_count",
  "gpu_model",
  "longitude",
  "latitude",
  "ram_total_size",
  "tracking_mode",
  "on_cloud",
  "pue",
] as const;

export type CodeCarbonColumn = (typeof CODECARBON_COLUMNS)[number];

/** Options of {@link appendCodeCarbonCsv}. */
export interface CodeCarbonCsvOptions {
  /** project_name; default: the run's command joined with spaces. */
  projectName?: string;
  /** experiment_id; default empty. */
  experimentId?: string;
  /**
   * country_iso_code, which CodeCarbon fills with the ISO 3166-1 alpha-3 code ("FRA");
   * default: the alpha-3 code of the run's country, from the region table.
   */
  countryIsoCode?: string;
}

const BYTES_PER_GIB = 1024 ** 3;
// Cloud regions look like "aws:us-east-1" in the run record.
const CLOUD_REGION = /^([a-z][a-z0-9-]*):(.+)$/;

/**
 * Appends one row for `record` to the CodeCarbon-format CSV at `path`, writing the header
 * first when the file is new or empty. The row goes out in one write, so a reader never
 * sees half a row; the header and first row of a new file likewise.
 *
 * Mapping (best effort, as CodeCarbon's own fields are Python-specific):
 * - figures are the energy attributed to the tracked process tree (`tracking_mode`
 *   "process"); `*_energy` and `energy_consumed` include the PUE, as CodeCarbon's do,
 *   so energy_consumed × intensity = emissions; `*_power` is the mean power over the run
 *   without PUE (CodeCarbon writes its last reading).
 * - `timestamp` is the run's end in local time without offset ("2025-03-01T11:01:40"),
 *   CodeCarbon's format, so it sorts and parses with rows CodeCarbon wrote.
 * - country from the record's region ("FR", "US-CA") or, for cloud regions
 *   ("aws:eu-west-3", `on_cloud` "Y"), from the intensity zone; `country_name` is its
 *   English name; `region` is wattprint's region code when it names a subdivision
 *   ("US-CA"; CodeCarbon writes a lowercase name such as "california"); nothing when the
 *   region was a fallback.
 * - empty: python_version, codecarbon_version, longitude, latitude, and every unknown
 *   (null) figure.
 *
 * Throws WattprintError("OUTPUT_UNWRITABLE") when the file has another header (another
 * CodeCarbon version, another file) rather than mix formats, or cannot be written.
 */
export function appendCodeCarbonCsv(
  path: string,
  record: RunRecord,
  options: CodeCarbonCsvOptions = {},
): void {
  const header = CODECARBON_COLUMNS.join(",");
  const row = formatCsvRow(
    CODECARBON_COLUMNS.map((column) => codeCarbonRow(record, options)[column]),
  );
  const existing = readStart(path);
  try {
    if (existing === null) {
      try {
        // "wx": two writers creating the file at once cannot both write a header.
        writeFileSync(path, `${header}\n${row}\n`, { flag: "wx" });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      appendRow(path, header, row, readStart(path));
      return;
    }
    appendRow(path, header, row, existing);
  } catch (error) {
    if (error instanceof WattprintError) throw error;
    throw new WattprintError("OUTPUT_UNWRITABLE", `cannot write ${path}: ${describeError(error)}`, {
      hint: "check that the directory exists and is writable",
      cause: error,
    });
  }
}

interface FileStart {
  /** First line without its line ending; "" for an empty file. */
  firstLine: string;
  sizeBytes: number;
  endsWithNewline: boolean;
  /** True when the first line did not fit in the bytes read. */
  truncated: boolean;
}

function appendRow(path: string, header: string, row: string, start: FileStart | null): void {
  if (start === null || start.sizeBytes === 0) {
    writeFileSync(path, `${header}\n${row}\n`, { flag: "a" });
    return;
  }
  if (start.truncated || start.firstLine !== header) {
    throw new WattprintError(
      "OUTPUT_UNWRITABLE",
      `${path} has a different header than CodeCarbon ${CODECARBON_CSV_VERSION}'s emissions.csv; not appending to it`,
      {
        hint: "write to a new file, or move this one away (files from CodeCarbon 3.0.8 and later have water columns)",
      },
    );
  }
  // A last line without its newline would swallow our row.
  writeFileSync(path, `${start.endsWithNewline ? "" : "\n"}${row}\n`, { flag: "a" });
}

/** The first line, size and last byte of a file; null when it does not exist. */
function readStart(path: string): FileStart | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new WattprintError("OUTPUT_UNWRITABLE", `cannot read ${path}: ${describeError(error)}`, {
      hint: "check the file's permissions",
      cause: error,
    });
  }
  try {
    const sizeBytes = statSync(path).size;
    const buffer = Buffer.alloc(Math.min(sizeBytes, 64 * 1024));
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.toString("utf8", 0, read).replace(/^\uFEFF/, "");
    const newline = text.indexOf("\n");
    const last = Buffer.alloc(1);
    const lastRead = sizeBytes > 0 ? readSync(fd, last, 0, 1, sizeBytes - 1) : 0;
    return {
      firstLine: (newline === -1 ? text : text.slice(0, newline)).replace(/\r$/, ""),
      sizeBytes,
      endsWithNewline: lastRead === 1 && last[0] === 0x0a,
      truncated: newline === -1 && read < sizeBytes,
    };
  } finally {
    closeSync(fd);
  }
}

type CellValue = string | number | null;

function codeCarbonRow(
  record: RunRecord,
  options: CodeCarbonCsvOptions,
): Record<CodeCarbonColumn, CellValue> {
  const durationS = record.durationS;
  const perSecond = (value: number | null): number | null =>
    value === null || !(durationS > 0) ? null : value / durationS;
  const kWhWithPue = (energyJ: number | null): number | null =>
    energyJ === null ? null : (energyJ * record.pue) / J_PER_KWH;
  const emissionsKg = record.co2eG === null ? null : record.co2eG / 1000;
  const place = describePlace(record);
  return {
    timestamp: formatLocalTimestamp(runEndMs(record)),
    project_name: options.projectName ?? record.command.join(" "),
    run_id: record.id,
    experiment_id: options.experimentId ?? null,
    duration: durationS,
    emissions: emissionsKg,
    emissions_rate: perSecond(emissionsKg),
    cpu_power: perSecond(record.energyJ.cpu),
    gpu_power: perSecond(record.energyJ.gpu),
    ram_power: perSecond(record.energyJ.ram),
    cpu_energy: kWhWithPue(record.energyJ.cpu),
    gpu_energy: kWhWithPue(record.energyJ.gpu),
    ram_energy: kWhWithPue(record.energyJ.ram),
    energy_consumed: kWhWithPue(record.energyJ.total),
    country_name: place.countryName,
    country_iso_code:
      options.countryIsoCode ??
      (place.countryIso2 === null ? null : countryIso3(place.countryIso2)),
    region: place.region,
    cloud_provider: place.cloudProvider,
    cloud_region: place.cloudRegion,
    os: record.machine.os || null,
    python_version: null,
    codecarbon_version: null,
    cpu_count: record.machine.cpuCount,
    cpu_model: record.machine.cpuModel || null,
    gpu_count: record.machine.gpus.length,
    gpu_model: describeGpus(record.machine.gpus),
    longitude: null,
    latitude: null,
    ram_total_size: record.machine.memoryTotalBytes / BYTES_PER_GIB,
    tracking_mode: "process",
    on_cloud: place.cloudProvider === null ? "N" : "Y",
    pue: record.pue,
  };
}

function runEndMs(record: RunRecord): number {
  const ended = record.endedAt === null ? Number.NaN : Date.parse(record.endedAt);
  if (Number.isFinite(ended)) return ended;
  return Date.parse(record.startedAt) + record.durationS * 1000;
}

/** "YYYY-MM-DDTHH:MM:SS" in local time, as CodeCarbon's `datetime.now().strftime`. */
function formatLocalTimestamp(timeMs: number): string | null {
  if (!Number.isFinite(timeMs)) return null;
  const date = new Date(timeMs);
  const pad = (value: number) => String(value).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

interface Place {
  countryName: string | null;
  countryIso2: string | null;
  region: string | null;
  cloudProvider: string | null;
  cloudRegion: string | null;
}

function describePlace(record: RunRecord): Place {
  const cloud = CLOUD_REGION.exec(record.region);
  const place: Place = {
    countryName: null,
    countryIso2: null,
    region: null,
    cloudProvider: null,
    cloudRegion: null,
  };
  if (cloud?.[1] !== undefined && cloud[2] !== undefined) {
    place.cloudProvider = cloud[1];
    place.cloudRegion = cloud[2];
  }
  if (record.intensitySource.fallback) return place;
  const code = place.cloudProvider === null ? record.region : record.intensitySource.zone;
  const match = /^([A-Z]{2})(?:-|$)/.exec(code);
  if (match?.[1] === undefined) return place;
  place.countryName = countryName(match[1]);
  place.countryIso2 = match[1];
  if (place.cloudProvider === null && code.length > 2) place.region = code;
  return place;
}

let regionNames: Intl.DisplayNames | null | undefined;

/** English name of an ISO 3166-1 alpha-2 code from the runtime's ICU data; null if unknown. */
function countryName(alpha2: string): string | null {
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });
    } catch {
      regionNames = null;
    }
  }
  return regionNames?.of(alpha2) ?? null;
}

/** "2 x NVIDIA H100 80GB HBM3", models grouped as CodeCarbon does (joined with ", "). */
function describeGpus(gpus: RunRecord["machine"]["gpus"]): string | null {
  if (gpus.length === 0) return null;
  const counts = new Map<string, number>();
  for (const gpu of gpus) counts.set(gpu.name, (counts.get(gpu.name) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${count} x ${name}`).join(", ");
}

function formatCsvRow(values: CellValue[]): string {
  return values.map(formatCsvField).join(",");
}

/** RFC 4180 quoting: fields with a comma, quote, line break or edge space are quoted. */
function formatCsvField(value: CellValue): string {
  if (value === null) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (/[",\r\n]|^\s|\s$/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}
