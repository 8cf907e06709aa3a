import type * as tfl from "@tensorflow/tfjs-layers";
import type { DataSplit } from "../datasets.js";
import { trainModel, type TrainOptions, type TrainResult } from "../train.js";
import { PruningMasks } from "./magnitude.js";
import { scheduledSparsity, type PruningSchedule } from "./schedule.js";

export interface GradualPruningOptions extends Omit<TrainOptions, "afterStep"> {
  /** Sparsity of every kernel at the end, 0..1. */
  finalSparsity: number;
  /** Sparsity of the first pruning step; default 0. */
  initialSparsity?: number;
  /** Share of the fine-tuning steps over which sparsity rises; the rest fine-tunes at the final sparsity; default 0.7. */
  rampFraction?: number;
  /** Steps between mask updates; default: about 20 updates over the ramp. */
  frequency?: number;
}

export interface GradualPruningResult extends TrainResult {
  schedule: PruningSchedule;
  /** The sparsity after each mask update: (step, sparsity). */
  updates: { step: number; sparsity: number }[];
}

/**
 * Prunes `model` in place while fine-tuning it: magnitude masks follow the polynomial
 * schedule of {@link scheduledSparsity} from step 0 to `rampFraction` of the steps, are
 * re-applied after every optimizer step (so pruned weights stay zero), and end at
 * exactly `finalSparsity` (also when training stops early).
 */
export async function pruneGradually(
  model: tfl.LayersModel,
  data: DataSplit,
  options: GradualPruningOptions,
): Promise<GradualPruningResult> {
  const batchSize = options.batchSize ?? 64;
  const totalSteps = options.epochs * Math.ceil(data.count / batchSize);
  const endStep = Math.max(1, Math.round(totalSteps * (options.rampFraction ?? 0.7)));
  const schedule: PruningSchedule = {
    initialSparsity: options.initialSparsity ?? 0,
    finalSparsity: options.finalSparsity,
    beginStep: 0,
    endStep,
    frequency: options.frequency ?? Math.max(1, Math.floor(endStep / 20)),
  };
  const masks = new PruningMasks(model);
  const updates: { step: number; sparsity: number }[] = [];
  const update = (step: number) => {
    const sparsity = scheduledSparsity(step, schedule);
    if (sparsity === null) return;
    if (updates.length === 0 || sparsity !== masks.sparsity) {
      masks.update(sparsity);
      updates.push({ step, sparsity });
    } else {
      masks.apply();
    }
  };
  try {
    update(0);
    const result = await trainModel(model, data, {
      ...options,
      afterStep: update,
      phaseName: options.phaseName ?? "prune",
    });
    if (masks.sparsity !== options.finalSparsity) {
      masks.update(options.finalSparsity);
      updates.push({ step: result.steps, sparsity: options.finalSparsity });
    }
    return { ...result, schedule, updates };
  } finally {
    masks.dispose();
  }
}
