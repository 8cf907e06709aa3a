/**
 * Checks a {@link ModelSpec} layer by layer and infers every layer's input and output
 * shapes (TF.js layout, without the batch axis). Any mismatch is a
 * WattprintError("BAD_INPUT") whose message names the layer.
 */
import { WattprintError } from "../../errors.js";
import type { LayerSpec, ModelSpec } from "./model-spec.js";

/** A layer together with the shapes it reads and writes (TF.js layout, no batch axis). */
export interface ShapedLayer {
  layer: LayerSpec;
  /** 1-based position in `spec.layers`, for messages. */
  position: number;
  inputShape: number[];
  outputShape: number[];
}

const ACTIVATIONS = new Set(["relu", "linear", "softmax"]);

/** Validates `spec` and returns its layers with inferred shapes. */
export function validateModelSpec(spec: ModelSpec): ShapedLayer[] {
  if (!Array.isArray(spec.inputShape) || spec.inputShape.length === 0) {
    throw badInput("model: inputShape must list at least one dimension (without the batch axis)");
  }
  if (!spec.inputShape.every(isPositiveInteger)) {
    throw badInput(
      `model: inputShape [${(spec.inputShape as unknown[]).join(", ")}] must hold positive integers`,
    );
  }
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) {
    throw badInput("model: it has no layers");
  }
  const shaped: ShapedLayer[] = [];
  let shape = [...spec.inputShape];
  spec.layers.forEach((layer, index) => {
    const position = index + 1;
    const outputShape = inferLayer(layer, shape, `layer ${position} (${describeKind(layer)})`);
    shaped.push({ layer, position, inputShape: shape, outputShape });
    shape = outputShape;
  });
  return shaped;
}

function inferLayer(layer: LayerSpec, input: number[], label: string): number[] {
  switch (layer.kind) {
    case "dense": {
      if (input.length !== 1) {
        throw badInput(
          `${label}: needs a flat input but receives shape [${input.join(", ")}]; add a flatten layer before it`,
        );
      }
      requirePositive(label, { inputSize: layer.inputSize, outputSize: layer.outputSize });
      if (input[0] !== layer.inputSize) {
        throw badInput(
          `${label}: inputSize is ${layer.inputSize} but the previous layer gives ${input[0]}`,
        );
      }
      requireActivation(label, layer.activation);
      requireValues(
        label,
        "weights",
        layer.weights,
        layer.inputSize * layer.outputSize,
        `[${layer.inputSize}, ${layer.outputSize}]`,
      );
      requireValues(label, "bias", layer.bias, layer.outputSize, `[${layer.outputSize}]`);
      return [layer.outputSize];
    }
    case "conv2d": {
      const [height, width, channels] = requireImage(label, input);
      requirePositive(label, {
        inChannels: layer.inChannels,
        outChannels: layer.outChannels,
        "kernelSize[0]": layer.kernelSize?.[0],
        "kernelSize[1]": layer.kernelSize?.[1],
        "strides[0]": layer.strides?.[0],
        "strides[1]": layer.strides?.[1],
      });
      if (channels !== layer.inChannels) {
        throw badInput(
          `${label}: inChannels is ${layer.inChannels} but the input has ${channels} channels`,
        );
      }
      if (layer.padding !== "valid" && layer.padding !== "same") {
        throw badInput(
          `${label}: padding must be "valid" or "same", got ${JSON.stringify(layer.padding)}`,
        );
      }
      requireActivation(label, layer.activation);
      const [kernelHeight, kernelWidth] = layer.kernelSize;
      const [strideHeight, strideWidth] = layer.strides;
      requireValues(
        label,
        "weights",
        layer.weights,
        kernelHeight * kernelWidth * layer.inChannels * layer.outChannels,
        `[${kernelHeight}, ${kernelWidth}, ${layer.inChannels}, ${layer.outChannels}]`,
      );
      requireValues(label, "bias", layer.bias, layer.outChannels, `[${layer.outChannels}]`);
      const outHeight = convOutputSize(height, kernelHeight, strideHeight, layer.padding);
      const outWidth = convOutputSize(width, kernelWidth, strideWidth, layer.padding);
      if (outHeight < 1 || outWidth < 1) {
        throw badInput(
          `${label}: kernel ${kernelHeight}x${kernelWidth} does not fit the ${height}x${width} input`,
        );
      }
      return [outHeight, outWidth, layer.outChannels];
    }
    case "maxpool2d": {
      const [height, width, channels] = requireImage(label, input);
      requirePositive(label, {
        "poolSize[0]": layer.poolSize?.[0],
        "poolSize[1]": layer.poolSize?.[1],
        "strides[0]": layer.strides?.[0],
        "strides[1]": layer.strides?.[1],
      });
      const outHeight = convOutputSize(height, layer.poolSize[0], layer.strides[0], "valid");
      const outWidth = convOutputSize(width, layer.poolSize[1], layer.strides[1], "valid");
      if (outHeight < 1 || outWidth < 1) {
        throw badInput(
          `${label}: pool ${layer.poolSize[0]}x${layer.poolSize[1]} does not fit the ${height}x${width} input`,
        );
      }
      return [outHeight, outWidth, channels];
    }
    case "flatten":
      return [input.reduce((product, size) => product * size, 1)];
    default:
      throw badInput(
        `${label}: unknown layer kind ${JSON.stringify((layer as { kind?: unknown }).kind)}`,
      );
  }
}

/** Output length along one axis, TF.js rules: `same` → ceil(in / stride), `valid` → floor((in − k) / stride) + 1. */
export function convOutputSize(
  inputSize: number,
  kernelSize: number,
  stride: number,
  padding: "valid" | "same",
): number {
  if (padding === "same") return Math.ceil(inputSize / stride);
  return Math.floor((inputSize - kernelSize) / stride) + 1;
}

/**
 * TF.js `same` padding along one axis: the total needed so the output is ceil(in / stride),
 * split with the odd element at the end. Returns `[before, after]`.
 */
export function samePadding(
  inputSize: number,
  kernelSize: number,
  stride: number,
): [number, number] {
  const outputSize = Math.ceil(inputSize / stride);
  const total = Math.max((outputSize - 1) * stride + kernelSize - inputSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function describeKind(layer: LayerSpec): string {
  const kind = (layer as { kind?: unknown }).kind;
  return typeof kind === "string" ? kind : "unknown";
}

function requireImage(label: string, input: number[]): [number, number, number] {
  if (input.length !== 3) {
    throw badInput(
      `${label}: needs an image input [height, width, channels] but receives shape [${input.join(", ")}]`,
    );
  }
  return [input[0] as number, input[1] as number, input[2] as number];
}

function requirePositive(label: string, values: Record<string, number | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    if (!isPositiveInteger(value))
      throw badInput(`${label}: ${name} must be a positive integer, got ${String(value)}`);
  }
}

function requireActivation(label: string, activation: unknown): void {
  if (typeof activation !== "string" || !ACTIVATIONS.has(activation)) {
    throw badInput(
      `${label}: activation must be relu, linear or softmax, got ${JSON.stringify(activation)}`,
    );
  }
}

function requireValues(
  label: string,
  name: string,
  values: unknown,
  expectedLength: number,
  shape: string,
): void {
  if (!(values instanceof Float32Array)) throw badInput(`${label}: ${name} must be a Float32Array`);
  if (values.length !== expectedLength) {
    throw badInput(
      `${label}: ${name} has ${values.length} values but shape ${shape} needs ${expectedLength}`,
    );
  }
  for (let index = 0; index < values.length; index++) {
    if (!Number.isFinite(values[index]))
      throw badInput(`${label}: ${name}[${index}] is not a finite number`);
  }
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value > 0;
}

function badInput(message: string): WattprintError {
  return new WattprintError("BAD_INPUT", `ONNX export: ${message}`, {
    hint: "check the layer sizes and weight shapes of the model (weights in TF.js layout)",
  });
}
