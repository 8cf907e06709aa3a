/**
 * `wattprint optimize` as a library call: get a baseline (load it or train it), make the
 * compressed variants (magnitude and structured pruning with fine-tuning, float16 / int8
 * weight quantization, ONNX float32 and dynamic int8 in onnxruntime, distilled students),
 * measure every one the same way, mark the accuracy/energy Pareto front and recommend
 * the lowest-energy variant that meets the accuracy constraint. Results are written as
 * they are measured, so a failure keeps what was measured before it.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Tracker } from "../api/track.js";
import { WattprintError, describeError } from "../errors.js";
import { writeFileAtomic } from "../report/write-file.js";
import { wattprintVersion } from "../version.js";
import { EarlyStopping } from "./callbacks/early-stopping.js";
import { EnergyLogger } from "./callbacks/energy-logger.js";
import { ReduceLrOnPlateau } from "./callbacks/reduce-lr-on-plateau.js";
import { loadDataset, shuffledIndices, type DataSplit, type Dataset } from "./datasets.js";
import { buildStudent, distill } from "./distill.js";
import {
  EnergyMeter,
  describeEnergySource,
  meterTracker,
  type MeasuredEnergy,
} from "./energy-meter.js";
import { measurePredictor, tfjsPredictor, type InferenceMeasurement } from "./measure.js";
import {
  artifactsToFiles,
  loadModel,
  modelArtifacts,
  modelFromArtifacts,
  writeArtifacts,
  writeBytesAtomic,
} from "./model-io.js";
import { buildCnn, buildMlp, countParams } from "./models.js";
import { onnxPredictor, toLayerSpecs } from "./onnx-bridge.js";
import { meetsConstraint, paretoFront, recommend, type RecommendConstraint } from "./pareto.js";
import { renderParetoHtml, renderParetoSvg } from "./pareto-chart.js";
import { pruneGradually } from "./pruning/gradual.js";
import { kernelSparsity } from "./pruning/magnitude.js";
import { pruneStructured } from "./pruning/structured.js";
import { quantizeModelArtifacts, type WeightQuantization } from "./quantize.js";
import { initTensorflow, type TfBackendName } from "./runtime.js";
import { assertDataFits, trainModel } from "./train.js";
import type { VariantKind, VariantResult } from "./variant.js";

/** A quantization `optimize` can apply: TF.js weight formats, or ONNX (float32 and dynamic int8). */
export type OptimizeQuantization = WeightQuantization | "onnx";

export interface OptimizeOptions {
  /** Directory of a TF.js layers model (model.json + weights.bin); or give `trainBaseline`. */
  model?: string;
  /** Train this baseline first: "mlp" or "cnn". */
  trainBaseline?: "mlp" | "cnn";
  /** "mnist", "digits" or the path of a CSV file (features…, label). */
  data: string;
  /** Fractions to prune, each both by magnitude and structurally; default [0.5, 0.8]. */
  prune?: number[];
  /** Default ["int8", "float16", "onnx"]. */
  quantize?: OptimizeQuantization[];
  /** Student widths to distil (≤ 1: fraction of the teacher's widths; > 1: hidden units of an MLP); default none. */
  distill?: number[];
  /** Largest accuracy loss accepted for the recommendation, percentage points; default 1. */
  maxAccuracyDropPoints?: number;
  /** Least accuracy accepted, 0..1; default none. */
  minAccuracy?: number;
  /** Largest size accepted, bytes; default none. */
  maxSizeBytes?: number;
  /** Epochs of baseline training (early stopping may end sooner); default 5. */
  epochs?: number;
  /** Epochs of fine-tuning after pruning; default 2. */
  fineTuneEpochs?: number;
  /** Epochs of distillation; default `epochs`. */
  distillEpochs?: number;
  /** Default 64. */
  batchSize?: number;
  /** Default 0.001 (Adam). */
  learningRate?: number;
  /** Use at most this many training / test samples (quick runs). */
  trainLimit?: number;
  testLimit?: number;
  /** Where results.json, pareto.html, pareto.svg and models/ are written; null: nothing written. */
  outDir?: string | null;
  /** TF.js backend; default "auto" (wasm, else cpu). */
  backend?: TfBackendName | "auto";
  /** Grid region for CO2e (FR, US-CA, …); default the tracker's default. */
  region?: string;
  /** Where the tracker made here reads its settings (WATTPRINT_*); default process.env. */
  env?: Record<string, string | undefined>;
  /** Tracker to measure with (started); default one made here (not saved to the run store). */
  tracker?: Tracker;
  /** Least seconds of inference per energy figure (3 windows, median); default 3. */
  energyMinDurationS?: number;
  /** Seconds of timing per latency figure; default 1. */
  latencyDurationS?: number;
  /** Seconds of untimed inference before each variant is measured; default 0.3. */
  warmupS?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  seed?: number;
}

/** A variant that could not be made or measured. */
export interface SkippedVariant {
  name: string;
  reason: string;
}

/** What `optimize` measured and recommends (written as results.json). */
export interface OptimizeResult {
  schema: "wattprint-optimize/1";
  wattprintVersion: string;
  status: "running" | "complete" | "failed";
  /** Why the run failed, when it did. */
  error: string | null;
  startedAt: string;
  dataset: {
    name: string;
    source: string;
    scaling: string;
    inputShape: number[];
    classes: number;
    trainSamples: number;
    testSamples: number;
  };
  baseline: { source: string; params: number | null; accuracy: number | null };
  runtime: { backend: TfBackendName | null; onnxThreads: number };
  measurement: {
    /** How energy was obtained ("cpu: model (tdp-model:…)"). */
    energySource: string;
    energyBatchSize: number;
    energyMinDurationS: number;
    energyWindows: number;
    latencyDurationS: number;
    note: string;
  };
  constraint: {
    maxAccuracyDropPoints: number;
    minAccuracy: number | null;
    maxSizeBytes: number | null;
  };
  variants: VariantResult[];
  skipped: SkippedVariant[];
  /** The recommended variant, or null when none meets the constraint. */
  recommended: { name: string; reason: string } | null;
  warnings: string[];
  files: {
    results: string | null;
    chartHtml: string | null;
    chartSvg: string | null;
    models: string | null;
  };
}

const ONNX_THREADS = 1;

/**
 * Runs the whole optimize flow (see the module comment) and returns the result.
 * A run where no variant meets the constraint returns `recommended: null`.
 *
 * @throws WattprintError for bad input (model, data, shapes) — after writing what was
 *   measured so far to `outDir/results.json`.
 */
export async function runOptimize(options: OptimizeOptions): Promise<OptimizeResult> {
  const log = options.log ?? (() => {});
  const outDir =
    options.outDir === undefined || options.outDir === null ? null : resolve(options.outDir);
  validateOptions(options);
  const maxDrop = options.maxAccuracyDropPoints ?? 1;
  const energyMinDurationS = options.energyMinDurationS ?? 3;
  const latencyDurationS = options.latencyDurationS ?? 1;
  const result: OptimizeResult = {
    schema: "wattprint-optimize/1",
    wattprintVersion: wattprintVersion(),
    status: "running",
    error: null,
    startedAt: new Date().toISOString(),
    dataset: {
      name: options.data,
      source: "",
      scaling: "",
      inputShape: [],
      classes: 0,
      trainSamples: 0,
      testSamples: 0,
    },
    baseline: {
      source: options.model ?? `trained here: ${options.trainBaseline ?? "?"}`,
      params: null,
      accuracy: null,
    },
    runtime: { backend: null, onnxThreads: ONNX_THREADS },
    measurement: {
      energySource: "",
      energyBatchSize: 64,
      energyMinDurationS,
      energyWindows: 3,
      latencyDurationS,
      note: "every variant runs single-threaded (TF.js wasm is; onnxruntime is set to 1 thread) on the same test samples; energy is the tracker's, attributed to this process",
    },
    constraint: {
      maxAccuracyDropPoints: maxDrop,
      minAccuracy: options.minAccuracy ?? null,
      maxSizeBytes: options.maxSizeBytes ?? null,
    },
    variants: [],
    skipped: [],
    recommended: null,
    warnings: [],
    files: {
      results: outDir === null ? null : join(outDir, "results.json"),
      chartHtml: outDir === null ? null : join(outDir, "pareto.html"),
      chartSvg: outDir === null ? null : join(outDir, "pareto.svg"),
      models: outDir === null ? null : join(outDir, "models"),
    },
  };
  if (outDir !== null) {
    try {
      mkdirSync(join(outDir, "models"), { recursive: true });
    } catch (error) {
      throw new WattprintError(
        "OUTPUT_UNWRITABLE",
        `cannot create ${outDir}: ${describeError(error)}`,
        {
          hint: "choose an --out directory you can write to",
        },
      );
    }
  }
  const save = () => {
    if (result.files.results !== null)
      writeFileAtomic(result.files.results, `${JSON.stringify(result, null, 2)}\n`);
  };

  // Setup failures (backend, data, tracker) are recorded too, so results.json is never stale.
  const setup = async () => {
    const runtime = await initTensorflow({ backend: options.backend ?? "auto" });
    result.runtime.backend = runtime.backend;
    result.warnings.push(...runtime.warnings);
    const dataset = loadDataset(options.data, {
      trainLimit: options.trainLimit,
      testLimit: options.testLimit,
      seed: options.seed,
    });
    result.dataset = {
      name: dataset.name,
      source: dataset.source,
      scaling: dataset.scaling,
      inputShape: dataset.inputShape,
      classes: dataset.classes,
      trainSamples: dataset.train.count,
      testSamples: dataset.test.count,
    };
    const tracker =
      options.tracker ??
      meterTracker({ region: options.region, label: "wattprint optimize", env: options.env });
    if (options.tracker === undefined) await tracker.start();
    return { runtime, dataset, tracker };
  };
  let prepared: Awaited<ReturnType<typeof setup>>;
  try {
    prepared = await setup();
  } catch (error) {
    result.status = "failed";
    result.error = describeError(error).split("\n")[0] ?? "unknown error";
    save();
    throw error;
  }
  const { dataset, tracker } = prepared;
  const ownTracker = options.tracker === undefined;
  const tfRuntimeName = `tfjs-${prepared.runtime.backend}`;
  const meter = new EnergyMeter(tracker);
  const { fit, validation } = splitValidation(dataset.train, 0.1, options.seed ?? 1);
  const trainOptions = {
    batchSize: options.batchSize ?? 64,
    learningRate: options.learningRate ?? 0.001,
    seed: options.seed ?? 1,
    meter,
    log,
  };
  const measureOptions = {
    meter,
    energyMinDurationS,
    latencyDurationS,
    warmupS: options.warmupS ?? 0.3,
  };
  const models: tfl.LayersModel[] = [];

  let baselineAccuracy = 0;
  const addVariant = (
    variant: Omit<VariantResult, "accuracyDropPoints" | "pareto" | "meetsConstraint">,
  ) => {
    const full: VariantResult = {
      ...variant,
      accuracyDropPoints: (baselineAccuracy - variant.accuracy) * 100,
      pareto: false,
      meetsConstraint: false,
    };
    result.variants.push(full);
    refreshTradeOff(result, baselineAccuracy, options);
    log(
      `${full.name}: accuracy ${(full.accuracy * 100).toFixed(2)}%, ${formatBytes(full.sizeBytes)}, ${full.energyJPer1kInferences === null ? "energy unknown" : `${full.energyJPer1kInferences.toPrecision(3)} J per 1,000 inferences`}`,
    );
    save();
  };
  const skip = (name: string, error: unknown) => {
    const reason = describeError(error).split("\n")[0] ?? "unknown error";
    result.skipped.push({ name, reason });
    log(`${name}: skipped (${reason})`);
    save();
  };

  try {
    // Baseline.
    let baseline: tfl.LayersModel;
    let baselineTraining: { energyJ: number | null; co2eG: number | null; epochs: number } = {
      energyJ: null,
      co2eG: null,
      epochs: 0,
    };
    if (options.model !== undefined) {
      baseline = await loadModel(options.model);
      assertDataFits(baseline, dataset.test, `test data (${dataset.name})`);
      assertDataFits(baseline, dataset.train, `training data (${dataset.name})`);
    } else {
      baseline = buildBaseline(options.trainBaseline ?? "mlp", dataset, options.seed ?? 1);
      log(
        `training the ${options.trainBaseline ?? "mlp"} baseline (${countParams(baseline)} parameters) on ${fit.count} samples`,
      );
      const trained = await trainModel(baseline, fit, {
        ...trainOptions,
        epochs: options.epochs ?? 5,
        validation,
        phaseName: "train baseline",
        callbacks: [
          new EnergyLogger({ log: (line) => log(`baseline ${line}`) }),
          new ReduceLrOnPlateau({ patience: 1, factor: 0.5 }),
          new EarlyStopping({ patience: 2 }),
        ],
      });
      if (trained.stopReason) log(`baseline: ${trained.stopReason}`);
      result.warnings.push(...trained.warnings);
      baselineTraining = {
        energyJ: trained.energyJ,
        co2eG: trained.co2eG,
        epochs: trained.epochsRun,
      };
    }
    models.push(baseline);
    result.baseline.params = countParams(baseline);
    const baselineArtifacts = await modelArtifacts(baseline);
    const baselineMeasure = await measurePredictor(tfjsPredictor(baseline), dataset.test, {
      ...measureOptions,
      name: "inference baseline",
    });
    baselineAccuracy = baselineMeasure.accuracy;
    result.baseline.accuracy = baselineAccuracy;
    result.measurement.energySource = describeEnergySource(tracker.snapshot());
    addVariant({
      ...tfjsRecord(
        "baseline",
        "baseline",
        "the model as given",
        tfRuntimeName,
        "TF.js float32",
        baseline,
        baselineArtifacts,
        null,
      ),
      ...measured(baselineMeasure),
      trainingEnergyJ: baselineTraining.energyJ,
      trainingCo2eG: baselineTraining.co2eG,
      trainingEpochs: baselineTraining.epochs,
      description:
        options.model === undefined
          ? `${options.trainBaseline ?? "mlp"} baseline trained here`
          : `the model in ${options.model}`,
      path:
        outDir === null
          ? null
          : writeArtifacts(join(outDir, "models", "baseline"), baselineArtifacts).dir,
    });

    const quantize = options.quantize ?? ["int8", "float16", "onnx"];
    const wantsInt8 = quantize.includes("int8");
    const wantsOnnx = quantize.includes("onnx");

    /** Measures a TF.js model as a variant; `cost` is the energy spent making it. */
    const addTfjs = async (
      name: string,
      kind: VariantKind,
      description: string,
      model: tfl.LayersModel,
      parent: string | null,
      cost: Cost,
      options: { quantization?: WeightQuantization } = {},
    ) => {
      let artifacts = await modelArtifacts(model);
      let evaluated = model;
      if (options.quantization !== undefined) {
        const quantization = options.quantization;
        const { result: quantized, energy } = await meter.measure(`quantize ${name}`, async () => {
          const q = quantizeModelArtifacts(artifacts, quantization);
          return { artifacts: q, model: await modelFromArtifacts(q) };
        });
        artifacts = quantized.artifacts;
        evaluated = quantized.model;
        models.push(evaluated);
        cost = addCost(cost, energy, 0);
      }
      const measurement = await measurePredictor(tfjsPredictor(evaluated), dataset.test, {
        ...measureOptions,
        name: `inference ${name}`,
      });
      const format =
        options.quantization === undefined
          ? "TF.js float32"
          : `TF.js ${options.quantization} weights`;
      addVariant({
        ...tfjsRecord(name, kind, description, tfRuntimeName, format, model, artifacts, parent),
        ...measured(measurement),
        trainingEnergyJ: cost.energyJ,
        trainingCo2eG: cost.co2eG,
        trainingEpochs: cost.epochs,
        path:
          outDir === null
            ? null
            : writeArtifacts(join(outDir, "models", safeName(name)), artifacts).dir,
      });
    };

    /** Exports a TF.js model to ONNX (float32 or dynamic int8) and measures it in onnxruntime. */
    const addOnnx = async (
      name: string,
      description: string,
      model: tfl.LayersModel,
      parent: string,
      cost: Cost,
      precision: "float32" | "dynamic-int8",
    ) => {
      const { exportModelToOnnx, quantizeOnnxDynamicInt8 } = await import("./onnx/export.js");
      const { createOnnxRunner } = await import("./onnx/session.js");
      const { result: bytes, energy } = await meter.measure(`export ${name}`, () => {
        const spec = toLayerSpecs(model);
        return precision === "float32" ? exportModelToOnnx(spec) : quantizeOnnxDynamicInt8(spec);
      });
      cost = addCost(cost, energy, 0);
      const runner = await createOnnxRunner(bytes, { intraOpThreads: ONNX_THREADS });
      let measurement: InferenceMeasurement;
      try {
        measurement = await measurePredictor(onnxPredictor(runner, model), dataset.test, {
          ...measureOptions,
          name: `inference ${name}`,
        });
      } finally {
        await runner.close();
      }
      let path: string | null = null;
      if (outDir !== null) {
        path = join(outDir, "models", `${safeName(name)}.onnx`);
        writeBytesAtomic(path, bytes);
      }
      addVariant({
        name,
        kind: "onnx",
        description,
        runtime: "onnxruntime-cpu",
        format: precision === "float32" ? "ONNX float32" : "ONNX dynamic int8",
        params: countParams(model),
        nonZeroParams: countNonZero(model),
        sizeBytes: bytes.byteLength,
        sizeBytesGzip: gzipSync(bytes, { level: 9 }).length,
        ...measured(measurement),
        trainingEnergyJ: cost.energyJ,
        trainingCo2eG: cost.co2eG,
        trainingEpochs: cost.epochs,
        path,
        parent,
      });
    };

    const attempt = async (name: string, body: () => Promise<void>) => {
      try {
        await body();
      } catch (error) {
        if (
          error instanceof WattprintError &&
          (error.code === "OUTPUT_UNWRITABLE" || error.code === "USAGE")
        )
          throw error;
        skip(name, error);
      }
    };

    /** Quantized and ONNX versions of a smaller model (the combinations that shrink compute and bytes). */
    const addCombinations = async (parentName: string, model: tfl.LayersModel, cost: Cost) => {
      if (wantsInt8) {
        await attempt(`${parentName}+int8`, () =>
          addTfjs(
            `${parentName}+int8`,
            "quantize",
            `${parentName} with int8 weights`,
            model,
            parentName,
            cost,
            { quantization: "int8" },
          ),
        );
      }
      if (wantsOnnx) {
        await attempt(`${parentName}+onnx-int8`, () =>
          addOnnx(
            `${parentName}+onnx-int8`,
            `${parentName} exported to ONNX with dynamic int8 quantization`,
            model,
            parentName,
            cost,
            "dynamic-int8",
          ),
        );
      }
    };

    // Pruning.
    for (const fraction of options.prune ?? [0.5, 0.8]) {
      const percent = `${Math.round(fraction * 100)}%`;
      const magnitudeName = `prune-${percent}`;
      await attempt(magnitudeName, async () => {
        const model = await modelFromArtifacts(baselineArtifacts);
        models.push(model);
        log(`${magnitudeName}: magnitude pruning to ${percent} sparsity while fine-tuning`);
        const pruned = await pruneGradually(model, fit, {
          ...trainOptions,
          finalSparsity: fraction,
          epochs: options.fineTuneEpochs ?? 2,
          learningRate: (options.learningRate ?? 0.001) / 2,
          validation,
          phaseName: `fine-tune ${magnitudeName}`,
        });
        await addTfjs(
          magnitudeName,
          "magnitude-prune",
          `${percent} of every kernel's smallest weights zeroed (gradual schedule, ${pruned.epochsRun} fine-tuning epochs); same shape, compresses better`,
          model,
          "baseline",
          { energyJ: pruned.energyJ, co2eG: pruned.co2eG, epochs: pruned.epochsRun },
        );
      });
      const structuredName = `prune-units-${percent}`;
      await attempt(structuredName, async () => {
        log(`${structuredName}: removing ${percent} of the units and filters, then fine-tuning`);
        const { result: structured, energy } = await meter.measure(`prune ${structuredName}`, () =>
          pruneStructured(baseline, fraction),
        );
        models.push(structured.model);
        if (structured.layers.length === 0) {
          throw new WattprintError(
            "BAD_INPUT",
            `no layer could be pruned structurally${structured.skipped.length > 0 ? `: ${structured.skipped.map((s) => `${s.layerName}: ${s.reason}`).join("; ")}` : ""}`,
          );
        }
        const tuned = await trainModel(structured.model, fit, {
          ...trainOptions,
          epochs: options.fineTuneEpochs ?? 2,
          validation,
          phaseName: `fine-tune ${structuredName}`,
        });
        const cost = addCost(
          { energyJ: tuned.energyJ, co2eG: tuned.co2eG, epochs: tuned.epochsRun },
          energy,
          0,
        );
        const shapes = structured.layers
          .map((l) => `${l.layerName} ${l.before}→${l.after}`)
          .join(", ");
        await addTfjs(
          structuredName,
          "structured-prune",
          `${percent} of the units/filters removed (${shapes}), ${tuned.epochsRun} fine-tuning epochs`,
          structured.model,
          "baseline",
          cost,
        );
        await addCombinations(structuredName, structured.model, cost);
      });
    }

    // Quantization of the baseline.
    for (const quantization of quantize) {
      if (quantization === "onnx") {
        await attempt("onnx-fp32", () =>
          addOnnx(
            "onnx-fp32",
            "the baseline exported to ONNX (float32), run in onnxruntime",
            baseline,
            "baseline",
            zeroCost(),
            "float32",
          ),
        );
        await attempt("onnx-int8", () =>
          addOnnx(
            "onnx-int8",
            "the baseline exported to ONNX with dynamic int8 quantization, run in onnxruntime",
            baseline,
            "baseline",
            zeroCost(),
            "dynamic-int8",
          ),
        );
        continue;
      }
      await attempt(quantization, () =>
        addTfjs(
          quantization,
          "quantize",
          `post-training ${quantization} weight quantization of the baseline (TF.js format; computed in float32)`,
          baseline,
          "baseline",
          zeroCost(),
          { quantization },
        ),
      );
    }

    // Distillation.
    for (const width of options.distill ?? []) {
      const name = `distill-${width > 1 ? `w${Math.round(width)}` : `x${width}`}`;
      await attempt(name, async () => {
        const student = await buildStudent(baseline, width, (options.seed ?? 1) + 11);
        models.push(student);
        log(
          `${name}: distilling into a student of ${countParams(student)} parameters (${((countParams(student) / countParams(baseline)) * 100).toFixed(1)}% of the teacher)`,
        );
        const distilled = await distill(baseline, student, fit, {
          ...trainOptions,
          epochs: options.distillEpochs ?? options.epochs ?? 5,
          validation,
          phaseName: `distill ${name}`,
          callbacks: [new ReduceLrOnPlateau({ patience: 1 }), new EarlyStopping({ patience: 2 })],
        });
        const cost: Cost = {
          energyJ: distilled.energyJ,
          co2eG: distilled.co2eG,
          epochs: distilled.epochsRun,
        };
        await addTfjs(
          name,
          "distill",
          `student (${countParams(student)} parameters) distilled from the baseline, T=4, α=0.7, ${distilled.epochsRun} epochs`,
          student,
          "baseline",
          cost,
        );
        await addCombinations(name, student, cost);
      });
    }
    result.status = "complete";
  } catch (error) {
    result.status = "failed";
    result.error = describeError(error).split("\n")[0] ?? "unknown error";
    throw error;
  } finally {
    finish(result, baselineAccuracy, options);
    try {
      save();
      writeCharts(result);
    } finally {
      for (const model of models) model.dispose();
      if (ownTracker) await tracker.stop();
    }
  }
  return result;
}

interface Cost {
  energyJ: number | null;
  co2eG: number | null;
  epochs: number;
}

function zeroCost(): Cost {
  return { energyJ: 0, co2eG: 0, epochs: 0 };
}

function addCost(cost: Cost, energy: MeasuredEnergy, epochs: number): Cost {
  const add = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
  return {
    energyJ: add(cost.energyJ, energy.energyJ),
    co2eG: add(cost.co2eG, energy.co2eG),
    epochs: cost.epochs + epochs,
  };
}

function measured(measurement: InferenceMeasurement) {
  return {
    accuracy: measurement.accuracy,
    latencyMsP50: measurement.latencyMsP50,
    energyJPer1kInferences: measurement.energyJPer1kInferences,
    energyJPer1kRange: measurement.energyJPer1kRange,
    co2eGPer1kInferences: measurement.co2eGPer1kInferences,
    cpuSPer1kInferences: measurement.cpuSPer1kInferences,
  };
}

function tfjsRecord(
  name: string,
  kind: VariantKind,
  description: string,
  runtime: string,
  format: string,
  model: tfl.LayersModel,
  artifacts: Parameters<typeof artifactsToFiles>[0],
  parent: string | null,
) {
  const { modelJson, weights } = artifactsToFiles(artifacts);
  const jsonBytes = Buffer.byteLength(modelJson, "utf8");
  return {
    name,
    kind,
    description,
    runtime,
    format,
    params: countParams(model),
    nonZeroParams: countNonZero(model),
    sizeBytes: jsonBytes + weights.length,
    sizeBytesGzip:
      gzipSync(Buffer.from(modelJson, "utf8"), { level: 9 }).length +
      gzipSync(weights, { level: 9 }).length,
    parent,
  };
}

function countNonZero(model: tfl.LayersModel): number {
  const sparsity = kernelSparsity(model);
  return countParams(model) - sparsity.zeros;
}

/** Marks the Pareto front and the variants meeting the constraint. */
function refreshTradeOff(
  result: OptimizeResult,
  baselineAccuracy: number,
  options: OptimizeOptions,
): void {
  const constraint = constraintOf(baselineAccuracy, options);
  const front = new Set(
    paretoFront(
      result.variants.map((v) => ({ accuracy: v.accuracy, energyJ: v.energyJPer1kInferences })),
    ),
  );
  result.variants.forEach((variant, index) => {
    variant.pareto = front.has(index);
    variant.meetsConstraint = meetsConstraint(
      {
        accuracy: variant.accuracy,
        energyJ: variant.energyJPer1kInferences,
        sizeBytes: variant.sizeBytes,
      },
      constraint,
    );
  });
}

function constraintOf(baselineAccuracy: number, options: OptimizeOptions): RecommendConstraint {
  return {
    baselineAccuracy,
    maxAccuracyDropPoints: options.maxAccuracyDropPoints ?? 1,
    minAccuracy: options.minAccuracy,
    maxSizeBytes: options.maxSizeBytes,
  };
}

function finish(result: OptimizeResult, baselineAccuracy: number, options: OptimizeOptions): void {
  refreshTradeOff(result, baselineAccuracy, options);
  const index = recommend(
    result.variants.map((v) => ({
      accuracy: v.accuracy,
      energyJ: v.energyJPer1kInferences,
      sizeBytes: v.sizeBytes,
    })),
    constraintOf(baselineAccuracy, options),
  );
  const chosen = index === null ? undefined : result.variants[index];
  const baseline = result.variants.find((v) => v.name === "baseline");
  if (chosen === undefined) {
    result.recommended = null;
    return;
  }
  const parts = [
    `lowest energy per inference among the variants within ${options.maxAccuracyDropPoints ?? 1} point${(options.maxAccuracyDropPoints ?? 1) === 1 ? "" : "s"} of the baseline's accuracy`,
  ];
  if (options.minAccuracy !== undefined)
    parts.push(`at least ${(options.minAccuracy * 100).toFixed(2)}% accurate`);
  if (options.maxSizeBytes !== undefined)
    parts.push(`at most ${formatBytes(options.maxSizeBytes)}`);
  const figures: string[] = [];
  if (
    baseline !== undefined &&
    chosen !== baseline &&
    chosen.energyJPer1kInferences !== null &&
    baseline.energyJPer1kInferences !== null
  ) {
    figures.push(
      `${(baseline.energyJPer1kInferences / chosen.energyJPer1kInferences).toFixed(2)}x less energy per inference`,
    );
    figures.push(`${(baseline.sizeBytes / chosen.sizeBytes).toFixed(2)}x smaller`);
    figures.push(
      Math.abs(chosen.accuracyDropPoints) < 0.005
        ? "the same accuracy"
        : `accuracy ${chosen.accuracyDropPoints > 0 ? "−" : "+"}${Math.abs(chosen.accuracyDropPoints).toFixed(2)} points`,
    );
  }
  result.recommended = {
    name: chosen.name,
    reason: `${parts.join(", ")}${figures.length > 0 ? `: ${figures.join(", ")}` : ""}`,
  };
}

function writeCharts(result: OptimizeResult): void {
  if (
    result.files.chartHtml === null ||
    result.files.chartSvg === null ||
    result.variants.length === 0
  )
    return;
  const variants = result.variants.map((v) => ({
    ...v,
    recommended: v.name === result.recommended?.name,
  }));
  writeFileAtomic(result.files.chartSvg, `${renderParetoSvg(variants)}\n`);
  writeFileAtomic(
    result.files.chartHtml,
    renderParetoHtml(variants, {
      notes: [
        `Data: ${result.dataset.name} (${result.dataset.source}); ${result.dataset.testSamples} test samples.`,
        `Energy: ${result.measurement.energySource}. ${result.measurement.note}.`,
      ],
    }),
  );
}

function buildBaseline(kind: "mlp" | "cnn", dataset: Dataset, seed: number): tfl.LayersModel {
  const small = dataset.features <= 256;
  if (kind === "cnn") {
    if (dataset.inputShape.length !== 3) {
      throw new WattprintError(
        "BAD_INPUT",
        `a CNN needs image data; ${dataset.name} has ${dataset.features} values per sample that are not a square image`,
        {
          hint: "use --train-baseline mlp for this data",
        },
      );
    }
    return buildCnn({
      inputShape: dataset.inputShape as [number, number, number],
      classes: dataset.classes,
      filters: small ? [8, 16] : [8, 16],
      denseUnits: small ? 32 : 64,
      padding: small ? "same" : "valid",
      seed,
    });
  }
  return buildMlp({
    inputShape: dataset.inputShape,
    classes: dataset.classes,
    hiddenUnits: small ? [64, 32] : [256, 128],
    seed,
  });
}

/** Holds out a seeded random `fraction` of the training split for validation. */
export function splitValidation(
  train: DataSplit,
  fraction: number,
  seed: number,
): { fit: DataSplit; validation: DataSplit } {
  const order = shuffledIndices(train.count, seed + 101);
  const validationCount = Math.max(1, Math.round(train.count * fraction));
  const features = train.x.length / train.count;
  const take = (indices: number[]): DataSplit => {
    const x = new Float32Array(indices.length * features);
    const y = new Int32Array(indices.length);
    indices.forEach((row, i) => {
      x.set(train.x.subarray(row * features, (row + 1) * features), i * features);
      y[i] = train.y[row] as number;
    });
    return { x, y, count: indices.length };
  };
  return {
    fit: take(order.slice(validationCount)),
    validation: take(order.slice(0, validationCount)),
  };
}

function validateOptions(options: OptimizeOptions): void {
  const usage = (message: string, hint: string) => new WattprintError("USAGE", message, { hint });
  if (options.model === undefined && options.trainBaseline === undefined) {
    throw usage(
      "no model given",
      "give --model DIR (a TF.js layers model) or --train-baseline mlp|cnn",
    );
  }
  if (options.model !== undefined && options.trainBaseline !== undefined) {
    throw usage(
      "--model and --train-baseline cannot be used together",
      "give one: a model to optimize, or a baseline to train",
    );
  }
  for (const fraction of options.prune ?? []) {
    if (!(fraction > 0 && fraction < 1))
      throw usage(
        `invalid pruning fraction ${fraction}`,
        "give fractions between 0 and 1, for example --prune 0.5,0.8",
      );
  }
  for (const width of options.distill ?? []) {
    if (!(width > 0))
      throw usage(
        `invalid student width ${width}`,
        "give a fraction of the teacher's widths (0.25) or a number of hidden units (32)",
      );
  }
  const drop = options.maxAccuracyDropPoints ?? 1;
  if (!Number.isFinite(drop) || drop < 0 || drop > 100) {
    throw usage(
      `invalid accuracy drop ${drop}`,
      "give the largest accuracy loss in percentage points, 0 to 100, for example --max-accuracy-drop 1",
    );
  }
  if (
    options.minAccuracy !== undefined &&
    !(options.minAccuracy >= 0 && options.minAccuracy <= 1)
  ) {
    throw usage(
      `invalid minimum accuracy ${options.minAccuracy}`,
      "give a percentage from 0 to 100, for example --min-accuracy 97",
    );
  }
  for (const [name, value] of [
    ["epochs", options.epochs],
    ["fine-tune epochs", options.fineTuneEpochs],
    ["distillation epochs", options.distillEpochs],
    ["batch size", options.batchSize],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1))
      throw usage(`invalid ${name} ${value}`, `give a whole number of at least 1`);
  }
}

function safeName(name: string): string {
  return name.replace(/%/g, "pct").replace(/[^A-Za-z0-9._+-]/g, "_");
}

/** "941 kB", "12.3 kB", "512 B". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toPrecision(3)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toPrecision(3)} kB`;
  return `${bytes} B`;
}
