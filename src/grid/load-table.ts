/**
 * A small reader for the CSV tables wattprint ships in `data/` (and for CSV files users
 * hand it): RFC 4180 quoting (`"a, b"`, `""` for a quote, line breaks inside quotes),
 * CRLF or LF, a UTF-8 BOM, one header row, blank lines ignored. Rows come back typed
 * through {@link CsvRecord} accessors; every problem is a `WattprintError("BAD_INPUT")`
 * naming the file, the line and the column.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WattprintError, describeError } from "../errors.js";

/** The hint given when a table shipped inside the package cannot be used. */
export const PACKAGE_TABLE_HINT = "the installed wattprint package looks damaged; reinstall it";

/** One data row of a parsed CSV text, before typing. */
export interface CsvRawRow {
  /** 1-based line of the text where the row starts (the header is line 1). */
  line: number;
  fields: string[];
}

/** A parsed CSV text: its header and its data rows. */
export interface CsvText {
  header: string[];
  rows: CsvRawRow[];
}

/** Where a table came from, for error messages. */
export interface TableOrigin {
  /** The file path (or any label) named in error messages. */
  source: string;
  /** One line telling the user what to do. Default: {@link PACKAGE_TABLE_HINT}. */
  hint?: string;
}

/**
 * Parses CSV text. Throws `BAD_INPUT` for an unterminated quote, a stray quote, text after
 * a closing quote, an empty or duplicated header name, or a row whose field count differs
 * from the header's.
 */
export function parseCsv(text: string, origin: TableOrigin): CsvText {
  const records = splitRecords(text.startsWith("\uFEFF") ? text.slice(1) : text, origin);
  const first = records[0];
  if (first === undefined) throw badTable(origin, "the file is empty (no header row)");
  const header = first.fields.map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of header) {
    if (name === "") throw badTable(origin, "line 1: the header has an empty column name");
    if (seen.has(name)) throw badTable(origin, `line 1: column "${name}" appears twice`);
    seen.add(name);
  }
  const rows = records.slice(1);
  for (const row of rows) {
    if (row.fields.length !== header.length) {
      throw badTable(
        origin,
        `line ${row.line}: ${row.fields.length} fields where the header has ${header.length}`,
      );
    }
  }
  return { header, rows };
}

// One field and what ends it: a quoted field ("" is a quote inside it) or a plain one,
// then a comma, a line break or the end of the text.
const FIELD = /(?:"([^"]*(?:""[^"]*)*)"|([^",\r\n]*))(,|\r\n|\n|\r|$)/y;

function splitRecords(text: string, origin: TableOrigin): CsvRawRow[] {
  const records: CsvRawRow[] = [];
  let fields: string[] = [];
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let position = 0;
  while (position < text.length) {
    FIELD.lastIndex = position;
    const match = FIELD.exec(text);
    if (match === null) throw badTable(origin, `line ${line}: ${describeBadField(text, position)}`);
    const [whole, quotedValue, plainValue, end] = match;
    position += whole.length;
    if (quotedValue !== undefined) {
      quoted = true;
      fields.push(quotedValue.replace(/""/g, '"'));
      line += countLineBreaks(quotedValue);
    } else {
      fields.push(plainValue ?? "");
    }
    if (end === ",") {
      // A comma as the last character still ends the record with one empty field.
      if (position === text.length) fields.push("");
      else continue;
    }
    // An empty line is a blank line, not a row with one empty field.
    if (!(fields.length === 1 && fields[0] === "" && !quoted)) {
      records.push({ line: recordLine, fields });
    }
    fields = [];
    quoted = false;
    line += 1;
    recordLine = line;
  }
  return records;
}

function describeBadField(text: string, position: number): string {
  if (text[position] === '"') {
    const rest = text.slice(position + 1);
    return /^[^"]*(?:""[^"]*)*"/.test(rest)
      ? "text after the closing quote of a field"
      : "a quoted field is never closed";
  }
  return "a quote inside an unquoted field";
}

function countLineBreaks(text: string): number {
  let count = 0;
  for (let index = text.indexOf("\n"); index !== -1; index = text.indexOf("\n", index + 1)) {
    count += 1;
  }
  return count;
}

/**
 * One data row with typed accessors by column name. Values are trimmed. Every accessor
 * throws `BAD_INPUT` naming the file, line and column when the value does not fit.
 */
export class CsvRecord {
  readonly origin: TableOrigin;
  readonly line: number;
  private readonly columns: ReadonlyMap<string, number>;
  private readonly fields: readonly string[];

  /**
   * @param columns column name → position in `fields` (see {@link columnPositions}).
   */
  constructor(
    origin: TableOrigin,
    line: number,
    columns: ReadonlyMap<string, number>,
    fields: readonly string[],
  ) {
    this.origin = origin;
    this.line = line;
    this.columns = columns;
    this.fields = fields;
  }

  /** A required, non-empty text value. */
  text(column: string): string {
    const value = this.raw(column);
    if (value === "") throw this.fail(column, "is empty");
    return value;
  }

  /** A text value, or null when the cell is empty. */
  optionalText(column: string): string | null {
    const value = this.raw(column);
    return value === "" ? null : value;
  }

  /** A required finite number. */
  number(column: string): number {
    const value = this.optionalNumber(column);
    if (value === null) throw this.fail(column, "is empty");
    return value;
  }

  /** A finite number, or null when the cell is empty. */
  optionalNumber(column: string): number | null {
    const value = this.raw(column);
    if (value === "") return null;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw this.fail(column, `is not a number: "${value}"`);
    return parsed;
  }

  /** A whole number, or null when the cell is empty. */
  optionalInteger(column: string): number | null {
    const value = this.optionalNumber(column);
    if (value !== null && !Number.isInteger(value)) {
      throw this.fail(column, `is not a whole number: "${this.raw(column)}"`);
    }
    return value;
  }

  /** `true` or `false` (any case); anything else is an error. */
  boolean(column: string): boolean {
    const value = this.raw(column).toLowerCase();
    if (value === "true") return true;
    if (value === "false") return false;
    throw this.fail(column, `is not true or false: "${this.raw(column)}"`);
  }

  /** One of `allowed`, exactly. */
  oneOf<T extends string>(column: string, allowed: readonly T[]): T {
    const value = this.raw(column);
    const match = allowed.find((candidate) => candidate === value);
    if (match === undefined) {
      throw this.fail(column, `is "${value}", expected one of ${allowed.join(", ")}`);
    }
    return match;
  }

  /** A list kept in one cell, split on `separator` (default `|`); an empty cell is []. */
  list(column: string, separator = "|"): string[] {
    const value = this.raw(column);
    if (value === "") return [];
    return value
      .split(separator)
      .map((item) => item.trim())
      .filter((item) => item !== "");
  }

  /** An error about this row, for checks that span columns or tables. */
  fail(column: string, problem: string): WattprintError {
    return badTable(this.origin, `line ${this.line}: column "${column}" ${problem}`);
  }

  private raw(column: string): string {
    const position = this.columns.get(column);
    if (position === undefined) throw badTable(this.origin, `there is no column "${column}"`);
    return (this.fields[position] ?? "").trim();
  }
}

/** Column name → position, for building {@link CsvRecord}s of one table. */
export function columnPositions(header: readonly string[]): Map<string, number> {
  return new Map(header.map((name, position) => [name, position]));
}

/**
 * Reads a CSV table from disk and types each row with `toRow`.
 * @param file path or `file:` URL of the table.
 * @param requiredColumns columns the header must contain (others are allowed and ignored).
 * @param toRow turns one {@link CsvRecord} into a typed row; may throw with `record.fail`.
 * @param hint the hint of every error; default {@link PACKAGE_TABLE_HINT}, for tables shipped
 *   in the package. Pass your own for files a user gave.
 * @throws WattprintError `BAD_INPUT` naming the file when it cannot be read or typed.
 */
export function readCsvTable<T>(
  file: string | URL,
  requiredColumns: readonly string[],
  toRow: (record: CsvRecord) => T,
  hint: string = PACKAGE_TABLE_HINT,
): T[] {
  const path = typeof file === "string" ? file : fileURLToPath(file);
  const origin: TableOrigin = { source: path, hint };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new WattprintError(
      "BAD_INPUT",
      `cannot read data table ${path}: ${describeError(error)}`,
      {
        hint,
        cause: error,
      },
    );
  }
  const { header, rows } = parseCsv(text, origin);
  const missing = requiredColumns.filter((column) => !header.includes(column));
  if (missing.length > 0) {
    throw badTable(origin, `line 1: missing column ${missing.join(", ")}`);
  }
  const columns = columnPositions(header);
  return rows.map((row) => toRow(new CsvRecord(origin, row.line, columns, row.fields)));
}

function badTable(origin: TableOrigin, problem: string): WattprintError {
  return new WattprintError("BAD_INPUT", `bad data table ${origin.source}: ${problem}`, {
    hint: origin.hint ?? PACKAGE_TABLE_HINT,
  });
}
