/**
 * The reference tables a rating is made against: `data/label/reference-<task>.csv` (one
 * measured reference model per row) and `reference-<task>.conditions.json` (the machine,
 * software, protocol and energy sources they were measured with). Written by
 * `scripts/generate-label-reference.ts`; columns in data/SOURCES.md.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WattprintError, describeError } from "../errors.js";
import type { Component, Method } from "../sensors/sensor.js";
import type { LabelProtocol } from "./protocol.js";
import { ratingBoundaries, type RatingBoundaries } from "./rating.js";
import type { LabelSoftware } from "./software-versions.js";

/** `data/label/` of the installed package. */
export const DEFAULT_LABEL_DATA_DIR = fileURLToPath(new URL("../../data/label/", import.meta.url));

/** Columns of a reference CSV, in order. */
export const REFERENCE_COLUMNS = [
  "model_id",
  "architecture",
  "precision",
  "weights_seed",
  "parameters",
  "file_bytes",
  "sha256",
  "energy_wh_per_1k_queries",
  "min_wh_per_1k_queries",
  "max_wh_per_1k_queries",
] as const;

/** One measured reference model. */
export interface ReferenceRow {
  modelId: string;
  architecture: string;
  precision: string;
  weightsSeed: number;
  parameters: number;
  fileBytes: number;
  sha256: string;
  /** Median over the protocol's repeats. */
  energyWhPer1kQueries: number;
  minWhPer1kQueries: number;
  maxWhPer1kQueries: number;
}

/** The hardware a table (or a label) was measured on. */
export interface LabelHardware {
  cpuModel: string;
  cpuCount: number;
  memoryTotalBytes: number;
  gpus: { index: number; name: string }[];
}

/** One energy source a measurement used. */
export interface LabelEnergySource {
  component: Component;
  method: Method;
  source: string;
  attribution: string;
  notes: string[];
}

/** How a reference table was measured. */
export interface ReferenceConditions {
  task: string;
  /** ISO date-time the measurement started. */
  measuredAt: string;
  generator: string;
  protocol: LabelProtocol;
  hardware: LabelHardware;
  energySources: LabelEnergySource[];
  software: LabelSoftware;
  warnings: string[];
}

/** A task's reference set and the scale made from it. */
export interface LabelReference {
  task: string;
  csvPath: string;
  conditionsPath: string;
  rows: ReferenceRow[];
  conditions: ReferenceConditions;
  boundaries: RatingBoundaries;
}

/** Paths of a task's reference files in `dir`. */
export function referencePaths(task: string, dir: string = DEFAULT_LABEL_DATA_DIR) {
  return {
    csvPath: join(dir, `reference-${task}.csv`),
    conditionsPath: join(dir, `reference-${task}.conditions.json`),
  };
}

/**
 * Loads a task's reference table and conditions and makes the rating boundaries.
 * @throws WattprintError NOT_FOUND when the files are missing, BAD_INPUT when malformed.
 */
export function loadLabelReference(
  task: string,
  dir: string = DEFAULT_LABEL_DATA_DIR,
): LabelReference {
  const { csvPath, conditionsPath } = referencePaths(task, dir);
  for (const path of [csvPath, conditionsPath]) {
    if (!existsSync(path)) {
      throw new WattprintError(
        "NOT_FOUND",
        `no reference table for task ${task}: ${path} is missing`,
        {
          hint: "generate it: npx tsx scripts/generate-label-reference.ts --task " + task,
        },
      );
    }
  }
  const rows = parseReferenceCsv(readFileSync(csvPath, "utf8"), csvPath);
  const conditions = parseConditions(readFileSync(conditionsPath, "utf8"), conditionsPath);
  if (conditions.task !== task) {
    throw new WattprintError(
      "BAD_INPUT",
      `${conditionsPath} is for task ${conditions.task}, not ${task}`,
      {
        hint: "regenerate the reference table",
      },
    );
  }
  const boundaries = ratingBoundaries(rows.map((row) => row.energyWhPer1kQueries));
  return { task, csvPath, conditionsPath, rows, conditions, boundaries };
}

/** Parses a reference CSV (header row, then one row per model). @throws WattprintError("BAD_INPUT"). */
export function parseReferenceCsv(text: string, path: string): ReferenceRow[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  const header = lines[0]?.split(",");
  if (header === undefined || header.join(",") !== REFERENCE_COLUMNS.join(",")) {
    throw new WattprintError(
      "BAD_INPUT",
      `${path}: the header is not ${REFERENCE_COLUMNS.join(",")}`,
      {
        hint: "regenerate the reference table",
      },
    );
  }
  return lines.slice(1).map((line, index) => {
    const cells = line.split(",");
    const fail = (reason: string) =>
      new WattprintError("BAD_INPUT", `${path} line ${index + 2}: ${reason}`, {
        hint: "regenerate the reference table",
      });
    if (cells.length !== REFERENCE_COLUMNS.length)
      throw fail(`${cells.length} cells, ${REFERENCE_COLUMNS.length} expected`);
    const cell = (column: number) => cells[column] as string;
    const number = (column: number) => {
      const value = Number(cell(column));
      if (cell(column).trim() === "" || !Number.isFinite(value))
        throw fail(`${REFERENCE_COLUMNS[column]} "${cell(column)}" is not a number`);
      return value;
    };
    return {
      modelId: cell(0),
      architecture: cell(1),
      precision: cell(2),
      weightsSeed: number(3),
      parameters: number(4),
      fileBytes: number(5),
      sha256: cell(6),
      energyWhPer1kQueries: number(7),
      minWhPer1kQueries: number(8),
      maxWhPer1kQueries: number(9),
    };
  });
}

/** Writes reference rows as CSV. @throws Error when a text cell holds a comma or a line break. */
export function formatReferenceCsv(rows: readonly ReferenceRow[]): string {
  const text = (value: string) => {
    if (/[,\r\n"]/.test(value))
      throw new Error(`reference CSV cell holds a comma, quote or line break: ${value}`);
    return value;
  };
  const lines = rows.map((row) =>
    [
      text(row.modelId),
      text(row.architecture),
      text(row.precision),
      row.weightsSeed,
      row.parameters,
      row.fileBytes,
      text(row.sha256),
      row.energyWhPer1kQueries.toPrecision(6),
      row.minWhPer1kQueries.toPrecision(6),
      row.maxWhPer1kQueries.toPrecision(6),
    ].join(","),
  );
  return `${[REFERENCE_COLUMNS.join(","), ...lines].join("\n")}\n`;
}

function parseConditions(text: string, path: string): ReferenceConditions {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new WattprintError("BAD_INPUT", `${path}: ${describeError(error)}`, {
      hint: "regenerate the reference table",
    });
  }
  const object = value as Partial<ReferenceConditions> | null;
  const missing = [
    "task",
    "measuredAt",
    "protocol",
    "hardware",
    "energySources",
    "software",
  ].filter((key) => object === null || typeof object !== "object" || !(key in object));
  if (missing.length > 0 || typeof object?.hardware?.cpuModel !== "string") {
    throw new WattprintError(
      "BAD_INPUT",
      `${path}: not a reference conditions file (missing ${missing.length > 0 ? missing.join(", ") : "hardware.cpuModel"})`,
      { hint: "regenerate the reference table" },
    );
  }
  return object as ReferenceConditions;
}
