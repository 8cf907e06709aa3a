import type {
  EpochLogs,
  TrainingCallback,
  TrainingControl,
  TrainingPlan,
} from "../optimize/callbacks/training-callback.js";

/**
 * Lets a green-training callback see epochs only from `startEpoch` (0-based) on, like
 * Keras's `EarlyStopping(start_from_epoch=…)`: a GAN's quality swings widely in its first
 * epochs, and early stopping that watched them would keep a generator from that chaos.
 * Training begin and end still reach the wrapped callback (so it can restore weights).
 */
export class StartFromEpoch implements TrainingCallback {
  readonly name: string;

  constructor(
    readonly startEpoch: number,
    readonly inner: TrainingCallback,
  ) {
    if (!Number.isInteger(startEpoch) || startEpoch < 0) {
      throw new RangeError(`the first watched epoch must be a whole number ≥ 0, got ${startEpoch}`);
    }
    this.name = inner.name;
  }

  onTrainBegin(plan: TrainingPlan, control: TrainingControl): void | Promise<void> {
    return this.inner.onTrainBegin?.(plan, control);
  }

  onEpochBegin(epoch: number, control: TrainingControl): void | Promise<void> {
    if (epoch >= this.startEpoch) return this.inner.onEpochBegin?.(epoch, control);
  }

  onEpochEnd(logs: EpochLogs, control: TrainingControl): void | Promise<void> {
    if (logs.epoch >= this.startEpoch) return this.inner.onEpochEnd?.(logs, control);
  }

  onTrainEnd(history: readonly EpochLogs[], control: TrainingControl): void | Promise<void> {
    return this.inner.onTrainEnd?.(history, control);
  }
}
