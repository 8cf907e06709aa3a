/**
 * The epoch driver every training loop uses: `trainModel` supplies classifier steps, the
 * case studies supply their own (a GAN's alternating updates, a VAE's ELBO). Around the
 * caller's steps and validation, the {@link CallbackRunner} measures each epoch with the
 * {@link EnergyMeter} and runs the green-training callbacks (energy logging, early
 * stopping, learning-rate reduction, budgets).
 */
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { CallbackRunner } from "./callbacks/callback-runner.js";
import type { EpochLogs, TrainingCallback } from "./callbacks/training-callback.js";
import type { EnergyMeter } from "./energy-meter.js";
import type { TrainResult } from "./train.js";

/** Validation figures of one epoch, as the callbacks read them. */
export interface EpochValidation {
  /** Lower is better (a validation loss, a KID, a negative ELBO). */
  valLoss?: number;
  /** Higher is better, 0..1. */
  valAccuracy?: number;
}

/** What one epoch of steps did. */
export interface EpochSteps {
  /** Mean training loss over the epoch. */
  loss: number;
  /** Optimizer updates made (all models together). */
  steps: number;
}

export interface EpochLoopOptions {
  /** The model whose weights the callbacks may copy and restore (early stopping). */
  model: tfl.LayersModel;
  /** The optimizer whose learning rate the callbacks may read and change; null: none. */
  optimizer: () => tf.Optimizer | null;
  /** Epochs planned (callbacks may stop sooner). */
  epochs: number;
  /** Runs one epoch of training steps; returns its mean training loss and the optimizer steps taken. */
  trainEpoch: (epoch: number) => EpochSteps | Promise<EpochSteps>;
  /** Validation after each epoch (inside the epoch's energy measurement); default none. */
  validate?: (epoch: number) => EpochValidation | Promise<EpochValidation>;
  callbacks?: readonly TrainingCallback[];
  /** Measures each epoch's energy; default none. */
  meter?: EnergyMeter | null;
  /** Phase name prefix in the tracker; default "train". */
  phaseName?: string;
  log?: (line: string) => void;
}

/** Runs the epochs (see the module comment); the result has `trainModel`'s shape. */
export async function runEpochLoop(options: EpochLoopOptions): Promise<TrainResult> {
  const runner = new CallbackRunner(
    options.model,
    options.optimizer,
    options.callbacks ?? [],
    options.meter ?? null,
    options.log,
    options.phaseName ?? "train",
  );
  const startedMs = performance.now();
  let steps = 0;
  await runner.trainBegin({ epochs: options.epochs });
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      await runner.epochBegin(epoch);
      const epochStartMs = performance.now();
      const done = await options.trainEpoch(epoch);
      steps += done.steps;
      const loss = done.loss;
      const logs: EpochLogs = { epoch, loss, durationS: 0 };
      if (options.validate) {
        const validation = await options.validate(epoch);
        if (validation.valLoss !== undefined) logs.valLoss = validation.valLoss;
        if (validation.valAccuracy !== undefined) logs.valAccuracy = validation.valAccuracy;
      }
      logs.durationS = (performance.now() - epochStartMs) / 1000;
      if (await runner.epochEnd(logs)) break;
    }
  } finally {
    await runner.trainEnd();
  }
  return {
    history: runner.history,
    epochsRun: runner.history.length,
    steps,
    stopReason: runner.stopReason,
    warnings: runner.warnings,
    energyJ: runner.totalEnergyJ(),
    co2eG: runner.totalCo2eG(),
    durationS: (performance.now() - startedMs) / 1000,
  };
}
