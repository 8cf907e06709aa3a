import type * as tf from "@tensorflow/tfjs-core";
import type { TrainingControl } from "../../../src/optimize/callbacks/training-callback.js";

/** A TrainingControl that records what callbacks ask of it (for driving callbacks by hand). */
export function recordingControl(learningRate = 0.01): TrainingControl & {
  stops: string[];
  warnings: string[];
  learningRates: number[];
} {
  const state = { stops: [] as string[], warnings: [] as string[], learningRates: [learningRate] };
  return {
    ...state,
    getLearningRate: () => state.learningRates[state.learningRates.length - 1] ?? null,
    setLearningRate: (lr) => state.learningRates.push(lr),
    stop: (reason) => state.stops.push(reason),
    warn: (message) => state.warnings.push(message),
    getWeights: () => [] as tf.Tensor[],
    setWeights: () => {},
  };
}
