/**
 * `wattprint study` as a library call: load the data, train and measure each variant of a
 * study with optimize's tools (training loop or the study's own steps through the shared
 * callbacks, the tracker's {@link EnergyMeter}, `measurePredictor`), compare them with the
 * baseline (savings, quality tolerance, Pareto fronts from optimize's `paretoFront`), and
 * write results.json after every variant, then the charts and the HTML report. A variant
 * that fails is skipped with its reason; a failure of the baseline ends the study with
 * what was measured so far on disk. Importing this module does not load TensorFlow.js;
 * running a study does.
 */
import { accessSync, constants, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { Tracker } from "../api/track.js";
import { WattprintError, describeError } from "../errors.js";
import { loadDigits } from "../optimize/datasets.js";
import { EnergyMeter, describeEnergySource } from "../optimize/energy-meter.js";
import type { InferenceMeasurement } from "../optimize/measure.js";
import { percentile } from "../optimize/stats.js";
import { paretoFront } from "../optimize/pareto.js";
import { writeFileAtomic } from "../report/write-file.js";
import { wattprintVersion } from "../version.js";
import type {
  StudyContext,
  StudyDefinition,
  StudyOptions,
  VariantOutcome,
  StudyVariantPlan,
} from "./study-definition.js";
import {
  FINDING_SAVING_PCT,
  type InferenceFigures,
  type StudyName,
  type StudyResult,
  type StudyVariantResult,
} from "./study-result.js";
import { formatQuality } from "./format.js";
import { renderStudyChart } from "./study-chart.js";
import { renderStudyHtml } from "./study-report.js";

/** The studies by name, loaded when asked for. */
const STUDIES: Record<StudyName, () => Promise<(options: StudyOptions) => StudyDefinition>> = {
  transformer: async () => (await import("./transformer-study.js")).transformerStudy,
  gan: async () => (await import("./gan-study.js")).ganStudy,
  vae: async () => (await import("./vae-study.js")).vaeStudy,
};

/** Names of the studies, in the order the help lists them. */
export const STUDY_NAMES = Object.keys(STUDIES) as StudyName[];

/** Whether `name` is a study wattprint ships. */
export function isStudyName(name: string): name is StudyName {
  return Object.prototype.hasOwnProperty.call(STUDIES, name);
}

const QUICK_TRAIN_LIMIT = 400;
const QUICK_TEST_LIMIT = 150;
const VALIDATION_FRACTION = 0.1;

/**
 * Runs one study end to end (see the module comment) and returns its result.
 *
 * @throws WattprintError USAGE for an unknown study or bad options, OUTPUT_UNWRITABLE when
 *   `outDir` cannot be written (before anything runs), and the baseline's error when the
 *   baseline fails (after writing what was measured).
 */
export async function runStudy(name: string, options: StudyOptions = {}): Promise<StudyResult> {
  if (!isStudyName(name)) {
    throw new WattprintError("USAGE", `unknown study "${name}"`, {
      hint: `choose one of: ${STUDY_NAMES.join(", ")}`,
    });
  }
  validateStudyOptions(options);
  return runStudyDefinition((await STUDIES[name]())(options), options);
}

/**
 * Runs a study given by its definition (the shipped ones through {@link runStudy}; a
 * custom study built on the same harness).
 */
export async function runStudyDefinition(
  definition: StudyDefinition,
  options: StudyOptions = {},
): Promise<StudyResult> {
  validateStudyOptions(options);
  const name = definition.name;
  const log = options.log ?? (() => {});
  const quick = options.quick ?? false;
  const seed = options.seed ?? 1;
  const epochs = options.epochs ?? (quick ? definition.quickEpochs : definition.defaultEpochs);
  const energyMinDurationS = options.energyMinDurationS ?? (quick ? 0.3 : 3);
  const latencyDurationS = options.latencyDurationS ?? (quick ? 0.05 : 0.5);
  const inferenceRounds = options.inferenceRounds ?? (quick ? 1 : 3);
  const wanted = options.variants === undefined ? null : new Set(options.variants);
  const plans = definition.variants.filter(
    (plan, index) => index === 0 || wanted === null || wanted.has(plan.name),
  );
  if (wanted !== null) {
    const unknown = [...wanted].filter((v) => !definition.variants.some((plan) => plan.name === v));
    if (unknown.length > 0) {
      throw new WattprintError(
        "USAGE",
        `unknown variant${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} of the ${name} study`,
        {
          hint: `the variants are ${definition.variants.map((plan) => plan.name).join(", ")}`,
        },
      );
    }
  }

  const outDir =
    options.outDir === undefined || options.outDir === null ? null : resolve(options.outDir);
  if (outDir !== null) prepareOutDir(outDir);
  const startedMs = performance.now();

  const result: StudyResult = {
    schema: "wattprint-study/1",
    study: definition.name,
    title: definition.title,
    wattprintVersion: wattprintVersion(),
    status: "running",
    error: null,
    startedAt: new Date().toISOString(),
    durationS: null,
    settings: {
      seed,
      epochs,
      quick,
      batchSize: definition.batchSize,
      command: options.command ?? defaultCommand(name, options),
    },
    dataset: {
      name: "",
      source: "",
      scaling: "",
      inputShape: [],
      classes: 0,
      trainSamples: 0,
      validationSamples: 0,
      testSamples: 0,
    },
    runtime: { backend: null, warnings: [] },
    measurement: {
      energySource: "",
      energyMinDurationS,
      energyWindows: 3,
      inferenceRounds,
      note: `training energy is the sum of the epochs' tracker phases (validation included); inference energy is optimize's measurePredictor at batch 64 (the median of 3 windows), measured ${inferenceRounds === 1 ? "once per variant" : `${inferenceRounds} times per variant (once after its training, then in rounds over all variants in alternating order) and the median taken`}; all energy is attributed to this process by the tracker, and CPU seconds are this process's own (user + system, all threads)`,
    },
    quality: {
      primary: definition.primary,
      metrics: definition.metrics,
      tolerance: definition.tolerance,
      method: definition.method,
    },
    overhead: null,
    variants: [],
    skipped: [],
    finding: { variant: null, text: "the study has not finished" },
    warnings: [],
    files: {
      results: outDir === null ? null : join(outDir, "results.json"),
      report: outDir === null ? null : join(outDir, "report.html"),
      trainingChart: outDir === null ? null : join(outDir, "pareto-training.svg"),
      inferenceChart: outDir === null ? null : join(outDir, "pareto-inference.svg"),
    },
  };
  const save = () => {
    if (result.files.results !== null)
      writeFileAtomic(result.files.results, `${JSON.stringify(result, null, 2)}\n`);
  };

  // TensorFlow.js loads here, not when this module is imported.
  const { initTensorflow } = await import("../optimize/runtime.js");
  const { measurePredictor } = await import("../optimize/measure.js");
  const { splitValidation } = await import("../optimize/run-optimize.js");
  const runtime = await initTensorflow({ backend: options.backend ?? "auto" });
  result.runtime = { backend: runtime.backend, warnings: runtime.warnings };
  result.warnings.push(...runtime.warnings);

  const limits = {
    trainLimit: options.trainLimit ?? (quick ? QUICK_TRAIN_LIMIT : undefined),
    testLimit: options.testLimit ?? (quick ? QUICK_TEST_LIMIT : undefined),
  };
  const dataset = loadDigits({ seed, ...limits });
  const { fit, validation } = splitValidation(dataset.train, VALIDATION_FRACTION, seed);
  result.dataset = {
    name: dataset.name,
    source: dataset.source,
    scaling: dataset.scaling,
    inputShape: dataset.inputShape,
    classes: dataset.classes,
    trainSamples: fit.count,
    validationSamples: validation.count,
    testSamples: dataset.test.count,
  };

  const ownTracker = options.tracker === undefined;
  const tracker =
    options.tracker ??
    new Tracker({
      store: false,
      intervalS: 0.5,
      region: options.region,
      env: options.env,
      label: `wattprint study ${name}`,
    });
  if (ownTracker) await tracker.start();
  const meter = new EnergyMeter(tracker);
  const context: StudyContext = {
    dataset,
    fit,
    validation,
    test: dataset.test,
    seed,
    epochs,
    quick,
    batchSize: definition.batchSize,
    meter,
    log,
    warn: (message) => {
      result.warnings.push(message);
      log(`warning: ${message}`);
    },
    setOverhead: (overhead) => {
      result.overhead = overhead;
      save();
    },
  };

  const measureInference = (target: VariantOutcome["inference"], label: string) =>
    measurePredictor(target.predictor, target.inputs, {
      meter,
      energyMinDurationS,
      energyWindows: 3,
      latencyDurationS,
      warmupS: quick ? 0.05 : 0.3,
      name: `inference ${label}`,
    });
  /** Inference targets and their measurements so far, by variant (in result order). */
  const measured: { target: VariantOutcome["inference"]; rounds: InferenceMeasurement[] }[] = [];

  try {
    save();
    if (definition.warmUp) {
      log("warming up (not measured)");
      await definition.warmUp(context);
    }
    if (definition.prepare) await definition.prepare(context);
    result.measurement.energySource = describeEnergySource(tracker.snapshot());
    for (const [index, plan] of plans.entries()) {
      log(`${plan.name}: ${plan.description}`);
      let outcome: VariantOutcome;
      let trainingCpuS: number;
      let first: InferenceMeasurement;
      try {
        const cpuBefore = process.cpuUsage();
        outcome = await plan.run(context);
        const cpu = process.cpuUsage(cpuBefore);
        trainingCpuS = (cpu.user + cpu.system) / 1e6;
        first = await measureInference(outcome.inference, plan.name);
      } catch (error) {
        if (
          index === 0 ||
          (error instanceof WattprintError &&
            (error.code === "OUTPUT_UNWRITABLE" || error.code === "USAGE"))
        )
          throw error;
        const reason = describeError(error).split("\n")[0] ?? "unknown error";
        result.skipped.push({ name: plan.name, reason });
        log(`${plan.name}: skipped (${reason})`);
        save();
        continue;
      }
      measured.push({ target: outcome.inference, rounds: [first] });
      result.variants.push(variantRecord(plan, outcome, trainingCpuS, [first], definition));
      compareVariants(result, definition);
      log(
        describeVariant(
          result.variants[result.variants.length - 1] as StudyVariantResult,
          definition,
        ),
      );
      save();
    }
    for (let round = 1; round < inferenceRounds; round++) {
      log(`inference round ${round + 1} of ${inferenceRounds} over all variants`);
      const order = measured.map((_, index) => index);
      if (round % 2 === 1) order.reverse();
      for (const index of order) {
        const entry = measured[index] as (typeof measured)[number];
        const variant = result.variants[index] as StudyVariantResult;
        entry.rounds.push(await measureInference(entry.target, variant.name));
        variant.inference = inferenceFigures(entry.rounds, definition.inferenceUnit);
      }
      compareVariants(result, definition);
      save();
    }
    result.measurement.energySource = describeEnergySource(tracker.snapshot());
    result.status = "complete";
  } catch (error) {
    result.status = "failed";
    result.error = describeError(error).split("\n")[0] ?? "unknown error";
    throw error;
  } finally {
    result.durationS = (performance.now() - startedMs) / 1000;
    compareVariants(result, definition);
    try {
      save();
      writeStudyFiles(result);
    } finally {
      definition.dispose();
      if (ownTracker) await tracker.stop();
    }
  }
  return result;
}

function variantRecord(
  plan: StudyVariantPlan,
  outcome: VariantOutcome,
  trainingCpuS: number,
  rounds: InferenceMeasurement[],
  definition: StudyDefinition,
): StudyVariantResult {
  return {
    name: plan.name,
    description: plan.description,
    technique: plan.technique,
    params: outcome.params,
    quality: outcome.quality,
    training: {
      energyJ: outcome.training.energyJ,
      co2eG: outcome.training.co2eG,
      durationS: outcome.training.durationS,
      epochsRun: outcome.training.epochsRun,
      epochsPlanned: outcome.epochsPlanned,
      stopReason: outcome.training.stopReason,
      epochEnergyJ: outcome.training.history.map((logs) => logs.energyJ ?? null),
      cpuS: trainingCpuS,
      includes: outcome.trainingIncludes,
    },
    inference: inferenceFigures(rounds, definition.inferenceUnit),
    trainingSavingPct: null,
    inferenceSavingPct: null,
    withinTolerance: true,
    toleranceNote: null,
    paretoTraining: false,
    paretoInference: false,
    notes: [...(outcome.notes ?? []), ...outcome.training.warnings],
  };
}

/**
 * One variant's inference figures from its measurement rounds: the median round for energy,
 * CO2e, CPU time and latency; the range over every window of every round.
 */
export function inferenceFigures(
  rounds: readonly InferenceMeasurement[],
  unit: string,
): InferenceFigures {
  const medianOf = (values: (number | null)[]) =>
    values.some((v) => v === null) ? null : percentile(values as number[], 50);
  const ranges = rounds.map((r) => r.energyJPer1kRange);
  const known = ranges.every((range) => range !== null) ? (ranges as [number, number][]) : null;
  return {
    unit,
    energyJPer1k: medianOf(rounds.map((r) => r.energyJPer1kInferences)),
    energyJPer1kRange:
      known === null || known.length === 0
        ? null
        : [Math.min(...known.map((r) => r[0])), Math.max(...known.map((r) => r[1]))],
    co2eGPer1k: medianOf(rounds.map((r) => r.co2eGPer1kInferences)),
    cpuSPer1k: medianOf(rounds.map((r) => r.cpuSPer1kInferences)),
    latencyMsP50: {
      batch1:
        percentile(
          rounds.map((r) => r.latencyMsP50.batch1),
          50,
        ) ?? 0,
      batch64:
        percentile(
          rounds.map((r) => r.latencyMsP50.batch64),
          50,
        ) ?? 0,
    },
    batchSize: rounds[0]?.energyBatchSize ?? 64,
    inferencesMeasured: rounds.reduce((sum, r) => sum + r.inferencesMeasured, 0),
    rounds: rounds.length,
  };
}

/**
 * Fills each variant's savings against the baseline, its tolerance check and its Pareto
 * flags, and the study's finding. Pure over the result's variants.
 */
export function compareVariants(
  result: StudyResult,
  definition: Pick<StudyDefinition, "primary" | "checkTolerance" | "tolerance">,
): void {
  const baseline = result.variants[0];
  if (baseline === undefined) {
    result.finding = { variant: null, text: "no variant was measured" };
    return;
  }
  for (const variant of result.variants) {
    const isBaseline = variant === baseline;
    variant.trainingSavingPct = isBaseline
      ? null
      : savingPct(baseline.training.energyJ, variant.training.energyJ);
    variant.inferenceSavingPct = isBaseline
      ? null
      : savingPct(baseline.inference.energyJPer1k, variant.inference.energyJPer1k);
    const note = isBaseline ? null : definition.checkTolerance(variant, baseline);
    variant.withinTolerance = note === null;
    variant.toleranceNote = note;
  }
  const oriented = (variant: StudyVariantResult) => {
    const value = variant.quality[definition.primary.key];
    if (value === null || value === undefined) return Number.NaN;
    return definition.primary.better === "higher" ? value : -value;
  };
  const trainingFront = new Set(
    paretoFront(
      result.variants.map((v) => ({ accuracy: oriented(v), energyJ: v.training.energyJ })),
    ),
  );
  const inferenceFront = new Set(
    paretoFront(
      result.variants.map((v) => ({ accuracy: oriented(v), energyJ: v.inference.energyJPer1k })),
    ),
  );
  result.variants.forEach((variant, index) => {
    variant.paretoTraining = trainingFront.has(index);
    variant.paretoInference = inferenceFront.has(index);
  });
  result.finding = findingOf(result.variants, definition.tolerance);
}

/** (baseline − variant) / baseline, percent; null when either is unknown or the baseline is 0. */
export function savingPct(baselineJ: number | null, variantJ: number | null): number | null {
  if (baselineJ === null || variantJ === null || !(baselineJ > 0)) return null;
  return ((baselineJ - variantJ) / baselineJ) * 100;
}

function findingOf(
  variants: readonly StudyVariantResult[],
  tolerance: string,
): StudyResult["finding"] {
  const others = variants.slice(1);
  if (others.length === 0) return { variant: null, text: "only the baseline was measured" };
  const best = (v: StudyVariantResult) =>
    Math.max(v.trainingSavingPct ?? -Infinity, v.inferenceSavingPct ?? -Infinity);
  const qualifying = others
    .filter((v) => v.withinTolerance && best(v) >= FINDING_SAVING_PCT)
    .sort((a, b) => best(b) - best(a));
  const chosen = qualifying[0];
  if (chosen !== undefined) {
    const parts: string[] = [];
    if (chosen.trainingSavingPct !== null)
      parts.push(`${describeSaving(chosen.trainingSavingPct)} training energy`);
    if (chosen.inferenceSavingPct !== null)
      parts.push(`${describeSaving(chosen.inferenceSavingPct)} inference energy`);
    const alsoQualify = qualifying.slice(1).map((v) => v.name);
    return {
      variant: chosen.name,
      text: `${chosen.name} (${chosen.technique}) used ${parts.join(" and ")} than the baseline, within the quality tolerance (${tolerance})${alsoQualify.length > 0 ? `; ${alsoQualify.join(", ")} also cleared the ${FINDING_SAVING_PCT}% bar` : ""}.`,
    };
  }
  const reasons = others.map((v) => {
    if (!v.withinTolerance)
      return `${v.name}: outside the tolerance (${v.toleranceNote ?? "quality"})`;
    const saving = best(v);
    return Number.isFinite(saving)
      ? `${v.name}: within the tolerance but saved at most ${saving.toFixed(1)}%`
      : `${v.name}: energy unknown`;
  });
  return {
    variant: null,
    text: `no variant used ${FINDING_SAVING_PCT}% less training or inference energy than the baseline within the tolerance (${tolerance}): ${reasons.join("; ")}.`,
  };
}

function describeSaving(pct: number): string {
  return pct >= 0 ? `${pct.toFixed(1)}% less` : `${(-pct).toFixed(1)}% more`;
}

function describeVariant(variant: StudyVariantResult, definition: StudyDefinition): string {
  const quality = definition.metrics
    .map(
      (metric) =>
        `${metric.key} ${formatQuality(variant.quality[metric.key] ?? null, metric.percent ?? false)}`,
    )
    .join(", ");
  const energy = (value: number | null, unit: string) =>
    value === null ? "energy unknown" : `${value.toPrecision(3)} ${unit}`;
  return `${variant.name}: ${quality}; training ${energy(variant.training.energyJ, "J")} in ${variant.training.durationS.toFixed(1)} s (${variant.training.epochsRun} epochs); inference ${energy(variant.inference.energyJPer1k, "J per 1,000")}`;
}

function writeStudyFiles(result: StudyResult): void {
  const { report, trainingChart, inferenceChart } = result.files;
  if (report === null || trainingChart === null || inferenceChart === null) return;
  if (result.variants.length > 0) {
    writeFileAtomic(trainingChart, `${renderStudyChart(result, "training")}\n`);
    writeFileAtomic(inferenceChart, `${renderStudyChart(result, "inference")}\n`);
  }
  writeFileAtomic(report, renderStudyHtml(result));
}

function prepareOutDir(outDir: string): void {
  try {
    mkdirSync(outDir, { recursive: true });
    accessSync(outDir, constants.W_OK);
  } catch (error) {
    throw new WattprintError(
      "OUTPUT_UNWRITABLE",
      `cannot write to ${outDir}: ${describeError(error)}`,
      {
        hint: "choose an --out directory you can write to",
      },
    );
  }
}

function defaultCommand(name: string, options: StudyOptions): string {
  const parts = ["wattprint", "study", name];
  if (options.epochs !== undefined) parts.push("--epochs", String(options.epochs));
  if (options.seed !== undefined) parts.push("--seed", String(options.seed));
  if (options.quick) parts.push("--quick");
  return parts.join(" ");
}

/**
 * Checks the options once, before anything runs.
 *
 * @throws WattprintError USAGE with a hint.
 */
export function validateStudyOptions(options: StudyOptions): void {
  const usage = (message: string, hint: string) => new WattprintError("USAGE", message, { hint });
  const whole = (value: number | undefined, what: string, least: number, most: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= least && value <= most)) {
      throw usage(`invalid ${what} ${value}`, `give a whole number from ${least} to ${most}`);
    }
  };
  whole(options.epochs, "epochs", 1, 10_000);
  whole(options.seed, "seed", 0, 2 ** 31 - 1);
  whole(options.trainLimit, "training sample limit", 20, 1_000_000);
  whole(options.testLimit, "test sample limit", 20, 1_000_000);
  whole(options.inferenceRounds, "inference measurement rounds", 1, 100);
  for (const [what, value] of [
    ["energy measurement seconds", options.energyMinDurationS],
    ["latency measurement seconds", options.latencyDurationS],
  ] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0 && value <= 3600)) {
      throw usage(`invalid ${what} ${value}`, "give a number of seconds above 0");
    }
  }
}
