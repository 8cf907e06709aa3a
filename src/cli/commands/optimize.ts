import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { join } from "node:path";
import type { CliIo } from "../io.js";
import { WattprintError, isWattprintError } from "../../errors.js";
import { parseNumber } from "../parse-values.js";
// Types only: the optimize library (TensorFlow.js, onnxruntime) is imported when the command runs.
import type {
  OptimizeOptions,
  OptimizeQuantization,
  OptimizeResult,
} from "../../optimize/run-optimize.js";
import type { VariantResult } from "../../optimize/variant.js";

export const OPTIMIZE_HELP = `Usage: wattprint optimize --model <dir> --data mnist|digits|<file.csv> [options]
       wattprint optimize --train-baseline mlp|cnn --data mnist|digits|<file.csv> [options]

Applies pruning, quantization and distillation to a TensorFlow.js model and measures every
variant the same way: accuracy, size, latency (p50 at batch 1 and 64), energy per 1,000
inferences (wattprint's tracker) and the energy spent making it. Prints the table, marks
the Pareto front (accuracy against energy), recommends the lowest-energy variant within
the accuracy constraint, and writes results.json, pareto.html/.svg and the models to --out.
Method and caveats: docs/optimize.md.

Model and data:
  --model <dir>              a TF.js layers model (model.json + weights.bin), or:
  --train-baseline mlp|cnn   train a baseline first (on the data, with early stopping)
  --data <name|file>         mnist, digits (UCI 8×8, shipped) or a CSV: features…, label
  --train-limit <n>          use at most n training samples (quick runs)
  --test-limit <n>           use at most n test samples

Variants:
  --prune <f,f>              fractions to prune, by magnitude and by units (default 0.5,0.8; none)
  --quantize <q,q>           int8, float16 (TF.js weights), onnx (ONNX float32 + dynamic int8
                             in onnxruntime) (default int8,float16,onnx; none)
  --distill <w,w>            student widths: ≤ 1 a fraction of the teacher's widths, > 1 the
                             hidden units of an MLP student (default: no distillation)
  --epochs <n>               baseline training and distillation epochs (default 5)
  --fine-tune-epochs <n>     fine-tuning epochs after pruning (default 2)
  --batch-size <n>           (default 64)

Choice:
  --max-accuracy-drop <pts>  largest accuracy loss against the baseline, points (default 1)
  --min-accuracy <pct>       least accuracy, percent
  --max-size <bytes>         largest model size (accepts kB, MB: 250kB)

Measurement and output:
  --energy-seconds <s>       seconds of inference per energy figure (default 3)
  --latency-seconds <s>      seconds of timing per latency figure (default 1)
  --region <code>            grid region for CO2e (FR, US-CA, aws:us-east-1)
  --backend auto|wasm|cpu    TF.js backend (default auto: wasm, else cpu)
  --out <dir>                where results and models go (default ./wattprint-optimize)
  --json                     print the results as JSON
  -q, --quiet                no progress lines on stderr
  -h, --help                 this help

Exit status: 0 with a recommendation; 2 for bad input or when no variant meets the
constraint (the results are still written).`;

const OPTIONS = {
  model: { type: "string" },
  "train-baseline": { type: "string" },
  data: { type: "string" },
  "train-limit": { type: "string" },
  "test-limit": { type: "string" },
  prune: { type: "string" },
  quantize: { type: "string" },
  distill: { type: "string" },
  epochs: { type: "string" },
  "fine-tune-epochs": { type: "string" },
  "batch-size": { type: "string" },
  "max-accuracy-drop": { type: "string" },
  "min-accuracy": { type: "string" },
  "max-size": { type: "string" },
  "energy-seconds": { type: "string" },
  "latency-seconds": { type: "string" },
  region: { type: "string" },
  backend: { type: "string" },
  out: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

/** `wattprint optimize`: parse, run the optimize library, render, exit code. */
export async function optimizeCli(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: OPTIONS,
  });
  if (values.help) {
    io.stdout(`${OPTIMIZE_HELP}\n`);
    return 0;
  }
  const options = optionsFromFlags(values);
  const { runOptimize } = await import("../../optimize/run-optimize.js");
  let result: OptimizeResult;
  try {
    result = await runOptimize({
      ...options,
      env: io.env,
      log: values.quiet ? undefined : (line) => io.stderr(`wattprint optimize: ${line}\n`),
    });
  } catch (error) {
    const resultsPath = join(options.outDir ?? ".", "results.json");
    if (isWattprintError(error) && error.code !== "USAGE" && existsSync(resultsPath)) {
      throw new WattprintError(error.code, error.message, {
        hint: `${error.hint ?? "check the input"}; what was measured before the failure is in ${resultsPath}`,
        cause: error,
      });
    }
    throw error;
  }
  io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderOptimizeResult(result));
  if (result.recommended === null) {
    throw new WattprintError(
      "BAD_INPUT",
      `no variant meets the constraint (${describeConstraint(result)})`,
      {
        hint: `loosen --max-accuracy-drop, --min-accuracy or --max-size; all variants are in ${result.files.results ?? "the output above"}`,
      },
    );
  }
  return 0;
}

type FlagValues = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "boolean" ? boolean : string;
};

function optionsFromFlags(values: FlagValues): OptimizeOptions {
  const data = values.data;
  if (data === undefined) {
    throw new WattprintError("USAGE", "--data is missing", {
      hint: "give --data mnist, --data digits or --data <file.csv>",
    });
  }
  if (values.model === undefined && values["train-baseline"] === undefined) {
    throw new WattprintError("USAGE", "give --model <dir> or --train-baseline mlp|cnn", {
      hint: "optimize needs a TF.js layers model, or trains a baseline MLP or CNN first",
    });
  }
  const trainBaseline = values["train-baseline"];
  if (trainBaseline !== undefined && trainBaseline !== "mlp" && trainBaseline !== "cnn") {
    throw new WattprintError("USAGE", `invalid --train-baseline "${trainBaseline}"`, {
      hint: "use --train-baseline mlp or cnn",
    });
  }
  const backend = values.backend ?? "auto";
  if (backend !== "auto" && backend !== "wasm" && backend !== "cpu") {
    throw new WattprintError("USAGE", `invalid --backend "${backend}"`, {
      hint: "use auto, wasm or cpu",
    });
  }
  const quantize = listFlag(values.quantize, "--quantize").map((q) => {
    if (q !== "int8" && q !== "float16" && q !== "onnx") {
      throw new WattprintError("USAGE", `invalid --quantize "${q}"`, {
        hint: "use int8, float16, onnx (comma-separated) or none",
      });
    }
    return q as OptimizeQuantization;
  });
  const minAccuracyPct = optionalNumber(
    values["min-accuracy"],
    "--min-accuracy",
    "give a percentage, for example --min-accuracy 97",
  );
  if (minAccuracyPct !== undefined && !(minAccuracyPct >= 0 && minAccuracyPct <= 100)) {
    throw new WattprintError("USAGE", `invalid --min-accuracy ${minAccuracyPct}`, {
      hint: "give a percentage from 0 to 100",
    });
  }
  return {
    model: values.model,
    trainBaseline,
    data,
    trainLimit: optionalCount(values["train-limit"], "--train-limit"),
    testLimit: optionalCount(values["test-limit"], "--test-limit"),
    prune:
      values.prune === undefined
        ? undefined
        : listFlag(values.prune, "--prune").map((f) =>
            parseNumber(
              f,
              "--prune",
              "give fractions between 0 and 1, for example --prune 0.5,0.8",
            ),
          ),
    quantize: values.quantize === undefined ? undefined : quantize,
    distill:
      values.distill === undefined
        ? undefined
        : listFlag(values.distill, "--distill").map((w) =>
            parseNumber(
              w,
              "--distill",
              "give a width: 0.25 (fraction of the teacher) or 32 (hidden units)",
            ),
          ),
    epochs: optionalCount(values.epochs, "--epochs"),
    distillEpochs: optionalCount(values.epochs, "--epochs"),
    fineTuneEpochs: optionalCount(values["fine-tune-epochs"], "--fine-tune-epochs"),
    batchSize: optionalCount(values["batch-size"], "--batch-size"),
    maxAccuracyDropPoints: optionalNumber(
      values["max-accuracy-drop"],
      "--max-accuracy-drop",
      "give points of accuracy, for example --max-accuracy-drop 1",
    ),
    minAccuracy: minAccuracyPct === undefined ? undefined : minAccuracyPct / 100,
    maxSizeBytes: values["max-size"] === undefined ? undefined : parseBytes(values["max-size"]),
    energyMinDurationS: optionalSeconds(values["energy-seconds"], "--energy-seconds"),
    latencyDurationS: optionalSeconds(values["latency-seconds"], "--latency-seconds"),
    region: values.region,
    backend,
    outDir: values.out ?? "wattprint-optimize",
  };
}

/** "a,b" → ["a", "b"]; "none" or "" → []. */
function listFlag(value: string | undefined, flag: string): string[] {
  if (value === undefined) return [];
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 1 && items[0] === "none") return [];
  if (items.includes("none")) {
    throw new WattprintError("USAGE", `${flag} "${value}" mixes none with values`, {
      hint: `give ${flag} none alone`,
    });
  }
  return items;
}

function optionalNumber(value: string | undefined, flag: string, hint: string): number | undefined {
  return value === undefined ? undefined : parseNumber(value, flag, hint);
}

function optionalSeconds(value: string | undefined, flag: string): number | undefined {
  const seconds = optionalNumber(value, flag, `give seconds, for example ${flag} 2`);
  if (seconds !== undefined && !(seconds > 0 && seconds <= 600)) {
    throw new WattprintError("USAGE", `invalid ${flag} ${seconds}`, {
      hint: "give seconds between 0 and 600",
    });
  }
  return seconds;
}

function optionalCount(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const count = parseNumber(value, flag, "give a whole number");
  if (!Number.isInteger(count) || count < 1) {
    throw new WattprintError("USAGE", `invalid ${flag} "${value}"`, {
      hint: "give a whole number of at least 1",
    });
  }
  return count;
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  k: 1e3,
  mb: 1e6,
  m: 1e6,
  kib: 1024,
  mib: 1024 ** 2,
};

/** "250000", "250kB", "1.5MB", "64KiB" → bytes. */
export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const factor = BYTE_UNITS[(match?.[2] ?? "").toLowerCase()];
  if (!match || factor === undefined) {
    throw new WattprintError("USAGE", `invalid --max-size "${text}"`, {
      hint: "give bytes, for example 250000, 250kB or 1MB",
    });
  }
  return Math.round(Number(match[1]) * factor);
}

function describeConstraint(result: OptimizeResult): string {
  const parts = [
    `at most ${result.constraint.maxAccuracyDropPoints} points below the baseline's ${((result.baseline.accuracy ?? 0) * 100).toFixed(2)}%`,
  ];
  if (result.constraint.minAccuracy !== null)
    parts.push(`at least ${(result.constraint.minAccuracy * 100).toFixed(2)}% accurate`);
  if (result.constraint.maxSizeBytes !== null)
    parts.push(`at most ${result.constraint.maxSizeBytes} bytes`);
  return parts.join(", ");
}

/** The results as a plain-text table, with the recommendation and where the files are. */
export function renderOptimizeResult(result: OptimizeResult): string {
  const header = [
    "variant",
    "accuracy",
    "Δ pts",
    "size",
    "gzip",
    "p50 b1 ms",
    "p50 b64 ms",
    "J/1k inf",
    "made J",
    "",
  ];
  const rows = result.variants.map((v) => renderRow(v, v.name === result.recommended?.name));
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const out: string[] = [];
  out.push(
    `wattprint optimize: ${result.dataset.name}, ${result.dataset.testSamples} test samples; baseline ${result.baseline.source} (${result.baseline.params ?? "?"} parameters)`,
  );
  out.push("");
  out.push(line(header));
  for (const row of rows) out.push(line(row));
  out.push("");
  out.push("* on the Pareto front (accuracy against energy per inference)   → recommended");
  out.push(
    `energy: ${result.measurement.energySource}; batch ${result.measurement.energyBatchSize}, median of ${result.measurement.energyWindows} windows over ${result.measurement.energyMinDurationS} s; ${result.measurement.note}`,
  );
  out.push(
    `"made J": energy spent making the variant from the baseline (the baseline: its training, when trained here)`,
  );
  for (const skipped of result.skipped) out.push(`skipped ${skipped.name}: ${skipped.reason}`);
  for (const warning of result.warnings) out.push(`warning: ${warning}`);
  out.push("");
  out.push(
    result.recommended === null
      ? "recommended: none meets the constraint"
      : `recommended: ${result.recommended.name}: ${result.recommended.reason}`,
  );
  if (result.files.results !== null)
    out.push(
      `results: ${result.files.results}; chart: ${result.files.chartHtml}; models: ${result.files.models}`,
    );
  return `${out.join("\n")}\n`;
}

function renderRow(v: VariantResult, recommended: boolean): string[] {
  return [
    `${recommended ? "→ " : "  "}${v.name}${v.pareto ? " *" : ""}`,
    `${(v.accuracy * 100).toFixed(2)}%`,
    `${v.accuracyDropPoints > 0 ? "−" : v.accuracyDropPoints < 0 ? "+" : ""}${Math.abs(v.accuracyDropPoints).toFixed(2)}`,
    formatBytes(v.sizeBytes),
    formatBytes(v.sizeBytesGzip),
    v.latencyMsP50.batch1.toFixed(3),
    v.latencyMsP50.batch64.toFixed(2),
    v.energyJPer1kInferences === null ? "unknown" : v.energyJPer1kInferences.toPrecision(3),
    v.trainingEnergyJ === null ? "—" : v.trainingEnergyJ.toPrecision(3),
    "",
  ];
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toPrecision(3)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toPrecision(3)} kB`;
  return `${bytes} B`;
}
