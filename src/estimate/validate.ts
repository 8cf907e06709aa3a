/**
 * Validation of the estimators against published footprints: runs the training estimator
 * over a published-footprints CSV (model, params_b, tokens_b, hardware, gpu_hours,
 * energy_mwh, pue, notes, …) and reports the error of each row and the mean absolute
 * percentage error; and cross-validates the inference model by leaving one model out.
 * Rows whose text says "recollection" or "VERIFY" are reported but not counted.
 * Method and results: docs/estimate.md; runner: bench/estimate-validation.js.
 */
import { readCsvTable } from "../grid/load-table.js";
import { findAccelerator, resolveAccelerator } from "../hardware/accelerators.js";
import {
  fitPerTokenModel,
  loadInferenceMeasurements,
  predictEnergyPerOutputTokenJ,
  type InferenceMeasurement,
} from "./inference.js";
import { DEFAULT_MFU, estimateTraining } from "./training.js";

/** One row of a published-footprints file. Units: billions, hours, MWh, kgCO2e/kWh, t. */
export interface PublishedFootprint {
  /** 1-based line in the file. */
  line: number;
  model: string;
  paramsB: number | null;
  /** Active parameters per token for mixture-of-experts rows ("17B active" in the name), else null. */
  activeParamsB: number | null;
  tokensB: number | null;
  /** The hardware as published: "A100-80GB", "TPU v3", "A800-80GB (recollection)". */
  hardware: string;
  hardwareCount: number | null;
  hours: number | null;
  deviceHours: number | null;
  /** MWh (for inference rows: MWh per 1,000 queries). */
  energyMWh: number | null;
  pue: number | null;
  source: string;
  notes: string;
  /** Model name starts with "[inference]". */
  inference: boolean;
  /** The row says "recollection" or "VERIFY": its figures are uncertain. */
  uncertain: boolean;
}

/** Energy from device-hours, for one row. */
export interface EnergyCheck {
  line: number;
  model: string;
  hardware: string;
  /** Table id the hardware resolved to; null when it is not in the table. */
  hardwareId: string | null;
  deviceHours: number;
  /** The row's PUE, or 1 when it gives none (its energy then excludes facility overhead). */
  pue: number;
  publishedEnergyMWh: number;
  estimatedEnergyMWh: number | null;
  /** (estimated − published) / published × 100; null when not estimated. */
  errorPct: number | null;
  uncertain: boolean;
  /** Counted in the MAPE: hardware in the table and not uncertain. */
  counted: boolean;
  /** Why not estimated or not counted; null when counted. */
  note: string | null;
}

/** Device-hours from params and tokens (FLOPs = 6·N·D), for one row. */
export interface DeviceHoursCheck {
  line: number;
  model: string;
  hardwareId: string;
  paramsB: number;
  activeParamsB: number;
  tokensB: number;
  publishedDeviceHours: number;
  estimatedDeviceHours: number;
  /** estimated / published. */
  ratio: number;
  /** max(ratio, 1/ratio): how many times off. */
  factor: number;
  /** MFU the published hours imply at 6·N·D. */
  impliedMfu: number;
  uncertain: boolean;
  counted: boolean;
}

/** The validation targets of issue 4. */
export const VALIDATION_TARGETS = Object.freeze({
  /** Energy from device-hours: MAPE at most this, %. */
  energyMapePct: 10,
  /** Device-hours from params and tokens: the median row at most this many times off. */
  deviceHoursMedianFactor: 1.5,
});

/** The result of {@link validateTrainingEstimates}. */
export interface ValidationReport {
  energy: {
    rows: EnergyCheck[];
    counted: number;
    /** Mean absolute percentage error over counted rows; null when none. */
    mapePct: number | null;
    /** The same, uncertain rows included. */
    mapeWithUncertainPct: number | null;
    met: boolean;
  };
  deviceHours: {
    rows: DeviceHoursCheck[];
    counted: number;
    mfu: number;
    /** Median factor over counted rows; null when none. */
    medianFactor: number | null;
    /** Median of estimated / published over counted rows. */
    medianRatio: number | null;
    met: boolean;
  };
}

const COLUMNS = [
  "model",
  "params_b",
  "tokens_b",
  "hardware",
  "hardware_count",
  "hours",
  "gpu_hours",
  "energy_mwh",
  "pue",
  "source",
  "notes",
] as const;

/**
 * Reads a published-footprints CSV.
 * @throws WattprintError `BAD_INPUT` naming the file, line and column.
 */
export function loadPublishedFootprints(file: string | URL): PublishedFootprint[] {
  return readCsvTable(
    file,
    COLUMNS,
    (record): PublishedFootprint => {
      const model = record.text("model");
      const hardware = record.optionalText("hardware") ?? "";
      const notes = record.optionalText("notes") ?? "";
      const source = record.optionalText("source") ?? "";
      const text = `${model} ${hardware} ${notes} ${source}`;
      const active = /(\d+(?:\.\d+)?)\s*B active/i.exec(model);
      return {
        line: record.line,
        model,
        paramsB: record.optionalNumber("params_b"),
        activeParamsB: active?.[1] === undefined ? null : Number(active[1]),
        tokensB: record.optionalNumber("tokens_b"),
        hardware,
        hardwareCount: record.optionalNumber("hardware_count"),
        hours: record.optionalNumber("hours"),
        deviceHours: record.optionalNumber("gpu_hours"),
        energyMWh: record.optionalNumber("energy_mwh"),
        pue: record.optionalNumber("pue"),
        source,
        notes,
        inference: model.startsWith("[inference]"),
        uncertain: /recollection/i.test(text) || text.includes("VERIFY"),
      };
    },
    "check the published-footprints file",
  );
}

/** The table id of published hardware text, ignoring remarks in brackets; null when not in the table. */
export function publishedHardwareId(hardware: string): string | null {
  const bare = hardware.replace(/\([^)]*\)/g, " ").trim();
  if (bare === "") return null;
  return findAccelerator(bare)?.id ?? null;
}

/**
 * Runs the training estimator over the training rows of `rows`: energy from device-hours
 * (rows with gpu_hours and energy_mwh) and device-hours from params and tokens (rows with
 * params_b, tokens_b and gpu_hours).
 * @param options.mfu MFU for the device-hours check; default {@link DEFAULT_MFU}.
 */
export function validateTrainingEstimates(
  rows: readonly PublishedFootprint[],
  options: { mfu?: number } = {},
): ValidationReport {
  const mfu = options.mfu ?? DEFAULT_MFU;
  const energyRows: EnergyCheck[] = [];
  const hoursRows: DeviceHoursCheck[] = [];
  for (const row of rows) {
    if (row.inference || row.deviceHours === null) continue;
    const hardwareId = publishedHardwareId(row.hardware);
    if (row.energyMWh !== null)
      energyRows.push(checkEnergy(row, row.deviceHours, row.energyMWh, hardwareId));
    if (row.paramsB !== null && row.tokensB !== null && hardwareId !== null) {
      const activeParamsB = row.activeParamsB ?? row.paramsB;
      const estimate = estimateTraining({
        hardware: hardwareId,
        params: row.paramsB * 1e9,
        activeParams: activeParamsB * 1e9,
        tokens: row.tokensB * 1e9,
        mfu,
        pue: 1,
        intensityGPerKWh: 0,
      });
      const ratio = estimate.deviceHours / row.deviceHours;
      hoursRows.push({
        line: row.line,
        model: row.model,
        hardwareId,
        paramsB: row.paramsB,
        activeParamsB,
        tokensB: row.tokensB,
        publishedDeviceHours: row.deviceHours,
        estimatedDeviceHours: estimate.deviceHours,
        ratio,
        factor: Math.max(ratio, 1 / ratio),
        impliedMfu: mfu * ratio,
        uncertain: row.uncertain,
        counted: !row.uncertain,
      });
    }
  }
  const counted = energyRows.filter((row) => row.counted);
  const estimated = energyRows.filter((row) => row.errorPct !== null);
  const mapePct = meanAbs(counted.map((row) => row.errorPct ?? 0));
  const countedHours = hoursRows.filter((row) => row.counted);
  const medianFactor =
    countedHours.length > 0 ? median(countedHours.map((row) => row.factor)) : null;
  return {
    energy: {
      rows: energyRows,
      counted: counted.length,
      mapePct,
      mapeWithUncertainPct: meanAbs(estimated.map((row) => row.errorPct ?? 0)),
      met: mapePct !== null && mapePct <= VALIDATION_TARGETS.energyMapePct,
    },
    deviceHours: {
      rows: hoursRows,
      counted: countedHours.length,
      mfu,
      medianFactor,
      medianRatio: countedHours.length > 0 ? median(countedHours.map((row) => row.ratio)) : null,
      met: medianFactor !== null && medianFactor <= VALIDATION_TARGETS.deviceHoursMedianFactor,
    },
  };
}

function checkEnergy(
  row: PublishedFootprint,
  deviceHours: number,
  publishedEnergyMWh: number,
  hardwareId: string | null,
): EnergyCheck {
  const pue = row.pue ?? 1;
  const base = {
    line: row.line,
    model: row.model,
    hardware: row.hardware,
    hardwareId,
    deviceHours,
    pue,
    publishedEnergyMWh,
    uncertain: row.uncertain,
  };
  if (hardwareId === null) {
    return {
      ...base,
      estimatedEnergyMWh: null,
      errorPct: null,
      counted: false,
      note: "hardware not in the table",
    };
  }
  const estimate = estimateTraining({
    hardware: hardwareId,
    deviceHours,
    pue,
    intensityGPerKWh: 0,
  });
  const estimatedEnergyMWh = estimate.energyKWh / 1000;
  return {
    ...base,
    estimatedEnergyMWh,
    errorPct: ((estimatedEnergyMWh - publishedEnergyMWh) / publishedEnergyMWh) * 100,
    counted: !row.uncertain,
    note: row.uncertain ? "uncertain row (recollection / VERIFY): reported, not counted" : null,
  };
}

/** Leave-one-model-out cross-validation of the inference model. */
export interface InferenceCrossValidation {
  perModel: Array<{
    modelId: string;
    rows: number;
    /** Median over the model's rows of max(pred/measured, measured/pred), fitted without the model. */
    medianFactor: number;
    /** Geometric mean of predicted / measured. */
    bias: number;
  }>;
  /** Median of the per-model median factors. */
  medianFactor: number;
  /** Median over all rows, each predicted without its own model. */
  rowMedianFactor: number;
}

/**
 * Fits the inference model once per model with that model's rows left out, and predicts
 * them: how far off the estimator is for a model it has not seen.
 * @param rows default: the package's measurements.
 */
export function crossValidateInferenceModel(
  rows: readonly InferenceMeasurement[] = loadInferenceMeasurements(),
): InferenceCrossValidation {
  const tdpW = (id: string): number | null => resolveAccelerator(id).tdpW;
  const reference = fitPerTokenModel(rows, { tdpW }).referenceHardwareId;
  const models = [...new Set(rows.map((row) => row.modelId))].sort();
  const perModel: InferenceCrossValidation["perModel"] = [];
  const allFactors: number[] = [];
  for (const modelId of models) {
    const training = rows.filter((row) => row.modelId !== modelId);
    const held = rows.filter((row) => row.modelId === modelId);
    const model = fitPerTokenModel(training, { tdpW, referenceHardwareId: reference });
    const ratios = held.map((row) => {
      const factor = model.hardwareFactors[row.hardwareId] ?? 1;
      const predicted = predictEnergyPerOutputTokenJ(
        model,
        {
          totalParamsB: row.totalParamsB,
          activeParamsB: row.activeParamsB,
          bytesPerParam: row.bytesPerParam,
          batch: row.batch,
        },
        { memory: factor, compute: factor, basis: "fitted" },
      );
      return predicted / row.energyPerOutputTokenJ;
    });
    const factors = ratios.map((ratio) => Math.max(ratio, 1 / ratio));
    allFactors.push(...factors);
    perModel.push({
      modelId,
      rows: held.length,
      medianFactor: median(factors),
      bias: Math.exp(ratios.reduce((sum, ratio) => sum + Math.log(ratio), 0) / ratios.length),
    });
  }
  return {
    perModel,
    medianFactor: median(perModel.map((entry) => entry.medianFactor)),
    rowMedianFactor: median(allFactors),
  };
}

function meanAbs(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  return values.reduce((sum, value) => sum + Math.abs(value), 0) / values.length;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
