/**
 * Software Carbon Intensity (ISO/IEC 21031:2024, Green Software Foundation SCI 1.x):
 *
 *   SCI = ((E × I) + M) per R
 *
 * E: energy of the software in kWh, including the data-centre overhead (PUE) when the
 * boundary includes a data centre; I: location-based grid intensity in gCO2e/kWh (average
 * or marginal, never market-based); M: the share of the hardware's embodied emissions,
 * M = TE × (TiR / EL) × (RR / ToR); R: the count of functional units. See
 * docs/sci-and-lca.md.
 */
import { WattprintError } from "../errors.js";
import { joulesToKWh } from "../units/energy.js";

/** Functional units wattprint reports SCI per. */
export const FUNCTIONAL_UNITS = ["request", "token", "sample", "epoch"] as const;
export type FunctionalUnit = (typeof FUNCTIONAL_UNITS)[number];

/** Seconds in one year of 365 days (the SCI example amortises over 4 × 365 × 24 h). */
export const S_PER_YEAR = 365 * 24 * 3600;

/**
 * Expected lifespan used when none is given, years: 4, the SCI specification's own
 * example, and the server lifetime Cloud Carbon Footprint assumes.
 */
export const DEFAULT_HARDWARE_LIFETIME_YEARS = 4;

/** The hardware whose embodied emissions a workload takes a share of. */
export interface EmbodiedHardware {
  /** TE: total embodied emissions of the hardware (manufacture to disposal), kgCO2e. */
  totalEmbodiedKg: number;
  /** EL: expected lifespan, years; default {@link DEFAULT_HARDWARE_LIFETIME_YEARS}. */
  lifetimeYears?: number;
  /**
   * RR / ToR: share of the hardware's resources reserved for the workload, 0 < share ≤ 1;
   * default 1 (the whole device reserved).
   */
  resourceShare?: number;
  /** Where TE comes from ("user", "Dell R740 LCA 2019"). */
  source: string;
}

/** M with its factors, as the specification asks to disclose them. */
export interface EmbodiedShare {
  /** M, grams CO2e. */
  embodiedCo2eG: number;
  /** TE, grams CO2e. */
  totalEmbodiedG: number;
  /** TiR, seconds. */
  timeReservedS: number;
  /** EL, seconds. */
  expectedLifespanS: number;
  /** TiR / EL. */
  timeShare: number;
  /** RR / ToR. */
  resourceShare: number;
  source: string;
}

/**
 * M = TE × (TiR / EL) × (RR / ToR), grams CO2e, for hardware reserved `timeReservedS`
 * seconds. A reservation longer than the lifespan takes the whole TE (time share capped at
 * 1): hardware cannot be manufactured less than once.
 * @throws WattprintError `BAD_INPUT` for a negative TE or time, a lifespan ≤ 0 or a resource
 *   share outside (0, 1].
 */
export function embodiedShare(hardware: EmbodiedHardware, timeReservedS: number): EmbodiedShare {
  const lifetimeYears = hardware.lifetimeYears ?? DEFAULT_HARDWARE_LIFETIME_YEARS;
  const resourceShare = hardware.resourceShare ?? 1;
  requireFinite(hardware.totalEmbodiedKg, "embodied emissions (kgCO2e)", { min: 0 });
  requireFinite(timeReservedS, "reserved time (s)", { min: 0 });
  requireFinite(lifetimeYears, "hardware lifetime (years)", { min: 0, exclusive: true });
  requireFinite(resourceShare, "resource share", { min: 0, exclusive: true, max: 1 });
  const expectedLifespanS = lifetimeYears * S_PER_YEAR;
  const timeShare = Math.min(1, timeReservedS / expectedLifespanS);
  const totalEmbodiedG = hardware.totalEmbodiedKg * 1000;
  return {
    embodiedCo2eG: totalEmbodiedG * timeShare * resourceShare,
    totalEmbodiedG,
    timeReservedS,
    expectedLifespanS,
    timeShare,
    resourceShare,
    source: hardware.source,
  };
}

/** What {@link computeSci} takes: E, I and PUE, and O when it is already known. */
export interface SciInput {
  /** E before PUE: energy of the software's IT equipment, joules; null when unknown. */
  energyJ: number | null;
  /** Location-based grid intensity, gCO2e/kWh; null when unknown. */
  intensityGPerKWh: number | null;
  /** Data-centre PUE applied to E (1 = no overhead counted); null when unknown. */
  pue: number | null;
  /**
   * O in grams CO2e when it is already known: a run's CO2e (E × PUE × I summed interval by
   * interval, which a time-resolved intensity makes more exact than one E × I), or an
   * estimate that gives only its total. Used instead of E × PUE × I when given; E, I and
   * PUE are still echoed.
   */
  operationalCo2eG?: number | null;
  /** How the given O was obtained, echoed in the result. */
  operationalSource?: string;
  /** M, from {@link embodiedShare} or a precomputed figure; null when unknown. */
  embodied: { embodiedCo2eG: number; source: string } | null;
  /** Why M is unknown, when `embodied` is null. */
  embodiedUnknownReason?: string;
  functionalUnit: FunctionalUnit;
  /** R: how many functional units the footprint served (> 0). */
  functionalUnits: number;
}

/** An SCI score with everything it was computed from. */
export interface SciResult {
  /** (O + M) / R, grams CO2e per functional unit; null when O or M is unknown. */
  sciGPerUnit: number | null;
  /** O / R, grams CO2e per unit; null when O is unknown. */
  operationalGPerUnit: number | null;
  /** M / R, grams CO2e per unit; null when M is unknown. */
  embodiedGPerUnit: number | null;
  /** E including PUE, kWh; null when not formed from energy. */
  energyKWh: number | null;
  intensityGPerKWh: number | null;
  pue: number | null;
  /** O, grams CO2e. */
  operationalCo2eG: number | null;
  /** M, grams CO2e. */
  embodiedCo2eG: number | null;
  functionalUnit: FunctionalUnit;
  functionalUnits: number;
  /** How O was obtained: "E × PUE × I" here, "given" (see `operationalSource`), or "unknown". */
  operationalMethod: "E × PUE × I" | "given" | "unknown";
  /** Where a given O comes from; null when O was computed here or is unknown. */
  operationalSource: string | null;
  /** Why the score is null, or what it leaves out. */
  missing: string[];
}

/**
 * SCI = (O + M) / R with O = E × PUE × I (location-based I), or the O given. The score is
 * null, never a partial figure, when O or M is unknown; `operationalGPerUnit` still shows
 * O / R then.
 * @throws WattprintError `BAD_INPUT` for R ≤ 0 or a negative or non-finite input.
 */
export function computeSci(input: SciInput): SciResult {
  requireFinite(input.functionalUnits, `number of ${input.functionalUnit}s`, {
    min: 0,
    exclusive: true,
  });
  if (!(FUNCTIONAL_UNITS as readonly string[]).includes(input.functionalUnit)) {
    throw new WattprintError("BAD_INPUT", `unknown functional unit "${input.functionalUnit}"`, {
      hint: `use one of ${FUNCTIONAL_UNITS.join(", ")}`,
    });
  }
  const missing: string[] = [];
  let energyKWh: number | null = null;
  let operationalCo2eG: number | null = null;
  let operationalMethod: SciResult["operationalMethod"] = "unknown";
  const complete = input.energyJ !== null && input.intensityGPerKWh !== null && input.pue !== null;
  if (complete) {
    requireFinite(input.energyJ as number, "energy (J)", { min: 0 });
    requireFinite(input.intensityGPerKWh as number, "carbon intensity (gCO2e/kWh)", { min: 0 });
    requireFinite(input.pue as number, "PUE", { min: 1 });
    energyKWh = joulesToKWh(input.energyJ as number) * (input.pue as number);
  }
  if (input.operationalCo2eG !== undefined && input.operationalCo2eG !== null) {
    requireFinite(input.operationalCo2eG, "operational emissions (g)", { min: 0 });
    operationalCo2eG = input.operationalCo2eG;
    operationalMethod = "given";
  } else if (complete && energyKWh !== null) {
    operationalCo2eG = energyKWh * (input.intensityGPerKWh as number);
    operationalMethod = "E × PUE × I";
  } else {
    const absent = [
      input.energyJ === null ? "E (energy)" : null,
      input.intensityGPerKWh === null ? "I (carbon intensity)" : null,
      input.pue === null ? "PUE" : null,
    ].filter((item): item is string => item !== null);
    missing.push(`O unknown: ${absent.join(", ")} missing`);
  }
  const embodiedCo2eG = input.embodied?.embodiedCo2eG ?? null;
  if (embodiedCo2eG !== null) requireFinite(embodiedCo2eG, "embodied emissions (g)", { min: 0 });
  else missing.push(`M unknown: ${input.embodiedUnknownReason ?? "no embodied emissions given"}`);
  const units = input.functionalUnits;
  return {
    sciGPerUnit:
      operationalCo2eG !== null && embodiedCo2eG !== null
        ? (operationalCo2eG + embodiedCo2eG) / units
        : null,
    operationalGPerUnit: operationalCo2eG === null ? null : operationalCo2eG / units,
    embodiedGPerUnit: embodiedCo2eG === null ? null : embodiedCo2eG / units,
    energyKWh,
    intensityGPerKWh: complete ? input.intensityGPerKWh : null,
    pue: complete ? input.pue : null,
    operationalCo2eG,
    embodiedCo2eG,
    functionalUnit: input.functionalUnit,
    functionalUnits: units,
    operationalMethod,
    operationalSource: operationalMethod === "given" ? (input.operationalSource ?? "given") : null,
    missing,
  };
}

/** Parses a functional unit name; throws `USAGE` listing the accepted ones. */
export function parseFunctionalUnit(text: string): FunctionalUnit {
  const unit = FUNCTIONAL_UNITS.find((candidate) => candidate === text.trim().toLowerCase());
  if (unit === undefined) {
    throw new WattprintError("USAGE", `unknown functional unit "${text}"`, {
      hint: `use one of ${FUNCTIONAL_UNITS.join(", ")}`,
    });
  }
  return unit;
}

function requireFinite(
  value: number,
  what: string,
  bounds: { min?: number; max?: number; exclusive?: boolean },
): void {
  const { min, max, exclusive = false } = bounds;
  const tooLow = min !== undefined && (exclusive ? value <= min : value < min);
  const tooHigh = max !== undefined && value > max;
  if (!Number.isFinite(value) || tooLow || tooHigh) {
    const range =
      max !== undefined
        ? `between ${min ?? "-∞"} (${exclusive ? "excluded" : "included"}) and ${max}`
        : `${exclusive ? "greater than" : "at least"} ${min}`;
    throw new WattprintError("BAD_INPUT", `invalid ${what}: ${value}`, {
      hint: `give a number ${range}`,
    });
  }
}
