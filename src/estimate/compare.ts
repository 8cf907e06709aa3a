/**
 * What-if tables: the same job on other hardware, in other regions, or trained from scratch
 * instead of fine-tuned, side by side with the base estimate so the greener choice is
 * visible. Each row is a full estimate by training.ts or inference.ts; a row whose figures
 * cannot be computed (hardware without a power figure) says why instead of showing zeros.
 */
import { WattprintError } from "../errors.js";
import { devicePower, resolveAccelerator } from "../hardware/accelerators.js";
import { requirePositive } from "./assumptions.js";
import {
  defaultPerTokenModel,
  estimateInference,
  hardwareScaling,
  type InferenceEstimate,
  type InferenceInput,
} from "./inference.js";
import { estimateTraining, type TrainingEstimate, type TrainingInput } from "./training.js";

/** One row of a what-if table. Figures are null exactly when `unavailable` says why. */
export interface ComparisonRow {
  /** What differs from the base: "base", "hardware H100-SXM", "region FR", "from scratch". */
  label: string;
  /** Hardware id. */
  hardware: string;
  /** Region code, or null when an intensity was given. */
  region: string | null;
  deviceHours: number | null;
  wallClockHours: number | null;
  energyKWh: number | null;
  pue: number | null;
  intensityGPerKWh: number | null;
  co2eKg: number | null;
  embodiedCo2eKg: number | null;
  totalCo2eKg: number | null;
  /** totalCo2eKg / the base row's totalCo2eKg. */
  ratioToBase: number | null;
  /** True for the row with the lowest totalCo2eKg. */
  lowest: boolean;
  unavailable: string | null;
}

/** The variants to compare with the base. */
export interface ComparisonOptions {
  /** Other hardware names or aliases. */
  hardware?: string[];
  /** Other regions (the base's PUE is kept when the user gave one, else each region's). */
  regions?: string[];
  /** Training only: pretraining tokens of the base model, for a "from scratch" row. */
  pretrainTokens?: number;
}

/**
 * The base training estimate and its variants.
 * - other hardware: from params/tokens, the same FLOPs and MFU; from device-hours, the
 *   hours scaled by the ratio of peak FLOP/s (the same MFU on both).
 * - `pretrainTokens`: needs `method` "full" or "peft" and params/tokens; the row trains the
 *   model from scratch on `pretrainTokens` (6·N·D).
 * @throws WattprintError `USAGE` for unknown hardware or regions, or a "from scratch" row
 *   without a fine-tuning base.
 */
export function compareTraining(base: TrainingInput, options: ComparisonOptions): ComparisonRow[] {
  const baseEstimate = estimateTraining(base);
  const variants: Array<{ label: string; build: () => TrainingInput; hardware: string }> = [];
  for (const name of options.hardware ?? []) {
    const accelerator = resolveAccelerator(name);
    variants.push({
      label: `hardware ${accelerator.id}`,
      hardware: accelerator.id,
      build: () => {
        // The user's power figure is for the base hardware, not this one.
        if (base.deviceHours === undefined) {
          return { ...base, hardware: accelerator.id, powerW: undefined };
        }
        const baseAccelerator = resolveAccelerator(base.hardware);
        return {
          ...base,
          hardware: accelerator.id,
          powerW: undefined,
          deviceHours:
            (base.deviceHours * baseAccelerator.peakDenseTflops) / accelerator.peakDenseTflops,
        };
      },
    });
  }
  for (const region of options.regions ?? []) {
    variants.push({
      label: `region ${region}`,
      hardware: baseEstimate.hardware.id,
      build: () => ({ ...base, region, intensityGPerKWh: undefined }),
    });
  }
  if (options.pretrainTokens !== undefined) {
    requirePositive(
      options.pretrainTokens,
      "--pretrain-tokens",
      "give the base model's pretraining tokens, for example 2e12",
    );
    if (base.method === undefined || base.method === "pretrain" || base.params === undefined) {
      throw new WattprintError(
        "USAGE",
        "--pretrain-tokens compares a fine-tuning run with training from scratch",
        {
          hint: "use it with --fine-tune full|peft, --params and --tokens",
        },
      );
    }
    variants.push({
      label: "from scratch",
      hardware: baseEstimate.hardware.id,
      build: () => ({ ...base, method: "pretrain", tokens: options.pretrainTokens }),
    });
  }
  const rows = [trainingRow("base", baseEstimate)];
  for (const variant of variants) {
    const input = variant.build();
    const missing = missingTrainingPower(input);
    rows.push(
      missing === null
        ? trainingRow(variant.label, estimateTraining(input))
        : unavailableRow(variant.label, variant.hardware, missing),
    );
  }
  return finishRows(rows);
}

/**
 * The base inference estimate and its variants on other hardware and in other regions.
 * @throws WattprintError `USAGE` for unknown hardware or regions.
 */
export function compareInference(
  base: InferenceInput,
  options: ComparisonOptions,
): ComparisonRow[] {
  if (options.pretrainTokens !== undefined) {
    throw new WattprintError("USAGE", "--pretrain-tokens applies to training estimates only", {
      hint: "use it with wattprint estimate training --fine-tune",
    });
  }
  const model = base.model ?? defaultPerTokenModel();
  const rows = [inferenceRow("base", estimateInference({ ...base, model }))];
  for (const name of options.hardware ?? []) {
    const accelerator = resolveAccelerator(name);
    const label = `hardware ${accelerator.id}`;
    const scalable = hardwareScaling(model, accelerator) !== null;
    rows.push(
      scalable
        ? inferenceRow(
            label,
            estimateInference({ ...base, model, hardware: accelerator.id, powerW: undefined }),
          )
        : unavailableRow(
            label,
            accelerator.id,
            `no power figure for ${accelerator.id}: ${accelerator.tdpSource}`,
          ),
    );
  }
  for (const region of options.regions ?? []) {
    rows.push(
      inferenceRow(
        `region ${region}`,
        estimateInference({ ...base, model, region, intensityGPerKWh: undefined }),
      ),
    );
  }
  return finishRows(rows);
}

function missingTrainingPower(input: TrainingInput): string | null {
  if (input.powerW !== undefined) return null;
  const accelerator = resolveAccelerator(input.hardware);
  const power = devicePower(accelerator);
  return power.powerW === null ? `no power figure for ${accelerator.id}: ${power.source}` : null;
}

function trainingRow(label: string, estimate: TrainingEstimate): ComparisonRow {
  return {
    label,
    hardware: estimate.hardware.id,
    region: estimate.region,
    deviceHours: estimate.deviceHours,
    wallClockHours: estimate.wallClockHours,
    energyKWh: estimate.energyKWh,
    pue: estimate.pue,
    intensityGPerKWh: estimate.intensityGPerKWh,
    co2eKg: estimate.co2eKg,
    embodiedCo2eKg: estimate.embodiedCo2eKg,
    totalCo2eKg: estimate.totalCo2eKg,
    ratioToBase: null,
    lowest: false,
    unavailable: null,
  };
}

function inferenceRow(label: string, estimate: InferenceEstimate): ComparisonRow {
  return {
    label,
    hardware: estimate.hardware.id,
    region: estimate.region,
    deviceHours: estimate.deviceHours,
    wallClockHours: null,
    energyKWh: estimate.energyKWh,
    pue: estimate.pue,
    intensityGPerKWh: estimate.intensityGPerKWh,
    co2eKg: estimate.co2eKg,
    embodiedCo2eKg: estimate.embodiedCo2eKg,
    totalCo2eKg: estimate.totalCo2eKg,
    ratioToBase: null,
    lowest: false,
    unavailable: null,
  };
}

function unavailableRow(label: string, hardware: string, reason: string): ComparisonRow {
  return {
    label,
    hardware,
    region: null,
    deviceHours: null,
    wallClockHours: null,
    energyKWh: null,
    pue: null,
    intensityGPerKWh: null,
    co2eKg: null,
    embodiedCo2eKg: null,
    totalCo2eKg: null,
    ratioToBase: null,
    lowest: false,
    unavailable: reason,
  };
}

function finishRows(rows: ComparisonRow[]): ComparisonRow[] {
  const baseTotal = rows[0]?.totalCo2eKg ?? null;
  let lowest: ComparisonRow | null = null;
  for (const row of rows) {
    if (row.totalCo2eKg === null) continue;
    row.ratioToBase = baseTotal !== null && baseTotal > 0 ? row.totalCo2eKg / baseTotal : null;
    if (lowest === null || row.totalCo2eKg < (lowest.totalCo2eKg ?? Infinity)) lowest = row;
  }
  if (lowest !== null) lowest.lowest = true;
  return rows;
}
