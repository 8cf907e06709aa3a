/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a
 * Neural Network", arXiv:1503.02531): a small student learns from the teacher's softened
 * outputs as well as from the labels. The loss on a batch is
 *
 *   α · T² · KL(softmax(z_t / T) ‖ softmax(z_s / T)) + (1 − α) · CE(y, softmax(z_s)),
 *
 * with z the logits, T the temperature and α the weight of the teacher's targets; T²
 * keeps the soft term's gradients on the scale of the hard term's as T changes. Logits are
 * the input of a model's final softmax (a model without one is taken to output logits).
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { DataSplit } from "./datasets.js";
import type { MeasuredEnergy } from "./energy-meter.js";
import { forward } from "./forward.js";
import { buildCnn, buildMlp, modelInputShape, modelOutputSize } from "./models.js";
import {
  assertDataFits,
  batchTensor,
  trainModel,
  type TrainOptions,
  type TrainResult,
} from "./train.js";

export interface DistillOptions extends Omit<TrainOptions, "loss"> {
  /** Softening temperature T; default 4. */
  temperature?: number;
  /** Weight α of the teacher's soft targets (the labels get 1 − α); default 0.7. */
  alpha?: number;
}

export interface DistillResult extends TrainResult {
  /** Energy of computing the teacher's outputs on the training set (part of the student's cost). */
  teacherInference: MeasuredEnergy | null;
}

/**
 * Trains `student` (in place) to imitate `teacher` on `data`. The teacher's logits are
 * computed once, up front, and their energy measured with the meter.
 */
export async function distill(
  teacher: tfl.LayersModel,
  student: tfl.LayersModel,
  data: DataSplit,
  options: DistillOptions,
): Promise<DistillResult> {
  const temperature = options.temperature ?? 4;
  const alpha = options.alpha ?? 0.7;
  if (!(temperature > 0))
    throw new RangeError(`distillation temperature must be positive, got ${temperature}`);
  if (!(alpha >= 0 && alpha <= 1))
    throw new RangeError(`distillation alpha must be within 0..1, got ${alpha}`);
  assertDataFits(teacher, data, "distillation data");
  const classes = modelOutputSize(teacher);
  if (modelOutputSize(student) !== classes) {
    throw new RangeError(
      `the student outputs ${modelOutputSize(student)} classes, the teacher ${classes}`,
    );
  }
  const compute = () => teacherLogits(teacher, data);
  const measured = options.meter
    ? await options.meter.measure("distill teacher outputs", compute)
    : { result: compute(), energy: null };
  const logits = measured.result;
  const loss = (
    studentLogits: tf.Tensor2D,
    batch: { indices: Int32Array; labels: tf.Tensor2D },
  ) => {
    const teacherBatch = new Float32Array(batch.indices.length * classes);
    batch.indices.forEach((row, i) =>
      teacherBatch.set(logits.subarray(row * classes, (row + 1) * classes), i * classes),
    );
    return distillationLoss(
      studentLogits,
      tf.tensor2d(teacherBatch, [batch.indices.length, classes]),
      batch.labels,
      temperature,
      alpha,
    );
  };
  const result = await trainModel(student, data, {
    ...options,
    loss,
    phaseName: options.phaseName ?? "distill",
  });
  const teacherInference = measured.energy;
  const add = (a: number | null, b: number | null | undefined) =>
    a === null || b === null || b === undefined ? null : a + b;
  return {
    ...result,
    teacherInference,
    energyJ:
      teacherInference === null ? result.energyJ : add(result.energyJ, teacherInference.energyJ),
    co2eG: teacherInference === null ? result.co2eG : add(result.co2eG, teacherInference.co2eG),
  };
}

/** The distillation loss for one batch (see the module comment); mean over the batch. */
export function distillationLoss(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  labels: tf.Tensor2D,
  temperature: number,
  alpha: number,
): tf.Scalar {
  return tf.tidy(() => {
    const teacherSoft = tf.softmax(tf.div(teacherLogits, temperature));
    const studentLogSoft = tf.logSoftmax(tf.div(studentLogits, temperature));
    // KL(p‖q) = Σ p (log p − log q); log p from the teacher's own log-softmax.
    const teacherLogSoft = tf.logSoftmax(tf.div(teacherLogits, temperature));
    const kl = tf.mean(tf.sum(tf.mul(teacherSoft, tf.sub(teacherLogSoft, studentLogSoft)), 1));
    const hard = tf.losses.softmaxCrossEntropy(labels, studentLogits);
    return tf.add(
      tf.mul(kl, alpha * temperature * temperature),
      tf.mul(hard, 1 - alpha),
    ) as tf.Scalar;
  });
}

/** The teacher's logits for every sample, row after row. */
export function teacherLogits(
  teacher: tfl.LayersModel,
  data: DataSplit,
  batchSize = 256,
): Float32Array {
  const inputShape = modelInputShape(teacher);
  const classes = modelOutputSize(teacher);
  const out = new Float32Array(data.count * classes);
  for (let start = 0; start < data.count; start += batchSize) {
    const indices = Array.from(
      { length: Math.min(batchSize, data.count - start) },
      (_, i) => start + i,
    );
    const values = tf.tidy(() =>
      forward(teacher, batchTensor(data, indices, inputShape), { logits: true }).dataSync(),
    );
    out.set(values, start * classes);
  }
  return out;
}

/**
 * A student for `teacher`. `width` ≤ 1: a model of the teacher's kind built like
 * wattprint's baselines ({@link buildCnn} when the teacher has Conv2D layers, else
 * {@link buildMlp}) with the teacher's hidden widths times `width` (at least 1 each).
 * `width` > 1: a multilayer perceptron with one hidden layer of `width` units.
 */
export async function buildStudent(
  teacher: tfl.LayersModel,
  width: number,
  seed = 7,
): Promise<tfl.LayersModel> {
  const inputShape = modelInputShape(teacher);
  const classes = modelOutputSize(teacher);
  if (width > 1) return buildMlp({ inputShape, hiddenUnits: [Math.round(width)], classes, seed });
  const hidden = teacher.layers.slice(0, -1);
  const denseUnits = hidden
    .filter((l) => l.getClassName() === "Dense")
    .map((l) => Number(l.getConfig().units));
  const filters = hidden
    .filter((l) => l.getClassName() === "Conv2D")
    .map((l) => Number(l.getConfig().filters));
  const narrow = (n: number) => Math.max(1, Math.round(n * width));
  if (filters.length > 0 && inputShape.length === 3) {
    const padding =
      hidden.find((l) => l.getClassName() === "Conv2D")?.getConfig().padding === "same"
        ? "same"
        : "valid";
    return buildCnn({
      inputShape: inputShape as [number, number, number],
      filters: filters.map(narrow),
      denseUnits: narrow(denseUnits[0] ?? 64),
      classes,
      padding,
      seed,
    });
  }
  return buildMlp({ inputShape, hiddenUnits: denseUnits.map(narrow), classes, seed });
}
