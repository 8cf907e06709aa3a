/**
 * What an estimate assumed, figure by figure: the {@link Assumption} record every estimator
 * returns, and the resolution of the grid inputs (region, intensity, PUE) that all
 * estimators share. Method: docs/estimate.md.
 */
import { WattprintError } from "../errors.js";
import { resolveRegion, worldAverageRegion, type ResolvedRegion } from "../grid/regions.js";

/**
 * One input an estimate used: its name, value, unit and where the value comes from.
 * `value` is null when the figure is unknown; `source` then says why.
 */
export interface Assumption {
  /** camelCase name with its unit where it has one: "powerWPerDevice", "pue", "mfu". */
  name: string;
  value: number | string | null;
  /** "W", "gCO2e/kWh", "ratio", "FLOP", "h", "" for a plain label. */
  unit: string;
  /** Where the value comes from: a paper, a data sheet, "given by the user", "default: …". */
  source: string;
}

/** The `source` of a value the user gave. */
export const USER_SOURCE = "given by the user";

/** Builds an {@link Assumption}; a non-finite number becomes null, never NaN. */
export function assumption(
  name: string,
  value: number | string | null,
  unit: string,
  source: string,
): Assumption {
  const safe = typeof value === "number" && !Number.isFinite(value) ? null : value;
  return { name, value: safe, unit, source };
}

/**
 * Default PUE of an estimate when neither the user nor a cloud region gives one: the
 * industry-average annual PUE of the Uptime Institute Global Data Center Survey 2024.
 * Hyperscale facilities run near 1.1; give `pue` or a cloud region for those.
 */
export const DEFAULT_ESTIMATE_PUE = 1.56;

/** Where {@link DEFAULT_ESTIMATE_PUE} comes from. */
export const DEFAULT_ESTIMATE_PUE_SOURCE =
  "default: industry-average annual PUE, Uptime Institute Global Data Center Survey 2024";

/** Largest PUE accepted: anything above is a typo (facilities report 1.0–2.5). */
export const MAX_PUE = 3;

/** Largest grid intensity accepted, gCO2e/kWh (the dirtiest grids are near 1,000). */
export const MAX_INTENSITY_G_PER_KWH = 2000;

/** What the user said about where the energy is used. */
export interface GridOptions {
  /** A region `resolveRegion` accepts: "FR", "US-CA", "aws:us-east-1". */
  region?: string;
  /** Grid intensity, gCO2e/kWh; contradicts `region`. */
  intensityGPerKWh?: number;
  /** Data-centre PUE (≥ 1); overrides a cloud region's. */
  pue?: number;
}

/** The resolved grid figures of one estimate, with their assumptions. */
export interface GridContext {
  intensityGPerKWh: number;
  pue: number;
  /** The region used, or null when the user gave an intensity. */
  region: ResolvedRegion | null;
  assumptions: Assumption[];
}

/**
 * Resolves region, intensity and PUE once for an estimate.
 * - `region` and `intensityGPerKWh` together are contradictory: `USAGE`.
 * - neither: the world average, recorded as a fallback.
 * - PUE: the user's, else the cloud region's published PUE, else {@link DEFAULT_ESTIMATE_PUE}.
 * @throws WattprintError `USAGE` for contradictory or out-of-range values,
 *   `UNKNOWN_REGION` (with suggestions) for a region that is not in the tables.
 */
export function resolveGridContext(options: GridOptions): GridContext {
  const { region: regionInput, intensityGPerKWh, pue } = options;
  if (regionInput !== undefined && intensityGPerKWh !== undefined) {
    throw new WattprintError("USAGE", "--region and --intensity contradict each other", {
      hint: "give either a region (its grid intensity is looked up) or an intensity in gCO2e/kWh, not both",
    });
  }
  if (pue !== undefined) checkPue(pue);
  if (intensityGPerKWh !== undefined) checkIntensity(intensityGPerKWh);

  const assumptions: Assumption[] = [];
  let region: ResolvedRegion | null = null;
  let intensity: number;
  if (intensityGPerKWh !== undefined) {
    intensity = intensityGPerKWh;
    assumptions.push(assumption("intensityGPerKWh", intensity, "gCO2e/kWh", USER_SOURCE));
  } else {
    region = regionInput === undefined ? worldAverageRegion() : resolveRegion(regionInput);
    intensity = region.intensityGPerKWh;
    const why =
      regionInput === undefined
        ? "fallback: no region or intensity given, world average"
        : region.fallback
          ? `fallback: ${region.fallbackReason ?? "a coarser figure stands in"}`
          : `${region.code} (${region.name}), zone ${region.zone}`;
    assumptions.push(
      assumption("intensityGPerKWh", intensity, "gCO2e/kWh", `${region.source}; ${why}`),
    );
  }

  let resolvedPue: number;
  if (pue !== undefined) {
    resolvedPue = pue;
    const overrides =
      region?.pue !== undefined
        ? ` (overrides ${region.pueSource ?? "the region's"} ${region.pue})`
        : "";
    assumptions.push(assumption("pue", pue, "ratio", `${USER_SOURCE}${overrides}`));
  } else if (region?.pue !== undefined) {
    resolvedPue = region.pue;
    assumptions.push(
      assumption("pue", region.pue, "ratio", region.pueSource ?? `${region.code} published PUE`),
    );
  } else {
    resolvedPue = DEFAULT_ESTIMATE_PUE;
    assumptions.push(assumption("pue", resolvedPue, "ratio", DEFAULT_ESTIMATE_PUE_SOURCE));
  }
  return { intensityGPerKWh: intensity, pue: resolvedPue, region, assumptions };
}

/** @throws WattprintError `USAGE` unless 1 ≤ pue ≤ {@link MAX_PUE}. */
export function checkPue(pue: number): void {
  if (!Number.isFinite(pue) || pue < 1 || pue > MAX_PUE) {
    throw new WattprintError(
      "USAGE",
      `invalid --pue ${String(pue)}: must be between 1 and ${MAX_PUE}`,
      {
        hint: "PUE is facility energy / IT energy, for example 1.1 for a hyperscale data centre",
      },
    );
  }
}

/** @throws WattprintError `USAGE` unless 0 ≤ intensity ≤ {@link MAX_INTENSITY_G_PER_KWH}. */
export function checkIntensity(intensityGPerKWh: number): void {
  if (
    !Number.isFinite(intensityGPerKWh) ||
    intensityGPerKWh < 0 ||
    intensityGPerKWh > MAX_INTENSITY_G_PER_KWH
  ) {
    throw new WattprintError(
      "USAGE",
      `invalid --intensity ${String(intensityGPerKWh)}: must be between 0 and ${MAX_INTENSITY_G_PER_KWH} gCO2e/kWh`,
      { hint: "give the grid's carbon intensity in gCO2e/kWh, for example 385 for the US average" },
    );
  }
}

/** A number as a user would type it: 7e9 rather than 7000000000. */
export function describeNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) {
    return value.toExponential().replace("e+", "e");
  }
  return String(value);
}

/**
 * @throws WattprintError `USAGE` naming `flag` unless `value` is a finite number > 0.
 * @returns `value`, for chaining.
 */
export function requirePositive(value: number, flag: string, hint: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new WattprintError(
      "USAGE",
      `invalid ${flag} ${describeNumber(value)}: must be greater than 0`,
      {
        hint,
      },
    );
  }
  return value;
}

/**
 * Checks a model's parameter counts: total `params`, and `activeParams` per token for a
 * mixture of experts (default: all of them).
 * @throws WattprintError `USAGE` when either is not > 0 or more are active than exist.
 */
export function requireParams(
  params: number,
  activeParams: number | undefined,
  examples: { params: string; activeParams: string },
): { params: number; activeParams: number } {
  requirePositive(
    params,
    "--params",
    `give the model's total parameters, for example ${examples.params}`,
  );
  const active =
    activeParams === undefined
      ? params
      : requirePositive(
          activeParams,
          "--active-params",
          `give the parameters active per token, such as ${examples.activeParams}`,
        );
  if (active > params) {
    throw new WattprintError(
      "USAGE",
      `--active-params ${describeNumber(active)} is more than --params ${describeNumber(params)}`,
      { hint: "a mixture-of-experts model activates a part of its parameters per token" },
    );
  }
  return { params, activeParams: active };
}
