/** Seeded random layers and models for the ONNX tests. */
import type {
  Activation,
  Conv2dLayerSpec,
  DenseLayerSpec,
  ModelSpec,
} from "../../../src/optimize/onnx/export.js";
import { randomValues } from "./reference.js";

/** A dense layer with Glorot-uniform-like weights and small biases. */
export function denseLayer(
  random: () => number,
  inputSize: number,
  outputSize: number,
  activation: Activation,
): DenseLayerSpec {
  const limit = Math.sqrt(6 / (inputSize + outputSize));
  return {
    kind: "dense",
    inputSize,
    outputSize,
    weights: randomValues(random, inputSize * outputSize, limit),
    bias: randomValues(random, outputSize, 0.1),
    activation,
  };
}

/** A conv2d layer with Glorot-uniform-like weights and small biases. */
export function convLayer(
  random: () => number,
  options: {
    inChannels: number;
    outChannels: number;
    kernelSize: [number, number];
    strides?: [number, number];
    padding: "valid" | "same";
    activation: Activation;
  },
): Conv2dLayerSpec {
  const [kernelHeight, kernelWidth] = options.kernelSize;
  const fanIn = kernelHeight * kernelWidth * options.inChannels;
  const fanOut = kernelHeight * kernelWidth * options.outChannels;
  return {
    kind: "conv2d",
    inChannels: options.inChannels,
    outChannels: options.outChannels,
    kernelSize: options.kernelSize,
    strides: options.strides ?? [1, 1],
    padding: options.padding,
    weights: randomValues(random, fanIn * options.outChannels, Math.sqrt(6 / (fanIn + fanOut))),
    bias: randomValues(random, options.outChannels, 0.1),
    activation: options.activation,
  };
}

/** An MLP over flat inputs: sizes[0] inputs, relu hidden layers, softmax output. */
export function mlpModel(random: () => number, sizes: number[]): ModelSpec {
  const layers = sizes
    .slice(1)
    .map((outputSize, index) =>
      denseLayer(
        random,
        sizes[index] as number,
        outputSize,
        index === sizes.length - 2 ? "softmax" : "relu",
      ),
    );
  return { inputShape: [sizes[0] as number], layers };
}

/** A small CNN over [12, 10, 2] images: conv same → pool → conv valid with strides → flatten → dense → softmax. */
export function cnnModel(random: () => number): ModelSpec {
  return {
    inputShape: [12, 10, 2],
    layers: [
      convLayer(random, {
        inChannels: 2,
        outChannels: 6,
        kernelSize: [3, 3],
        padding: "same",
        activation: "relu",
      }),
      { kind: "maxpool2d", poolSize: [2, 2], strides: [2, 2] },
      convLayer(random, {
        inChannels: 6,
        outChannels: 5,
        kernelSize: [2, 3],
        strides: [2, 1],
        padding: "valid",
        activation: "relu",
      }),
      { kind: "flatten" },
      denseLayer(random, 3 * 3 * 5, 16, "relu"),
      denseLayer(random, 16, 7, "softmax"),
    ],
  };
}

/** Number of values in one sample of the model's input. */
export function sampleSize(spec: ModelSpec): number {
  return spec.inputShape.reduce((product, size) => product * size, 1);
}
