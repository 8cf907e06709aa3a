/**
 * The label's 5-level scale. Bins are the quintiles of the reference set's log energy:
 * sort ln(E) of the reference models, take the 20th, 40th, 60th and 80th percentiles
 * (linear interpolation between order statistics, numpy's default "linear" method), and
 * exponentiate them back to Wh per 1,000 queries. A model at or below the first boundary
 * rates 5 (best), above the last one 1 (worst). Method: docs/label.md.
 */
import { WattprintError } from "../errors.js";

/** A rating on the label's scale: 5 is the most efficient fifth of the reference set, 1 the least. */
export type LabelRating = 1 | 2 | 3 | 4 | 5;

/** Upper bounds (inclusive) of ratings 5, 4, 3 and 2, Wh per 1,000 queries, ascending. */
export type RatingBoundaries = [number, number, number, number];

/** Fewest reference models a scale can be made from (one per bin). */
export const MIN_REFERENCE_MODELS = 5;

/** How the bins are made, in words (written into certificates). */
export const RATING_RULE =
  "quintiles of ln(energy per 1,000 queries) over the reference models (linear interpolation between order statistics), exponentiated; rating 5 if E ≤ b1, 4 if E ≤ b2, 3 if E ≤ b3, 2 if E ≤ b4, else 1";

/**
 * The four rating boundaries of a reference set, Wh per 1,000 queries.
 * @throws WattprintError("BAD_INPUT") when fewer than {@link MIN_REFERENCE_MODELS} values
 *   are given or one is not a positive finite number (a logarithm needs E > 0).
 */
export function ratingBoundaries(referenceWhPer1kQueries: readonly number[]): RatingBoundaries {
  if (referenceWhPer1kQueries.length < MIN_REFERENCE_MODELS) {
    throw new WattprintError(
      "BAD_INPUT",
      `a rating scale needs at least ${MIN_REFERENCE_MODELS} reference models, got ${referenceWhPer1kQueries.length}`,
      { hint: "regenerate the reference table: npx tsx scripts/generate-label-reference.ts" },
    );
  }
  for (const value of referenceWhPer1kQueries) {
    if (!(Number.isFinite(value) && value > 0)) {
      throw new WattprintError(
        "BAD_INPUT",
        `reference energy ${value} Wh per 1,000 queries is not a positive number`,
        { hint: "every reference model needs a measured energy above 0" },
      );
    }
  }
  const logs = referenceWhPer1kQueries.map((value) => Math.log(value)).sort((a, b) => a - b);
  const boundary = (probability: number) => Math.exp(linearQuantile(logs, probability));
  return [boundary(0.2), boundary(0.4), boundary(0.6), boundary(0.8)];
}

/**
 * The rating of `energyWhPer1kQueries` on a scale: 5 at or below `boundaries[0]`, 4 at
 * or below `boundaries[1]`, …, 1 above `boundaries[3]`.
 * @throws WattprintError("BAD_INPUT") for a negative or non-finite energy, or boundaries
 *   that are not ascending.
 */
export function rateEnergy(
  energyWhPer1kQueries: number,
  boundaries: RatingBoundaries,
): LabelRating {
  if (!(Number.isFinite(energyWhPer1kQueries) && energyWhPer1kQueries >= 0)) {
    throw new WattprintError(
      "BAD_INPUT",
      `cannot rate an energy of ${energyWhPer1kQueries} Wh per 1,000 queries`,
      { hint: "the energy must be a measured number, 0 or more" },
    );
  }
  for (let index = 1; index < boundaries.length; index++) {
    if (!((boundaries[index] as number) >= (boundaries[index - 1] as number))) {
      throw new WattprintError(
        "BAD_INPUT",
        `rating boundaries are not ascending: ${boundaries.join(", ")}`,
        {
          hint: "boundaries are the upper bounds of ratings 5, 4, 3 and 2, smallest first",
        },
      );
    }
  }
  const bin = boundaries.findIndex((upper) => energyWhPer1kQueries <= upper);
  return (bin === -1 ? 1 : 5 - bin) as LabelRating;
}

/** The `probability` quantile of ascending `sorted` values, interpolating linearly between order statistics. */
function linearQuantile(sorted: readonly number[], probability: number): number {
  const position = (sorted.length - 1) * probability;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (position - lower) * (high - low);
}
