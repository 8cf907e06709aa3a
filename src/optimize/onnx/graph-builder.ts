/**
 * Turns a validated {@link ModelSpec} into an ONNX graph, float32 or dynamically quantized
 * int8. Layout: TF.js feeds images NHWC while ONNX `Conv`/`MaxPool` work on NCHW, so the
 * graph transposes once to NCHW before the first spatial layer, stores conv kernels as
 * `[out, in, kh, kw]`, and keeps TF.js's flatten order (NHWC, channel fastest) either by
 * permuting the rows of the dense kernel that follows the flatten or, when no dense follows,
 * by transposing back before flattening.
 */
import type {
  OnnxAttribute,
  OnnxDataTypeCode,
  OnnxGraph,
  OnnxNode,
  OnnxTensor,
} from "./onnx-proto.js";
import { OnnxDataType } from "./onnx-proto.js";
import type { Activation, Conv2dLayerSpec, DenseLayerSpec, ModelSpec } from "./model-spec.js";
import {
  INT8_MAX_LEVEL,
  INT8_REDUCED_MAX_LEVEL,
  quantizeSymmetricInt8,
} from "./quantize-weights.js";
import { samePadding, validateModelSpec } from "./validate-spec.js";

/** How weights and matrix products are stored and computed. */
export type OnnxPrecision = "float32" | "dynamic-int8";

/** Options for {@link buildOnnxGraph}. */
export interface BuildGraphOptions {
  precision: OnnxPrecision;
  /** int8 only: limit weights to 7 bits (±63) for CPUs without VNNI. Default false. */
  reduceRange?: boolean;
  /** int8 only: also quantize conv2d kernels (ConvInteger). Default false: conv stays float32. */
  quantizeConv?: boolean;
}

/** Name of the graph input; its shape is `["batch", ...spec.inputShape]`. */
export const ONNX_INPUT_NAME = "input";
/** Name of the graph output; its shape is `["batch", ...outputShape]` in TF.js layout. */
export const ONNX_OUTPUT_NAME = "output";
const BATCH_DIM = "batch";

type Layout = "tf" | "nchw";
interface Cursor {
  tensor: string;
  layout: Layout;
  /** TF.js shape without batch, whatever the physical layout. */
  shape: number[];
}
interface PendingFlatten {
  height: number;
  width: number;
  channels: number;
}

/** Builds the ONNX graph for `spec` (validating it first). */
export function buildOnnxGraph(spec: ModelSpec, options: BuildGraphOptions): OnnxGraph {
  const layers = validateModelSpec(spec);
  const graph = new GraphAssembler();
  let cursor: Cursor = { tensor: ONNX_INPUT_NAME, layout: "tf", shape: [...spec.inputShape] };
  // Set when a flatten of NCHW data is folded into the next dense layer's kernel.
  let pendingFlatten: PendingFlatten | null = null;

  layers.forEach((shaped, index) => {
    const { layer, position } = shaped;
    const prefix = `l${position}_${layer.kind}`;
    switch (layer.kind) {
      case "dense": {
        const weights =
          pendingFlatten === null ? layer.weights : reorderRowsNchwToNhwc(layer, pendingFlatten);
        pendingFlatten = null;
        const product =
          options.precision === "float32"
            ? emitDenseFloat(graph, prefix, cursor.tensor, layer, weights)
            : emitDenseInt8(graph, prefix, cursor.tensor, layer, weights, maxLevel(options));
        cursor = {
          tensor: emitActivation(graph, prefix, product, layer.activation),
          layout: "tf",
          shape: shaped.outputShape,
        };
        break;
      }
      case "conv2d": {
        cursor = toNchw(graph, prefix, cursor);
        const product =
          options.precision === "dynamic-int8" && options.quantizeConv === true
            ? emitConvInt8(graph, prefix, cursor, layer, maxLevel(options))
            : emitConvFloat(graph, prefix, cursor, layer);
        cursor = {
          tensor: emitActivation(graph, prefix, product, layer.activation),
          layout: "nchw",
          shape: shaped.outputShape,
        };
        break;
      }
      case "maxpool2d": {
        cursor = toNchw(graph, prefix, cursor);
        const [output] = graph.node(
          "MaxPool",
          prefix,
          [cursor.tensor],
          [
            { name: "kernel_shape", kind: "ints", value: [...layer.poolSize] },
            { name: "strides", kind: "ints", value: [...layer.strides] },
          ],
        );
        cursor = { tensor: output, layout: "nchw", shape: shaped.outputShape };
        break;
      }
      case "flatten": {
        if (cursor.shape.length === 1) break;
        if (cursor.layout === "nchw") {
          const [height, width, channels] = cursor.shape as [number, number, number];
          if (layers[index + 1]?.layer.kind === "dense")
            pendingFlatten = { height, width, channels };
          else cursor = toTf(graph, prefix, cursor);
        }
        const [output] = graph.node(
          "Flatten",
          prefix,
          [cursor.tensor],
          [{ name: "axis", kind: "int", value: 1 }],
        );
        cursor = { tensor: output, layout: "tf", shape: shaped.outputShape };
        break;
      }
    }
  });
  if (cursor.layout === "nchw") cursor = toTf(graph, "final", cursor);
  graph.nameOutput(cursor.tensor, ONNX_OUTPUT_NAME);

  return {
    name: "wattprint_sequential",
    nodes: graph.nodes,
    initializers: graph.initializers,
    inputs: [
      {
        name: ONNX_INPUT_NAME,
        elemType: OnnxDataType.float,
        shape: [BATCH_DIM, ...spec.inputShape],
      },
    ],
    outputs: [
      { name: ONNX_OUTPUT_NAME, elemType: OnnxDataType.float, shape: [BATCH_DIM, ...cursor.shape] },
    ],
  };
}

function maxLevel(options: BuildGraphOptions): number {
  return options.reduceRange === true ? INT8_REDUCED_MAX_LEVEL : INT8_MAX_LEVEL;
}

function emitDenseFloat(
  graph: GraphAssembler,
  prefix: string,
  input: string,
  layer: DenseLayerSpec,
  weights: Float32Array,
): string {
  const kernel = graph.floatTensor(
    `${prefix}_kernel`,
    [layer.inputSize, layer.outputSize],
    weights,
  );
  const bias = graph.floatTensor(`${prefix}_bias`, [layer.outputSize], layer.bias);
  return graph.node("Gemm", prefix, [input, kernel, bias], [])[0];
}

/**
 * Dynamic int8 dense: the same pattern onnxruntime's own dynamic quantizer writes
 * (DynamicQuantizeLinear → MatMulInteger → Cast → Mul by x_scale·w_scale → Add bias),
 * which onnxruntime's CPU provider fuses into one DynamicQuantizeMatMul kernel.
 */
function emitDenseInt8(
  graph: GraphAssembler,
  prefix: string,
  input: string,
  layer: DenseLayerSpec,
  weights: Float32Array,
  levelLimit: number,
): string {
  const quantized = quantizeSymmetricInt8(weights, levelLimit);
  const kernel = graph.tensor(
    `${prefix}_kernel_int8`,
    [layer.inputSize, layer.outputSize],
    OnnxDataType.int8,
    int8Bytes(quantized.levels),
  );
  const { inputLevels, inputZeroPoint, weightZeroPoint, scaleProduct } = emitDynamicQuantization(
    graph,
    prefix,
    input,
    quantized.scale,
  );
  const [integerProduct] = graph.node(
    "MatMulInteger",
    prefix,
    [inputLevels, kernel, inputZeroPoint, weightZeroPoint],
    [],
  );
  return emitRescaleAndBias(graph, prefix, integerProduct, scaleProduct, layer.bias, [
    layer.outputSize,
  ]);
}

function emitConvFloat(
  graph: GraphAssembler,
  prefix: string,
  cursor: Cursor,
  layer: Conv2dLayerSpec,
): string {
  const kernel = graph.floatTensor(
    `${prefix}_kernel`,
    onnxKernelDims(layer),
    convKernelToOnnx(layer),
  );
  const bias = graph.floatTensor(`${prefix}_bias`, [layer.outChannels], layer.bias);
  return graph.node(
    "Conv",
    prefix,
    [cursor.tensor, kernel, bias],
    convAttributes(layer, cursor.shape),
  )[0];
}

/** Dynamic int8 conv: DynamicQuantizeLinear → ConvInteger → Cast → Mul by x_scale·w_scale → Add bias. */
function emitConvInt8(
  graph: GraphAssembler,
  prefix: string,
  cursor: Cursor,
  layer: Conv2dLayerSpec,
  levelLimit: number,
): string {
  const quantized = quantizeSymmetricInt8(convKernelToOnnx(layer), levelLimit);
  const kernel = graph.tensor(
    `${prefix}_kernel_int8`,
    onnxKernelDims(layer),
    OnnxDataType.int8,
    int8Bytes(quantized.levels),
  );
  const { inputLevels, inputZeroPoint, weightZeroPoint, scaleProduct } = emitDynamicQuantization(
    graph,
    prefix,
    cursor.tensor,
    quantized.scale,
  );
  const [integerProduct] = graph.node(
    "ConvInteger",
    prefix,
    [inputLevels, kernel, inputZeroPoint, weightZeroPoint],
    convAttributes(layer, cursor.shape),
  );
  return emitRescaleAndBias(graph, prefix, integerProduct, scaleProduct, layer.bias, [
    1,
    layer.outChannels,
    1,
    1,
  ]);
}

function emitDynamicQuantization(
  graph: GraphAssembler,
  prefix: string,
  input: string,
  weightScale: number,
) {
  const [inputLevels, inputScale, inputZeroPoint] = graph.node(
    "DynamicQuantizeLinear",
    prefix,
    [input],
    [],
    3,
  ) as [string, string, string];
  const weightScaleName = graph.floatTensor(
    `${prefix}_kernel_scale`,
    [],
    Float32Array.of(weightScale),
  );
  const weightZeroPoint = graph.tensor(
    `${prefix}_kernel_zero_point`,
    [],
    OnnxDataType.int8,
    new Uint8Array(1),
  );
  const [scaleProduct] = graph.node("Mul", `${prefix}_scales`, [inputScale, weightScaleName], []);
  return { inputLevels, inputZeroPoint, weightZeroPoint, scaleProduct };
}

function emitRescaleAndBias(
  graph: GraphAssembler,
  prefix: string,
  integerProduct: string,
  scaleProduct: string,
  bias: Float32Array,
  biasDims: number[],
): string {
  const [asFloat] = graph.node(
    "Cast",
    prefix,
    [integerProduct],
    [{ name: "to", kind: "int", value: OnnxDataType.float }],
  );
  const [rescaled] = graph.node("Mul", `${prefix}_rescale`, [asFloat, scaleProduct], []);
  const biasName = graph.floatTensor(`${prefix}_bias`, biasDims, bias);
  return graph.node("Add", `${prefix}_bias`, [rescaled, biasName], [])[0];
}

/** Activation over TF.js's last axis, which is axis 1 in both layouts used here: features of flat data, channels of NCHW data. */
function emitActivation(
  graph: GraphAssembler,
  prefix: string,
  input: string,
  activation: Activation,
): string {
  if (activation === "linear") return input;
  if (activation === "relu") return graph.node("Relu", prefix, [input], [])[0];
  return graph.node("Softmax", prefix, [input], [{ name: "axis", kind: "int", value: 1 }])[0];
}

function convAttributes(layer: Conv2dLayerSpec, inputShape: number[]): OnnxAttribute[] {
  const [height, width] = inputShape as [number, number, number];
  const [kernelHeight, kernelWidth] = layer.kernelSize;
  const [strideHeight, strideWidth] = layer.strides;
  let pads = [0, 0, 0, 0];
  if (layer.padding === "same") {
    const [top, bottom] = samePadding(height, kernelHeight, strideHeight);
    const [left, right] = samePadding(width, kernelWidth, strideWidth);
    pads = [top, left, bottom, right];
  }
  return [
    { name: "kernel_shape", kind: "ints", value: [kernelHeight, kernelWidth] },
    { name: "strides", kind: "ints", value: [strideHeight, strideWidth] },
    { name: "pads", kind: "ints", value: pads },
  ];
}

function onnxKernelDims(layer: Conv2dLayerSpec): number[] {
  return [layer.outChannels, layer.inChannels, layer.kernelSize[0], layer.kernelSize[1]];
}

/** TF.js conv kernel `[kh, kw, in, out]` → ONNX `[out, in, kh, kw]`. */
function convKernelToOnnx(layer: Conv2dLayerSpec): Float32Array {
  const [kernelHeight, kernelWidth] = layer.kernelSize;
  const { inChannels, outChannels } = layer;
  const result = new Float32Array(layer.weights.length);
  for (let y = 0; y < kernelHeight; y++) {
    for (let x = 0; x < kernelWidth; x++) {
      for (let input = 0; input < inChannels; input++) {
        for (let output = 0; output < outChannels; output++) {
          const tfIndex = ((y * kernelWidth + x) * inChannels + input) * outChannels + output;
          const onnxIndex = ((output * inChannels + input) * kernelHeight + y) * kernelWidth + x;
          result[onnxIndex] = layer.weights[tfIndex] as number;
        }
      }
    }
  }
  return result;
}

/**
 * The dense kernel's rows follow TF.js's flatten of NHWC data (row (h·W + w)·C + c); the graph
 * flattens NCHW data (row (c·H + h)·W + w), so move each row to where the graph's flatten puts it.
 */
function reorderRowsNchwToNhwc(layer: DenseLayerSpec, flatten: PendingFlatten): Float32Array {
  const { height, width, channels } = flatten;
  const columns = layer.outputSize;
  const result = new Float32Array(layer.weights.length);
  for (let h = 0; h < height; h++) {
    for (let w = 0; w < width; w++) {
      for (let c = 0; c < channels; c++) {
        const tfRow = (h * width + w) * channels + c;
        const onnxRow = (c * height + h) * width + w;
        result.set(
          layer.weights.subarray(tfRow * columns, (tfRow + 1) * columns),
          onnxRow * columns,
        );
      }
    }
  }
  return result;
}

function toNchw(graph: GraphAssembler, prefix: string, cursor: Cursor): Cursor {
  if (cursor.layout === "nchw") return cursor;
  const [output] = graph.node(
    "Transpose",
    `${prefix}_to_nchw`,
    [cursor.tensor],
    [{ name: "perm", kind: "ints", value: [0, 3, 1, 2] }],
  );
  return { ...cursor, tensor: output, layout: "nchw" };
}

function toTf(graph: GraphAssembler, prefix: string, cursor: Cursor): Cursor {
  const [output] = graph.node(
    "Transpose",
    `${prefix}_to_nhwc`,
    [cursor.tensor],
    [{ name: "perm", kind: "ints", value: [0, 2, 3, 1] }],
  );
  return { ...cursor, tensor: output, layout: "tf" };
}

function int8Bytes(levels: Int8Array): Uint8Array {
  return new Uint8Array(levels.buffer, levels.byteOffset, levels.byteLength);
}

/** Collects nodes and initializers with unique names. */
class GraphAssembler {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>([ONNX_INPUT_NAME, ONNX_OUTPUT_NAME]);

  /** Adds a node and returns the names of its `outputCount` outputs. */
  node(
    opType: string,
    prefix: string,
    inputs: string[],
    attributes: OnnxAttribute[],
    outputCount = 1,
  ): [string, ...string[]] {
    const name = this.unique(`${prefix}_${opType}`);
    const outputs = Array.from({ length: outputCount }, (_, index) =>
      outputCount === 1 ? name : `${name}_out${index}`,
    );
    for (const output of outputs) this.used.add(output);
    this.nodes.push({ name, opType, inputs, outputs, attributes });
    return outputs as [string, ...string[]];
  }

  tensor(name: string, dims: number[], dataType: OnnxDataTypeCode, rawData: Uint8Array): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims, dataType, rawData });
    return unique;
  }

  floatTensor(name: string, dims: number[], values: Float32Array): string {
    const raw = new Uint8Array(values.length * 4);
    const view = new DataView(raw.buffer);
    for (let index = 0; index < values.length; index++)
      view.setFloat32(index * 4, values[index] as number, true);
    return this.tensor(name, dims, OnnxDataType.float, raw);
  }

  /** Makes `tensor` the graph output named `outputName`, renaming the producing node's output (or adding an Identity when the input passes straight through). */
  nameOutput(tensor: string, outputName: string): void {
    const producer = this.nodes.find((node) => node.outputs.includes(tensor));
    if (producer === undefined) {
      this.nodes.push({
        name: "output_identity",
        opType: "Identity",
        inputs: [tensor],
        outputs: [outputName],
        attributes: [],
      });
      return;
    }
    producer.outputs = producer.outputs.map((output) => (output === tensor ? outputName : output));
    for (const node of this.nodes)
      node.inputs = node.inputs.map((input) => (input === tensor ? outputName : input));
  }

  private unique(base: string): string {
    let name = base;
    for (let suffix = 2; this.used.has(name); suffix++) name = `${base}_${suffix}`;
    this.used.add(name);
    return name;
  }
}
