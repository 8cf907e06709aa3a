/**
 * Inference footprints before serving: a per-output-token energy model fitted on public
 * measurements (data/estimate/inference-measurements.csv: ML.ENERGY Leaderboard v3.0,
 * chat workload, vLLM on H100 and B200), then energy per request, per 1,000 requests and
 * in total, with operational and embodied CO2e. The model, per output token on all devices
 * together:
 *
 *   E = k_hw · ( a · weightsGB / batch + c · activeB + e · (totalB − activeB) + d )   [J]
 *
 * a: reading the weights once per decoding step, shared by the batch; c: work per active
 * parameter; e: the extra cost of inactive experts (mixture-of-experts); d: per-token
 * overhead. k_hw is fitted for measured hardware (1 for the reference) and derived from
 * spec sheets for the rest. Method and validation: docs/estimate.md.
 */
import { WattprintError } from "../errors.js";
import { readCsvTable } from "../grid/load-table.js";
import {
  createAcceleratorCatalog,
  resolveAccelerator,
  DEFAULT_ACCELERATOR_TABLE_URL,
  type Accelerator,
} from "../hardware/accelerators.js";
import {
  assumption,
  requireParams,
  requirePositive,
  resolveGridContext,
  USER_SOURCE,
  type Assumption,
  type GridOptions,
} from "./assumptions.js";
import { estimateEmbodied, type EmbodiedEstimate } from "./embodied.js";
import { requireWholePositive } from "./training.js";

/** One measured serving configuration (a row of inference-measurements.csv). */
export interface InferenceMeasurement {
  modelId: string;
  task: string;
  architecture: "dense" | "moe";
  totalParamsB: number;
  activeParamsB: number;
  /** Bytes per weight: 2 for bfloat16, 1 for fp8. */
  bytesPerParam: number;
  /** Table id of the GPU: "H100-SXM", "B200". */
  hardwareId: string;
  devices: number;
  /** Concurrent sequences the server was limited to. */
  maxBatch: number;
  /** Mean concurrent sequences measured. */
  batch: number;
  outputTokens: number;
  /** Energy of all devices per output token, J (prefill included). */
  energyPerOutputTokenJ: number;
  /** Mean power of all devices together, W. */
  powerW: number;
  source: string;
}

/** The fitted per-token model. Units: J, GB, billions of parameters. */
export interface PerTokenEnergyModel {
  /** J per GB of weights per decoding step (divided by the batch). */
  weightJPerGB: number;
  /** J per billion active parameters per token. */
  activeJPerBParam: number;
  /** J per billion inactive (expert) parameters per token. */
  inactiveJPerBParam: number;
  /** J per token. */
  baseJPerToken: number;
  /** The hardware whose factor is 1. */
  referenceHardwareId: string;
  /** Fitted factor of each measured hardware id (the reference's is 1). */
  hardwareFactors: Record<string, number>;
  /** Median of (mean device power / TDP) over the rows: how hard serving drives the devices. */
  servingPowerFraction: number;
  /** Rows the model was fitted on. */
  rows: number;
  /** Median over the rows of max(predicted/measured, measured/predicted). */
  medianFactorError: number;
  /** Range of the fit data, for warnings. */
  range: { totalParamsB: [number, number]; batch: [number, number] };
  source: string;
}

/** Where the package's measurements ship: data/estimate/inference-measurements.csv. */
export const DEFAULT_INFERENCE_MEASUREMENTS_URL = new URL(
  "../../data/estimate/inference-measurements.csv",
  import.meta.url,
);

/** The data the package's model is fitted on, in words. */
export const INFERENCE_DATA_SOURCE =
  "ML.ENERGY Leaderboard v3.0 (ml-energy/leaderboard public/data, Chung et al. 2025, The ML.ENERGY Benchmark), lm-arena-chat, vLLM, GPU energy only";

/**
 * Default concurrent sequences (batch) of a serving deployment: 64, inside the 8–4,096
 * range ML.ENERGY measured. Energy per token falls about 5x from batch 8 to 256; give
 * `batch` when you know it.
 */
export const DEFAULT_BATCH = 64;

/** Bytes per weight of the precisions the fit data covers. */
export const BYTES_PER_PARAM: Readonly<Record<InferencePrecision, number>> = Object.freeze({
  bf16: 2,
  fp16: 2,
  fp8: 1,
});

/** Weight precision of a served model. */
export type InferencePrecision = "bf16" | "fp16" | "fp8";

const MEASUREMENT_COLUMNS = [
  "model_id",
  "task",
  "architecture",
  "total_params_b",
  "active_params_b",
  "weight_precision",
  "gpu",
  "num_gpus",
  "max_num_seqs",
  "avg_batch_size",
  "avg_output_tokens",
  "energy_per_output_token_j",
  "avg_power_w",
  "source",
] as const;

const PRECISION_BYTES: Readonly<Record<string, number>> = {
  bfloat16: 2,
  float16: 2,
  fp8: 1,
};

/**
 * Reads a measurements table; GPU names are resolved in the accelerator table.
 * @throws WattprintError `BAD_INPUT` naming the file, line and column.
 */
export function loadInferenceMeasurements(
  file: string | URL = DEFAULT_INFERENCE_MEASUREMENTS_URL,
  acceleratorTable: string | URL = DEFAULT_ACCELERATOR_TABLE_URL,
): InferenceMeasurement[] {
  const catalog = createAcceleratorCatalog(acceleratorTable);
  return readCsvTable(file, MEASUREMENT_COLUMNS, (record): InferenceMeasurement => {
    const positive = (column: string): number => {
      const value = record.number(column);
      if (value <= 0) throw record.fail(column, `is ${value}, must be > 0`);
      return value;
    };
    const precision = record.text("weight_precision");
    const bytesPerParam = PRECISION_BYTES[precision];
    if (bytesPerParam === undefined) {
      throw record.fail(
        "weight_precision",
        `is "${precision}", expected one of ${Object.keys(PRECISION_BYTES).join(", ")}`,
      );
    }
    const gpu = record.text("gpu");
    const accelerator = catalog.find(gpu);
    if (accelerator === null) throw record.fail("gpu", `"${gpu}" is not in the accelerator table`);
    const totalParamsB = positive("total_params_b");
    const activeParamsB = positive("active_params_b");
    if (activeParamsB > totalParamsB)
      throw record.fail("active_params_b", "is more than total_params_b");
    return {
      modelId: record.text("model_id"),
      task: record.text("task"),
      architecture: record.oneOf("architecture", ["dense", "moe"] as const),
      totalParamsB,
      activeParamsB,
      bytesPerParam,
      hardwareId: accelerator.id,
      devices: positive("num_gpus"),
      maxBatch: positive("max_num_seqs"),
      batch: positive("avg_batch_size"),
      outputTokens: positive("avg_output_tokens"),
      energyPerOutputTokenJ: positive("energy_per_output_token_j"),
      powerW: positive("avg_power_w"),
      source: record.text("source"),
    };
  });
}

/** The model's inputs for one configuration. */
export interface TokenFeatures {
  totalParamsB: number;
  activeParamsB: number;
  bytesPerParam: number;
  batch: number;
}

/** Per-term hardware scaling: memory-bound terms (a, d) and compute terms (c, e). */
export interface HardwareScaling {
  memory: number;
  compute: number;
  /** "fitted" for measured hardware, "spec-ratio" otherwise. */
  basis: "fitted" | "spec-ratio";
}

/** Energy per output token, J, of all devices together. */
export function predictEnergyPerOutputTokenJ(
  model: PerTokenEnergyModel,
  features: TokenFeatures,
  scaling: HardwareScaling = { memory: 1, compute: 1, basis: "fitted" },
): number {
  const weightsGB = features.totalParamsB * features.bytesPerParam;
  const memoryTerms = (model.weightJPerGB * weightsGB) / features.batch + model.baseJPerToken;
  const computeTerms =
    model.activeJPerBParam * features.activeParamsB +
    model.inactiveJPerBParam * (features.totalParamsB - features.activeParamsB);
  return scaling.memory * memoryTerms + scaling.compute * computeTerms;
}

function featureRow(features: TokenFeatures): number[] {
  return [
    (features.totalParamsB * features.bytesPerParam) / features.batch,
    features.activeParamsB,
    features.totalParamsB - features.activeParamsB,
    1,
  ];
}

/**
 * Fits {@link PerTokenEnergyModel} to measurements by least squares on the logarithm of
 * the energy (iteratively reweighted linear least squares, weights 1/sqrt(predicted ×
 * measured)), alternating with one multiplicative factor per non-reference hardware
 * (geometric mean of measured/predicted). Deterministic.
 * @param referenceHardwareId default: the hardware with the most rows.
 * @throws WattprintError `BAD_INPUT` when the rows cannot determine the model.
 */
export function fitPerTokenModel(
  rows: readonly InferenceMeasurement[],
  options: {
    referenceHardwareId?: string;
    tdpW?: (hardwareId: string) => number | null;
    source?: string;
  } = {},
): PerTokenEnergyModel {
  if (rows.length < 8) {
    throw new WattprintError(
      "BAD_INPUT",
      `cannot fit the inference model: ${rows.length} rows, need 8 or more`,
    );
  }
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.hardwareId, (counts.get(row.hardwareId) ?? 0) + 1);
  const reference =
    options.referenceHardwareId ??
    [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ??
    "";
  if (!counts.has(reference)) {
    throw new WattprintError(
      "BAD_INPUT",
      `cannot fit the inference model: no rows on ${reference}`,
    );
  }
  const features = rows.map((row) => featureRow(row));
  const measured = rows.map((row) => row.energyPerOutputTokenJ);
  const factors = new Map<string, number>([...counts.keys()].map((id) => [id, 1]));
  let coefficients = [0, 0, 0, 0];
  let predicted = [...measured];
  for (let iteration = 0; iteration < 200; iteration += 1) {
    const rowFactor = rows.map((row) => factors.get(row.hardwareId) ?? 1);
    const weights = predicted.map((value, index) => 1 / Math.sqrt(value * (measured[index] ?? 1)));
    const next = solveWeightedLeastSquares(
      features.map((row, index) => row.map((value) => value * (rowFactor[index] ?? 1))),
      measured,
      weights,
    );
    const base = features.map((row) => dot(row, next));
    let moved = Math.max(
      ...next.map((value, index) => Math.abs(value - (coefficients[index] ?? 0))),
    );
    for (const id of factors.keys()) {
      if (id === reference) continue;
      const logs: number[] = [];
      rows.forEach((row, index) => {
        const value = base[index] ?? 0;
        if (row.hardwareId === id && value > 0) logs.push(Math.log((measured[index] ?? 0) / value));
      });
      const factor = Math.exp(
        logs.reduce((sum, value) => sum + value, 0) / Math.max(logs.length, 1),
      );
      moved = Math.max(moved, Math.abs(factor - (factors.get(id) ?? 1)));
      factors.set(id, factor);
    }
    coefficients = next;
    predicted = base.map(
      (value, index) => value * (factors.get(rows[index]?.hardwareId ?? "") ?? 1),
    );
    if (predicted.some((value) => !(value > 0))) {
      throw new WattprintError(
        "BAD_INPUT",
        "cannot fit the inference model: the fit predicts a non-positive energy",
      );
    }
    if (moved < 1e-12) break;
  }
  const [weightJPerGB = 0, activeJPerBParam = 0, inactiveJPerBParam = 0, baseJPerToken = 0] =
    coefficients;
  if (
    [weightJPerGB, activeJPerBParam, baseJPerToken].some((value) => !(value > 0)) ||
    inactiveJPerBParam < 0
  ) {
    throw new WattprintError(
      "BAD_INPUT",
      `cannot fit the inference model: coefficients ${coefficients.map((value) => value.toPrecision(3)).join(", ")} are not all positive`,
    );
  }
  const factorErrors = predicted.map((value, index) => {
    const ratio = value / (measured[index] ?? 1);
    return Math.max(ratio, 1 / ratio);
  });
  const fractions: number[] = [];
  for (const row of rows) {
    const tdpW = options.tdpW?.(row.hardwareId) ?? null;
    if (tdpW !== null) fractions.push(row.powerW / (row.devices * tdpW));
  }
  return {
    weightJPerGB,
    activeJPerBParam,
    inactiveJPerBParam,
    baseJPerToken,
    referenceHardwareId: reference,
    hardwareFactors: Object.fromEntries(factors),
    servingPowerFraction: fractions.length > 0 ? median(fractions) : 1,
    rows: rows.length,
    medianFactorError: median(factorErrors),
    range: {
      totalParamsB: [
        Math.min(...rows.map((row) => row.totalParamsB)),
        Math.max(...rows.map((row) => row.totalParamsB)),
      ],
      batch: [Math.min(...rows.map((row) => row.batch)), Math.max(...rows.map((row) => row.batch))],
    },
    source: options.source ?? INFERENCE_DATA_SOURCE,
  };
}

function dot(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0);
}

/** Solves min Σ (w_i (x_i·p − y_i))² by the normal equations (Gaussian elimination, partial pivoting). */
function solveWeightedLeastSquares(
  rows: readonly number[][],
  targets: readonly number[],
  weights: readonly number[],
): number[] {
  const size = rows[0]?.length ?? 0;
  const matrix = Array.from({ length: size }, () => new Array<number>(size + 1).fill(0));
  rows.forEach((row, index) => {
    const weight = (weights[index] ?? 0) ** 2;
    const target = targets[index] ?? 0;
    for (let i = 0; i < size; i += 1) {
      const line = matrix[i] as number[];
      for (let j = 0; j < size; j += 1)
        line[j] = (line[j] ?? 0) + weight * (row[i] ?? 0) * (row[j] ?? 0);
      line[size] = (line[size] ?? 0) + weight * (row[i] ?? 0) * target;
    }
  });
  for (let column = 0; column < size; column += 1) {
    let pivot = column;
    for (let i = column + 1; i < size; i += 1) {
      if (Math.abs(matrix[i]?.[column] ?? 0) > Math.abs(matrix[pivot]?.[column] ?? 0)) pivot = i;
    }
    [matrix[column], matrix[pivot]] = [matrix[pivot] as number[], matrix[column] as number[]];
    const line = matrix[column] as number[];
    const head = line[column] ?? 0;
    if (Math.abs(head) < 1e-300) {
      throw new WattprintError(
        "BAD_INPUT",
        "cannot fit the inference model: the measurements do not determine it (singular system)",
      );
    }
    for (let i = 0; i < size; i += 1) {
      if (i === column) continue;
      const other = matrix[i] as number[];
      const ratio = (other[column] ?? 0) / head;
      for (let j = column; j <= size; j += 1) other[j] = (other[j] ?? 0) - ratio * (line[j] ?? 0);
    }
  }
  return matrix.map((line, index) => (line[size] ?? 0) / (line[index] ?? 1));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

let packageModel: PerTokenEnergyModel | undefined;

/** The model fitted on the package's measurements (fitted once, then kept). */
export function defaultPerTokenModel(): PerTokenEnergyModel {
  if (packageModel === undefined) {
    const rows = loadInferenceMeasurements();
    packageModel = fitPerTokenModel(rows, {
      tdpW: (id) => resolveAccelerator(id).tdpW,
    });
  }
  return { ...packageModel, hardwareFactors: { ...packageModel.hardwareFactors } };
}

/**
 * How the model's terms scale to `accelerator`: the fitted factor for measured hardware;
 * otherwise memory terms by (power / memory bandwidth) and compute terms by
 * (power / peak FLOP/s), both relative to the reference hardware.
 * @param powerW power per device used for spec ratios; default the table's TDP.
 * @returns null when no power figure is known.
 */
export function hardwareScaling(
  model: PerTokenEnergyModel,
  accelerator: Accelerator,
  powerW?: number,
): HardwareScaling | null {
  const fitted = model.hardwareFactors[accelerator.id];
  if (fitted !== undefined) return { memory: fitted, compute: fitted, basis: "fitted" };
  const reference = resolveAccelerator(model.referenceHardwareId);
  const power = powerW ?? accelerator.tdpW;
  if (power === null || reference.tdpW === null) return null;
  return {
    memory:
      power /
      accelerator.memoryBandwidthGBPerS /
      (reference.tdpW / reference.memoryBandwidthGBPerS),
    compute: power / accelerator.peakDenseTflops / (reference.tdpW / reference.peakDenseTflops),
    basis: "spec-ratio",
  };
}

/** What to estimate for a served model. */
export interface InferenceInput extends GridOptions {
  /** Hardware name or alias from data/hardware/accelerators.csv. */
  hardware: string;
  /** Total parameters of the model. */
  params: number;
  /** Parameters active per token (mixture-of-experts); default `params`. */
  activeParams?: number;
  /** Output tokens per request. */
  outputTokens: number;
  /** Requests served. */
  requests: number;
  /** Concurrent sequences on one server; default {@link DEFAULT_BATCH}. */
  batch?: number;
  /** Weight precision; default "bf16". */
  precision?: InferencePrecision;
  /** Average power per device, W: for hardware the fit did not measure, and device-hours. */
  powerW?: number;
  /** Hardware service life for embodied amortisation, years. */
  lifetimeYears?: number;
  /** The fitted model; default {@link defaultPerTokenModel}. */
  model?: PerTokenEnergyModel;
}

/** An inference estimate. Energy figures include PUE unless named "accelerator". */
export interface InferenceEstimate {
  kind: "inference";
  hardware: { id: string; name: string };
  params: number;
  activeParams: number;
  outputTokensPerRequest: number;
  requests: number;
  batch: number;
  precision: InferencePrecision;
  /** Accelerator energy per output token, all devices, J (no PUE). */
  energyPerOutputTokenJ: number;
  perRequest: { energyWh: number; co2eG: number };
  per1000Requests: { energyKWh: number; co2eKg: number };
  /** Accelerator energy of all requests, before facility overhead, kWh. */
  acceleratorEnergyKWh: number;
  /** Facility energy of all requests, kWh. */
  energyKWh: number;
  pue: number;
  intensityGPerKWh: number;
  region: string | null;
  co2eKg: number;
  /** Device time the requests occupy: accelerator energy / serving power per device, h. */
  deviceHours: number;
  embodiedCo2eKg: number;
  totalCo2eKg: number;
  embodied: Omit<EmbodiedEstimate, "assumptions">;
  /** Devices the weights need at least (weights only, no KV cache); null without a memory figure. */
  minDevicesForWeights: number | null;
  assumptions: Assumption[];
  warnings: string[];
}

/**
 * Estimates the energy and CO2e of serving `requests` requests of `outputTokens` tokens.
 * @throws WattprintError `USAGE` for unknown hardware, zero, negative or contradictory
 *   inputs, or hardware whose energy cannot be scaled without `powerW`;
 *   `UNKNOWN_REGION` for an unknown region.
 */
export function estimateInference(input: InferenceInput): InferenceEstimate {
  const accelerator = resolveAccelerator(input.hardware);
  const { params, activeParams } = requireParams(input.params, input.activeParams, {
    params: "8e9",
    activeParams: "17e9",
  });
  const outputTokens = requirePositive(
    input.outputTokens,
    "--output-tokens",
    "give the output tokens per request, for example 500",
  );
  const requests = requirePositive(
    input.requests,
    "--requests",
    "give the number of requests, for example 1e6",
  );
  const batch =
    input.batch === undefined ? DEFAULT_BATCH : requireWholePositive(input.batch, "--batch");
  const precision = input.precision ?? "bf16";
  const bytesPerParam = BYTES_PER_PARAM[precision];
  if (bytesPerParam === undefined) {
    throw new WattprintError("USAGE", `unknown precision "${String(precision)}"`, {
      hint: `use one of ${Object.keys(BYTES_PER_PARAM).join(", ")}`,
    });
  }
  if (input.powerW !== undefined)
    requirePositive(input.powerW, "--power-w", "give the average power per device in watts");
  const lifetimeYears =
    input.lifetimeYears === undefined
      ? undefined
      : requirePositive(
          input.lifetimeYears,
          "--lifetime-years",
          "give the hardware's service life in years, for example 4",
        );
  const model = input.model ?? defaultPerTokenModel();
  const scaling = hardwareScaling(model, accelerator, input.powerW);
  if (scaling === null) {
    throw new WattprintError(
      "USAGE",
      `no power figure for ${accelerator.id}: ${accelerator.tdpSource}`,
      {
        hint: "give the average power per device with --power-w, for example --power-w 200",
      },
    );
  }
  const grid = resolveGridContext(input);

  const features: TokenFeatures = {
    totalParamsB: params / 1e9,
    activeParamsB: activeParams / 1e9,
    bytesPerParam,
    batch,
  };
  const energyPerOutputTokenJ = predictEnergyPerOutputTokenJ(model, features, scaling);
  const acceleratorEnergyPerRequestJ = energyPerOutputTokenJ * outputTokens;
  const facilityEnergyPerRequestJ = acceleratorEnergyPerRequestJ * grid.pue;
  const perRequestWh = facilityEnergyPerRequestJ / 3600;
  const perRequestCo2eG = (perRequestWh / 1000) * grid.intensityGPerKWh;
  const acceleratorEnergyKWh = (acceleratorEnergyPerRequestJ * requests) / 3.6e6;
  const energyKWh = acceleratorEnergyKWh * grid.pue;
  const co2eKg = (energyKWh * grid.intensityGPerKWh) / 1000;

  const servingPowerW =
    input.powerW ??
    (accelerator.tdpW === null ? null : accelerator.tdpW * model.servingPowerFraction);
  if (servingPowerW === null) {
    throw new WattprintError(
      "USAGE",
      `no power figure for ${accelerator.id}: ${accelerator.tdpSource}`,
      {
        hint: "give the average power per device with --power-w, for example --power-w 200",
      },
    );
  }
  const deviceHours = (acceleratorEnergyKWh * 1000) / servingPowerW;
  const embodied = estimateEmbodied(accelerator, deviceHours, { lifetimeYears });
  const { assumptions: embodiedAssumptions, ...embodiedFigures } = embodied;
  const weightsGB = features.totalParamsB * bytesPerParam;
  const minDevicesForWeights =
    accelerator.memoryGB === null ? null : Math.max(1, Math.ceil(weightsGB / accelerator.memoryGB));

  const fitNote = `fitted on ${model.rows} configurations of ${model.source} (median error factor ${model.medianFactorError.toFixed(2)})`;
  const assumptions: Assumption[] = [
    assumption("hardware", accelerator.id, "", accelerator.name),
    assumption("params", params, "parameters", USER_SOURCE),
    assumption(
      "activeParams",
      activeParams,
      "parameters",
      input.activeParams === undefined
        ? "default: all parameters active (dense model)"
        : USER_SOURCE,
    ),
    assumption("outputTokens", outputTokens, "tokens/request", USER_SOURCE),
    assumption("requests", requests, "requests", USER_SOURCE),
    assumption(
      "batch",
      batch,
      "sequences",
      input.batch === undefined
        ? `default: ${DEFAULT_BATCH} concurrent sequences (ML.ENERGY measured 8-4096)`
        : USER_SOURCE,
    ),
    assumption(
      "bytesPerParam",
      bytesPerParam,
      "bytes",
      input.precision === undefined ? "default: bf16 weights" : `${precision} weights`,
    ),
    assumption("weightJPerGB", model.weightJPerGB, "J/GB per decoding step", fitNote),
    assumption(
      "activeJPerBParam",
      model.activeJPerBParam,
      "J per 1e9 active params per token",
      fitNote,
    ),
    assumption(
      "inactiveJPerBParam",
      model.inactiveJPerBParam,
      "J per 1e9 inactive params per token",
      fitNote,
    ),
    assumption("baseJPerToken", model.baseJPerToken, "J/token", fitNote),
    assumption(
      "hardwareFactor",
      scaling.basis === "fitted"
        ? scaling.memory
        : `memory ${round3(scaling.memory)}, compute ${round3(scaling.compute)}`,
      "ratio",
      scaling.basis === "fitted"
        ? `fitted on ${accelerator.id} measurements (reference ${model.referenceHardwareId} = 1)`
        : `spec-sheet ratio to ${model.referenceHardwareId}: power/bandwidth for memory terms, power/peak FLOP/s for compute terms (${accelerator.specSource}; ${accelerator.peakSource})`,
    ),
    assumption(
      "energyPerOutputTokenJ",
      energyPerOutputTokenJ,
      "J/token",
      "the fitted model (accelerators only)",
    ),
    ...grid.assumptions,
    assumption(
      "servingPowerWPerDevice",
      servingPowerW,
      "W",
      input.powerW !== undefined
        ? USER_SOURCE
        : `TDP × ${round3(model.servingPowerFraction)} (median measured power / TDP in the fit data); used for device-hours`,
    ),
    ...embodiedAssumptions,
  ];

  const warnings = [
    "accelerator energy only: host CPU, memory and idle capacity are not counted (Google's Gemini figures put them at about 35% of the total)",
  ];
  const [minParams, maxParams] = model.range.totalParamsB;
  if (features.totalParamsB < minParams || features.totalParamsB > maxParams) {
    warnings.push(
      `${features.totalParamsB} B parameters is outside the measured range ${minParams}-${maxParams} B`,
    );
  }
  const [minBatch, maxBatch] = model.range.batch;
  if (batch < minBatch || batch > maxBatch) {
    warnings.push(
      `batch ${batch} is outside the measured range ${Math.round(minBatch)}-${Math.round(maxBatch)}`,
    );
  }
  if (scaling.basis === "spec-ratio") {
    warnings.push(
      `${accelerator.id} was not measured: energy scaled from ${model.referenceHardwareId} by spec-sheet ratios (for B200 such ratios overstate the gain; see docs/estimate.md)`,
    );
  }
  if (embodied.proxy) {
    warnings.push(
      `no published embodied figure for ${accelerator.id}: ${accelerator.embodiedSameAs ?? "the host"}'s stands in`,
    );
  }

  return {
    kind: "inference",
    hardware: { id: accelerator.id, name: accelerator.name },
    params,
    activeParams,
    outputTokensPerRequest: outputTokens,
    requests,
    batch,
    precision,
    energyPerOutputTokenJ,
    perRequest: { energyWh: perRequestWh, co2eG: perRequestCo2eG },
    // 1,000 requests × Wh = kWh, and 1,000 × g = kg.
    per1000Requests: {
      energyKWh: (perRequestWh * 1000) / 1000,
      co2eKg: (perRequestCo2eG * 1000) / 1000,
    },
    acceleratorEnergyKWh,
    energyKWh,
    pue: grid.pue,
    intensityGPerKWh: grid.intensityGPerKWh,
    region: grid.region?.code ?? null,
    co2eKg,
    deviceHours,
    embodiedCo2eKg: embodied.embodiedCo2eKg,
    totalCo2eKg: co2eKg + embodied.embodiedCo2eKg,
    embodied: embodiedFigures,
    minDevicesForWeights,
    assumptions,
    warnings,
  };
}

function round3(value: number): number {
  return Number(value.toPrecision(3));
}
