/**
 * `adviseRun`: checks a run against every rule (idle hardware, time shifting, region,
 * serving, early stopping, PUE), each with the run's own measurements and wattprint's
 * estimators and schedulers, and ranks the findings by the CO2e they would save. A rule
 * without the data it needs says what is missing; the others still run. Method:
 * docs/advise.md.
 */
import { WattprintError, isWattprintError } from "../errors.js";
import { checkPue as checkPueValue } from "../estimate/assumptions.js";
import { resolveRegion } from "../grid/regions.js";
import type { RunRecord, TimelineSample } from "../record/run-record.js";
import { checkEarlyStopping } from "./early-stopping.js";
import { checkIdleHardware } from "./idle-hardware.js";
import { notEnoughData } from "./outcome.js";
import { checkPue } from "./pue.js";
import { checkRegion } from "./region.js";
import { checkServing } from "./serving.js";
import { checkTimeShift } from "./time-shift.js";
import {
  ADVICE_JSON_VERSION,
  DEFAULT_DEADLINE_S,
  DEFAULT_EFFICIENT_PUE,
  DEFAULT_PATIENCE,
  RULE_IDS,
  RULE_TITLES,
  type AdviceReport,
  type AdviseOptions,
  type Finding,
  type ResolvedAdviseOptions,
  type RuleContext,
  type RuleId,
  type RuleOutcome,
} from "./types.js";

/** The run to advise on: a record, its timeline when there is one, and where it was read. */
export interface AdviseInput {
  run: RunRecord;
  /** The run's timeline; null when there is none (a run.json file). */
  samples: TimelineSample[] | null;
  /** Why the timeline is missing; default "no samples" when `samples` is null or empty. */
  samplesNote?: string | null;
  /** "run store …", "file run.json". Default "library call". */
  origin?: string;
}

const RULES: Record<RuleId, (context: RuleContext) => RuleOutcome | Promise<RuleOutcome>> = {
  "idle-hardware": checkIdleHardware,
  "time-shift": checkTimeShift,
  region: checkRegion,
  serving: checkServing,
  "early-stopping": checkEarlyStopping,
  pue: checkPue,
};

/**
 * Checks `input.run` against every rule and ranks the findings.
 * A rule that fails with a WattprintError (data it cannot use) reports "not enough data"
 * with the error's message; the other rules still run.
 * @throws WattprintError `USAGE` / `UNKNOWN_REGION` for options that cannot be used.
 */
export async function adviseRun(
  input: AdviseInput,
  options: AdviseOptions = {},
): Promise<AdviceReport> {
  const resolved = normalizeAdviseOptions(options, input.run);
  const samples = input.samples;
  const context: RuleContext = {
    run: input.run,
    samples,
    samplesNote:
      samples !== null && samples.length > 0
        ? null
        : (input.samplesNote ??
          (samples === null ? "the input holds no timeline" : "the run has no samples")),
    options: resolved,
  };
  const rules: RuleOutcome[] = [];
  for (const id of RULE_IDS) {
    try {
      rules.push(await RULES[id](context));
    } catch (error) {
      if (!isWattprintError(error)) throw error;
      rules.push(notEnoughData(id, RULE_TITLES[id], [error.message], error.hint ?? null));
    }
  }
  const run = input.run;
  const { optimizeResult, ...echoed } = resolved;
  return {
    adviceVersion: ADVICE_JSON_VERSION,
    run: {
      id: run.id,
      command: run.command,
      startedAt: run.startedAt,
      durationS: run.durationS,
      energyJ: run.energyJ.total,
      co2eG: run.co2eG,
      region: run.region,
      intensityGPerKWh: run.intensityGPerKWh,
      pue: run.pue,
      origin: input.origin ?? "library call",
    },
    options: { ...echoed, optimizeResult: optimizeResult?.origin ?? null },
    findings: rankFindings(rules.flatMap((outcome) => outcome.findings)),
    rules,
  };
}

/**
 * Findings by CO2e saved (central figure), largest first; unknown CO2e after known; ties by
 * energy saved, then by rule order.
 */
export function rankFindings(findings: readonly Finding[]): Finding[] {
  const order = (finding: Finding) => RULE_IDS.indexOf(finding.rule);
  return [...findings].sort((a, b) => {
    const ca = a.saving.co2eG;
    const cb = b.saving.co2eG;
    if (ca !== cb) {
      if (ca === null) return 1;
      if (cb === null) return -1;
      if (cb !== ca) return cb - ca;
    }
    const ea = a.saving.energyJ ?? -Infinity;
    const eb = b.saving.energyJ ?? -Infinity;
    if (ea !== eb) return eb - ea;
    return order(a) - order(b);
  });
}

/**
 * Applies the defaults of {@link AdviseOptions} and checks every value.
 * @throws WattprintError `USAGE` for a value out of range, `UNKNOWN_REGION` for a region
 *   that is not in the tables.
 */
export function normalizeAdviseOptions(
  options: AdviseOptions,
  run: RunRecord,
): ResolvedAdviseOptions {
  const deadlineS = options.deadlineS ?? DEFAULT_DEADLINE_S;
  requirePositive(deadlineS, "--deadline", "give a deadline such as 24h or 3d");
  const regions = (options.regions ?? [])
    .map((region) => region.trim())
    .filter((region) => region !== "");
  for (const region of regions) resolveRegion(region);
  const patience = options.patience ?? DEFAULT_PATIENCE;
  if (!Number.isInteger(patience) || patience < 1) {
    throw new WattprintError(
      "USAGE",
      `invalid --patience ${String(patience)}: must be a whole number ≥ 1`,
      {
        hint: "give the epochs without improvement to wait, such as --patience 3",
      },
    );
  }
  const minDelta = options.minDelta ?? 0;
  if (!Number.isFinite(minDelta) || minDelta < 0) {
    throw new WattprintError("USAGE", `invalid --min-delta ${String(minDelta)}: must be ≥ 0`, {
      hint: "give the smallest change that counts as an improvement, such as --min-delta 0.001",
    });
  }
  const efficientPue = options.efficientPue ?? DEFAULT_EFFICIENT_PUE;
  checkPueValue(efficientPue);
  if (options.gpuTdpW !== undefined)
    requirePositive(options.gpuTdpW, "--gpu-tdp", "give the GPU's TDP in watts, such as 700");
  if (options.inferences !== undefined)
    requirePositive(options.inferences, "--inferences", "give a number of inferences, such as 1e6");
  if (
    options.metricMode !== undefined &&
    options.metricMode !== "min" &&
    options.metricMode !== "max"
  ) {
    throw new WattprintError("USAGE", `invalid --mode "${String(options.metricMode)}"`, {
      hint: "use min (losses) or max (accuracies)",
    });
  }
  return {
    deadlineS,
    regions,
    intensityFile: options.intensityFile ?? null,
    optimizeResult: options.optimizeResult ?? null,
    inferences: options.inferences ?? null,
    metric: options.metric ?? null,
    metricMode: options.metricMode ?? null,
    patience,
    minDelta,
    efficientPue,
    gpuTdpW: options.gpuTdpW ?? null,
    runReference: options.runReference ?? run.id,
  };
}

function requirePositive(value: number, flag: string, hint: string): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new WattprintError("USAGE", `invalid ${flag} ${String(value)}: must be greater than 0`, {
      hint,
    });
  }
}
