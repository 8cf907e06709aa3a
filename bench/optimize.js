// The optimize targets on MNIST (issue 6), measured with wattprint's own tracker:
//   1. a variant at least 4x smaller with at least 1.5x lower measured inference energy,
//      at no more than 1 point of accuracy loss;
//   2. a distilled student with at most 25% of the teacher's parameters that keeps at
//      least 95% of its accuracy.
// Trains the baseline MLP (784-256-128-10) on MNIST's 60,000 training images, runs the
// whole optimize flow on it and prints the table, the two targets and the figures behind
// them. Needs a build (npm run build). Takes several minutes on 2 cores. Usage:
//   node bench/optimize.js [--epochs 5] [--baseline mlp|cnn] [--energy-seconds 3]
//                          [--train-limit n] [--out bench-optimize-out] [--json]
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runOptimize } from "../dist/optimize/run-optimize.js";
import { renderOptimizeResult } from "../dist/cli/commands/optimize.js";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "5" },
    baseline: { type: "string", default: "mlp" },
    "energy-seconds": { type: "string", default: "3" },
    "train-limit": { type: "string" },
    out: { type: "string", default: "bench-optimize-out" },
    json: { type: "boolean" },
  },
});

const startedMs = Date.now();
const result = await runOptimize({
  trainBaseline: values.baseline === "cnn" ? "cnn" : "mlp",
  data: "mnist",
  epochs: Number(values.epochs),
  fineTuneEpochs: 2,
  prune: [0.5, 0.75],
  quantize: ["int8", "float16", "onnx"],
  // A quarter of every hidden width: 784-64-32-10 for the MLP teacher (22% of its parameters).
  distill: [0.25],
  maxAccuracyDropPoints: 1,
  energyMinDurationS: Number(values["energy-seconds"]),
  trainLimit: values["train-limit"] === undefined ? undefined : Number(values["train-limit"]),
  outDir: resolve(values.out),
  log: (line) => console.error(`optimize: ${line}`),
});
const elapsedS = (Date.now() - startedMs) / 1000;

const baseline = result.variants.find((v) => v.name === "baseline");
if (baseline === undefined || baseline.energyJPer1kInferences === null) {
  console.error("optimize bench: the baseline was not measured");
  process.exit(1);
}

// Target 1: smaller, leaner, as accurate.
const compressed = result.variants
  .filter((v) => v.name !== "baseline" && v.energyJPer1kInferences !== null)
  .map((v) => ({
    name: v.name,
    sizeRatio: baseline.sizeBytes / v.sizeBytes,
    energyRatio: baseline.energyJPer1kInferences / v.energyJPer1kInferences,
    accuracyDropPoints: v.accuracyDropPoints,
  }));
const meeting1 = compressed.filter(
  (v) => v.sizeRatio >= 4 && v.energyRatio >= 1.5 && v.accuracyDropPoints <= 1,
);

// Target 2: the distilled student.
const students = result.variants
  .filter((v) => v.kind === "distill" && v.parent === "baseline")
  .map((v) => ({
    name: v.name,
    paramShare: v.params / baseline.params,
    accuracyKept: v.accuracy / baseline.accuracy,
  }));
const meeting2 = students.filter((s) => s.paramShare <= 0.25 && s.accuracyKept >= 0.95);

const summary = {
  elapsedS,
  baseline: {
    params: baseline.params,
    accuracy: baseline.accuracy,
    sizeBytes: baseline.sizeBytes,
    energyJPer1kInferences: baseline.energyJPer1kInferences,
  },
  energySource: result.measurement.energySource,
  target1: { met: meeting1.length > 0, variants: meeting1, all: compressed },
  target2: { met: meeting2.length > 0, students },
  recommended: result.recommended,
  results: result.files.results,
};

if (values.json) {
  console.log(JSON.stringify({ summary, result }, null, 2));
} else {
  process.stdout.write(renderOptimizeResult(result));
  console.log("");
  console.log(
    `Target 1 (≥4x smaller, ≥1.5x less energy per inference, ≤1 point accuracy loss): ${summary.target1.met ? "met" : "NOT met"}`,
  );
  for (const v of compressed) {
    const ok = v.sizeRatio >= 4 && v.energyRatio >= 1.5 && v.accuracyDropPoints <= 1;
    console.log(
      `  ${ok ? "✓" : " "} ${v.name.padEnd(28)} ${v.sizeRatio.toFixed(2).padStart(6)}x smaller  ${v.energyRatio.toFixed(2).padStart(6)}x less energy  ${(-v.accuracyDropPoints).toFixed(2).padStart(6)} points`,
    );
  }
  console.log(
    `Target 2 (student ≤25% of the teacher's parameters keeping ≥95% of its accuracy): ${summary.target2.met ? "met" : "NOT met"}`,
  );
  for (const s of students) {
    console.log(
      `  ${s.paramShare <= 0.25 && s.accuracyKept >= 0.95 ? "✓" : " "} ${s.name}: ${(s.paramShare * 100).toFixed(1)}% of the parameters, ${(s.accuracyKept * 100).toFixed(2)}% of the accuracy`,
    );
  }
  console.log(`energy: ${result.measurement.energySource}`);
  console.log(`${elapsedS.toFixed(0)} s; results in ${result.files.results}`);
}
process.exitCode = summary.target1.met && summary.target2.met ? 0 : 1;
