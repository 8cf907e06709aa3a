/**
 * The reference models a task's rating scale is measured on: multilayer perceptrons and
 * small CNNs of growing width and depth, each in float32 and dynamic int8, with seeded
 * random weights (energy at batch 1 depends on the shapes, not on the weight values).
 * `scripts/generate-label-reference.ts` measures them; tests build the same models.
 */
import type {
  Activation,
  Conv2dLayerSpec,
  DenseLayerSpec,
  LayerSpec,
  ModelSpec,
} from "../optimize/onnx/export.js";
import { exportModelToOnnx, quantizeOnnxDynamicInt8 } from "../optimize/onnx/export.js";
import { seededRandom } from "../optimize/datasets.js";
import type { LabelTask, LabelTaskName } from "./tasks.js";

/** The precision a reference model is exported in. */
export type ReferencePrecision = "float32" | "int8";

/** One reference architecture, before precision. */
export type ReferenceArchitecture =
  { kind: "mlp"; hidden: number[] } | { kind: "cnn"; channels: number; dense: number };

/** One reference model: an architecture in one precision with its weight seed. */
export interface ReferenceModel {
  /** Stable id: "mlp-784-512-10-float32", "cnn-c16-d128-int8". */
  id: string;
  /** In words, without commas (a CSV cell): "MLP 784-512-10 ReLU/softmax". */
  architecture: string;
  precision: ReferencePrecision;
  /** Seed of the weights (mulberry32). */
  seed: number;
  /** Trainable parameters (weights + biases). */
  parameters: number;
  spec: ModelSpec;
}

/** Classes every reference model outputs. */
export const REFERENCE_CLASSES = 10;

/**
 * The family per task. MLPs take the flat input; CNNs the image: conv 3×3 `c` (same) →
 * max-pool 2×2 → conv 3×3 `2c` (same) → max-pool 2×2 → flatten → dense → dense 10. int8 is
 * wattprint's dynamic int8 export (dense kernels int8, convolutions float32).
 */
export const REFERENCE_ARCHITECTURES: Record<LabelTaskName, ReferenceArchitecture[]> = {
  "mnist-classification": [
    { kind: "mlp", hidden: [32] },
    { kind: "mlp", hidden: [128] },
    { kind: "mlp", hidden: [512] },
    { kind: "mlp", hidden: [256, 256] },
    { kind: "mlp", hidden: [1024, 1024] },
    { kind: "mlp", hidden: [2048, 2048] },
    { kind: "cnn", channels: 4, dense: 128 },
    { kind: "cnn", channels: 16, dense: 128 },
    { kind: "cnn", channels: 32, dense: 128 },
    { kind: "cnn", channels: 64, dense: 128 },
  ],
  "digits-classification": [
    { kind: "mlp", hidden: [16] },
    { kind: "mlp", hidden: [64] },
    { kind: "mlp", hidden: [256] },
    { kind: "mlp", hidden: [256, 256] },
    { kind: "mlp", hidden: [1024, 1024] },
    { kind: "mlp", hidden: [2048, 2048] },
    { kind: "cnn", channels: 8, dense: 64 },
    { kind: "cnn", channels: 32, dense: 64 },
    { kind: "cnn", channels: 128, dense: 64 },
    { kind: "cnn", channels: 256, dense: 64 },
  ],
};

/** Every reference model of `task`, float32 then int8 per architecture, seeds 1, 2, 3, … */
export function referenceModels(task: LabelTask): ReferenceModel[] {
  const models: ReferenceModel[] = [];
  REFERENCE_ARCHITECTURES[task.name].forEach((architecture, index) => {
    const seed = index + 1;
    const spec = buildReferenceSpec(task, architecture, seed);
    for (const precision of ["float32", "int8"] as const) {
      models.push({
        id: `${architectureId(task, architecture)}-${precision}`,
        architecture: describeArchitecture(task, architecture),
        precision,
        seed,
        parameters: countParameters(spec),
        spec,
      });
    }
  });
  return models;
}

/** The ONNX bytes of a reference model. */
export function exportReferenceModel(model: ReferenceModel): Uint8Array {
  return model.precision === "float32"
    ? exportModelToOnnx(model.spec)
    : quantizeOnnxDynamicInt8(model.spec);
}

/** The layers of one architecture for `task`'s input, weights Glorot-uniform from `seed`, biases uniform ±0.1. */
export function buildReferenceSpec(
  task: LabelTask,
  architecture: ReferenceArchitecture,
  seed: number,
): ModelSpec {
  const random = seededRandom(seed);
  if (architecture.kind === "mlp") {
    const sizes = [task.valuesPerQuery, ...architecture.hidden, REFERENCE_CLASSES];
    const layers = sizes
      .slice(1)
      .map((outputSize, index) =>
        dense(
          random,
          sizes[index] as number,
          outputSize,
          index === sizes.length - 2 ? "softmax" : "relu",
        ),
      );
    return { inputShape: [task.valuesPerQuery], layers };
  }
  const [height, width, inChannels] = task.imageShape;
  const c = architecture.channels;
  const pooledHeight = Math.floor(Math.floor(height / 2) / 2);
  const pooledWidth = Math.floor(Math.floor(width / 2) / 2);
  const layers: LayerSpec[] = [
    conv(random, inChannels, c),
    { kind: "maxpool2d", poolSize: [2, 2], strides: [2, 2] },
    conv(random, c, 2 * c),
    { kind: "maxpool2d", poolSize: [2, 2], strides: [2, 2] },
    { kind: "flatten" },
    dense(random, pooledHeight * pooledWidth * 2 * c, architecture.dense, "relu"),
    dense(random, architecture.dense, REFERENCE_CLASSES, "softmax"),
  ];
  return { inputShape: [...task.imageShape], layers };
}

/** Weights and biases of a spec. */
export function countParameters(spec: ModelSpec): number {
  return spec.layers.reduce(
    (sum, layer) =>
      layer.kind === "dense" || layer.kind === "conv2d"
        ? sum + layer.weights.length + layer.bias.length
        : sum,
    0,
  );
}

function architectureId(task: LabelTask, architecture: ReferenceArchitecture): string {
  return architecture.kind === "mlp"
    ? `mlp-${[task.valuesPerQuery, ...architecture.hidden, REFERENCE_CLASSES].join("-")}`
    : `cnn-c${architecture.channels}-d${architecture.dense}`;
}

function describeArchitecture(task: LabelTask, architecture: ReferenceArchitecture): string {
  if (architecture.kind === "mlp") {
    return `MLP ${[task.valuesPerQuery, ...architecture.hidden, REFERENCE_CLASSES].join("-")} ReLU/softmax`;
  }
  const c = architecture.channels;
  return `CNN ${task.imageShape.join("×")}: conv3×3 ${c} → pool2 → conv3×3 ${2 * c} → pool2 → dense ${architecture.dense} → dense ${REFERENCE_CLASSES}`;
}

function dense(
  random: () => number,
  inputSize: number,
  outputSize: number,
  activation: Activation,
): DenseLayerSpec {
  return {
    kind: "dense",
    inputSize,
    outputSize,
    weights: uniform(random, inputSize * outputSize, Math.sqrt(6 / (inputSize + outputSize))),
    bias: uniform(random, outputSize, 0.1),
    activation,
  };
}

function conv(random: () => number, inChannels: number, outChannels: number): Conv2dLayerSpec {
  const fanIn = 9 * inChannels;
  const fanOut = 9 * outChannels;
  return {
    kind: "conv2d",
    inChannels,
    outChannels,
    kernelSize: [3, 3],
    strides: [1, 1],
    padding: "same",
    weights: uniform(random, fanIn * outChannels, Math.sqrt(6 / (fanIn + fanOut))),
    bias: uniform(random, outChannels, 0.1),
    activation: "relu",
  };
}

function uniform(random: () => number, count: number, limit: number): Float32Array {
  return Float32Array.from({ length: count }, () => (random() * 2 - 1) * limit);
}
