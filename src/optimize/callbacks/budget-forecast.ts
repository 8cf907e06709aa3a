import { mean, sampleStd, studentTQuantile } from "../stats.js";

/** A forecast of a whole training run's energy (or CO2e) from its first epochs. */
export interface BudgetForecast {
  /** Epochs measured so far (warm-up included). */
  epochsSeen: number;
  plannedEpochs: number;
  /** Leading epochs left out of the per-epoch estimate (start-up, compilation, caches). */
  warmupEpochs: number;
  /** Epochs the per-epoch estimate is made from. */
  samples: number;
  /** What the epochs seen cost, warm-up included, in the budget's unit. */
  spent: number;
  /** Mean cost of a post-warm-up epoch. */
  perEpochMean: number;
  /** Sample standard deviation of a post-warm-up epoch's cost; null from a single epoch. */
  perEpochStd: number | null;
  /** spent + remaining epochs × perEpochMean. */
  predictedTotal: number;
  /** Prediction interval of the total at `confidence`; null from a single epoch. */
  low: number | null;
  high: number | null;
  confidence: number;
}

/**
 * Forecasts the total of `plannedEpochs` epochs from the per-epoch costs seen so far,
 * leaving the first `warmupEpochs` out of the estimate (they are counted as spent).
 * Remaining epochs are treated as independent draws from the post-warm-up epochs'
 * distribution: the interval for their sum R·m is R·m ± t(n−1) · s · √(R + R²/n), Student's
 * t prediction interval for a sum of R new observations (the R term is their own spread,
 * the R²/n term the uncertainty of the mean). Null before one post-warm-up epoch.
 */
export function forecastTotal(
  perEpoch: readonly number[],
  plannedEpochs: number,
  options: { warmupEpochs?: number; confidence?: number } = {},
): BudgetForecast | null {
  const warmupEpochs = Math.max(0, Math.min(options.warmupEpochs ?? 1, perEpoch.length));
  const confidence = options.confidence ?? 0.95;
  const steady = perEpoch.slice(warmupEpochs);
  const perEpochMean = mean(steady);
  if (perEpochMean === null) return null;
  const spent = perEpoch.reduce((sum, value) => sum + value, 0);
  const remaining = Math.max(0, plannedEpochs - perEpoch.length);
  const n = steady.length;
  const perEpochStd = sampleStd(steady);
  const predictedTotal = spent + remaining * perEpochMean;
  let low: number | null = null;
  let high: number | null = null;
  if (perEpochStd !== null) {
    const t = studentTQuantile((1 + confidence) / 2, n - 1);
    const halfWidth = t * perEpochStd * Math.sqrt(remaining + (remaining * remaining) / n);
    low = Math.max(spent, predictedTotal - halfWidth);
    high = predictedTotal + halfWidth;
  }
  return {
    epochsSeen: perEpoch.length,
    plannedEpochs,
    warmupEpochs,
    samples: n,
    spent,
    perEpochMean,
    perEpochStd,
    predictedTotal,
    low,
    high,
    confidence,
  };
}
