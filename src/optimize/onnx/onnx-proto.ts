/**
 * The subset of `onnx.proto` (ONNX IR) that wattprint writes, as plain TypeScript values,
 * and their protobuf encoders. Field numbers follow onnx/onnx.proto
 * (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
 */
import { ProtobufWriter } from "./protobuf.js";

/** `TensorProto.DataType` values used here. */
export const OnnxDataType = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
} as const;
export type OnnxDataTypeCode = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** `AttributeProto.AttributeType` values used here. */
export const OnnxAttributeType = {
  float: 1,
  int: 2,
  string: 3,
  floats: 6,
  ints: 7,
} as const;

/** A constant tensor (an initializer). `rawData` holds the elements little-endian, row-major. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: OnnxDataTypeCode;
  rawData: Uint8Array;
}

/** A node attribute: exactly one value kind. */
export type OnnxAttribute =
  | { name: string; kind: "int"; value: number }
  | { name: string; kind: "ints"; value: number[] }
  | { name: string; kind: "float"; value: number }
  | { name: string; kind: "floats"; value: number[] }
  | { name: string; kind: "string"; value: string };

/** One operator call. `domain` is empty for the default ONNX domain. */
export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
  domain?: string;
}

/** A graph input or output: name, element type and shape. A string dimension is symbolic (`dim_param`). */
export interface OnnxValueInfo {
  name: string;
  elemType: OnnxDataTypeCode;
  shape: (number | string)[];
}

/** A graph: nodes in topological order, their constant inputs, and the graph's inputs and outputs. */
export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** A model: IR version, operator sets and the graph. */
export interface OnnxModel {
  irVersion: number;
  opsetImports: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
}

/** Encodes a `TensorProto` (dims=1, data_type=2, name=8, raw_data=9). */
export function encodeTensor(tensor: OnnxTensor): Uint8Array {
  return new ProtobufWriter()
    .packedVarints(1, tensor.dims)
    .varint(2, tensor.dataType)
    .string(8, tensor.name)
    .bytes(9, tensor.rawData)
    .finish();
}

/** Encodes an `AttributeProto` (name=1, f=2, i=3, s=4, floats=7, ints=8, type=20). */
export function encodeAttribute(attribute: OnnxAttribute): Uint8Array {
  const writer = new ProtobufWriter().string(1, attribute.name);
  switch (attribute.kind) {
    case "float":
      writer.float(2, attribute.value).varint(20, OnnxAttributeType.float);
      break;
    case "int":
      writer.varint(3, attribute.value).varint(20, OnnxAttributeType.int);
      break;
    case "string":
      writer.string(4, attribute.value).varint(20, OnnxAttributeType.string);
      break;
    case "floats":
      writer.packedFloats(7, attribute.value).varint(20, OnnxAttributeType.floats);
      break;
    case "ints":
      writer.packedVarints(8, attribute.value).varint(20, OnnxAttributeType.ints);
      break;
  }
  return writer.finish();
}

/** Encodes a `NodeProto` (input=1, output=2, name=3, op_type=4, attribute=5, domain=7). */
export function encodeNode(node: OnnxNode): Uint8Array {
  const writer = new ProtobufWriter();
  for (const input of node.inputs) writer.string(1, input);
  for (const output of node.outputs) writer.string(2, output);
  writer.string(3, node.name).string(4, node.opType);
  for (const attribute of node.attributes) writer.message(5, encodeAttribute(attribute));
  if (node.domain !== undefined && node.domain !== "") writer.string(7, node.domain);
  return writer.finish();
}

/**
 * Encodes a `ValueInfoProto` (name=1, type=2) with its `TypeProto` (tensor_type=1),
 * `TypeProto.Tensor` (elem_type=1, shape=2), `TensorShapeProto` (dim=1) and
 * `Dimension` (dim_value=1, dim_param=2).
 */
export function encodeValueInfo(value: OnnxValueInfo): Uint8Array {
  const shape = new ProtobufWriter();
  for (const dim of value.shape) {
    const dimension = new ProtobufWriter();
    if (typeof dim === "string") dimension.string(2, dim);
    else dimension.varint(1, dim);
    shape.message(1, dimension.finish());
  }
  const tensorType = new ProtobufWriter().varint(1, value.elemType).message(2, shape.finish());
  const type = new ProtobufWriter().message(1, tensorType.finish());
  return new ProtobufWriter().string(1, value.name).message(2, type.finish()).finish();
}

/** Encodes a `GraphProto` (node=1, name=2, initializer=5, input=11, output=12). */
export function encodeGraph(graph: OnnxGraph): Uint8Array {
  const writer = new ProtobufWriter();
  for (const node of graph.nodes) writer.message(1, encodeNode(node));
  writer.string(2, graph.name);
  for (const initializer of graph.initializers) writer.message(5, encodeTensor(initializer));
  for (const input of graph.inputs) writer.message(11, encodeValueInfo(input));
  for (const output of graph.outputs) writer.message(12, encodeValueInfo(output));
  return writer.finish();
}

/**
 * Encodes a `ModelProto` (ir_version=1, producer_name=2, producer_version=3, graph=7,
 * opset_import=8 with `OperatorSetIdProto` domain=1, version=2).
 */
export function encodeModel(model: OnnxModel): Uint8Array {
  const writer = new ProtobufWriter()
    .varint(1, model.irVersion)
    .string(2, model.producerName)
    .string(3, model.producerVersion)
    .message(7, encodeGraph(model.graph));
  for (const opset of model.opsetImports) {
    writer.message(
      8,
      new ProtobufWriter().string(1, opset.domain).varint(2, opset.version).finish(),
    );
  }
  return writer.finish();
}
