/**
 * Energy between two reads of a cumulative counter, in joules.
 * A counter that went down wrapped around once when its wrap point is known (RAPL's
 * max_energy_range_uj); with no known wrap point a decrease is a reset, and the energy
 * since the reset (the new value) is the best lower bound.
 */
export function counterDeltaJ(
  previousJ: number,
  currentJ: number,
  wrapJ: number | null,
): { deltaJ: number; wrapped: boolean; reset: boolean } {
  if (currentJ >= previousJ) return { deltaJ: currentJ - previousJ, wrapped: false, reset: false };
  if (wrapJ !== null && wrapJ > 0 && previousJ <= wrapJ) {
    return { deltaJ: wrapJ - previousJ + currentJ, wrapped: true, reset: false };
  }
  return { deltaJ: currentJ, wrapped: false, reset: true };
}
