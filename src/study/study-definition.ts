/**
 * What a study is made of: its quality metrics and tolerance, the variants it trains, and
 * the context the harness ({@link runStudy}) gives them (data splits, the energy meter,
 * the settings). A variant returns what it measured; the harness turns that into the
 * comparison, the Pareto fronts, the finding and the files.
 */
import type { Environment } from "../config/settings.js";
import type { Tracker } from "../api/track.js";
import type { DataSplit, Dataset } from "../optimize/datasets.js";
import type { EnergyMeter } from "../optimize/energy-meter.js";
import type { Predictor } from "../optimize/measure.js";
import type { TfBackendName } from "../optimize/runtime.js";
import type { TrainResult } from "../optimize/train.js";
import type { QualityMetric, StudyName, StudyVariantResult } from "./study-result.js";

/** Options of a study run (library and CLI). */
export interface StudyOptions {
  /** Epochs of baseline training (variants with early stopping may stop sooner); default per study. */
  epochs?: number;
  /** Seed of data splits, weights, batches and noise; default 1. Same seed → same quality figures. */
  seed?: number;
  /** A tiny configuration (few samples and epochs, short measurements) that runs in seconds; default false. */
  quick?: boolean;
  /** Where results.json, report.html and the charts go; null or undefined: nothing written. */
  outDir?: string | null;
  /** TF.js backend; default "auto" (wasm, else cpu). */
  backend?: TfBackendName | "auto";
  /** Grid region for CO2e (FR, US-CA, …); default the tracker's default. */
  region?: string;
  /** Settings source of the tracker made here; default process.env. */
  env?: Environment;
  /** Tracker to measure with; default one made here (nothing saved to the run store). */
  tracker?: Tracker;
  /** Least seconds of inference per energy measurement (3 windows, median); default 3 (quick: 0.3). */
  energyMinDurationS?: number;
  /**
   * Inference measurements per variant: one right after it is trained, the others at the
   * end in rounds over all variants (alternating order), so that a change in the machine's
   * other load hits every variant alike; the figure is their median. Default 3 (quick: 1).
   */
  inferenceRounds?: number;
  /** Seconds of timing per latency figure; default 0.5 (quick: 0.05). */
  latencyDurationS?: number;
  /** Use at most this many training / test samples; default all (quick: 400 / 150). */
  trainLimit?: number;
  testLimit?: number;
  /** Only these variants (the baseline always runs); default all. */
  variants?: string[];
  /** The command line recorded in the result; default `wattprint study <name> …` from the options. */
  command?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What the harness gives a study's code. */
export interface StudyContext {
  dataset: Dataset;
  /** Training samples (the training split less `validation`). */
  fit: DataSplit;
  /** Held out of the training split: early stopping and learning-rate decisions. */
  validation: DataSplit;
  /** The test split: every reported quality figure. */
  test: DataSplit;
  seed: number;
  epochs: number;
  quick: boolean;
  batchSize: number;
  meter: EnergyMeter;
  log: (line: string) => void;
  /** Adds a warning to the result. */
  warn: (message: string) => void;
  /** Records shared cost that belongs to no variant (the GAN's judge). */
  setOverhead: (overhead: {
    description: string;
    energyJ: number | null;
    durationS: number;
  }) => void;
}

/** What one variant measured, as its `run` returns it. */
export interface VariantOutcome {
  params: number;
  quality: Record<string, number | null>;
  training: TrainResult;
  /** Epochs the variant was allowed. */
  epochsPlanned: number;
  /** What the training energy includes. */
  trainingIncludes: string;
  /** What the harness measures inference with (optimize's `measurePredictor`): the deployed model and its inputs. */
  inference: { predictor: Predictor; inputs: DataSplit };
  notes?: string[];
}

/** One variant of a study. */
export interface StudyVariantPlan {
  name: string;
  technique: string;
  description: string;
  run: (context: StudyContext) => Promise<VariantOutcome>;
}

/** A study: metrics, tolerance, variants. */
export interface StudyDefinition {
  name: StudyName;
  title: string;
  defaultEpochs: number;
  quickEpochs: number;
  batchSize: number;
  primary: QualityMetric;
  metrics: QualityMetric[];
  /** The tolerance in words. */
  tolerance: string;
  /** How quality is measured, in words. */
  method: string;
  /** What one inference is ("classify one image"). */
  inferenceUnit: string;
  /** Null when `variant` is within the tolerance of `baseline`, else why not. */
  checkTolerance: (variant: StudyVariantResult, baseline: StudyVariantResult) => string | null;
  /** Unmeasured warm-up (JIT, kernels) so the first variant does not pay it; default none. */
  warmUp?: (context: StudyContext) => Promise<void>;
  /** Shared preparation before the variants (measured by the study itself if it costs energy). */
  prepare?: (context: StudyContext) => Promise<void>;
  /** The variants, baseline first. */
  variants: StudyVariantPlan[];
  /** Frees the study's models. */
  dispose: () => void;
}
