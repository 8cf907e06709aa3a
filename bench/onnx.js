// Float32 versus dynamic-int8 ONNX models in onnxruntime-node (CPU execution provider): file
// size and latency p50 at batch 1 and batch 64, for an MNIST-sized MLP (784-512-256-10) and a
// small CNN (28x28x1 → conv 3x3x16 → pool → conv 3x3x32 → pool → dense 128 → dense 10). The
// CNN is measured twice in int8: with the default (dense layers int8, conv float32) and with
// `quantizeConv` (conv layers through ConvInteger too).
// Weights are seeded random (latency and size do not depend on their values); inputs are
// seeded uniform [0, 1) "pixels". Each latency is the median of many timed `run` calls
// (wall clock around the awaited call, so it includes the Node binding's overhead), after a
// warm-up, with float and int8 timed in alternating blocks so that drift hits both alike.
// Needs a build (npm run build). Usage:
//   node bench/onnx.js [--threads 1] [--repeats-batch1 2000] [--repeats-batch64 300] [--json]
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import {
  exportModelToOnnx,
  onnxSizeBytes,
  quantizeOnnxDynamicInt8,
} from "../dist/optimize/onnx/export.js";
import { createOnnxRunner } from "../dist/optimize/onnx/session.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: "1" },
    "repeats-batch1": { type: "string", default: "2000" },
    "repeats-batch64": { type: "string", default: "300" },
    json: { type: "boolean", default: false },
  },
});
const threads = Number(values.threads);
const repeatsByBatch = {
  1: Number(values["repeats-batch1"]),
  64: Number(values["repeats-batch64"]),
};
const BLOCKS = 10;
const WARMUP_RUNS = 30;

function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(random, count, limit) {
  return Float32Array.from({ length: count }, () => (random() * 2 - 1) * limit);
}

function dense(random, inputSize, outputSize, activation) {
  const limit = Math.sqrt(6 / (inputSize + outputSize));
  return {
    kind: "dense",
    inputSize,
    outputSize,
    weights: uniform(random, inputSize * outputSize, limit),
    bias: uniform(random, outputSize, 0.05),
    activation,
  };
}

function conv(random, inChannels, outChannels, kernel) {
  const limit = Math.sqrt(6 / (kernel * kernel * (inChannels + outChannels)));
  return {
    kind: "conv2d",
    inChannels,
    outChannels,
    kernelSize: [kernel, kernel],
    strides: [1, 1],
    padding: "valid",
    weights: uniform(random, kernel * kernel * inChannels * outChannels, limit),
    bias: uniform(random, outChannels, 0.05),
    activation: "relu",
  };
}

const random = seededRandom(2024);
const models = {
  "mlp-784-512-256-10": {
    inputShape: [784],
    layers: [
      dense(random, 784, 512, "relu"),
      dense(random, 512, 256, "relu"),
      dense(random, 256, 10, "softmax"),
    ],
  },
  "cnn-16-32-128-10": {
    inputShape: [28, 28, 1],
    layers: [
      conv(random, 1, 16, 3),
      { kind: "maxpool2d", poolSize: [2, 2], strides: [2, 2] },
      conv(random, 16, 32, 3),
      { kind: "maxpool2d", poolSize: [2, 2], strides: [2, 2] },
      { kind: "flatten" },
      dense(random, 5 * 5 * 32, 128, "relu"),
      dense(random, 128, 10, "softmax"),
    ],
  },
};

function percentile(sorted, fraction) {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

function argmaxRows(output, classes) {
  const rows = [];
  for (let start = 0; start < output.length; start += classes) {
    let best = start;
    for (let index = start + 1; index < start + classes; index++)
      if (output[index] > output[best]) best = index;
    rows.push(best - start);
  }
  return rows;
}

async function timeBlock(runner, input, batch, count, into) {
  for (let index = 0; index < count; index++) {
    const started = process.hrtime.bigint();
    await runner.run(input, batch);
    into.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
}

const results = [];
for (const [name, spec] of Object.entries(models)) {
  const sampleSize = spec.inputShape.reduce((product, size) => product * size, 1);
  const variants = { float32: exportModelToOnnx(spec), int8: quantizeOnnxDynamicInt8(spec) };
  if (spec.layers.some((layer) => layer.kind === "conv2d"))
    variants["int8+conv"] = quantizeOnnxDynamicInt8(spec, { quantizeConv: true });
  const names = Object.keys(variants);
  const runners = {};
  for (const [variant, bytes] of Object.entries(variants))
    runners[variant] = await createOnnxRunner(bytes, { intraOpThreads: threads });

  // Agreement of each variant's predicted class with float32's on 1,000 random inputs (not accuracy: the weights are random).
  const probe = uniform(seededRandom(7), 1000 * sampleSize, 0.5).map((value) => value + 0.5);
  const classes = {};
  for (const variant of names)
    classes[variant] = argmaxRows(await runners[variant].run(probe, 1000), 10);

  const latency = { 1: {}, 64: {} };
  for (const batch of [1, 64]) {
    const input = uniform(seededRandom(batch), batch * sampleSize, 0.5).map((value) => value + 0.5);
    const samples = Object.fromEntries(names.map((variant) => [variant, []]));
    for (const variant of names) await timeBlock(runners[variant], input, batch, WARMUP_RUNS, []);
    const perBlock = Math.ceil(repeatsByBatch[batch] / BLOCKS);
    for (let block = 0; block < BLOCKS; block++) {
      const order = block % 2 === 0 ? names : [...names].reverse();
      for (const variant of order)
        await timeBlock(runners[variant], input, batch, perBlock, samples[variant]);
    }
    for (const variant of names) {
      const sorted = samples[variant].sort((a, b) => a - b);
      latency[batch][variant] = {
        p50Ms: percentile(sorted, 0.5),
        p90Ms: percentile(sorted, 0.9),
        runs: sorted.length,
      };
    }
  }
  for (const runner of Object.values(runners)) await runner.close();

  results.push({
    model: name,
    parameters: spec.layers.reduce(
      (total, layer) => total + (layer.weights?.length ?? 0) + (layer.bias?.length ?? 0),
      0,
    ),
    variants: names.map((variant) => ({
      variant,
      sizeBytes: onnxSizeBytes(variants[variant]),
      sizeRatio: onnxSizeBytes(variants.float32) / onnxSizeBytes(variants[variant]),
      argmaxAgreementWithFloat32:
        classes[variant].filter((value, index) => value === classes.float32[index]).length / 1000,
      latency: { 1: latency[1][variant], 64: latency[64][variant] },
      speedUpP50: {
        1: latency[1].float32.p50Ms / latency[1][variant].p50Ms,
        64: latency[64].float32.p50Ms / latency[64][variant].p50Ms,
      },
    })),
  });
}

const setup = {
  onnxruntimeNode: (await import("onnxruntime-node/package.json", { with: { type: "json" } }))
    .default.version,
  node: process.version,
  cpu: cpus()[0]?.model ?? "unknown",
  logicalCpus: cpus().length,
  intraOpThreads: threads,
  repeats: repeatsByBatch,
  warmupRuns: WARMUP_RUNS,
};

if (values.json) {
  console.log(JSON.stringify({ setup, results }, null, 2));
} else {
  console.log(
    `onnxruntime-node ${setup.onnxruntimeNode}, Node ${setup.node}, ${setup.cpu} (${setup.logicalCpus} logical CPUs), intra-op threads ${threads}`,
  );
  console.log(
    `latency: median of ${repeatsByBatch[1]} (batch 1) / ${repeatsByBatch[64]} (batch 64) timed runs per variant after ${WARMUP_RUNS} warm-up runs, variants alternating in ${BLOCKS} blocks`,
  );
  console.log("");
  console.log(
    "| model | variant | size (bytes) | smaller | p50 batch 1 (ms) | speed-up b1 | p50 batch 64 (ms) | p90 batch 64 (ms) | speed-up b64 | same class as float32 |",
  );
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const result of results) {
    for (const row of result.variants) {
      console.log(
        `| ${result.model} | ${row.variant} | ${row.sizeBytes} | ${row.sizeRatio.toFixed(2)}x | ${row.latency[1].p50Ms.toFixed(4)} | ${row.speedUpP50[1].toFixed(2)}x | ${row.latency[64].p50Ms.toFixed(3)} | ${row.latency[64].p90Ms.toFixed(3)} | ${row.speedUpP50[64].toFixed(2)}x | ${(row.argmaxAgreementWithFloat32 * 100).toFixed(1)}% |`,
      );
    }
  }
  console.log("");
  console.log(
    "speed-up = float32 p50 / variant p50; 'same class' = argmax agreement with float32 on 1,000 random inputs (random weights, so not an accuracy)",
  );
}
