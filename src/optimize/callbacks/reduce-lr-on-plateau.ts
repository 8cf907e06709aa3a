import {
  metricMode,
  readMetric,
  type EpochLogs,
  type MonitoredMetric,
  type TrainingCallback,
  type TrainingControl,
} from "./training-callback.js";

export interface ReduceLrOnPlateauOptions {
  /** Metric to watch; default "valLoss" (falls back to "loss" when there is no validation). */
  monitor?: MonitoredMetric;
  /** Factor the learning rate is multiplied by on a plateau, 0 < factor < 1; default 0.5. */
  factor?: number;
  /** Epochs without improvement before reducing; default 2. */
  patience?: number;
  /** Smallest change that counts as an improvement; default 1e-4. */
  minDelta?: number;
  /** Epochs to wait after a reduction before watching again; default 0. */
  cooldown?: number;
  /** Lower bound of the learning rate; default 1e-6. */
  minLearningRate?: number;
}

/**
 * Lowers the learning rate when the monitored metric stops improving, so training
 * converges in fewer epochs instead of oscillating (an adaptive learning rate).
 */
export class ReduceLrOnPlateau implements TrainingCallback {
  readonly name = "reduce-lr-on-plateau";
  readonly monitor: MonitoredMetric;
  readonly factor: number;
  readonly patience: number;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLearningRate: number;
  /** Every reduction made: after which (0-based) epoch, from and to which rate. */
  readonly reductions: { epoch: number; from: number; to: number }[] = [];
  private best: number | null = null;
  private wait = 0;
  private cooldownLeft = 0;

  constructor(options: ReduceLrOnPlateauOptions = {}) {
    this.monitor = options.monitor ?? "valLoss";
    this.factor = options.factor ?? 0.5;
    this.patience = options.patience ?? 2;
    this.minDelta = Math.abs(options.minDelta ?? 1e-4);
    this.cooldown = options.cooldown ?? 0;
    this.minLearningRate = options.minLearningRate ?? 1e-6;
    if (!(this.factor > 0 && this.factor < 1)) {
      throw new RangeError(`the learning-rate factor must be between 0 and 1, got ${this.factor}`);
    }
  }

  onTrainBegin(): void {
    this.best = null;
    this.wait = 0;
    this.cooldownLeft = 0;
    this.reductions.length = 0;
  }

  onEpochEnd(logs: EpochLogs, control: TrainingControl): void {
    const metric =
      readMetric(logs, this.monitor) ??
      (this.monitor === "valLoss" ? readMetric(logs, "loss") : null);
    if (metric === null) return;
    if (this.cooldownLeft > 0) this.cooldownLeft -= 1;
    const better =
      this.best === null ||
      (metricMode(this.monitor) === "min"
        ? metric < this.best - this.minDelta
        : metric > this.best + this.minDelta);
    if (better) {
      this.best = metric;
      this.wait = 0;
      return;
    }
    if (this.cooldownLeft > 0) return;
    this.wait += 1;
    if (this.wait < this.patience) return;
    const current = control.getLearningRate();
    this.wait = 0;
    if (current === null || current <= this.minLearningRate) return;
    const next = Math.max(this.minLearningRate, current * this.factor);
    control.setLearningRate(next);
    this.reductions.push({ epoch: logs.epoch, from: current, to: next });
    this.cooldownLeft = this.cooldown;
  }
}
