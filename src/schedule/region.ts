/**
 * The greenest region and time for a job: the window search of {@link findGreenestWindow}
 * run over each candidate region's intensity series, and the lowest plan marked best.
 * Method: docs/schedule.md.
 */
import { WattprintError } from "../errors.js";
import { assertSameSignal, type IntensitySeries } from "../grid/series.js";
import {
  findGreenestWindow,
  TIE_RELATIVE_TOLERANCE,
  type WindowOptions,
  type WindowPlan,
} from "./window.js";

/** One region to consider: its name as the user gave it and its intensity series. */
export interface RegionCandidate {
  /** "US-CA", "FR", "aws:us-west-2": echoed in the result. */
  region: string;
  series: IntensitySeries;
}

/** The plan for one region. */
export interface RegionPlan extends WindowPlan {
  region: string;
  /** True for the one region with the lowest plan. */
  best: boolean;
}

/** What {@link findGreenestRegion} returns. */
export interface RegionSearch {
  /** One plan per candidate, in the order given. */
  plans: RegionPlan[];
  /** The lowest plan (also in `plans`, marked `best`). */
  best: RegionPlan;
  /**
   * 100 × (1 − best planned intensity / run-now intensity in the first region), the saving
   * against starting now where the job would run by default; null when that is 0.
   */
  savingsVsFirstRegionNowPercent: number | null;
}

/**
 * Plans the job in each region and picks the one with the lowest mean intensity (the job's
 * power is the same everywhere, so also the lowest grams); ties go to the earlier start, then
 * to the region listed first. Average and marginal series cannot be compared and are refused.
 * @throws WattprintError `USAGE` when no region is given or one is listed twice; `BAD_INPUT`
 *   when the series mix signals; any error of {@link findGreenestWindow}, its message
 *   prefixed with the region.
 */
export function findGreenestRegion(
  candidates: readonly RegionCandidate[],
  options: WindowOptions,
): RegionSearch {
  const first = candidates[0];
  if (first === undefined) {
    throw new WattprintError("USAGE", "no region to plan in", {
      hint: "give one or more regions, such as --regions US-CA,US-WA",
    });
  }
  const seen = new Set<string>();
  for (const candidate of candidates) {
    const key = candidate.region.trim().toUpperCase();
    if (seen.has(key)) {
      throw new WattprintError("USAGE", `region ${candidate.region} is listed twice`, {
        hint: "list each region once",
      });
    }
    seen.add(key);
    assertSameSignal(first.series, candidate.series);
  }
  const plans: RegionPlan[] = candidates.map((candidate) => {
    try {
      return {
        ...findGreenestWindow(candidate.series, options),
        region: candidate.region,
        best: false,
      };
    } catch (error) {
      if (error instanceof WattprintError) {
        throw new WattprintError(error.code, `${candidate.region}: ${error.message}`, {
          hint: error.hint,
          cause: error,
        });
      }
      throw error;
    }
  });
  let best = plans[0] as RegionPlan;
  for (const plan of plans.slice(1)) {
    const a = plan.meanIntensityGPerKWh;
    const b = best.meanIntensityGPerKWh;
    const tolerance = TIE_RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
    if (a < b - tolerance || (Math.abs(a - b) <= tolerance && plan.startMs < best.startMs)) {
      best = plan;
    }
  }
  best.best = true;
  const firstNow = (plans[0] as RegionPlan).runNow.meanIntensityGPerKWh;
  return {
    plans,
    best,
    savingsVsFirstRegionNowPercent:
      firstNow > 0 ? 100 * (1 - best.meanIntensityGPerKWh / firstNow) : null,
  };
}
