// Green AI on MNIST, measured: trains a baseline MLP and a baseline CNN with wattprint's
// green-training callbacks (per-epoch energy and CO2e, early stopping, learning rate
// reduced on plateaus, an energy budget forecast from the first epochs), saves them as
// TF.js models, then runs `optimize` on each (pruning, quantization, ONNX int8,
// distillation) and prints the measured tables as Markdown.
//
// Needs a build (npm run build). The full run takes a quarter of an hour on 2 cores;
// --train-limit 6000 makes a quick one. Usage:
//   node examples/optimize-mnist.js [--models mlp,cnn] [--epochs 4] [--train-limit n] [--out optimize-mnist-out]
// The same, model by model, from the command line:
//   wattprint optimize --train-baseline mlp --data mnist --distill 0.25 --out optimize-mnist-out/mlp
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  EarlyStopping,
  EnergyBudget,
  EnergyLogger,
  EnergyMeter,
  ReduceLrOnPlateau,
  buildCnn,
  buildMlp,
  initTensorflow,
  loadMnist,
  meterTracker,
  runOptimize,
  saveModel,
  trainModel,
} from "../dist/optimize/index.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "mlp,cnn" },
    epochs: { type: "string", default: "4" },
    "train-limit": { type: "string" },
    out: { type: "string", default: "optimize-mnist-out" },
  },
});
const out = resolve(values.out);
const epochs = Number(values.epochs);
const trainLimit = values["train-limit"] === undefined ? undefined : Number(values["train-limit"]);

const runtime = await initTensorflow();
console.error(
  `TensorFlow.js backend: ${runtime.backend}${runtime.warnings.map((w) => `; ${w}`).join("")}`,
);
const mnist = loadMnist({ trainLimit });
const tracker = meterTracker({ label: "optimize-mnist example" });
await tracker.start();
const meter = new EnergyMeter(tracker);

const sections = [];
for (const kind of values.models.split(",")) {
  // 1. Train the baseline with the green callbacks.
  const model =
    kind === "cnn"
      ? buildCnn({ inputShape: [28, 28, 1], classes: 10, filters: [8, 16], denseUnits: 64 })
      : buildMlp({ inputShape: [28, 28, 1], classes: 10, hiddenUnits: [256, 128] });
  const budget = new EnergyBudget({
    // A deliberately tight budget, to show the forecast: it warns (it does not stop).
    energyJ: kind === "cnn" ? 150 : 60,
    action: "warn",
    onForecast: (f) =>
      console.error(
        `${kind} budget forecast after epoch ${f.epochsSeen}: ${f.predictedTotal.toFixed(1)} J for ${f.plannedEpochs} epochs` +
          (f.low === null ? "" : ` (95%: ${f.low.toFixed(1)}–${f.high.toFixed(1)} J)`),
      ),
  });
  const validationCount = Math.round(mnist.train.count * 0.1);
  const features = 784;
  const validation = {
    x: mnist.train.x.subarray(0, validationCount * features),
    y: mnist.train.y.subarray(0, validationCount),
    count: validationCount,
  };
  const fit = {
    x: mnist.train.x.subarray(validationCount * features),
    y: mnist.train.y.subarray(validationCount),
    count: mnist.train.count - validationCount,
  };
  const trained = await trainModel(model, fit, {
    epochs,
    validation,
    meter,
    phaseName: `train ${kind}`,
    log: (line) => console.error(`${kind}: ${line}`),
    callbacks: [
      new EnergyLogger({ log: (line) => console.error(`${kind} ${line}`) }),
      new ReduceLrOnPlateau({ patience: 1 }),
      new EarlyStopping({ patience: 2 }),
      budget,
    ],
  });
  const dir = join(out, `${kind}-baseline`);
  await saveModel(model, dir);
  console.error(
    `${kind}: trained ${trained.epochsRun} epochs, ${trained.energyJ?.toFixed(1)} J, ${trained.stopReason ?? "ran every epoch"}; saved to ${dir}`,
  );

  // 2. Optimize it.
  const result = await runOptimize({
    model: dir,
    data: "mnist",
    trainLimit,
    prune: [0.5, 0.75],
    quantize: ["int8", "float16", "onnx"],
    distill: [0.25],
    epochs,
    outDir: join(out, kind),
    tracker,
    log: (line) => console.error(`${kind} optimize: ${line}`),
  });
  sections.push(markdownTable(kind, result, trained));
}
await tracker.stop();
console.log(sections.join("\n\n"));

function markdownTable(kind, result, trained) {
  const lines = [
    `### ${kind.toUpperCase()} on MNIST (${result.dataset.testSamples} test images; baseline trained ${trained.epochsRun} epochs, ${trained.energyJ?.toFixed(1)} J)`,
    "",
    "| variant | accuracy | size | p50 batch 1 | p50 batch 64 | J / 1,000 inferences | energy to make | Pareto |",
    "|---|---:|---:|---:|---:|---:|---:|:---:|",
  ];
  for (const v of result.variants) {
    const name = v.name === result.recommended?.name ? `**${v.name}** (recommended)` : v.name;
    lines.push(
      `| ${name} | ${(v.accuracy * 100).toFixed(2)}% | ${(v.sizeBytes / 1000).toFixed(1)} kB | ${v.latencyMsP50.batch1.toFixed(3)} ms | ${v.latencyMsP50.batch64.toFixed(2)} ms | ${v.energyJPer1kInferences?.toPrecision(3) ?? "unknown"} | ${v.trainingEnergyJ === null ? "—" : `${v.trainingEnergyJ.toPrecision(3)} J`} | ${v.pareto ? "✓" : ""} |`,
    );
  }
  lines.push("", `Energy: ${result.measurement.energySource}.`);
  return lines.join("\n");
}
