/**
 * Lifecycle assessment of a model: training (measured or estimated) plus inference over
 * the deployment plus the embodied emissions of the hardware, giving the lifecycle total,
 * the footprint per request and the day on which cumulative inference emissions overtake
 * training. Pure arithmetic; callers resolve regions and read runs. See docs/sci-and-lca.md.
 */
import { WattprintError } from "../errors.js";
import { joulesToKWh } from "../units/energy.js";
import { embodiedShare, type EmbodiedHardware, type EmbodiedShare } from "./sci.js";

/** Seconds in a day. */
export const S_PER_DAY = 86_400;

/** The training side: what the model cost to make. */
export interface LcaTraining {
  /** What it is: "run 1f2e3d4c (python train.py)", "estimate estimate.json". */
  label: string;
  /** Operational emissions of training, grams CO2e (energy × PUE × intensity). */
  operationalCo2eG: number;
  /** Embodied share of the training hardware, grams CO2e; null when unknown. */
  embodiedCo2eG: number | null;
  /** Why `embodiedCo2eG` is null, or where it comes from. */
  embodiedNote: string;
}

/** The deployment: inference traffic over a lifetime. */
export interface LcaInference {
  requestsPerDay: number;
  deploymentDays: number;
  /** IT energy of one request, joules (before PUE). */
  energyPerRequestJ: number;
  /** Where the energy per request comes from ("user: 0.3 Wh", "run 1f2e… / 1000 requests"). */
  energyPerRequestSource: string;
  /** Location-based intensity of the serving region, gCO2e/kWh. */
  intensityGPerKWh: number;
  intensitySource: string;
  /** PUE of the serving data centre (≥ 1). */
  pue: number;
  pueSource: string;
  /** Serving hardware, amortised over the deployment; null when unknown. */
  hardware: EmbodiedHardware | null;
  /**
   * Embodied emissions per request, grams CO2e, when they come from an inference estimate
   * (its embodied share over the requests it covers) rather than from `hardware`; the two
   * are exclusive.
   */
  embodiedPerRequest?: { co2eG: number; source: string };
  /** ISO date the deployment starts (for the calendar day of the crossover); optional. */
  startDate?: string;
}

/** The result of {@link assessLifecycle}; all masses in grams CO2e. */
export interface LcaResult {
  training: {
    label: string;
    operationalCo2eG: number;
    embodiedCo2eG: number | null;
    embodiedNote: string;
    /** Operational + embodied where known. */
    totalCo2eG: number;
  };
  inference: {
    requests: number;
    requestsPerDay: number;
    deploymentDays: number;
    energyJ: number;
    energyPerRequestJ: number;
    energyPerRequestSource: string;
    intensityGPerKWh: number;
    intensitySource: string;
    pue: number;
    pueSource: string;
    operationalCo2eG: number;
    /** The amortisation of `hardware`, when given. */
    embodied: EmbodiedShare | null;
    embodiedCo2eG: number | null;
    /** Where the embodied figure comes from; null when it is unknown. */
    embodiedSource: string | null;
    /** Operational + embodied where known, over the whole deployment. */
    totalCo2eG: number;
    perDayCo2eG: number;
    /** Inference only (no training share), per request. */
    perRequestCo2eG: number;
  };
  lifecycle: {
    /** Training + inference, embodied included where known. */
    totalCo2eG: number;
    /** Lifecycle total / requests served: training amortised over every request. */
    perRequestCo2eG: number;
    /** Training's share of the total, 0..1; null when the total is 0. */
    trainingShare: number | null;
    /** False when an embodied part is unknown: the total is then a lower bound. */
    complete: boolean;
    /** What the total leaves out. */
    excluded: string[];
  };
  crossover: {
    /** Days after the start at which cumulative inference equals training; null when never. */
    afterDays: number | null;
    /** The 1-based deployment day during which inference overtakes training; null when never. */
    day: number | null;
    /** Calendar date of `day` (YYYY-MM-DD) when a start date was given. */
    date: string | null;
    withinDeployment: boolean;
    /** Why there is no crossover, when `afterDays` is null. */
    reason: string | null;
  };
}

/**
 * Lifecycle emissions of a model: training total, plus per day of deployment
 * `requestsPerDay × energyPerRequest × PUE × I` and the serving hardware's embodied share
 * `TE × (deploymentDays / EL) × RS` spread evenly over the days.
 * @throws WattprintError `BAD_INPUT` for negative, zero or non-finite inputs where they make
 *   no sense (requests per day and deployment days must be > 0).
 */
export function assessLifecycle(training: LcaTraining, inference: LcaInference): LcaResult {
  positive(inference.requestsPerDay, "requests per day");
  positive(inference.deploymentDays, "deployment days");
  nonNegative(inference.energyPerRequestJ, "energy per request (J)");
  nonNegative(inference.intensityGPerKWh, "carbon intensity (gCO2e/kWh)");
  nonNegative(training.operationalCo2eG, "training emissions (g)");
  if (training.embodiedCo2eG !== null)
    nonNegative(training.embodiedCo2eG, "training embodied emissions (g)");
  if (!Number.isFinite(inference.pue) || inference.pue < 1) {
    throw new WattprintError("BAD_INPUT", `invalid PUE ${inference.pue}`, {
      hint: "PUE is at least 1 (facility energy / IT energy)",
    });
  }
  const startMs = parseStartDate(inference.startDate);

  const trainingTotal = training.operationalCo2eG + (training.embodiedCo2eG ?? 0);
  const requests = inference.requestsPerDay * inference.deploymentDays;
  const energyJ = requests * inference.energyPerRequestJ;
  const operationalCo2eG = joulesToKWh(energyJ) * inference.pue * inference.intensityGPerKWh;
  if (inference.hardware !== null && inference.embodiedPerRequest !== undefined) {
    throw new WattprintError(
      "BAD_INPUT",
      "serving hardware and an embodied figure per request were both given",
      { hint: "give one source for the serving hardware's embodied emissions" },
    );
  }
  const embodied =
    inference.hardware === null
      ? null
      : embodiedShare(inference.hardware, inference.deploymentDays * S_PER_DAY);
  let inferenceEmbodiedG: number | null = embodied?.embodiedCo2eG ?? null;
  let embodiedSource: string | null = embodied?.source ?? null;
  if (inference.embodiedPerRequest !== undefined) {
    nonNegative(inference.embodiedPerRequest.co2eG, "embodied emissions per request (g)");
    inferenceEmbodiedG =
      inference.embodiedPerRequest.co2eG * inference.requestsPerDay * inference.deploymentDays;
    embodiedSource = inference.embodiedPerRequest.source;
  }
  const inferenceTotal = operationalCo2eG + (inferenceEmbodiedG ?? 0);
  const perDayCo2eG = inferenceTotal / inference.deploymentDays;
  const total = trainingTotal + inferenceTotal;

  const excluded: string[] = [];
  if (training.embodiedCo2eG === null)
    excluded.push(`embodied emissions of the training hardware (${training.embodiedNote})`);
  if (inferenceEmbodiedG === null)
    excluded.push("embodied emissions of the serving hardware (not given)");

  let afterDays: number | null = null;
  let reason: string | null = null;
  if (perDayCo2eG > 0) afterDays = trainingTotal / perDayCo2eG;
  else reason = "inference emits nothing per day with these inputs";
  const day = afterDays === null ? null : Math.floor(afterDays) + 1;
  const date =
    day === null || startMs === null
      ? null
      : new Date(startMs + (day - 1) * S_PER_DAY * 1000).toISOString().slice(0, 10);

  return {
    training: {
      label: training.label,
      operationalCo2eG: training.operationalCo2eG,
      embodiedCo2eG: training.embodiedCo2eG,
      embodiedNote: training.embodiedNote,
      totalCo2eG: trainingTotal,
    },
    inference: {
      requests,
      requestsPerDay: inference.requestsPerDay,
      deploymentDays: inference.deploymentDays,
      energyJ,
      energyPerRequestJ: inference.energyPerRequestJ,
      energyPerRequestSource: inference.energyPerRequestSource,
      intensityGPerKWh: inference.intensityGPerKWh,
      intensitySource: inference.intensitySource,
      pue: inference.pue,
      pueSource: inference.pueSource,
      operationalCo2eG,
      embodied,
      embodiedCo2eG: inferenceEmbodiedG,
      embodiedSource,
      totalCo2eG: inferenceTotal,
      perDayCo2eG,
      perRequestCo2eG: inferenceTotal / requests,
    },
    lifecycle: {
      totalCo2eG: total,
      perRequestCo2eG: total / requests,
      trainingShare: total > 0 ? trainingTotal / total : null,
      complete: excluded.length === 0,
      excluded,
    },
    crossover: {
      afterDays,
      day,
      date,
      withinDeployment: afterDays !== null && afterDays < inference.deploymentDays,
      reason,
    },
  };
}

function parseStartDate(text: string | undefined): number | null {
  if (text === undefined) return null;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new WattprintError("BAD_INPUT", `invalid deployment start date "${text}"`, {
      hint: "give a date such as 2025-06-01",
    });
  }
  return ms;
}

function positive(value: number, what: string): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new WattprintError("BAD_INPUT", `invalid ${what}: ${value}`, {
      hint: "give a number greater than 0",
    });
  }
}

function nonNegative(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new WattprintError("BAD_INPUT", `invalid ${what}: ${value}`, {
      hint: "give a number of at least 0",
    });
  }
}
