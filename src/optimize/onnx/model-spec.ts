/**
 * The model description that the ONNX exporter accepts: a sequential stack of layers with
 * weights laid out as TensorFlow.js stores them, so a TF.js `Sequential` model can be handed
 * over without reshuffling its tensors.
 */

/** Activation applied after a dense or conv2d layer. `softmax` is over the last axis. */
export type Activation = "relu" | "linear" | "softmax";

/** A fully connected layer. `weights` is row-major `[inputSize, outputSize]`, as TF.js stores a Dense kernel. */
export interface DenseLayerSpec {
  kind: "dense";
  inputSize: number;
  outputSize: number;
  /** Row-major `[inputSize, outputSize]` (TF.js Dense kernel layout). */
  weights: Float32Array;
  /** `[outputSize]`. */
  bias: Float32Array;
  activation: Activation;
}

/** A 2-D convolution over NHWC inputs. `weights` uses the TF.js layout `[kh, kw, in, out]`. */
export interface Conv2dLayerSpec {
  kind: "conv2d";
  inChannels: number;
  outChannels: number;
  /** `[kernelHeight, kernelWidth]`. */
  kernelSize: [number, number];
  /** `[strideHeight, strideWidth]`. */
  strides: [number, number];
  /** TF.js padding: `same` pads so that output size = ceil(input / stride), extra padding at the end. */
  padding: "valid" | "same";
  /** TF.js layout `[kh, kw, in, out]`, row-major. */
  weights: Float32Array;
  /** `[outChannels]`. */
  bias: Float32Array;
  activation: Activation;
}

/** Max pooling over NHWC inputs, no padding (TF.js `padding: "valid"`, the default). */
export interface MaxPool2dLayerSpec {
  kind: "maxpool2d";
  /** `[poolHeight, poolWidth]`. */
  poolSize: [number, number];
  /** `[strideHeight, strideWidth]`. */
  strides: [number, number];
}

/** Flattens everything but the batch axis in TF.js order (NHWC: channel fastest). */
export interface FlattenLayerSpec {
  kind: "flatten";
}

/** One layer of a sequential model. */
export type LayerSpec = DenseLayerSpec | Conv2dLayerSpec | MaxPool2dLayerSpec | FlattenLayerSpec;

/** A sequential model. */
export interface ModelSpec {
  /** Input shape without the batch axis, TF.js layout: NHWC `[height, width, channels]` for images, `[features]` otherwise. */
  inputShape: number[];
  layers: LayerSpec[];
}
