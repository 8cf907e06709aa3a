/**
 * Rule "early-stopping": the epochs a run spent after its validation metric stopped
 * improving, from the metrics its phases reported, and the energy and CO2e they cost.
 * Formulas and thresholds: docs/advise.md, "Early stopping".
 */
import type { PhaseRecord } from "../record/run-record.js";
import { trimNumber } from "../units/energy.js";
import { commandLine } from "./command-line.js";
import { notEnoughData, nothingFound, orderedRange, runCo2eG, withFindings } from "./outcome.js";
import { RULE_TITLES, type Confidence, type RuleContext, type RuleOutcome } from "./types.js";

const TITLE = RULE_TITLES["early-stopping"];

/** Fewest phases reporting the metric for the rule to judge. */
export const MIN_METRIC_PHASES = 3;

/** Metric names that improve downwards. */
const LOWER_IS_BETTER = /loss|err|perplexity|ppl|mae|mse|rmse|wer|cer|distance/i;
/** Metric names that are validation metrics. */
const VALIDATION = /^(val|valid|validation|eval|dev|test)[_\-/. ]/i;

/** One epoch (a phase that reported the metric). */
interface Epoch {
  phase: PhaseRecord;
  value: number;
}

/** Runs the rule. */
export function checkEarlyStopping(context: RuleContext): RuleOutcome {
  const { run, options } = context;
  const withMetrics = run.phases.filter(
    (phase) =>
      phase.endedAt !== null &&
      phase.metrics !== undefined &&
      Object.keys(phase.metrics).length > 0,
  );
  if (withMetrics.length === 0) {
    return notEnoughData(
      "early-stopping",
      TITLE,
      ["a validation metric per epoch: no phase of the run reports metrics"],
      'report one when each epoch ends: "metrics" in the marks file or Tracker.endPhase(name, { val_loss })',
    );
  }
  const names = [...new Set(withMetrics.flatMap((phase) => Object.keys(phase.metrics ?? {})))];
  const metric = options.metric ?? pickMetric(names);
  if (metric === null || !names.includes(metric)) {
    return notEnoughData(
      "early-stopping",
      TITLE,
      [
        metric === null
          ? `a validation metric: the phases report ${names.join(", ")}, none named val_*`
          : `the metric ${metric}: the phases report ${names.join(", ")}`,
      ],
      "give --metric NAME (and --mode min|max)",
    );
  }
  const epochs: Epoch[] = withMetrics
    .filter((phase) => Number.isFinite(phase.metrics?.[metric]))
    .map((phase) => ({ phase, value: phase.metrics?.[metric] as number }))
    .sort((a, b) => Date.parse(a.phase.startedAt) - Date.parse(b.phase.startedAt));
  if (epochs.length < MIN_METRIC_PHASES) {
    return notEnoughData(
      "early-stopping",
      TITLE,
      [`at least ${MIN_METRIC_PHASES} phases reporting ${metric} (found ${epochs.length})`],
      "mark each epoch as a phase and report the metric when it ends",
    );
  }
  const mode = options.metricMode ?? (LOWER_IS_BETTER.test(metric) ? "min" : "max");
  const better = (value: number, best: number) =>
    mode === "min" ? value < best - options.minDelta : value > best + options.minDelta;
  const patience = options.patience;
  const stopAt = (wait: number) => stoppingEpoch(epochs, better, wait);
  const stop = stopAt(patience);
  if (stop === null) {
    return nothingFound(
      "early-stopping",
      TITLE,
      `${metric} improved within every ${patience} consecutive epochs: early stopping would not have stopped the run`,
    );
  }
  const missingEnergy = epochs.filter((epoch) => epoch.phase.energyJ.total === null);
  if (missingEnergy.length > 0) {
    return notEnoughData(
      "early-stopping",
      TITLE,
      [`the energy of phase ${missingEnergy.map((epoch) => epoch.phase.name).join(", ")}`],
      null,
    );
  }
  const after = (index: number | null) => (index === null ? [] : epochs.slice(index + 1));
  const energyOf = (list: Epoch[]) =>
    list.reduce((sum, epoch) => sum + (epoch.phase.energyJ.total ?? 0), 0);
  const co2eOf = (list: Epoch[]) =>
    list.reduce(
      (sum, epoch) => sum + (epoch.phase.co2eG ?? runCo2eG(run, epoch.phase.energyJ.total ?? 0)),
      0,
    );
  const skipped = after(stop);
  const best = bestEpoch(epochs, better);
  const relaxed = after(stopAt(2 * patience));
  const oracle = after(best);
  const energy = orderedRange(energyOf(skipped), energyOf(relaxed), energyOf(oracle));
  const co2e = orderedRange(co2eOf(skipped), co2eOf(relaxed), co2eOf(oracle));
  const bestBeforeStop = bestEpoch(epochs.slice(0, stop + 1), better);
  const lostImprovement = best > stop;
  const bestValue = (epochs[best] as Epoch).value;
  const keptValue = (epochs[bestBeforeStop] as Epoch).value;
  const confidence: Confidence = lostImprovement ? "low" : skipped.length >= 2 ? "high" : "medium";
  const notes = [
    `Early stopping on ${metric} (${mode === "min" ? "lower" : "higher"} is better, min delta ${trimNumber(options.minDelta)}) with patience ${patience} would have stopped after epoch ${stop + 1} of ${epochs.length}, keeping the weights of epoch ${bestBeforeStop + 1}.`,
  ];
  if (lostImprovement) {
    notes.push(
      `${metric} improved again later (best ${trimNumber(bestValue)} at epoch ${best + 1}, against ${trimNumber(keptValue)} when stopping): stopping would have cost that improvement.`,
    );
  }
  const last = epochs[epochs.length - 1] as Epoch;
  if (better(bestValue, last.value)) {
    notes.push(
      `The last epoch ended worse than the best (${trimNumber(last.value)} against ${trimNumber(bestValue)}): keep the best weights (restore_best_weights).`,
    );
  }
  return withFindings(
    "early-stopping",
    TITLE,
    `${skipped.length} epoch${skipped.length === 1 ? "" : "s"} after ${metric} stopped improving`,
    [
      {
        rule: "early-stopping",
        title: `Stop training after epoch ${stop + 1}: ${skipped.length} of ${epochs.length} epochs came after ${metric} stopped improving`,
        evidence: [
          { label: "metric", value: metric, unit: "", source: "phases' metrics" },
          {
            label: "epochs (phases reporting it)",
            value: epochs.length,
            unit: "",
            source: "run record: phases",
          },
          {
            label: `best ${metric}`,
            value: bestValue,
            unit: "",
            source: `phase ${(epochs[best] as Epoch).phase.name}`,
          },
          {
            label: `${metric} at the last epoch`,
            value: last.value,
            unit: "",
            source: `phase ${last.phase.name}`,
          },
          { label: "patience", value: patience, unit: "epochs", source: "--patience" },
          {
            label: "epochs early stopping would skip",
            value: skipped.length,
            unit: "",
            source: "computed",
          },
          {
            label: "their energy",
            value: energy.central,
            unit: "J",
            source: "run record: phases' energyJ.total",
          },
        ],
        saving: {
          energyJ: energy.central,
          co2eG: co2e.central,
          low: { energyJ: energy.low, co2eG: co2e.low },
          high: { energyJ: energy.high, co2eG: co2e.high },
          basis: "this run",
          derivation: `sum of the energy (and CO2e) of the epochs after early stopping would have stopped: central with patience ${patience}, low with patience ${2 * patience}, high stopping right after the best epoch (patience 0, in hindsight)`,
        },
        confidence,
        confidenceReason: lostImprovement
          ? `${metric} improved again after the stopping point`
          : `${metric} did not improve again after epoch ${best + 1}`,
        command: retrainCommand(run.command, stop + 1, epochs.length),
        notes,
      },
    ],
  );
}

/**
 * The index of the epoch after which early stopping with `patience` stops (the epoch where
 * `patience` epochs in a row brought no improvement), or null when it never would.
 */
export function stoppingEpoch(
  values: readonly { value: number }[],
  better: (value: number, best: number) => boolean,
  patience: number,
): number | null {
  const first = values[0];
  if (first === undefined) return null;
  let best = first.value;
  let wait = 0;
  for (let index = 1; index < values.length; index += 1) {
    const value = (values[index] as { value: number }).value;
    if (better(value, best)) {
      best = value;
      wait = 0;
    } else {
      wait += 1;
      if (wait >= Math.max(patience, 0) && index < values.length - 1) return index;
    }
  }
  return null;
}

/** Index of the best epoch (the first to reach the best value, improvements by more than min delta). */
function bestEpoch(
  values: readonly { value: number }[],
  better: (value: number, best: number) => boolean,
) {
  let bestIndex = 0;
  for (let index = 1; index < values.length; index += 1) {
    if (
      better(
        (values[index] as { value: number }).value,
        (values[bestIndex] as { value: number }).value,
      )
    ) {
      bestIndex = index;
    }
  }
  return bestIndex;
}

/** Picks the validation metric: val_loss when present, else the first val_* name. */
function pickMetric(names: readonly string[]): string | null {
  if (names.includes("val_loss")) return "val_loss";
  return names.find((name) => VALIDATION.test(name)) ?? null;
}

/** The run's command with its epoch count lowered when it has an --epochs flag. */
function retrainCommand(command: readonly string[], epochs: number, ranEpochs: number): string {
  const flag = /^--(epochs|num[_-]epochs|max[_-]epochs|n[_-]epochs)(=(\d+))?$/;
  const words = [...command];
  for (let index = 0; index < words.length; index += 1) {
    const match = flag.exec(words[index] as string);
    if (match === null) continue;
    if (match[3] !== undefined && Number(match[3]) === ranEpochs) {
      words[index] = `--${match[1]}=${epochs}`;
      return commandLine(["wattprint", "track", "--", ...words]);
    }
    if (match[3] === undefined && Number(words[index + 1]) === ranEpochs) {
      words[index + 1] = String(epochs);
      return commandLine(["wattprint", "track", "--", ...words]);
    }
  }
  return commandLine(["wattprint", "track", "--", ...command]);
}
