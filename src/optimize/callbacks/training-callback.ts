/**
 * The green-training callback contract. A training driver (wattprint's {@link trainModel}
 * or TF.js `model.fit` through {@link tfjsCallbacks}) calls these hooks; the driver measures
 * each epoch's energy with the tracker and puts it in the logs before any callback runs.
 */
import type * as tf from "@tensorflow/tfjs-core";

/** What is known at the end of an epoch. Metrics that were not computed are undefined. */
export interface EpochLogs {
  /** 0-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch. */
  loss: number;
  /** Training accuracy, 0..1. */
  accuracy?: number;
  /** Validation loss. */
  valLoss?: number;
  /** Validation accuracy, 0..1. */
  valAccuracy?: number;
  /** Wall time of the epoch, seconds. */
  durationS: number;
  /** Energy the epoch took (tracker phase), joules; null when it could not be measured, undefined without a tracker. */
  energyJ?: number | null;
  /** CO2e of `energyJ`, grams. */
  co2eG?: number | null;
  /** Learning rate used during the epoch. */
  learningRate?: number | null;
}

/** A metric a callback can watch. */
export type MonitoredMetric = "loss" | "accuracy" | "valLoss" | "valAccuracy" | "energyJ" | "co2eG";

/** What a callback may do to the training. */
export interface TrainingControl {
  /** The optimizer's learning rate; null when it cannot be read. */
  getLearningRate(): number | null;
  /** Changes the learning rate from the next step on. */
  setLearningRate(learningRate: number): void;
  /** Ends training after this epoch, saying why. */
  stop(reason: string): void;
  /** Reports something the user should know (a budget forecast over the limit). */
  warn(message: string): void;
  /** Copies of the model's current weights. */
  getWeights(): tf.Tensor[];
  /** Replaces the model's weights (copies made by `getWeights`). */
  setWeights(weights: tf.Tensor[]): void;
}

/** The plan a callback is told when training begins. */
export interface TrainingPlan {
  /** Epochs planned (training may stop earlier). */
  epochs: number;
}

/** One green-training callback. Every hook is optional and may be async. */
export interface TrainingCallback {
  /** Short name used in stop reasons and warnings ("early-stopping"). */
  readonly name: string;
  onTrainBegin?(plan: TrainingPlan, control: TrainingControl): void | Promise<void>;
  onEpochBegin?(epoch: number, control: TrainingControl): void | Promise<void>;
  onEpochEnd?(logs: EpochLogs, control: TrainingControl): void | Promise<void>;
  onTrainEnd?(history: readonly EpochLogs[], control: TrainingControl): void | Promise<void>;
}

/** Whether a smaller value of the metric is better ("loss", "energyJ") or a larger one ("accuracy"). */
export function metricMode(metric: MonitoredMetric): "min" | "max" {
  return metric === "accuracy" || metric === "valAccuracy" ? "max" : "min";
}

/** The metric's value in `logs`, or null when it is missing or not a finite number. */
export function readMetric(logs: EpochLogs, metric: MonitoredMetric): number | null {
  const value = logs[metric];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}
