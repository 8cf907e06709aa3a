/**
 * wattprint's training loop for sequential TF.js models: mini-batch Adam (or any TF.js
 * optimizer), softmax cross-entropy on the logits (or a custom loss, for distillation),
 * a hook after every step (for pruning masks), validation each epoch, energy per epoch
 * through a tracker, and the green-training callbacks.
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { WattprintError } from "../errors.js";
import type { DataSplit } from "./datasets.js";
import { shuffledIndices } from "./datasets.js";
import type { EnergyMeter } from "./energy-meter.js";
import { forward } from "./forward.js";
import { modelInputShape, modelOutputSize } from "./models.js";
import { runEpochLoop } from "./epoch-loop.js";
import type { EpochLogs, TrainingCallback } from "./callbacks/training-callback.js";

/** One mini-batch as a custom loss sees it. */
export interface TrainingBatch {
  /** Indices of the batch's samples in the training split. */
  indices: Int32Array;
  /** One-hot labels [batch, classes]. */
  labels: tf.Tensor2D;
}

export interface TrainOptions {
  epochs: number;
  /** Default 64. */
  batchSize?: number;
  /** Learning rate of the default Adam optimizer; default 0.001. */
  learningRate?: number;
  /** Optimizer to use instead of Adam(learningRate). */
  optimizer?: tf.Optimizer;
  /** Samples evaluated after each epoch (valLoss, valAccuracy); default none. */
  validation?: DataSplit | null;
  /** Seed of the per-epoch shuffles; default 1. */
  seed?: number;
  callbacks?: readonly TrainingCallback[];
  /** Measures each epoch's energy (validation included); default none. */
  meter?: EnergyMeter | null;
  /** Phase name prefix for the tracker ("fine-tune prune-50" → "fine-tune prune-50 epoch 1"); default "train". */
  phaseName?: string;
  /** Loss on the logits instead of softmax cross-entropy with the labels. */
  loss?: (logits: tf.Tensor2D, batch: TrainingBatch) => tf.Scalar;
  /** Called after every optimizer step with the step count so far (1-based). */
  afterStep?: (step: number) => void;
  log?: (line: string) => void;
}

export interface TrainResult {
  history: EpochLogs[];
  epochsRun: number;
  steps: number;
  /** Why training ended before `epochs`, or null. */
  stopReason: string | null;
  warnings: string[];
  /** Sum of the epochs' energy, joules; null without a meter or when an epoch was unmeasured. */
  energyJ: number | null;
  co2eG: number | null;
  durationS: number;
}

/**
 * Trains `model` in place on `data`.
 *
 * @throws WattprintError BAD_INPUT when the data do not fit the model (features or classes).
 */
export async function trainModel(
  model: tfl.LayersModel,
  data: DataSplit,
  options: TrainOptions,
): Promise<TrainResult> {
  const inputShape = assertDataFits(model, data, "training data");
  if (options.validation) assertDataFits(model, options.validation, "validation data");
  const classes = modelOutputSize(model);
  const batchSize = options.batchSize ?? 64;
  const optimizer = options.optimizer ?? tf.train.adam(options.learningRate ?? 0.001);
  const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  let steps = 0;
  try {
    return await runEpochLoop({
      model,
      optimizer: () => optimizer,
      epochs: options.epochs,
      callbacks: options.callbacks,
      meter: options.meter,
      log: options.log,
      phaseName: options.phaseName,
      trainEpoch: async (epoch) => {
        const order = shuffledIndices(data.count, (options.seed ?? 1) * 7919 + epoch);
        let lossSum = tf.scalar(0);
        let epochSteps = 0;
        for (let start = 0; start < data.count; start += batchSize) {
          const indices = Int32Array.from(order.slice(start, start + batchSize));
          const next = tf.tidy(() => {
            const x = batchTensor(data, indices, inputShape);
            const labels = oneHotBatch(data, indices, classes);
            const cost = optimizer.minimize(
              () => {
                const logits = forward(model, x, { training: true, logits: true }) as tf.Tensor2D;
                return options.loss
                  ? options.loss(logits, { indices, labels })
                  : tf.losses.softmaxCrossEntropy(labels, logits);
              },
              true,
              variables,
            ) as tf.Scalar;
            return tf.add(lossSum, tf.mul(cost, indices.length)) as tf.Scalar;
          });
          lossSum.dispose();
          lossSum = next;
          steps += 1;
          epochSteps += 1;
          options.afterStep?.(steps);
        }
        const loss = ((await lossSum.data())[0] as number) / data.count;
        lossSum.dispose();
        return { loss, steps: epochSteps };
      },
      validate: options.validation
        ? () => {
            const validation = evaluateLoss(model, options.validation as DataSplit);
            return { valLoss: validation.loss, valAccuracy: validation.accuracy };
          }
        : undefined,
    });
  } finally {
    if (options.optimizer === undefined) optimizer.dispose();
  }
}

/** Mean cross-entropy and accuracy (0..1) of the model on `data`, in batches. */
export function evaluateLoss(
  model: tfl.LayersModel,
  data: DataSplit,
  batchSize = 256,
): { loss: number; accuracy: number } {
  const inputShape = assertDataFits(model, data, "evaluation data");
  const classes = modelOutputSize(model);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const indices = Int32Array.from(
      { length: Math.min(batchSize, data.count - start) },
      (_, i) => start + i,
    );
    const [batchLoss, batchCorrect] = tf.tidy(() => {
      const logits = forward(model, batchTensor(data, indices, inputShape), {
        logits: true,
      }) as tf.Tensor2D;
      const labels = oneHotBatch(data, indices, classes);
      const lossValue = tf.mul(tf.losses.softmaxCrossEntropy(labels, logits), indices.length);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(labels, 1)), "float32"));
      return [lossValue.dataSync()[0] as number, hits.dataSync()[0] as number];
    });
    lossSum += batchLoss;
    correct += batchCorrect;
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count };
}

/** The samples at `indices` as a tensor [n, ...inputShape]. */
export function batchTensor(
  data: DataSplit,
  indices: ArrayLike<number>,
  inputShape: readonly number[],
): tf.Tensor {
  const features = data.x.length / data.count;
  const values = new Float32Array(indices.length * features);
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i] as number;
    values.set(data.x.subarray(row * features, (row + 1) * features), i * features);
  }
  return tf.tensor(values, [indices.length, ...inputShape]);
}

/** One-hot labels of the samples at `indices` [n, classes]. */
export function oneHotBatch(
  data: DataSplit,
  indices: ArrayLike<number>,
  classes: number,
): tf.Tensor2D {
  const values = new Float32Array(indices.length * classes);
  for (let i = 0; i < indices.length; i++)
    values[i * classes + (data.y[indices[i] as number] as number)] = 1;
  return tf.tensor2d(values, [indices.length, classes]);
}

/**
 * Checks that samples of `data` fit the model's input (same number of values) and that
 * its labels are classes the model outputs; returns the model's per-sample input shape.
 *
 * @throws WattprintError BAD_INPUT on a mismatch.
 */
export function assertDataFits(model: tfl.LayersModel, data: DataSplit, what: string): number[] {
  const inputShape = modelInputShape(model);
  const modelFeatures = inputShape.reduce((product, dim) => product * dim, 1);
  const features = data.count === 0 ? 0 : data.x.length / data.count;
  if (data.count === 0) {
    throw new WattprintError("BAD_INPUT", `the ${what} hold no samples`, {
      hint: "give a data set with samples",
    });
  }
  if (inputShape.some((dim) => dim < 0) || modelFeatures !== features) {
    throw new WattprintError(
      "BAD_INPUT",
      `shape mismatch: the model takes inputs of shape [${inputShape.join(", ")}] (${modelFeatures} values), the ${what} have ${features} values per sample`,
      {
        hint: "give data of the size the model was trained on (--data mnist for 28×28 models, --data digits for 8×8)",
      },
    );
  }
  const classes = modelOutputSize(model);
  let maxLabel = 0;
  for (const label of data.y) if (label > maxLabel) maxLabel = label;
  if (maxLabel >= classes) {
    throw new WattprintError(
      "BAD_INPUT",
      `shape mismatch: the ${what} have label ${maxLabel}, the model outputs ${classes} classes`,
      { hint: "give data with the classes the model was trained for" },
    );
  }
  return inputShape;
}
