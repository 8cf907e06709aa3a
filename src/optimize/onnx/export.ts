/**
 * Export a sequential {@link ModelSpec} (weights in TF.js layout) to an ONNX model, either
 * float32 or with dynamic int8 quantization, as the bytes of a ModelProto that
 * onnxruntime (or any ONNX runtime with opset 13) can load.
 */
import { encodeModel } from "./onnx-proto.js";
import type { OnnxModel } from "./onnx-proto.js";
import { buildOnnxGraph } from "./graph-builder.js";
import type { BuildGraphOptions } from "./graph-builder.js";
import type { ModelSpec } from "./model-spec.js";
import { wattprintVersion } from "../../version.js";

export type {
  Activation,
  Conv2dLayerSpec,
  DenseLayerSpec,
  FlattenLayerSpec,
  LayerSpec,
  MaxPool2dLayerSpec,
  ModelSpec,
} from "./model-spec.js";
export { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from "./graph-builder.js";

/**
 * ONNX operator set the models use. 13 is the first with per-axis `Softmax`; every operator
 * written here (DynamicQuantizeLinear since 11, MatMulInteger and ConvInteger since 10) exists in it.
 */
export const ONNX_OPSET_VERSION = 13;
/** ONNX IR version that goes with opset 13. */
export const ONNX_IR_VERSION = 7;

/** Options for {@link quantizeOnnxDynamicInt8}. */
export interface DynamicInt8Options {
  /**
   * Quantize weights to 7 bits (±63) instead of 8 (±127). Only worth it on x86 CPUs without
   * VNNI, where onnxruntime's u8×s8 kernels can saturate 16-bit partial sums. Default false.
   */
  reduceRange?: boolean;
  /**
   * Also quantize conv2d kernels, as `ConvInteger`. Default false, because onnxruntime 1.30's
   * CPU `ConvInteger` is much slower than its float `Conv` (measured 4–7x slower on a small
   * MNIST CNN, see docs); conv kernels are usually a small share of a CNN's bytes anyway.
   */
  quantizeConv?: boolean;
}

/**
 * Serialises `spec` as a float32 ONNX model: input `input` `[batch, ...spec.inputShape]`
 * (TF.js layout), output `output` `[batch, ...]` (TF.js layout). Dense layers become `Gemm`,
 * conv2d `Conv` (NCHW inside the graph), maxpool2d `MaxPool`.
 *
 * @throws WattprintError("BAD_INPUT") naming the layer when shapes or weights do not fit.
 */
export function exportModelToOnnx(spec: ModelSpec): Uint8Array {
  return encodeModel(wrapGraph(spec, { precision: "float32" }));
}

/**
 * Serialises `spec` as an ONNX model with dynamic int8 quantization: dense kernels (and conv2d
 * kernels with `quantizeConv`) are stored as int8 with one scale per tensor (symmetric, zero
 * point 0); at run time each such layer's input is quantized to uint8 with
 * `DynamicQuantizeLinear` (scale and zero point from that batch's min/max), multiplied with
 * `MatMulInteger` (or `ConvInteger`) in int32, cast to float and rescaled by input scale ×
 * weight scale; bias, activations and pooling stay float32. These are standard ONNX operators
 * that onnxruntime's CPU provider implements, and it fuses each dense layer's chain into one
 * `DynamicQuantizeMatMul` kernel (uint8 × int8 GEMM). Same input/output as
 * {@link exportModelToOnnx}.
 *
 * @throws WattprintError("BAD_INPUT") naming the layer when shapes or weights do not fit.
 */
export function quantizeOnnxDynamicInt8(
  spec: ModelSpec,
  options: DynamicInt8Options = {},
): Uint8Array {
  return encodeModel(
    wrapGraph(spec, {
      precision: "dynamic-int8",
      reduceRange: options.reduceRange === true,
      quantizeConv: options.quantizeConv === true,
    }),
  );
}

/** Size of a serialised ONNX model, in bytes (what it takes on disk). */
export function onnxSizeBytes(bytes: Uint8Array): number {
  return bytes.byteLength;
}

function wrapGraph(spec: ModelSpec, options: BuildGraphOptions): OnnxModel {
  return {
    irVersion: ONNX_IR_VERSION,
    opsetImports: [{ domain: "", version: ONNX_OPSET_VERSION }],
    producerName: "wattprint",
    producerVersion: wattprintVersion(),
    graph: buildOnnxGraph(spec, options),
  };
}
