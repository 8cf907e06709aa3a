/**
 * Training footprints before running: from device-hours, or from model and data size
 * (FLOPs = k·N·D, k = 6 for training and full fine-tuning, 4 for parameter-efficient
 * fine-tuning), then energy = device-hours × power per device × PUE, operational CO2e =
 * energy × grid intensity, and embodied CO2e apart. Formulas, constants and sources:
 * docs/estimate.md.
 */
import { WattprintError } from "../errors.js";
import { devicePower, resolveAccelerator, type Accelerator } from "../hardware/accelerators.js";
import {
  assumption,
  describeNumber,
  requireParams,
  requirePositive,
  resolveGridContext,
  USER_SOURCE,
  type Assumption,
  type GridOptions,
} from "./assumptions.js";
import { estimateEmbodied, type EmbodiedEstimate } from "./embodied.js";

/** How the model is trained: from scratch, full fine-tuning, or parameter-efficient (LoRA, adapters). */
export type TrainingMethod = "pretrain" | "full" | "peft";

/**
 * Training FLOPs per active parameter per token. Forward 2, backward 4 (Kaplan et al. 2020,
 * Scaling Laws for Neural Language Models, sec. 2.1). Parameter-efficient fine-tuning skips
 * the weight gradients of frozen weights (about half the backward pass), hence 4; Hu et al.
 * 2021 (LoRA) measured a smaller gain (25% faster on GPT-3 175B), so 4 is a lower bound.
 */
export const FLOPS_PER_PARAM_PER_TOKEN: Readonly<Record<TrainingMethod, number>> = Object.freeze({
  pretrain: 6,
  full: 6,
  peft: 4,
});

/**
 * Default model FLOPs utilisation (achieved / peak dense FLOP/s). Large dense runs report
 * 0.38–0.46: PaLM 46.2% on TPU v4 (Chowdhery et al. 2022), Llama 3 405B 38–43% on H100
 * (Llama Team 2024). Not fitted to the validation set.
 */
export const DEFAULT_MFU = 0.4;

/** Where {@link DEFAULT_MFU} comes from. */
export const DEFAULT_MFU_SOURCE =
  "default: 0.4, between PaLM's 46.2% MFU on TPU v4 (Chowdhery et al. 2022) and Llama 3 405B's 38-43% on H100 (Llama Team 2024)";

/** What to estimate. Either `deviceHours`, or `params` and `tokens`. */
export interface TrainingInput extends GridOptions {
  /** Hardware name or alias from data/hardware/accelerators.csv ("A100-80GB", "tpu-v4"). */
  hardware: string;
  /** Device-hours (GPU-hours or TPU chip-hours) of the job. */
  deviceHours?: number;
  /** Total parameters of the model. */
  params?: number;
  /** Training tokens. */
  tokens?: number;
  /** Parameters active per token (mixture-of-experts); default `params`. */
  activeParams?: number;
  /** Devices used at once, for wall-clock time. */
  devices?: number;
  /** Model FLOPs utilisation in (0, 1]; default {@link DEFAULT_MFU}. Only with params/tokens. */
  mfu?: number;
  /** Fine-tuning instead of training from scratch; default "pretrain". Only with params/tokens. */
  method?: TrainingMethod;
  /** Average power per device, W; default: measured training average, else TDP. */
  powerW?: number;
  /** Hardware service life for embodied amortisation, years. */
  lifetimeYears?: number;
}

/** A training estimate. Units are in the names; every input is in `assumptions`. */
export interface TrainingEstimate {
  kind: "training";
  hardware: { id: string; name: string };
  method: TrainingMethod;
  /** Training FLOPs; null when estimated from device-hours. */
  flops: number | null;
  deviceHours: number;
  /** Devices used at once; null when not given. */
  devices: number | null;
  /** deviceHours / devices; null without devices. */
  wallClockHours: number | null;
  powerWPerDevice: number;
  /** Energy drawn by the devices, before facility overhead, kWh. */
  itEnergyKWh: number;
  /** Facility energy: itEnergyKWh × pue, kWh. */
  energyKWh: number;
  pue: number;
  intensityGPerKWh: number;
  /** Region code used, or null when the intensity was given. */
  region: string | null;
  /** Operational emissions: energyKWh × intensity, kgCO2e. */
  co2eKg: number;
  /** Amortised manufacturing emissions, kgCO2e (not in co2eKg). */
  embodiedCo2eKg: number;
  /** co2eKg + embodiedCo2eKg. */
  totalCo2eKg: number;
  embodied: Omit<EmbodiedEstimate, "assumptions">;
  assumptions: Assumption[];
  /** What the estimate cannot see, in words. */
  warnings: string[];
}

/** Training FLOPs: `flopsPerParamPerToken × activeParams × tokens`. */
export function trainingFlops(
  activeParams: number,
  tokens: number,
  flopsPerParamPerToken: number = FLOPS_PER_PARAM_PER_TOKEN.pretrain,
): number {
  return flopsPerParamPerToken * activeParams * tokens;
}

/** Device-hours to run `flops` at `mfu` of `peakTflops` (dense TFLOP/s per device). */
export function deviceHoursForFlops(flops: number, peakTflops: number, mfu: number): number {
  return flops / (peakTflops * 1e12 * mfu) / 3600;
}

/**
 * Estimates a training job's energy, operational and embodied CO2e.
 * @throws WattprintError `USAGE` for unknown hardware (with close names), missing,
 *   contradictory, zero or negative inputs, or hardware without a power figure and no
 *   `powerW`; `UNKNOWN_REGION` for an unknown region.
 */
export function estimateTraining(input: TrainingInput): TrainingEstimate {
  const accelerator = resolveAccelerator(input.hardware);
  const sizing = resolveSizing(input, accelerator);
  return finishTraining(input, accelerator, sizing);
}

interface Sizing {
  method: TrainingMethod;
  flops: number | null;
  deviceHours: number;
  assumptions: Assumption[];
  warnings: string[];
}

function resolveSizing(input: TrainingInput, accelerator: Accelerator): Sizing {
  const fromSize =
    input.params !== undefined || input.tokens !== undefined || input.activeParams !== undefined;
  if (input.deviceHours !== undefined) {
    if (fromSize || input.mfu !== undefined || input.method !== undefined) {
      throw new WattprintError(
        "USAGE",
        "--device-hours contradicts --params, --tokens, --active-params, --mfu and --fine-tune",
        {
          hint: "give either the device-hours of the job, or its model and data size (--params and --tokens) to derive them",
        },
      );
    }
    const deviceHours = requirePositive(input.deviceHours, "--device-hours", DEVICE_HOURS_HINT);
    return {
      method: "pretrain",
      flops: null,
      deviceHours,
      assumptions: [assumption("deviceHours", deviceHours, "h", USER_SOURCE)],
      warnings: [],
    };
  }
  if (!fromSize) {
    throw new WattprintError("USAGE", "missing the size of the job", {
      hint: "give --device-hours, or --params and --tokens (for example --params 70e9 --tokens 2e12)",
    });
  }
  if (input.params === undefined) {
    throw new WattprintError("USAGE", "missing --params", {
      hint: "give the model's total parameters, for example --params 70e9",
    });
  }
  if (input.tokens === undefined) {
    throw new WattprintError("USAGE", "missing --tokens", {
      hint: "give the number of training tokens, for example --tokens 2e12",
    });
  }
  const { params, activeParams } = requireParams(input.params, input.activeParams, {
    params: "70e9",
    activeParams: "13e9",
  });
  const tokens = requirePositive(input.tokens, "--tokens", "give a token count such as 2e12");
  const mfu = input.mfu ?? DEFAULT_MFU;
  if (!Number.isFinite(mfu) || mfu <= 0 || mfu > 1) {
    throw new WattprintError("USAGE", `invalid --mfu ${String(mfu)}: must be in (0, 1]`, {
      hint: "model FLOPs utilisation is achieved / peak FLOP/s, typically 0.3-0.5",
    });
  }
  const method = input.method ?? "pretrain";
  const perParamPerToken = FLOPS_PER_PARAM_PER_TOKEN[method];
  const flops = trainingFlops(activeParams, tokens, perParamPerToken);
  const deviceHours = deviceHoursForFlops(flops, accelerator.peakDenseTflops, mfu);
  const assumptions = [
    assumption("params", params, "parameters", USER_SOURCE),
    assumption(
      "activeParams",
      activeParams,
      "parameters",
      input.activeParams === undefined
        ? "default: all parameters active (dense model)"
        : USER_SOURCE,
    ),
    assumption("tokens", tokens, "tokens", USER_SOURCE),
    assumption(
      "flopsPerParamPerToken",
      perParamPerToken,
      "FLOP/(parameter·token)",
      method === "peft"
        ? "parameter-efficient fine-tuning: forward 2 + backward 2 (no weight gradients for frozen weights), after Kaplan et al. 2020"
        : "forward 2 + backward 4, Kaplan et al. 2020 (Scaling Laws for Neural Language Models)",
    ),
    assumption("flops", flops, "FLOP", `${perParamPerToken} × active params × tokens`),
    assumption(
      "peakDenseTflops",
      accelerator.peakDenseTflops,
      `TFLOP/s (${accelerator.peakPrecision})`,
      accelerator.peakSource,
    ),
    assumption("mfu", mfu, "ratio", input.mfu === undefined ? DEFAULT_MFU_SOURCE : USER_SOURCE),
    assumption("deviceHours", deviceHours, "h", "flops / (peak × mfu) / 3600"),
  ];
  const warnings = [
    "device-hours from FLOPs leave out restarts, evaluation and experiments; published runs took 0.7-8x the 6ND estimate at MFU 0.4 (docs/estimate.md)",
  ];
  return { method, flops, deviceHours, assumptions, warnings };
}

const DEVICE_HOURS_HINT = "give the GPU- or TPU-chip-hours of the job, for example 1.72e6";

function finishTraining(
  input: TrainingInput,
  accelerator: Accelerator,
  sizing: Sizing,
): TrainingEstimate {
  const devices =
    input.devices === undefined ? null : requireWholePositive(input.devices, "--devices");
  const power = resolvePower(accelerator, input.powerW);
  const grid = resolveGridContext(input);
  const lifetimeYears =
    input.lifetimeYears === undefined
      ? undefined
      : requirePositive(
          input.lifetimeYears,
          "--lifetime-years",
          "give the hardware's service life in years, for example 4",
        );

  const itEnergyKWh = (sizing.deviceHours * power.powerW) / 1000;
  const energyKWh = itEnergyKWh * grid.pue;
  const co2eKg = (energyKWh * grid.intensityGPerKWh) / 1000;
  const embodied = estimateEmbodied(accelerator, sizing.deviceHours, { lifetimeYears });
  const { assumptions: embodiedAssumptions, ...embodiedFigures } = embodied;

  const assumptions: Assumption[] = [
    assumption("hardware", accelerator.id, "", accelerator.name),
    ...sizing.assumptions,
    ...(devices === null ? [] : [assumption("devices", devices, "devices", USER_SOURCE)]),
    power.assumption,
    ...grid.assumptions,
    ...embodiedAssumptions,
  ];
  const warnings = [...sizing.warnings, ...power.warnings];
  if (embodied.proxy) {
    warnings.push(
      `no published embodied figure for ${accelerator.id}: ${accelerator.embodiedBasis === "same-as" ? `${accelerator.embodiedSameAs ?? "another device"}'s stands in` : "counted in the host server"}`,
    );
  }
  return {
    kind: "training",
    hardware: { id: accelerator.id, name: accelerator.name },
    method: sizing.method,
    flops: sizing.flops,
    deviceHours: sizing.deviceHours,
    devices,
    wallClockHours: devices === null ? null : sizing.deviceHours / devices,
    powerWPerDevice: power.powerW,
    itEnergyKWh,
    energyKWh,
    pue: grid.pue,
    intensityGPerKWh: grid.intensityGPerKWh,
    region: grid.region?.code ?? null,
    co2eKg,
    embodiedCo2eKg: embodied.embodiedCo2eKg,
    totalCo2eKg: co2eKg + embodied.embodiedCo2eKg,
    embodied: embodiedFigures,
    assumptions,
    warnings,
  };
}

/** The power per device an estimate uses, as an assumption. */
export interface ResolvedPower {
  powerW: number;
  assumption: Assumption;
  warnings: string[];
}

/**
 * The user's `powerW`, else the table's measured training average, else its TDP.
 * @throws WattprintError `USAGE` when the table has neither and no `powerW` is given.
 */
export function resolvePower(accelerator: Accelerator, powerW: number | undefined): ResolvedPower {
  if (powerW !== undefined) {
    requirePositive(
      powerW,
      "--power-w",
      "give the average power per device in watts, for example 300",
    );
    return {
      powerW,
      assumption: assumption("powerWPerDevice", powerW, "W", USER_SOURCE),
      warnings: [],
    };
  }
  const power = devicePower(accelerator);
  if (power.powerW === null) {
    throw new WattprintError("USAGE", `no power figure for ${accelerator.id}: ${power.source}`, {
      hint: "give the average power per device with --power-w, for example --power-w 200",
    });
  }
  return {
    powerW: power.powerW,
    assumption: assumption("powerWPerDevice", power.powerW, "W", power.source),
    warnings:
      power.basis === "tdp"
        ? [
            `average power = TDP (${power.powerW} W): no measured training average is published for ${accelerator.id}; measured runs often draw less (Dodge et al. 2022: 281 W per A100 of 400 W TDP)`,
          ]
        : [],
  };
}

/** @throws WattprintError `USAGE` unless `value` is a whole number ≥ 1. */
export function requireWholePositive(value: number, flag: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new WattprintError(
      "USAGE",
      `invalid ${flag} ${describeNumber(value)}: must be a whole number ≥ 1`,
      {
        hint: `give ${flag} as a count, for example ${flag} 8`,
      },
    );
  }
  return value;
}
