/**
 * The gradual pruning schedule of Zhu & Gupta (2017), "To prune, or not to prune:
 * exploring the efficacy of pruning for model compression" (arXiv:1710.01878), eq. 1:
 *
 *   s(t) = s_f + (s_i − s_f) · (1 − (t − t₀) / (t_end − t₀))³   for t₀ ≤ t ≤ t_end,
 *
 * updated every `frequency` steps: sparsity rises fast at first, while the network still
 * has redundant weights, and slowly near the end. TensorFlow Model Optimization calls it
 * PolynomialDecay (with the exponent as a parameter).
 */
export interface PruningSchedule {
  /** Sparsity (0..1) at `beginStep`; default 0. */
  initialSparsity?: number;
  /** Sparsity (0..1) from `endStep` on. */
  finalSparsity: number;
  /** First step at which weights are pruned; default 0. */
  beginStep?: number;
  /** Step at which `finalSparsity` is reached. */
  endStep: number;
  /** Steps between updates of the masks; default 1 (every step). */
  frequency?: number;
  /** Exponent of the decay; default 3. */
  exponent?: number;
}

/**
 * The sparsity the schedule asks for after `step` optimizer steps, or null before
 * `beginStep` (nothing pruned yet). Between updates it holds the last update's value.
 */
export function scheduledSparsity(step: number, schedule: PruningSchedule): number | null {
  const begin = schedule.beginStep ?? 0;
  const end = Math.max(begin, schedule.endStep);
  const frequency = Math.max(1, Math.floor(schedule.frequency ?? 1));
  if (step < begin) return null;
  const updateStep = Math.min(end, begin + Math.floor((step - begin) / frequency) * frequency);
  const progress = end === begin ? 1 : (updateStep - begin) / (end - begin);
  const initial = schedule.initialSparsity ?? 0;
  const final = schedule.finalSparsity;
  return final + (initial - final) * (1 - progress) ** (schedule.exponent ?? 3);
}
