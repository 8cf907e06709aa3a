/** The result record of a `wattprint study` run (written as results.json). */
import type { TfBackendName } from "../optimize/runtime.js";

/** The studies wattprint ships. */
export type StudyName = "transformer" | "gan" | "vae";

/** A quality figure a study reports. */
export interface QualityMetric {
  /** Key in {@link StudyVariantResult.quality} ("accuracy", "kid", "negElboNats"). */
  key: string;
  /** Words for tables and charts ("test accuracy (%)"). */
  label: string;
  /** Unit of the stored value ("share 0..1", "nats per image"). */
  unit: string;
  better: "higher" | "lower";
  /** How a value is shown ("97.2%", "1.33"). */
  percent?: boolean;
}

/** Energy and time of training one variant. */
export interface TrainingFigures {
  /** Sum of the epochs' energy attributed to this process, joules; null when any epoch was unmeasured. */
  energyJ: number | null;
  co2eG: number | null;
  durationS: number;
  epochsRun: number;
  epochsPlanned: number;
  /** Why training ended before the planned epochs (early stopping), or null. */
  stopReason: string | null;
  /** Energy of each epoch, joules (null where unmeasured). */
  epochEnergyJ: (number | null)[];
  /**
   * CPU time of this process while the variant trained and its quality was evaluated,
   * seconds (user + system, all threads): the quantity a CPU power model scales, and one
   * the machine's other load does not change.
   */
  cpuS: number;
  /** What the figure includes ("training and per-epoch validation", "distillation + the teacher's outputs"). */
  includes: string;
}

/** Energy and time of inference with one variant. */
export interface InferenceFigures {
  /** What one inference is ("classify one image", "generate one image", "encode and decode one image"). */
  unit: string;
  /** Energy per 1,000 inferences at batch `batchSize`, joules: median of the windows; null when unmeasured. */
  energyJPer1k: number | null;
  /** Lowest and highest window, joules per 1,000. */
  energyJPer1kRange: [number, number] | null;
  co2eGPer1k: number | null;
  /** CPU time of this process per 1,000 inferences, seconds. */
  cpuSPer1k: number | null;
  /** Median milliseconds per call at batch 1 and at batch 64. */
  latencyMsP50: { batch1: number; batch64: number };
  batchSize: number;
  inferencesMeasured: number;
  /** Measurement rounds the figures are the median of. */
  rounds: number;
}

/** One variant of a study, trained and measured. */
export interface StudyVariantResult {
  name: string;
  /** What the variant changes, in one line. */
  description: string;
  /** The technique ("baseline", "linear attention", "early stopping on KID"). */
  technique: string;
  /** Weights (biases included) of the deployed model (for a GAN, the generator). */
  params: number;
  /** Quality figures by {@link QualityMetric.key}; null when not computed. */
  quality: Record<string, number | null>;
  training: TrainingFigures;
  inference: InferenceFigures;
  /** Saving against the baseline, percent (positive: less energy); null when unknown or for the baseline. */
  trainingSavingPct: number | null;
  inferenceSavingPct: number | null;
  /** Quality within the study's tolerance of the baseline's (the baseline: true). */
  withinTolerance: boolean;
  /** Why it is outside the tolerance, when it is. */
  toleranceNote: string | null;
  /** On the Pareto front of quality against training energy / against inference energy. */
  paretoTraining: boolean;
  paretoInference: boolean;
  /** Anything worth knowing about this variant (warnings of its training, extra figures). */
  notes: string[];
}

/** A variant that failed; the study went on without it. */
export interface SkippedStudyVariant {
  name: string;
  reason: string;
}

/** What a study run measured (results.json). */
export interface StudyResult {
  schema: "wattprint-study/1";
  study: StudyName;
  title: string;
  wattprintVersion: string;
  status: "running" | "complete" | "failed";
  error: string | null;
  startedAt: string;
  /** Wall time of the whole study, seconds (null while running). */
  durationS: number | null;
  /** The resolved settings: a run with the same settings and seed reproduces the quality figures. */
  settings: { seed: number; epochs: number; quick: boolean; batchSize: number; command: string };
  dataset: {
    name: string;
    source: string;
    scaling: string;
    inputShape: number[];
    classes: number;
    trainSamples: number;
    validationSamples: number;
    testSamples: number;
  };
  runtime: { backend: TfBackendName | null; warnings: string[] };
  measurement: {
    /** How energy was obtained ("cpu: model (tdp-model:…)"). */
    energySource: string;
    energyMinDurationS: number;
    energyWindows: number;
    /** Inference measurements per variant (the option `inferenceRounds`). */
    inferenceRounds: number;
    note: string;
  };
  quality: {
    /** The metric the Pareto fronts and the tolerance use. */
    primary: QualityMetric;
    metrics: QualityMetric[];
    /** The tolerance in words ("accuracy at most 2 points below the baseline's"). */
    tolerance: string;
    /** How the quality is measured (data, samples, definitions). */
    method: string;
  };
  /** Shared cost not in any variant (the GAN's feature classifier), joules; null when none. */
  overhead: { description: string; energyJ: number | null; durationS: number } | null;
  variants: StudyVariantResult[];
  skipped: SkippedStudyVariant[];
  /**
   * The answer to "did an efficient variant use at least 30% less training or inference
   * energy within the tolerance?": the variant, or null with the reason none did.
   */
  finding: { variant: string | null; text: string };
  warnings: string[];
  files: {
    results: string | null;
    report: string | null;
    trainingChart: string | null;
    inferenceChart: string | null;
  };
}

/** Least saving, percent, that counts as a finding (the bar). */
export const FINDING_SAVING_PCT = 30;
