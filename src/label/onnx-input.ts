/**
 * Reads the graph input of an ONNX file (name, element type, shape) straight from the
 * protobuf bytes, without onnxruntime, so a model that cannot take the task's queries is
 * refused before anything heavy loads. Only the fields on the path
 * ModelProto.graph(7) → GraphProto.input(11) / initializer(5) → ValueInfoProto → TypeProto
 * are decoded; everything else is skipped by wire type.
 * Wire format: https://protobuf.dev/programming-guides/encoding/ ; field numbers: onnx/onnx.proto.
 */
import { WattprintError } from "../errors.js";

/** ONNX `TensorProto.DataType.FLOAT`. */
export const ONNX_FLOAT = 1;

/** The graph input a model is fed through. */
export interface OnnxInputInfo {
  name: string;
  /** ONNX element type (1 = float32); null when the input is not a tensor. */
  elemType: number | null;
  /** Dimensions: a number when fixed, the symbolic name (or "?") when not; null when no shape is declared. */
  shape: (number | string)[] | null;
}

/** Field numbers on the path to the input shape (onnx.proto). */
const FIELD = {
  modelGraph: 7,
  graphInitializer: 5,
  graphInput: 11,
  tensorName: 8,
  valueInfoName: 1,
  valueInfoType: 2,
  typeTensor: 1,
  tensorElemType: 1,
  tensorShape: 2,
  shapeDim: 1,
  dimValue: 1,
  dimParam: 2,
} as const;

/**
 * The first graph input that is not an initializer, as onnxruntime feeds it.
 * @throws WattprintError("BAD_INPUT") when the bytes are not an ONNX model with a graph input.
 */
export function readOnnxInput(bytes: Uint8Array): OnnxInputInfo {
  let graph: Uint8Array | null = null;
  try {
    for (const field of fields(bytes)) {
      if (field.number === FIELD.modelGraph && field.bytes) graph = field.bytes;
    }
  } catch (error) {
    throw notOnnx((error as Error).message);
  }
  if (graph === null) throw notOnnx("no graph in the file");
  const inputs: Uint8Array[] = [];
  const initializerNames = new Set<string>();
  try {
    for (const field of fields(graph)) {
      if (field.number === FIELD.graphInput && field.bytes) inputs.push(field.bytes);
      if (field.number === FIELD.graphInitializer && field.bytes) {
        const name = stringField(field.bytes, FIELD.tensorName);
        if (name !== null) initializerNames.add(name);
      }
    }
    for (const input of inputs) {
      const info = decodeValueInfo(input);
      if (!initializerNames.has(info.name)) return info;
    }
  } catch (error) {
    throw notOnnx((error as Error).message);
  }
  throw notOnnx("the graph has no input");
}

/** Values per sample of a batch-first input: the product of the dimensions after the first; null when one is not fixed. */
export function valuesPerSample(info: OnnxInputInfo): number | null {
  if (info.shape === null || info.shape.length < 2) return null;
  let product = 1;
  for (const dim of info.shape.slice(1)) {
    if (typeof dim !== "number") return null;
    product *= dim;
  }
  return product;
}

function decodeValueInfo(bytes: Uint8Array): OnnxInputInfo {
  let name = "";
  let elemType: number | null = null;
  let shape: (number | string)[] | null = null;
  for (const field of fields(bytes)) {
    if (field.number === FIELD.valueInfoName && field.bytes) name = decodeText(field.bytes);
    if (field.number !== FIELD.valueInfoType || !field.bytes) continue;
    for (const typeField of fields(field.bytes)) {
      if (typeField.number !== FIELD.typeTensor || !typeField.bytes) continue;
      elemType = 0;
      for (const tensorField of fields(typeField.bytes)) {
        if (tensorField.number === FIELD.tensorElemType && tensorField.varint !== undefined)
          elemType = Number(tensorField.varint);
        if (tensorField.number === FIELD.tensorShape && tensorField.bytes) {
          shape = [];
          for (const dimField of fields(tensorField.bytes)) {
            if (dimField.number === FIELD.shapeDim && dimField.bytes)
              shape.push(decodeDim(dimField.bytes));
          }
        }
      }
    }
  }
  return { name, elemType, shape };
}

function decodeDim(bytes: Uint8Array): number | string {
  let dim: number | string = "?";
  for (const field of fields(bytes)) {
    if (field.number === FIELD.dimValue && field.varint !== undefined) dim = Number(field.varint);
    if (field.number === FIELD.dimParam && field.bytes) dim = decodeText(field.bytes);
  }
  return dim;
}

function stringField(bytes: Uint8Array, number: number): string | null {
  for (const field of fields(bytes))
    if (field.number === number && field.bytes) return decodeText(field.bytes);
  return null;
}

interface Field {
  number: number;
  /** Set for wire type 0. */
  varint?: bigint;
  /** Set for wire type 2. */
  bytes?: Uint8Array;
}

/** The top-level fields of one message. @throws Error on truncated or malformed input. */
function* fields(bytes: Uint8Array): Generator<Field> {
  let offset = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (offset >= bytes.length) throw new Error("truncated varint");
      const byte = bytes[offset++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new Error("varint longer than 10 bytes");
  };
  while (offset < bytes.length) {
    const key = readVarint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number === 0) throw new Error("field number 0");
    switch (wireType) {
      case 0:
        yield { number, varint: readVarint() };
        break;
      case 1:
        offset += 8;
        break;
      case 2: {
        const length = Number(readVarint());
        if (offset + length > bytes.length) throw new Error("truncated field");
        yield { number, bytes: bytes.subarray(offset, offset + length) };
        offset += length;
        break;
      }
      case 5:
        offset += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
    if (offset > bytes.length) throw new Error("truncated field");
  }
}

function decodeText(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}

function notOnnx(reason: string): WattprintError {
  return new WattprintError("BAD_INPUT", `not an ONNX model: ${reason}`, {
    hint: "give an .onnx file (a ModelProto), for example one written by wattprint's ONNX exporter",
  });
}
