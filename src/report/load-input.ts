/**
 * What `wattprint report` and `wattprint lca` read: a run id (or unique prefix) in the run
 * store, a run record file (`track --out run.json`, `runs show <id> --json`), or an
 * estimate file (`estimate … --json`), told apart by their shape. Everything is checked
 * before use, so a damaged file gives one clear error, never a NaN in a report.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { WattprintError, describeError } from "../errors.js";
import type { RunRecord, TimelineSample } from "../record/run-record.js";
import { RunStore } from "../store/run-store.js";

/** One assumption of an estimate, as `wattprint estimate --json` lists them. */
export interface EstimateAssumption {
  name: string;
  value: string | number | boolean | null;
  /** Unit of `value` ("gCO2e/kWh", "h", "ratio"); null when it has none. */
  unit: string | null;
  /** Where the value comes from; null when the file does not say. */
  source: string | null;
}

/** The part of an estimate file a report uses; other fields are kept in `raw`. */
export interface EstimateDocument {
  /** Device-hours of the job; null when the estimate has none (inference per request). */
  deviceHours: number | null;
  /** Energy of the job, kWh (as the estimate states it, PUE included or not: see assumptions). */
  energyKWh: number;
  /** Operational emissions, kg CO2e; null when the estimate could not say. */
  co2eKg: number | null;
  /** Embodied emissions of the hardware share, kg CO2e; null when unknown. */
  embodiedCo2eKg: number | null;
  /**
   * IT energy before the data-centre overhead, kWh (`itEnergyKWh` of a training estimate,
   * `acceleratorEnergyKWh` of an inference estimate); null when the file does not say, and
   * then whether `energyKWh` includes PUE is unknown.
   */
  itEnergyKWh: number | null;
  /** "training" or "inference" as the estimator writes it; null when absent. */
  estimateKind: string | null;
  /** Requests an inference estimate covers; null when absent. */
  requests: number | null;
  /** Grid intensity the estimate used, gCO2e/kWh; null when absent. */
  intensityGPerKWh: number | null;
  /** PUE the estimate applied; null when absent. */
  pue: number | null;
  /** Region code the estimate used; null when absent (an intensity was given). */
  region: string | null;
  /** Hardware name (`hardware.name`) and device count (`devices`); null when absent. */
  hardwareName: string | null;
  devices: number | null;
  warnings: string[];
  assumptions: EstimateAssumption[];
  /** The whole parsed file. */
  raw: Record<string, unknown>;
}

/** A run to report on. `samples` is null when the input holds no timeline (a run.json file). */
export interface RunReportInput {
  kind: "run";
  /** Where it was read: "run store /home/a/.wattprint/runs.sqlite" or "file run.json". */
  origin: string;
  run: RunRecord;
  samples: TimelineSample[] | null;
  /** Why the timeline is missing or empty; null when samples are there. */
  samplesNote: string | null;
}

/** An estimate to report on. */
export interface EstimateReportInput {
  kind: "estimate";
  origin: string;
  estimate: EstimateDocument;
}

export type ReportInput = RunReportInput | EstimateReportInput;

/** Options of {@link loadReportInput}. */
export interface LoadInputOptions {
  /** The run store to look run ids up in (the CLI passes `<WATTPRINT_HOME>/runs.sqlite`). */
  storePath: string;
}

const INPUT_HINT =
  "give a run id from `wattprint runs`, a run record (`wattprint track --out run.json`) or an estimate (`wattprint estimate … --json > estimate.json`)";

/**
 * Loads `reference`: an existing file is parsed as JSON and recognised as a run record or
 * an estimate; anything else that looks like a path (has a slash or ends in .json) is a
 * missing file; the rest is a run id or prefix in the store at `options.storePath`, read
 * with its timeline.
 * @throws WattprintError `NOT_FOUND` (no such file, no store, unknown run id), `BAD_INPUT`
 *   (unreadable or malformed file, a run or estimate without energy), `STORE`.
 */
export function loadReportInput(reference: string, options: LoadInputOptions): ReportInput {
  if (reference.trim() === "") {
    throw new WattprintError("USAGE", "no run id or file given", { hint: INPUT_HINT });
  }
  if (existsSync(reference)) {
    if (statSync(reference).isDirectory()) {
      throw new WattprintError("BAD_INPUT", `${reference} is a directory`, { hint: INPUT_HINT });
    }
    const input = parseReportDocument(readText(reference), `file ${reference}`);
    requireEnergy(input);
    return input;
  }
  if (reference.includes("/") || reference.includes("\\") || /\.json$/i.test(reference)) {
    throw new WattprintError("NOT_FOUND", `no such file: ${reference}`, { hint: INPUT_HINT });
  }
  if (!existsSync(options.storePath)) {
    throw new WattprintError(
      "NOT_FOUND",
      `no file named "${reference}" and no run store at ${options.storePath}`,
      { hint: "track a run first (wattprint track -- <command>) or give a file" },
    );
  }
  const store = RunStore.open(options.storePath);
  try {
    const run = store.getRun(reference);
    const samples = store.getSamples(run.id);
    const input: RunReportInput = {
      kind: "run",
      origin: `run store ${options.storePath}`,
      run,
      samples,
      samplesNote: samples.length === 0 ? "the run store holds no samples for this run" : null,
    };
    requireEnergy(input);
    return input;
  } finally {
    store.close();
  }
}

/**
 * Recognises and checks a JSON document: a run record (has `schemaVersion`, `id` and
 * `energyJ`) or an estimate (has `energyKWh` and `assumptions`). A run read this way has
 * no timeline (`samples: null`).
 * @throws WattprintError `BAD_INPUT` naming the first field that does not fit.
 */
export function parseReportDocument(text: string, origin: string): ReportInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new WattprintError("BAD_INPUT", `${origin} is not valid JSON: ${describeError(error)}`, {
      hint: INPUT_HINT,
    });
  }
  if (!isObject(value)) {
    throw new WattprintError("BAD_INPUT", `${origin} is not a JSON object`, { hint: INPUT_HINT });
  }
  if ("energyJ" in value && "id" in value && "schemaVersion" in value) {
    return {
      kind: "run",
      origin,
      run: checkRunRecord(value, origin),
      samples: null,
      samplesNote:
        "a run record file holds no timeline; report on the run id (wattprint report <id>) to see power over time",
    };
  }
  if ("energyKWh" in value && "assumptions" in value) {
    return { kind: "estimate", origin, estimate: checkEstimate(value, origin) };
  }
  throw new WattprintError(
    "BAD_INPUT",
    `${origin} is neither a run record (no schemaVersion, id and energyJ) nor an estimate (no energyKWh and assumptions)`,
    { hint: INPUT_HINT },
  );
}

/** A short name for the input: "run 1f2e3d4c (python train.py)" or "estimate (file e.json)". */
export function describeInput(input: ReportInput): string {
  if (input.kind === "run") {
    const command = input.run.command.join(" ");
    return `run ${input.run.id.slice(0, 8)}${command === "" ? "" : ` (${command})`}`;
  }
  const kind = input.estimate.estimateKind;
  return `${kind === null ? "estimate" : `${kind} estimate`} (${input.origin})`;
}

function requireEnergy(input: ReportInput): void {
  if (input.kind === "estimate") return; // checkEstimate already requires energyKWh
  if (input.run.energyJ.total === null) {
    const why = input.run.unmeasured.map((item) => `${item.component}: ${item.reason}`).join("; ");
    throw new WattprintError(
      "BAD_INPUT",
      `run ${input.run.id.slice(0, 8)} has no energy: nothing was measured${why === "" ? "" : ` (${why})`}`,
      { hint: "run `wattprint doctor` to see what can be measured here, then track the run again" },
    );
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new WattprintError("BAD_INPUT", `cannot read ${path}: ${describeError(error)}`, {
      hint: "check the path and its permissions",
      cause: error,
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Field checks that fail with the field's path in the message. */
class FieldChecker {
  constructor(
    private readonly origin: string,
    private readonly hint: string,
  ) {}

  fail(path: string, expected: string, value: unknown): never {
    const shown = value === undefined ? "missing" : JSON.stringify(value)?.slice(0, 40);
    throw new WattprintError(
      "BAD_INPUT",
      `${this.origin}: field ${path} must be ${expected} (found ${shown})`,
      { hint: this.hint },
    );
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (!isObject(value)) this.fail(path, "an object", value);
    return value;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, "an array", value);
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string") this.fail(path, "a string", value);
    return value;
  }

  optionalString(value: unknown, path: string): string | null {
    if (value === undefined || value === null) return null;
    return this.string(value, path);
  }

  number(value: unknown, path: string, min = -Infinity): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
      this.fail(path, min === 0 ? "a number ≥ 0" : "a finite number", value);
    }
    return value;
  }

  numberOrNull(value: unknown, path: string, min = -Infinity): number | null {
    if (value === null) return null;
    return this.number(value, path, min);
  }

  optionalNumber(value: unknown, path: string, min = -Infinity): number | null {
    if (value === undefined) return null;
    return this.numberOrNull(value, path, min);
  }
}

const RUN_HINT =
  "give a run record written by `wattprint track --out run.json` or `wattprint runs show <id> --json`";

function checkRunRecord(value: Record<string, unknown>, origin: string): RunRecord {
  const check = new FieldChecker(origin, RUN_HINT);
  check.number(value.schemaVersion, "schemaVersion", 1);
  check.string(value.id, "id");
  for (const name of ["command", "warnings", "phases", "sources", "unmeasured"]) {
    check.array(value[name], name);
  }
  for (const [index, part] of (value.command as unknown[]).entries())
    check.string(part, `command[${index}]`);
  for (const [index, warning] of (value.warnings as unknown[]).entries())
    check.string(warning, `warnings[${index}]`);
  check.string(value.status, "status");
  check.string(value.startedAt, "startedAt");
  if (value.endedAt !== null) check.string(value.endedAt, "endedAt");
  check.number(value.durationS, "durationS", 0);
  for (const name of ["energyJ", "machineEnergyJ"]) {
    const breakdown = check.object(value[name], name);
    for (const part of ["total", "cpu", "gpu", "ram"])
      check.numberOrNull(breakdown[part], `${name}.${part}`, 0);
  }
  check.numberOrNull(value.shareOfMachine, "shareOfMachine", 0);
  check.numberOrNull(value.co2eG, "co2eG", 0);
  check.numberOrNull(value.machineCo2eG, "machineCo2eG", 0);
  check.string(value.region, "region");
  check.number(value.intensityGPerKWh, "intensityGPerKWh", 0);
  const intensitySource = check.object(value.intensitySource, "intensitySource");
  check.string(intensitySource.source, "intensitySource.source");
  check.string(intensitySource.zone, "intensitySource.zone");
  check.number(value.pue, "pue", 1);
  check.string(value.pueSource, "pueSource");
  for (const [index, source] of (value.sources as unknown[]).entries()) {
    const item = check.object(source, `sources[${index}]`);
    for (const field of ["component", "method", "source", "label", "attribution"])
      check.string(item[field], `sources[${index}].${field}`);
    check.numberOrNull(item.machineEnergyJ, `sources[${index}].machineEnergyJ`, 0);
    check.numberOrNull(item.attributedEnergyJ, `sources[${index}].attributedEnergyJ`, 0);
    check.array(item.notes, `sources[${index}].notes`);
  }
  for (const [index, missing] of (value.unmeasured as unknown[]).entries()) {
    const item = check.object(missing, `unmeasured[${index}]`);
    check.string(item.component, `unmeasured[${index}].component`);
    check.string(item.reason, `unmeasured[${index}].reason`);
  }
  for (const [index, phase] of (value.phases as unknown[]).entries()) {
    const item = check.object(phase, `phases[${index}]`);
    check.string(item.name, `phases[${index}].name`);
    check.string(item.startedAt, `phases[${index}].startedAt`);
    const energy = check.object(item.energyJ, `phases[${index}].energyJ`);
    for (const part of ["total", "cpu", "gpu", "ram"])
      check.numberOrNull(energy[part], `phases[${index}].energyJ.${part}`, 0);
    check.numberOrNull(item.co2eG, `phases[${index}].co2eG`, 0);
  }
  const machine = check.object(value.machine, "machine");
  check.string(machine.cpuModel, "machine.cpuModel");
  check.number(machine.cpuCount, "machine.cpuCount", 0);
  for (const [index, gpu] of check.array(machine.gpus, "machine.gpus").entries()) {
    check.string(check.object(gpu, `machine.gpus[${index}]`).name, `machine.gpus[${index}].name`);
  }
  const sampling = check.object(value.sampling, "sampling");
  check.number(sampling.samples, "sampling.samples", 0);
  check.string(value.trackerVersion, "trackerVersion");
  return value as unknown as RunRecord;
}

const ESTIMATE_HINT = "give an estimate written by `wattprint estimate … --json`";

function checkEstimate(value: Record<string, unknown>, origin: string): EstimateDocument {
  const check = new FieldChecker(origin, ESTIMATE_HINT);
  if (value.energyKWh === null) {
    throw new WattprintError(
      "BAD_INPUT",
      `${origin}: the estimate has no energy (energyKWh is null)`,
      {
        hint: "complete the estimate's inputs so that it can compute energy, then write it again",
      },
    );
  }
  const assumptions = check.array(value.assumptions, "assumptions").map((item, index) => {
    const entry = check.object(item, `assumptions[${index}]`);
    const raw = entry.value;
    const ok =
      raw === null ||
      typeof raw === "string" ||
      typeof raw === "boolean" ||
      (typeof raw === "number" && Number.isFinite(raw));
    if (!ok) check.fail(`assumptions[${index}].value`, "a number, string, boolean or null", raw);
    return {
      name: check.string(entry.name, `assumptions[${index}].name`),
      value: raw as EstimateAssumption["value"],
      unit: check.optionalString(entry.unit, `assumptions[${index}].unit`),
      source: check.optionalString(entry.source, `assumptions[${index}].source`),
    };
  });
  const hardware = value.hardware;
  const hardwareName =
    typeof hardware === "string"
      ? hardware
      : isObject(hardware)
        ? check.optionalString(hardware.name, "hardware.name")
        : null;
  const warnings =
    value.warnings === undefined
      ? []
      : check.array(value.warnings, "warnings").map((w, i) => check.string(w, `warnings[${i}]`));
  const pue = check.optionalNumber(value.pue, "pue", 0);
  if (pue !== null && pue < 1) check.fail("pue", "a number ≥ 1", pue);
  return {
    deviceHours: check.optionalNumber(value.deviceHours, "deviceHours", 0),
    energyKWh: check.number(value.energyKWh, "energyKWh", 0),
    co2eKg: check.optionalNumber(value.co2eKg, "co2eKg", 0),
    embodiedCo2eKg: check.optionalNumber(value.embodiedCo2eKg, "embodiedCo2eKg", 0),
    itEnergyKWh:
      check.optionalNumber(value.itEnergyKWh, "itEnergyKWh", 0) ??
      check.optionalNumber(value.acceleratorEnergyKWh, "acceleratorEnergyKWh", 0),
    estimateKind: check.optionalString(value.kind, "kind"),
    requests: check.optionalNumber(value.requests, "requests", 0),
    intensityGPerKWh: check.optionalNumber(value.intensityGPerKWh, "intensityGPerKWh", 0),
    pue,
    region: check.optionalString(value.region, "region"),
    hardwareName,
    devices: check.optionalNumber(value.devices, "devices", 0),
    warnings,
    assumptions,
    raw: value,
  };
}
