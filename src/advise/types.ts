/**
 * The shapes `wattprint advise` works with: what a rule gets (the run, its timeline and the
 * resolved options), what it returns (findings with evidence, a saving range and a command,
 * or "not enough data" with what is missing), and the ranked report. Method: docs/advise.md.
 */
import type { RunRecord, TimelineSample } from "../record/run-record.js";
import type { OptimizeResult } from "./optimize-result.js";

/** Version of the `--json` output of `wattprint advise` (docs/advise.md). */
export const ADVICE_JSON_VERSION = 1;

/** The rules, in the order they run and are listed. */
export const RULE_IDS = [
  "idle-hardware",
  "time-shift",
  "region",
  "serving",
  "early-stopping",
  "pue",
] as const;

export type RuleId = (typeof RULE_IDS)[number];

/** What each rule checks, as listed in the output. */
export const RULE_TITLES: Readonly<Record<RuleId, string>> = Object.freeze({
  "idle-hardware": "Idle or underused hardware",
  "time-shift": "Time shifting",
  region: "Region",
  serving: "Serving: a compressed model",
  "early-stopping": "Training: early stopping",
  pue: "Data centre: PUE",
});

/** How sure a finding is; `confidenceReason` in the finding says why. */
export type Confidence = "high" | "medium" | "low";

/** One number from the run (or from the data a rule used) that supports a finding. */
export interface Evidence {
  /** What it is: "GPU 0 mean power in phase eval". */
  label: string;
  /** The value; null when unknown (never 0 for unknown). */
  value: number | string | null;
  /** "W", "J", "s", "gCO2e/kWh", "ratio", "" for a label. */
  unit: string;
  /** Where it comes from: "samples (nvml:0)", "run record: pue", "data/hardware/accelerators.csv". */
  source: string;
}

/** Energy and CO2e of one saving scenario. */
export interface SavingFigures {
  /** Joules not used (IT energy, or facility overhead for the PUE rule); 0 when only the CO2e changes. */
  energyJ: number | null;
  /** Grams CO2e not emitted. */
  co2eG: number | null;
}

/** What a change would save: the central figure, a range, and how they were derived. */
export interface Saving extends SavingFigures {
  low: SavingFigures;
  high: SavingFigures;
  /** What the figures cover: "this run", "per 1,000 inferences", "per 250,000 inferences". */
  basis: string;
  /** How central, low and high were derived, in words, with the formula. */
  derivation: string;
}

/** One recommendation. */
export interface Finding {
  rule: RuleId;
  /** Short imperative line: "Release GPU 0 during phase eval". */
  title: string;
  evidence: Evidence[];
  saving: Saving;
  confidence: Confidence;
  confidenceReason: string;
  /** The wattprint command (or the command line) that would apply or check the change. */
  command: string;
  /** Caveats and context. */
  notes: string[];
}

/** What a rule concluded. */
export type RuleStatus = "findings" | "ok" | "not-enough-data";

/** The outcome of one rule. */
export interface RuleOutcome {
  rule: RuleId;
  /** What the rule checks: "Idle or underused hardware". */
  title: string;
  status: RuleStatus;
  /** One line: what was found, why nothing was, or what is missing. */
  summary: string;
  /** Empty unless status is "findings". */
  findings: Finding[];
  /** For "not-enough-data": each missing input, in words. */
  missing: string[];
  /** For "not-enough-data": what would supply it. */
  hint: string | null;
}

/** Options of {@link adviseRun}; defaults are applied by `normalizeAdviseOptions`. */
export interface AdviseOptions {
  /** Time from the run's start by which it must have finished, seconds. Default 86 400 (24 h). */
  deadlineS?: number;
  /** Regions the job may run in (region rule). Default none: the rule reports what is missing. */
  regions?: string[];
  /** An intensity trace file for the run's region (time-shift and region rules) instead of the shipped data. */
  intensityFile?: string;
  /** A parsed `wattprint optimize --json` result (serving rule). Default none. */
  optimizeResult?: OptimizeResult | null;
  /** Inferences to scale the serving saving to. Default none: per 1,000 inferences. */
  inferences?: number;
  /** The validation metric for early stopping. Default: picked from the phases' metrics. */
  metric?: string;
  /** Whether the metric improves downwards ("min", losses) or upwards ("max"). Default: from its name. */
  metricMode?: "min" | "max";
  /** Epochs without improvement before stopping. Default {@link DEFAULT_PATIENCE}. */
  patience?: number;
  /** Smallest change that counts as an improvement, in the metric's unit. Default 0. */
  minDelta?: number;
  /** The PUE an efficient data centre reaches. Default {@link DEFAULT_EFFICIENT_PUE}. */
  efficientPue?: number;
  /** TDP of the run's GPUs, W, when the hardware table does not know them. Default none. */
  gpuTdpW?: number;
  /** How the CLI names the run in commands it prints ("1f2e3d4c", "run.json"). Default the run id. */
  runReference?: string;
}

/** {@link AdviseOptions} after defaults. */
export interface ResolvedAdviseOptions {
  deadlineS: number;
  regions: string[];
  intensityFile: string | null;
  optimizeResult: OptimizeResult | null;
  inferences: number | null;
  metric: string | null;
  metricMode: "min" | "max" | null;
  patience: number;
  minDelta: number;
  efficientPue: number;
  gpuTdpW: number | null;
  runReference: string;
}

/** Default deadline: a job may finish up to 24 h after it started. */
export const DEFAULT_DEADLINE_S = 86_400;

/** Default early-stopping patience, epochs (a common choice; Keras' own default is 0). */
export const DEFAULT_PATIENCE = 3;

/**
 * PUE of an efficient data centre: Google's fleet-wide trailing-twelve-month PUE for 2023
 * (1.10), the lowest published figure in data/grid/cloud-regions.csv.
 */
export const DEFAULT_EFFICIENT_PUE = 1.1;

/** What every rule receives. */
export interface RuleContext {
  run: RunRecord;
  /** The run's timeline; null when the input holds none (a run.json file). */
  samples: TimelineSample[] | null;
  /** Why the timeline is missing or empty; null when samples are there. */
  samplesNote: string | null;
  options: ResolvedAdviseOptions;
}

/** The report of {@link adviseRun}. */
export interface AdviceReport {
  adviceVersion: number;
  run: {
    id: string;
    command: string[];
    startedAt: string;
    durationS: number;
    /** Energy attributed to the run, J (null: not measured). */
    energyJ: number | null;
    co2eG: number | null;
    region: string;
    intensityGPerKWh: number;
    pue: number;
    /** Where the run was read. */
    origin: string;
  };
  /** The options as resolved (echoed so the figures can be checked). */
  options: Omit<ResolvedAdviseOptions, "optimizeResult"> & { optimizeResult: string | null };
  /** Every finding, ranked by CO2e saving (then energy), largest first. */
  findings: Finding[];
  /** Each rule's outcome, in rule order. */
  rules: RuleOutcome[];
}
