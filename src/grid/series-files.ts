/**
 * Loads carbon-intensity time series from files a user hands wattprint: a plain CSV
 * (`timestamp,intensity`), the Carbon Aware SDK's EmissionsData JSON, or the EIA-based
 * hourly CSVs of HewlettPackard/dc-rl. Every problem is a `WattprintError("BAD_INPUT")`
 * whose message starts with `<file>:<line>:`; nothing is guessed silently (assumptions are
 * returned as warnings). See docs/intensity-series.md.
 */
import { readFileSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import { WattprintError, describeError } from "../errors.js";
import { parseCsv } from "./load-table.js";
import { resolveRegion } from "./regions.js";
import {
  LBS_PER_MWH_TO_G_PER_KWH,
  makeSeries,
  type IntensityPoint,
  type IntensitySeries,
  type IntensitySignal,
} from "./series.js";

/** The file formats {@link loadIntensityFile} reads. */
export type IntensityFileFormat = "csv" | "carbon-aware-json" | "eia-csv";

/** Units an intensity file may use: grams CO2e per kWh or pounds per MWh (WattTime, eGRID). */
export type IntensityFileUnit = "g/kWh" | "lbs/MWh";

/** Options of {@link loadIntensityFile}; every one has a default. */
export interface LoadIntensityFileOptions {
  /** Default: sniffed from the content (JSON → carbon-aware-json; a CSV with `avg_CI` → eia-csv; else csv). */
  format?: IntensityFileFormat;
  /**
   * Zone id given to the series. Default: the records' location (carbon-aware-json), the
   * balancing authority named by the file name (eia-csv: `CISO.csv` → "US-CAL-CISO"), else
   * the file name without extension. In a Carbon Aware file with several locations it
   * also picks the records whose location equals it.
   */
  zone?: string;
  /** Default "average" (with a warning saying it was assumed); eia-csv is always average. */
  signal?: IntensitySignal;
  /**
   * IANA time zone ("Europe/Paris", "UTC") for timestamps without an offset. Default: none,
   * and a timestamp without an offset or `Z` is an error. Explicit offsets always win.
   */
  timezone?: string;
  /** Unit of values whose row has no `unit` cell. Default "g/kWh". */
  unit?: IntensityFileUnit;
}

/** The hint of errors about an intensity file. */
const FILE_HINT =
  "see docs/intensity-series.md for the accepted formats: CSV timestamp,intensity with UTC offsets, Carbon Aware SDK EmissionsData JSON, or dc-rl/EIA CSV";
const NAIVE_TIME_HINT =
  'give timestamps with an offset (2022-01-01T00:00:00Z, 2022-01-01 01:00:00+01:00) or pass timezone (an IANA name such as "UTC" or "Europe/Paris")';

const TIME_COLUMNS = ["timestamp", "time", "datetime"];
const VALUE_COLUMNS = ["intensity", "intensity_g_per_kwh", "carbon_intensity", "value"];
const ORIGINAL_UNIT: Record<IntensityFileUnit, string> = {
  "g/kWh": "gCO2e/kWh",
  "lbs/MWh": "lbs/MWh",
};
const FACTOR_TO_G_PER_KWH: Record<IntensityFileUnit, number> = {
  "g/kWh": 1,
  "lbs/MWh": LBS_PER_MWH_TO_G_PER_KWH,
};
const MS_PER_MINUTE = 60_000;

/**
 * Reads a carbon-intensity time series from a file. Formats:
 * - `csv`: a header with a time column (`timestamp`, `time` or `datetime`), a value column
 *   (`intensity`, `intensity_g_per_kwh`, `carbon_intensity` or `value`) and optionally
 *   `unit` (g/kWh or lbs/MWh per row). Each row is one point as long as the median step
 *   between rows; a row with an empty value is a gap.
 * - `carbon-aware-json`: the Carbon Aware SDK's EmissionsData (`location`, `time`,
 *   `rating` in g/kWh, `duration` "hh:mm:ss"), as an array, as `{ "Emissions": [...] }`,
 *   or inside forecasts' `forecastData` (points marked forecast).
 * - `eia-csv`: the dc-rl files (`timestamp`, fuel columns, `avg_CI` in g/kWh); empty
 *   `avg_CI` hours are gaps.
 * @param path the file to read.
 * @throws WattprintError `NOT_FOUND` when the file does not exist; `BAD_INPUT` naming the
 *   file and line for anything malformed, an empty file or a file without usable rows.
 */
export function loadIntensityFile(
  path: string,
  options: LoadIntensityFileOptions = {},
): IntensitySeries {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new WattprintError(
      missing ? "NOT_FOUND" : "BAD_INPUT",
      `cannot read intensity file ${file}: ${describeError(error)}`,
      { hint: missing ? "check the path of the intensity file" : FILE_HINT, cause: error },
    );
  }
  return parseIntensityText(text, file, options);
}

/**
 * Parses the text of an intensity file, as {@link loadIntensityFile} does after reading it.
 * @param file the file's path: named in messages, `file:<path>` is the series' source and
 *   its base name the default zone.
 */
export function parseIntensityText(
  text: string,
  file: string,
  options: LoadIntensityFileOptions = {},
): IntensitySeries {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (!/\S/.test(body)) throw badFile(file, 1, "the file is empty");
  if (options.timezone !== undefined) checkTimeZone(options.timezone);
  const format = options.format ?? sniffFormat(body, file);
  switch (format) {
    case "carbon-aware-json":
      return readCarbonAwareJson(body, file, options);
    case "eia-csv":
      return readCsvSeries(body, file, options, true);
    case "csv":
      return readCsvSeries(body, file, options, false);
    default:
      throw new WattprintError("BAD_INPUT", `unknown intensity file format "${String(format)}"`, {
        hint: "use csv, carbon-aware-json or eia-csv",
      });
  }
}

function sniffFormat(text: string, file: string): IntensityFileFormat {
  const first = text.trimStart()[0];
  if (first === "[" || first === "{") return "carbon-aware-json";
  const headerLine = text.split(/\r\n|\n|\r/, 1)[0] ?? "";
  const header = parseCsvOrFail(headerLine, file).header;
  return header.some((name) => name.toLowerCase() === "avg_ci") ? "eia-csv" : "csv";
}

// ---------------------------------------------------------------------------------------
// CSV (plain and EIA)

function readCsvSeries(
  text: string,
  file: string,
  options: LoadIntensityFileOptions,
  eia: boolean,
): IntensitySeries {
  const { header, rows } = parseCsvOrFail(text, file);
  const lower = header.map((name) => name.toLowerCase());
  const timeColumn = eia ? findColumn(lower, ["timestamp"]) : findColumn(lower, TIME_COLUMNS);
  const valueColumn = eia ? findColumn(lower, ["avg_ci"]) : findColumn(lower, VALUE_COLUMNS);
  const unitColumn = eia ? -1 : lower.indexOf("unit");
  if (timeColumn < 0 || valueColumn < 0) {
    const wanted = eia
      ? "timestamp and avg_CI"
      : `a time column (${TIME_COLUMNS.join(", ")}) and a value column (${VALUE_COLUMNS.join(", ")})`;
    throw badFile(
      file,
      1,
      `the header has no ${timeColumn < 0 ? "time" : "value"} column; expected ${wanted}`,
    );
  }
  if (eia && options.signal === "marginal") {
    throw badFile(file, 1, "dc-rl/EIA files hold average intensities, not marginal ones");
  }
  if (eia && options.unit === "lbs/MWh") {
    throw badFile(file, 1, "dc-rl/EIA files hold g/kWh, not lbs/MWh");
  }
  if (!eia && lower[valueColumn] === "intensity_g_per_kwh" && options.unit === "lbs/MWh") {
    throw badFile(
      file,
      1,
      'the column "intensity_g_per_kwh" says g/kWh but the unit option says lbs/MWh',
    );
  }
  if (rows.length === 0) throw badFile(file, 2, "the file has a header but no data rows");

  // Column arrays rather than an object per row: shipped tables have 8760 rows each.
  const count = rows.length;
  const startsMs = new Float64Array(count);
  const intensities = new Float64Array(count); // NaN marks a row without a value
  const units: (IntensityFileUnit | null)[] = new Array<IntensityFileUnit | null>(count);
  const defaultUnit: IntensityFileUnit = options.unit ?? "g/kWh";
  const timeParser = new TimeParser(file, options.timezone);
  let inOrder = true;
  for (let index = 0; index < count; index += 1) {
    const { line, fields } = rows[index] as (typeof rows)[number];
    const startMs = timeParser.parse((fields[timeColumn] ?? "").trim(), line);
    const unitCell = unitColumn < 0 ? "" : (fields[unitColumn] ?? "").trim();
    const unit = unitCell === "" ? null : parseUnit(unitCell, file, line);
    const cell = (fields[valueColumn] ?? "").trim();
    let intensityGPerKWh = Number.NaN;
    if (cell !== "") {
      const value = Number(cell);
      if (!Number.isFinite(value)) {
        throw badFile(file, line, `the intensity "${cell}" is not a number`);
      }
      if (value < 0) throw badFile(file, line, `the intensity ${cell} is negative`);
      intensityGPerKWh = value * FACTOR_TO_G_PER_KWH[unit ?? defaultUnit];
    }
    startsMs[index] = startMs;
    intensities[index] = intensityGPerKWh;
    units[index] = unit;
    if (index > 0 && startMs < (startsMs[index - 1] as number)) inOrder = false;
  }

  // Row indices in time order (the rows' own order when they are sorted already).
  const order = inOrder
    ? null
    : Array.from(startsMs.keys()).sort((a, b) => (startsMs[a] as number) - (startsMs[b] as number));
  const rowAt = (position: number): number =>
    order === null ? position : (order[position] as number);
  const sortedStartsMs =
    order === null ? startsMs : Float64Array.from(order, (row) => startsMs[row] as number);
  const stepMs = medianStep(sortedStartsMs, (position) => rows[rowAt(position)]?.line ?? 2, file);

  const points: IntensityPoint[] = [];
  const usedUnits = new Set<IntensityFileUnit>();
  let emptyRows = 0;
  for (let position = 0; position < count; position += 1) {
    const row = rowAt(position);
    const intensityGPerKWh = intensities[row] as number;
    if (Number.isNaN(intensityGPerKWh)) {
      emptyRows += 1;
      continue;
    }
    const startMs = sortedStartsMs[position] as number;
    const nextStartMs = position + 1 < count ? (sortedStartsMs[position + 1] as number) : Infinity;
    usedUnits.add(units[row] ?? defaultUnit);
    points.push({ startMs, endMs: Math.min(startMs + stepMs, nextStartMs), intensityGPerKWh });
  }
  if (points.length === 0) {
    throw badFile(file, 2, `no row has a value in column "${header[valueColumn] ?? ""}"`);
  }

  const warnings: string[] = [];
  if (emptyRows > 0) {
    warnings.push(
      `${emptyRows} row${emptyRows === 1 ? "" : "s"} without a value in ${basename(file)}: left as gaps, not filled`,
    );
  }
  const signal = eia ? "average" : signalOrAssumed(options.signal, warnings);
  return makeSeries({
    zone: options.zone ?? (eia ? eiaZone(file) : fileStem(file)),
    signal,
    source: `file:${file}`,
    originalUnit: [...usedUnits].map((unit) => ORIGINAL_UNIT[unit]).join(", "),
    points,
    warnings,
  });
}

function findColumn(lowerHeader: readonly string[], candidates: readonly string[]): number {
  for (const candidate of candidates) {
    const index = lowerHeader.indexOf(candidate);
    if (index >= 0) return index;
  }
  return -1;
}

/**
 * The median step between consecutive sorted timestamps; a repeated time is an error.
 * @param lineAt the file line of the timestamp at a position, for messages.
 */
function medianStep(
  sortedStartsMs: ArrayLike<number>,
  lineAt: (position: number) => number,
  file: string,
): number {
  const count = sortedStartsMs.length;
  if (count < 2) {
    throw badFile(
      file,
      lineAt(0),
      "one row only: the length of a point cannot be told from a single timestamp",
    );
  }
  const steps = new Float64Array(count - 1);
  for (let position = 1; position < count; position += 1) {
    const stepMs = (sortedStartsMs[position] as number) - (sortedStartsMs[position - 1] as number);
    if (stepMs === 0) {
      throw badFile(
        file,
        lineAt(position),
        `the time ${new Date(sortedStartsMs[position] as number).toISOString()} repeats line ${lineAt(position - 1)}`,
      );
    }
    steps[position - 1] = stepMs;
  }
  steps.sort();
  return steps[(steps.length - 1) >>> 1] as number;
}

function parseUnit(text: string, file: string, line: number): IntensityFileUnit {
  const key = text.toLowerCase().replace(/\s+/g, "");
  if (/^g(co2(e|eq)?)?\/kwh$/.test(key)) return "g/kWh";
  if (/^lbs?(co2(e|eq)?)?\/mwh$/.test(key)) return "lbs/MWh";
  throw badFile(file, line, `unknown unit "${text}"; expected g/kWh or lbs/MWh`);
}

function eiaZone(file: string): string {
  const stem = fileStem(file);
  try {
    const region = resolveRegion(stem);
    // Only a balancing authority's own row, never a country or state that shares the name.
    if (
      region.kind === "subdivision" &&
      region.code === region.zone &&
      region.code.split("-").length === 3
    ) {
      return region.zone;
    }
  } catch {
    // Not a known balancing authority: the file name stands.
  }
  return stem;
}

// ---------------------------------------------------------------------------------------
// Carbon Aware SDK JSON

interface EmissionsRecord {
  line: number;
  location: string | null;
  startMs: number;
  durationMs: number | null;
  intensityGPerKWh: number;
  forecast: boolean;
}

function readCarbonAwareJson(
  text: string,
  file: string,
  options: LoadIntensityFileOptions,
): IntensitySeries {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const message = describeError(error);
    const position = /position (\d+)/.exec(message);
    const line = position === null ? 1 : lineAt(text, Number(position[1]));
    throw badFile(file, line, `not valid JSON: ${message}`);
  }
  const lines = objectLines(text, document);
  const timeParser = new TimeParser(file, options.timezone);
  const records: EmissionsRecord[] = [];
  const addRecords = (items: unknown, forecast: boolean, where: string): void => {
    if (!Array.isArray(items)) throw badFile(file, 1, `${where} is not an array`);
    for (const item of items)
      records.push(readEmissionsRecord(item, forecast, file, lines, timeParser));
  };

  if (Array.isArray(document)) {
    const forecasts = document.filter(
      (item) => isObject(item) && getKey(item, "forecastData") !== undefined,
    );
    if (forecasts.length === 0) {
      addRecords(document, false, "the top-level array");
    } else {
      if (forecasts.length !== document.length) {
        throw badFile(
          file,
          1,
          "the array mixes forecasts (with forecastData) and emissions records",
        );
      }
      for (const forecast of forecasts)
        addRecords(getKey(forecast as object, "forecastData"), true, "forecastData");
    }
  } else if (isObject(document)) {
    const emissions = getKey(document, "emissions");
    const forecastData = getKey(document, "forecastData");
    if (emissions !== undefined) addRecords(emissions, false, '"Emissions"');
    else if (forecastData !== undefined) addRecords(forecastData, true, "forecastData");
    else {
      throw badFile(
        file,
        1,
        'expected an array of emissions records, an object with "Emissions", or a forecast with "forecastData"',
      );
    }
  } else {
    throw badFile(file, 1, "expected an array or an object");
  }
  if (records.length === 0) throw badFile(file, 1, "no emissions records");

  const locations = [...new Set(records.map((record) => record.location ?? ""))];
  let chosen = records;
  if (locations.length > 1) {
    const wanted = options.zone?.toLowerCase();
    chosen = records.filter((record) => (record.location ?? "").toLowerCase() === wanted);
    if (chosen.length === 0) {
      throw badFile(
        file,
        1,
        `records for ${locations.length} locations (${locations.join(", ")}); a series holds one`,
        `pass zone to pick one of ${locations.join(", ")}`,
      );
    }
  }

  chosen.sort((a, b) => a.startMs - b.startMs);
  const warnings: string[] = [];
  const missingDurations = chosen.filter((record) => record.durationMs === null).length;
  let stepMs = 0;
  if (missingDurations > 0) {
    stepMs = medianStep(
      chosen.map((record) => record.startMs),
      (position) => chosen[position]?.line ?? 1,
      file,
    );
    warnings.push(
      `${missingDurations} record${missingDurations === 1 ? "" : "s"} without a duration: each taken to last ${stepMs / MS_PER_MINUTE} min (the median step between records)`,
    );
  }
  const points: IntensityPoint[] = [];
  chosen.forEach((record, index) => {
    const startMs = record.startMs;
    const endMs = startMs + (record.durationMs ?? stepMs);
    const next = chosen[index + 1];
    if (next !== undefined && next.startMs < endMs) {
      throw badFile(
        file,
        next.line,
        `this record starts at ${new Date(next.startMs).toISOString()}, inside the record of line ${record.line}`,
      );
    }
    const point: IntensityPoint = { startMs, endMs, intensityGPerKWh: record.intensityGPerKWh };
    if (record.forecast) point.forecast = true;
    points.push(point);
  });
  const signal = signalOrAssumed(options.signal, warnings);
  const location = chosen[0]?.location ?? null;
  return makeSeries({
    zone: options.zone ?? location ?? fileStem(file),
    signal,
    source: `file:${file}`,
    originalUnit: ORIGINAL_UNIT["g/kWh"],
    points,
    warnings,
  });
}

function readEmissionsRecord(
  item: unknown,
  forecast: boolean,
  file: string,
  lines: ReadonlyMap<object, number>,
  timeParser: TimeParser,
): EmissionsRecord {
  if (!isObject(item)) throw badFile(file, 1, "an emissions record is not an object");
  const line = lines.get(item) ?? 1;
  const location = getKey(item, "location");
  if (location !== undefined && location !== null && typeof location !== "string") {
    throw badFile(file, line, "location is not a string");
  }
  const time = getKey(item, "time") ?? getKey(item, "timestamp");
  if (typeof time !== "string") throw badFile(file, line, "the record has no time (a string)");
  const rawRating = getKey(item, "rating") ?? getKey(item, "value");
  const rating =
    typeof rawRating === "string" && rawRating.trim() !== "" ? Number(rawRating) : rawRating;
  if (typeof rating !== "number" || !Number.isFinite(rating)) {
    throw badFile(
      file,
      line,
      `the rating ${JSON.stringify(rawRating) ?? "undefined"} is not a number`,
    );
  }
  if (rating < 0) throw badFile(file, line, `the rating ${rating} is negative`);
  return {
    line,
    location: typeof location === "string" && location.trim() !== "" ? location.trim() : null,
    startMs: timeParser.parse(time.trim(), line),
    durationMs: parseDuration(getKey(item, "duration"), file, line),
    intensityGPerKWh: rating,
    forecast,
  };
}

/**
 * A .NET TimeSpan as System.Text.Json writes it ("01:00:00", "1.00:00:00", "00:05:00.5")
 * or "hh:mm" as TimeSpan.Parse reads it; a number is minutes (the SDK's forecast DTO).
 * Missing or zero is null.
 */
function parseDuration(value: unknown, file: string, line: number): number | null {
  if (value === undefined || value === null) return null;
  let durationMs: number;
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0)
      throw badFile(file, line, `the duration ${value} is not a number of minutes ≥ 0`);
    durationMs = value * MS_PER_MINUTE;
  } else if (typeof value === "string") {
    const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/.exec(value.trim());
    if (match === null) throw badFile(file, line, `the duration "${value}" is not hh:mm:ss`);
    const [, days, hours, minutes, seconds, fraction] = match;
    durationMs =
      ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * MS_PER_MINUTE +
      Number(seconds ?? 0) * 1000 +
      Math.round(Number(`0.${fraction ?? "0"}`) * 1000);
  } else {
    throw badFile(file, line, "the duration is neither hh:mm:ss nor a number of minutes");
  }
  return durationMs > 0 ? durationMs : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A property by name in any case (the SDK writes PascalCase in files, camelCase in its API). */
function getKey(object: object, name: string): unknown {
  const record = object as Record<string, unknown>;
  if (name in record) return record[name];
  const lower = name.toLowerCase();
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : record[key];
}

/**
 * The line of every object of a parsed JSON document: objects are numbered in the order
 * their `{` appears in the text, which is the pre-order of the parsed tree.
 */
function objectLines(text: string, document: unknown): Map<object, number> {
  const braceLines: number[] = [];
  let line = 1;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === "\n") line += 1;
    if (inString) {
      if (char === "\\") index += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === "{") {
      braceLines.push(line);
    }
  }
  const lines = new Map<object, number>();
  let ordinal = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (isObject(value)) {
      lines.set(value, braceLines[ordinal] ?? 1);
      ordinal += 1;
      for (const child of Object.values(value)) visit(child);
    }
  };
  visit(document);
  return lines;
}

function lineAt(text: string, position: number): number {
  let line = 1;
  for (let index = 0; index < position && index < text.length; index += 1) {
    if (text[index] === "\n") line += 1;
  }
  return line;
}

// ---------------------------------------------------------------------------------------
// Timestamps

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Parses ISO 8601 timestamps to UTC epoch ms; naive ones through an IANA time zone. */
class TimeParser {
  private readonly file: string;
  private readonly timeZone: string | undefined;
  private readonly formatter: Intl.DateTimeFormat | undefined;
  /** The last naive time converted, to place a repeated (fall-back) hour after it. */
  private previousNaiveMs = Number.NEGATIVE_INFINITY;

  constructor(file: string, timeZone: string | undefined) {
    this.file = file;
    this.timeZone = timeZone;
    this.formatter =
      timeZone === undefined
        ? undefined
        : new Intl.DateTimeFormat("en-US", {
            timeZone,
            hourCycle: "h23",
            year: "numeric",
            month: "numeric",
            day: "numeric",
            hour: "numeric",
            minute: "numeric",
            second: "numeric",
          });
  }

  parse(text: string, line: number): number {
    const fast = parseCommonUtc(text);
    if (!Number.isNaN(fast)) return fast;
    const match = ISO_TIME.exec(text);
    if (match === null) {
      throw badFile(
        this.file,
        line,
        `"${text}" is not an ISO 8601 timestamp (2022-01-01T00:00:00Z)`,
      );
    }
    const [, year, month, day, hour, minute, second, fraction, zone] = match;
    const y = Number(year);
    const mo = Number(month);
    const d = Number(day);
    const h = hour === undefined ? 0 : Number(hour);
    const mi = minute === undefined ? 0 : Number(minute);
    const s = second === undefined ? 0 : Number(second);
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) {
      throw badFile(this.file, line, `"${text}" is not a valid date and time`);
    }
    const fractionMs = fraction === undefined ? 0 : Math.round(Number(`0.${fraction}`) * 1000);
    const wallMs = Date.UTC(y, mo - 1, d, h, mi, s) + fractionMs;
    if (zone !== undefined) return wallMs - offsetOfZone(zone);
    if (this.formatter === undefined) {
      throw new WattprintError(
        "BAD_INPUT",
        `${this.file}:${line}: the timestamp "${text}" has no UTC offset or Z`,
        { hint: NAIVE_TIME_HINT },
      );
    }
    const utcMs = this.wallToUtc(wallMs);
    this.previousNaiveMs = utcMs;
    return utcMs;
  }

  /**
   * The instant a wall-clock time names in the time zone. A time repeated when clocks go
   * back is the earlier instant unless that is not after the previous row's (then the
   * later one); a time skipped when clocks go forward is read with the offset before the
   * change (as JavaScript's Temporal does by default).
   */
  private wallToUtc(wallMs: number): number {
    const day = 86_400_000;
    const before = this.offsetAt(wallMs - day);
    const after = this.offsetAt(wallMs + day);
    const candidates = [...new Set([before, after])]
      .map((offset) => wallMs - offset)
      .filter((utcMs) => this.offsetAt(utcMs) === wallMs - utcMs)
      .sort((a, b) => a - b);
    const [earlier, later] = candidates;
    if (earlier === undefined) return wallMs - before;
    if (later !== undefined && earlier <= this.previousNaiveMs) return later;
    return earlier;
  }

  /** Offset of the time zone at an instant, ms (local wall clock − UTC). */
  private offsetAt(utcMs: number): number {
    const formatter = this.formatter as Intl.DateTimeFormat;
    const wholeSecondMs = Math.floor(utcMs / 1000) * 1000;
    const parts: Record<string, number> = {};
    for (const part of formatter.formatToParts(new Date(wholeSecondMs))) {
      if (part.type !== "literal") parts[part.type] = Number(part.value);
    }
    const wall = Date.UTC(
      parts.year ?? 0,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return wall - wholeSecondMs;
  }
}

/**
 * The two shapes of nearly every row, without a regex or allocation (shipped tables load
 * faster): `YYYY-MM-DDTHH:MM:SSZ` and `YYYY-MM-DD HH:MM:SS+00:00`. NaN for anything else,
 * which then takes the general path (and its error messages).
 */
function parseCommonUtc(text: string): number {
  const length = text.length;
  if (length === 20) {
    if (text.charCodeAt(10) !== 84 /* T */ || text.charCodeAt(19) !== 90 /* Z */) return Number.NaN;
  } else if (length === 25) {
    if (text.charCodeAt(10) !== 32 /* space */ || !text.endsWith("+00:00")) return Number.NaN;
  } else {
    return Number.NaN;
  }
  if (
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return Number.NaN;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  // NaN propagates through the comparisons as false: any bad digit fails here.
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month))) {
    return Number.NaN;
  }
  if (!(hour <= 23 && minute <= 59 && second <= 59)) return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** The decimal number of `count` ASCII digits from `start`; NaN when one is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index += 1) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

function offsetOfZone(zone: string): number {
  const upper = zone.toUpperCase();
  if (upper === "Z" || upper === "UTC" || upper === "GMT") return 0;
  const match = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone) as RegExpExecArray;
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  return (match[1] === "-" ? -1 : 1) * minutes * MS_PER_MINUTE;
}

function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    throw new WattprintError("BAD_INPUT", `unknown time zone "${timeZone}"`, {
      hint: 'give an IANA time zone name such as "UTC", "Europe/Paris" or "America/New_York"',
    });
  }
}

// ---------------------------------------------------------------------------------------
// Shared

function signalOrAssumed(signal: IntensitySignal | undefined, warnings: string[]): IntensitySignal {
  if (signal !== undefined) return signal;
  warnings.push(
    'the file does not say whether its intensities are average or marginal; average assumed (pass signal: "marginal" for data such as WattTime MOER)',
  );
  return "average";
}

function fileStem(file: string): string {
  return basename(file, extname(file));
}

/** Runs the shared CSV parser and restates its errors as `<file>:<line>: <problem>`. */
function parseCsvOrFail(text: string, file: string): ReturnType<typeof parseCsv> {
  try {
    return parseCsv(text, { source: file, hint: FILE_HINT });
  } catch (error) {
    if (error instanceof WattprintError) {
      const prefix = `bad data table ${file}: `;
      const problem = error.message.startsWith(prefix)
        ? error.message.slice(prefix.length)
        : error.message;
      const lineMatch = /^line (\d+): (.*)$/s.exec(problem);
      if (lineMatch !== null) throw badFile(file, Number(lineMatch[1]), lineMatch[2] ?? problem);
      throw badFile(file, 1, problem);
    }
    throw error;
  }
}

function badFile(
  file: string,
  line: number,
  problem: string,
  hint: string = FILE_HINT,
): WattprintError {
  return new WattprintError("BAD_INPUT", `${file}:${line}: ${problem}`, { hint });
}
