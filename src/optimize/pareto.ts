/**
 * The accuracy/energy trade-off: which variants are Pareto-optimal (no other variant is
 * at least as accurate and uses at most as much energy, and strictly better in one), and
 * which one to recommend under an accuracy constraint.
 */

/** A point of the trade-off: higher accuracy is better, lower energy is better. */
export interface TradeOffPoint {
  accuracy: number;
  /** Energy per 1,000 inferences, joules; null when unknown (never on the front). */
  energyJ: number | null;
}

/** Whether `a` dominates `b`: no worse on both axes and strictly better on one. */
export function dominates(a: TradeOffPoint, b: TradeOffPoint): boolean {
  if (a.energyJ === null || b.energyJ === null) return false;
  const noWorse = a.accuracy >= b.accuracy && a.energyJ <= b.energyJ;
  return noWorse && (a.accuracy > b.accuracy || a.energyJ < b.energyJ);
}

/**
 * Indices of the points on the Pareto front (not dominated by any other point), in input
 * order. Points with unknown energy are never on it. Equal points are all on it.
 */
export function paretoFront(points: readonly TradeOffPoint[]): number[] {
  // Sort by energy ascending, accuracy descending; a point is on the front when it is more
  // accurate than every point before it, or equal to the best so far in both axes.
  const order = points
    .map((point, index) => ({ point, index }))
    .filter(
      ({ point }) =>
        point.energyJ !== null && Number.isFinite(point.energyJ) && Number.isFinite(point.accuracy),
    )
    .sort(
      (a, b) =>
        (a.point.energyJ as number) - (b.point.energyJ as number) ||
        b.point.accuracy - a.point.accuracy,
    );
  const front: number[] = [];
  let best: TradeOffPoint | null = null;
  for (const { point, index } of order) {
    if (best === null || point.accuracy > best.accuracy) {
      front.push(index);
      best = point;
    } else if (point.accuracy === best.accuracy && point.energyJ === best.energyJ) {
      front.push(index);
    }
  }
  return front.sort((a, b) => a - b);
}

/** What a recommendation must respect. */
export interface RecommendConstraint {
  /** Accuracy of the reference (baseline), 0..1. */
  baselineAccuracy: number;
  /** Largest accepted accuracy loss against the baseline, percentage points; default 1. */
  maxAccuracyDropPoints?: number;
  /** Least accepted accuracy, 0..1; default none. */
  minAccuracy?: number;
  /** Largest accepted size, bytes; default none. */
  maxSizeBytes?: number;
}

/** A candidate for the recommendation. */
export interface RecommendCandidate extends TradeOffPoint {
  sizeBytes: number;
}

/** Whether a candidate meets the constraint. */
export function meetsConstraint(
  candidate: RecommendCandidate,
  constraint: RecommendConstraint,
): boolean {
  const drop = constraint.maxAccuracyDropPoints ?? 1;
  // A small tolerance so that "1 point" admits a drop computed as 0.9999999 + rounding.
  if (candidate.accuracy < constraint.baselineAccuracy - drop / 100 - 1e-12) return false;
  if (constraint.minAccuracy !== undefined && candidate.accuracy < constraint.minAccuracy - 1e-12)
    return false;
  if (constraint.maxSizeBytes !== undefined && candidate.sizeBytes > constraint.maxSizeBytes)
    return false;
  return true;
}

/**
 * The index of the candidate to recommend: among those meeting the constraint and with a
 * known energy, the lowest energy per inference; ties go to the higher accuracy, then the
 * smaller size, then the earlier candidate. Null when none meets the constraint.
 * (The choice is always on the Pareto front: anything dominating it would meet the
 * constraint too and win the comparison.)
 */
export function recommend(
  candidates: readonly RecommendCandidate[],
  constraint: RecommendConstraint,
): number | null {
  let best: number | null = null;
  candidates.forEach((candidate, index) => {
    if (candidate.energyJ === null || !meetsConstraint(candidate, constraint)) return;
    if (best === null) {
      best = index;
      return;
    }
    const current = candidates[best] as RecommendCandidate;
    const better =
      candidate.energyJ < (current.energyJ as number) ||
      (candidate.energyJ === current.energyJ &&
        (candidate.accuracy > current.accuracy ||
          (candidate.accuracy === current.accuracy && candidate.sizeBytes < current.sizeBytes)));
    if (better) best = index;
  });
  return best;
}
