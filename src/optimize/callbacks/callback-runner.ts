import type * as tfl from "@tensorflow/tfjs-layers";
import * as tf from "@tensorflow/tfjs-core";
import type { EnergyMeter, MeasuredEnergy } from "../energy-meter.js";
import type {
  EpochLogs,
  TrainingCallback,
  TrainingControl,
  TrainingPlan,
} from "./training-callback.js";

/**
 * Runs a list of callbacks for a training driver: measures each epoch with the meter (when
 * there is one), fills the energy into the logs, calls the hooks in order, and collects
 * stop requests and warnings. Used by {@link trainModel} and by {@link tfjsCallbacks}.
 */
export class CallbackRunner {
  readonly history: EpochLogs[] = [];
  readonly warnings: string[] = [];
  stopReason: string | null = null;
  private epochHandle: { end: () => Promise<MeasuredEnergy> } | null = null;
  readonly control: TrainingControl;

  constructor(
    private readonly model: tfl.LayersModel,
    private readonly optimizer: () => tf.Optimizer | null,
    private readonly callbacks: readonly TrainingCallback[],
    private readonly meter: EnergyMeter | null,
    private readonly log: (line: string) => void = () => {},
    private readonly phaseName = "train",
  ) {
    this.control = {
      getLearningRate: () => readLearningRate(this.optimizer()),
      setLearningRate: (learningRate) => writeLearningRate(this.optimizer(), learningRate),
      stop: (reason) => {
        this.stopReason ??= reason;
      },
      warn: (message) => {
        this.warnings.push(message);
        this.log(`warning: ${message}`);
      },
      getWeights: () => this.model.getWeights().map((tensor) => tf.clone(tensor)),
      setWeights: (weights) => this.model.setWeights(weights),
    };
  }

  async trainBegin(plan: TrainingPlan): Promise<void> {
    for (const callback of this.callbacks) await callback.onTrainBegin?.(plan, this.control);
  }

  async epochBegin(epoch: number): Promise<void> {
    if (this.meter !== null)
      this.epochHandle = await this.meter.begin(`${this.phaseName} epoch ${epoch + 1}`);
    for (const callback of this.callbacks) await callback.onEpochBegin?.(epoch, this.control);
  }

  /** Ends the epoch's measurement, runs the callbacks; returns true when training should stop. */
  async epochEnd(logs: EpochLogs): Promise<boolean> {
    if (this.epochHandle !== null) {
      const energy = await this.epochHandle.end();
      this.epochHandle = null;
      logs.energyJ = energy.energyJ;
      logs.co2eG = energy.co2eG;
    }
    logs.learningRate ??= this.control.getLearningRate();
    this.history.push(logs);
    for (const callback of this.callbacks) await callback.onEpochEnd?.(logs, this.control);
    return this.stopReason !== null;
  }

  async trainEnd(): Promise<void> {
    if (this.epochHandle !== null) {
      await this.epochHandle.end();
      this.epochHandle = null;
    }
    for (const callback of this.callbacks) await callback.onTrainEnd?.(this.history, this.control);
  }

  /** Sum of the epochs' energy, joules; null when any epoch was not measured. */
  totalEnergyJ(): number | null {
    return sumOrNull(this.history.map((logs) => logs.energyJ));
  }

  totalCo2eG(): number | null {
    return sumOrNull(this.history.map((logs) => logs.co2eG));
  }
}

/** The learning rate of a TF.js optimizer (they all keep it in `learningRate`), or null. */
export function readLearningRate(optimizer: tf.Optimizer | null): number | null {
  const value = (optimizer as unknown as { learningRate?: unknown } | null)?.learningRate;
  return typeof value === "number" ? value : null;
}

/** Sets a TF.js optimizer's learning rate (SGD caches it, hence its setter). */
export function writeLearningRate(optimizer: tf.Optimizer | null, learningRate: number): void {
  if (optimizer === null) return;
  const target = optimizer as unknown as {
    learningRate?: number;
    setLearningRate?: (lr: number) => void;
  };
  if (typeof target.setLearningRate === "function") target.setLearningRate(learningRate);
  else target.learningRate = learningRate;
}

function sumOrNull(values: readonly (number | null | undefined)[]): number | null {
  if (values.length === 0) return null;
  let total = 0;
  for (const value of values) {
    if (typeof value !== "number") return null;
    total += value;
  }
  return total;
}
