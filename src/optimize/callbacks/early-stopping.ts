import type * as tf from "@tensorflow/tfjs-core";
import {
  metricMode,
  readMetric,
  type EpochLogs,
  type MonitoredMetric,
  type TrainingCallback,
  type TrainingControl,
} from "./training-callback.js";

export interface EarlyStoppingOptions {
  /** Metric to watch; default "valLoss" (falls back to "loss" when there is no validation). */
  monitor?: MonitoredMetric;
  /** Epochs without improvement before stopping; default 3. */
  patience?: number;
  /** Smallest change that counts as an improvement, in the metric's unit; default 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when stopping or ending; default true. */
  restoreBestWeights?: boolean;
}

/**
 * Stops training when the monitored metric has not improved by more than `minDelta` for
 * `patience` epochs in a row, and by default restores the best epoch's weights: the
 * epochs a run would have wasted are its saving.
 */
export class EarlyStopping implements TrainingCallback {
  readonly name = "early-stopping";
  readonly monitor: MonitoredMetric;
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  /** Best value seen and the (0-based) epoch it was seen at. */
  best: { value: number; epoch: number } | null = null;
  /** The epoch after which training was stopped, or null. */
  stoppedAfterEpoch: number | null = null;
  private wait = 0;
  private bestWeights: tf.Tensor[] | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? "valLoss";
    this.patience = options.patience ?? 3;
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.restoreBestWeights = options.restoreBestWeights ?? true;
    if (!Number.isInteger(this.patience) || this.patience < 1) {
      throw new RangeError(
        `early stopping patience must be a whole number ≥ 1, got ${this.patience}`,
      );
    }
  }

  onTrainBegin(): void {
    this.best = null;
    this.wait = 0;
    this.stoppedAfterEpoch = null;
    this.disposeBest();
  }

  onEpochEnd(logs: EpochLogs, control: TrainingControl): void {
    const metric =
      readMetric(logs, this.monitor) ??
      (this.monitor === "valLoss" ? readMetric(logs, "loss") : null);
    if (metric === null) return;
    const better =
      this.best === null ||
      (metricMode(this.monitor) === "min"
        ? metric < this.best.value - this.minDelta
        : metric > this.best.value + this.minDelta);
    if (better) {
      this.best = { value: metric, epoch: logs.epoch };
      this.wait = 0;
      if (this.restoreBestWeights) {
        this.disposeBest();
        this.bestWeights = control.getWeights();
      }
      return;
    }
    this.wait += 1;
    if (this.wait >= this.patience) {
      this.stoppedAfterEpoch = logs.epoch;
      control.stop(
        `${this.name}: ${this.monitor} did not improve for ${this.patience} epoch${this.patience === 1 ? "" : "s"} (best ${formatMetric(this.best?.value)} at epoch ${(this.best?.epoch ?? 0) + 1})`,
      );
    }
  }

  onTrainEnd(_history: readonly EpochLogs[], control: TrainingControl): void {
    if (this.restoreBestWeights && this.bestWeights !== null) control.setWeights(this.bestWeights);
    this.disposeBest();
  }

  private disposeBest(): void {
    for (const tensor of this.bestWeights ?? []) tensor.dispose();
    this.bestWeights = null;
  }
}

function formatMetric(value: number | undefined): string {
  return value === undefined ? "?" : Number(value.toPrecision(4)).toString();
}
