/**
 * The GAN study's judge: a classifier trained on the real digits (optimize's MLP and
 * `trainModel`), whose last hidden layer is the feature space of the KID (as the Inception
 * network's pool layer is for images at large) and whose predictions say whether a
 * generated sample shows the class it was asked for.
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { EarlyStopping } from "../optimize/callbacks/early-stopping.js";
import type { DataSplit } from "../optimize/datasets.js";
import type { EnergyMeter } from "../optimize/energy-meter.js";
import { buildMlp, modelInputShape } from "../optimize/models.js";
import { evaluateLoss, trainModel, type TrainResult } from "../optimize/train.js";

export interface FeatureClassifier {
  model: tfl.LayersModel;
  /** Width of the feature vectors (the last hidden layer's units). */
  featureDims: number;
  /** Accuracy on the real test samples, 0..1. */
  testAccuracy: number;
  training: TrainResult;
}

/**
 * Trains the judge: an MLP with hidden layers [128, `featureDims`] (ReLU), Adam, early
 * stopping on the validation loss (patience 3, best weights restored).
 */
export async function trainFeatureClassifier(
  inputShape: number[],
  classes: number,
  fit: DataSplit,
  validation: DataSplit,
  test: DataSplit,
  options: {
    epochs: number;
    seed: number;
    featureDims?: number;
    meter?: EnergyMeter | null;
    log?: (line: string) => void;
  },
): Promise<FeatureClassifier> {
  const featureDims = options.featureDims ?? 64;
  const model = buildMlp({
    inputShape,
    classes,
    hiddenUnits: [128, featureDims],
    seed: options.seed + 500,
  });
  const training = await trainModel(model, fit, {
    epochs: options.epochs,
    validation,
    seed: options.seed,
    learningRate: 0.003,
    meter: options.meter ?? null,
    phaseName: "train feature classifier",
    callbacks: [new EarlyStopping({ patience: 3 })],
    log: options.log,
  });
  return { model, featureDims, testAccuracy: evaluateLoss(model, test).accuracy, training };
}

/** The last hidden layer's activations for `count` samples (count × featureDims). */
export function extractFeatures(
  model: tfl.LayersModel,
  x: Float32Array,
  count: number,
): Float32Array {
  const inputShape = modelInputShape(model);
  const hidden = model.layers.slice(0, -1);
  return runInBatches(x, count, inputShape, (batch) => {
    let h: tf.Tensor = batch;
    for (const layer of hidden) h = layer.apply(h) as tf.Tensor;
    return h;
  });
}

/** The class the model predicts for each of `count` samples. */
export function classify(model: tfl.LayersModel, x: Float32Array, count: number): Int32Array {
  const inputShape = modelInputShape(model);
  const scores = runInBatches(x, count, inputShape, (batch) => model.predict(batch) as tf.Tensor);
  const classes = scores.length / count;
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if ((scores[i * classes + c] as number) > (scores[i * classes + best] as number)) best = c;
    out[i] = best;
  }
  return out;
}

function runInBatches(
  x: Float32Array,
  count: number,
  inputShape: number[],
  body: (batch: tf.Tensor) => tf.Tensor,
): Float32Array {
  const features = x.length / count;
  const chunks: Float32Array[] = [];
  const batchSize = 256;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    chunks.push(
      tf.tidy(
        () =>
          body(
            tf.tensor(x.subarray(start * features, (start + n) * features), [n, ...inputShape]),
          ).dataSync() as Float32Array,
      ),
    );
  }
  const width = (chunks[0]?.length ?? 0) / Math.min(batchSize, count);
  const out = new Float32Array(count * width);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
