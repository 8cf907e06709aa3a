import type { EpochLogs, TrainingCallback } from "./training-callback.js";

/** One line per epoch, as {@link EnergyLogger} writes it. */
export interface EpochEnergyEntry {
  epoch: number;
  energyJ: number | null;
  co2eG: number | null;
  /** Running totals over the epochs so far (null once any epoch was unmeasured). */
  totalEnergyJ: number | null;
  totalCo2eG: number | null;
  loss: number;
  valAccuracy?: number;
}

/**
 * Logs each epoch's energy and CO2e (as measured by the training driver's tracker) with
 * running totals, to a function (default: nothing) and to `entries`.
 */
export class EnergyLogger implements TrainingCallback {
  readonly name = "energy-logger";
  readonly entries: EpochEnergyEntry[] = [];
  private readonly log: (line: string) => void;

  constructor(options: { log?: (line: string) => void } = {}) {
    this.log = options.log ?? (() => {});
  }

  onTrainBegin(): void {
    this.entries.length = 0;
  }

  onEpochEnd(logs: EpochLogs): void {
    const previous = this.entries[this.entries.length - 1];
    const energyJ = logs.energyJ ?? null;
    const co2eG = logs.co2eG ?? null;
    const add = (total: number | null | undefined, value: number | null) =>
      value === null || total === null ? null : (total ?? 0) + value;
    const entry: EpochEnergyEntry = {
      epoch: logs.epoch,
      energyJ,
      co2eG,
      totalEnergyJ: add(previous === undefined ? 0 : previous.totalEnergyJ, energyJ),
      totalCo2eG: add(previous === undefined ? 0 : previous.totalCo2eG, co2eG),
      loss: logs.loss,
      ...(logs.valAccuracy === undefined ? {} : { valAccuracy: logs.valAccuracy }),
    };
    this.entries.push(entry);
    const accuracy =
      logs.valAccuracy === undefined
        ? ""
        : `, val accuracy ${(logs.valAccuracy * 100).toFixed(2)}%`;
    this.log(
      `epoch ${logs.epoch + 1}: loss ${logs.loss.toFixed(4)}${accuracy}, ${formatJ(energyJ)}, ${formatG(co2eG)} (total ${formatJ(entry.totalEnergyJ)}, ${formatG(entry.totalCo2eG)})`,
    );
  }
}

function formatJ(value: number | null): string {
  return value === null ? "energy unknown" : `${Number(value.toPrecision(3))} J`;
}

function formatG(value: number | null): string {
  if (value === null) return "CO2e unknown";
  return value < 1
    ? `${Number((value * 1000).toPrecision(3))} mg CO2e`
    : `${Number(value.toPrecision(3))} g CO2e`;
}
