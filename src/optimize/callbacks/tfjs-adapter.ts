import type * as tfl from "@tensorflow/tfjs-layers";
import type { EnergyMeter } from "../energy-meter.js";
import { CallbackRunner } from "./callback-runner.js";
import type { EpochLogs, TrainingCallback } from "./training-callback.js";

/** The green callbacks as one TF.js `model.fit` callback, plus what they reported. */
export interface TfjsCallbackBridge {
  /** Pass as `model.fit(x, y, { callbacks: bridge.callback })`. */
  callback: tfl.CustomCallbackArgs;
  /** Epoch logs with energy, as the callbacks saw them. */
  history: readonly EpochLogs[];
  warnings: readonly string[];
  /** Why training was stopped early, or null. */
  stopReason: () => string | null;
}

/**
 * Wraps green-training callbacks for TF.js's own `model.fit`: each epoch is measured with
 * `meter` (when given), TF.js's logs (`loss`, `val_loss`, `acc`, `val_acc`) are mapped to
 * {@link EpochLogs}, and a stop request sets `model.stopTraining`.
 */
export function tfjsCallbacks(
  model: tfl.LayersModel,
  callbacks: readonly TrainingCallback[],
  options: { epochs: number; meter?: EnergyMeter | null; log?: (line: string) => void },
): TfjsCallbackBridge {
  const runner = new CallbackRunner(
    model,
    () => model.optimizer ?? null,
    callbacks,
    options.meter ?? null,
    options.log,
  );
  const started = new Map<number, number>();
  const callback: tfl.CustomCallbackArgs = {
    onTrainBegin: async () => runner.trainBegin({ epochs: options.epochs }),
    onEpochBegin: async (epoch) => {
      started.set(epoch, performance.now());
      await runner.epochBegin(epoch);
    },
    onEpochEnd: async (epoch, logs = {}) => {
      const value = (...names: string[]) => {
        for (const name of names) {
          const v = logs[name];
          if (typeof v === "number") return v;
        }
        return undefined;
      };
      const epochLogs: EpochLogs = {
        epoch,
        loss: value("loss") ?? Number.NaN,
        durationS: (performance.now() - (started.get(epoch) ?? performance.now())) / 1000,
      };
      const accuracy = value("acc", "accuracy");
      const valLoss = value("val_loss");
      const valAccuracy = value("val_acc", "val_accuracy");
      if (accuracy !== undefined) epochLogs.accuracy = accuracy;
      if (valLoss !== undefined) epochLogs.valLoss = valLoss;
      if (valAccuracy !== undefined) epochLogs.valAccuracy = valAccuracy;
      if (await runner.epochEnd(epochLogs)) model.stopTraining = true;
    },
    onTrainEnd: async () => runner.trainEnd(),
  };
  return {
    callback,
    history: runner.history,
    warnings: runner.warnings,
    stopReason: () => runner.stopReason,
  };
}
