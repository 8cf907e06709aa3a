/**
 * A small protobuf wire-format decoder for the tests, written independently of the encoder:
 * it reads any message into a map of field number → raw values, and a few helpers read the
 * ONNX messages the exporter writes.
 */

/** One decoded field value: varints as bigint, fixed32 as its 4 bytes, length-delimited as bytes. */
export type WireValue =
  | { wireType: 0; value: bigint }
  | { wireType: 1; bytes: Uint8Array }
  | { wireType: 2; bytes: Uint8Array }
  | { wireType: 5; bytes: Uint8Array };

/** Decodes one message level into field number → values in wire order. Throws on malformed input. */
export function decodeMessage(bytes: Uint8Array): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>();
  let offset = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (offset >= bytes.length) throw new Error("truncated varint");
      if (shift > 63n) throw new Error("varint too long");
      const byte = bytes[offset++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
  };
  const take = (length: number): Uint8Array => {
    if (offset + length > bytes.length) throw new Error("truncated field");
    const slice = bytes.subarray(offset, offset + length);
    offset += length;
    return slice;
  };
  while (offset < bytes.length) {
    const key = readVarint();
    const fieldNumber = Number(key >> 3n);
    const wireType = Number(key & 7n);
    let value: WireValue;
    if (wireType === 0) value = { wireType: 0, value: readVarint() };
    else if (wireType === 1) value = { wireType: 1, bytes: take(8) };
    else if (wireType === 2) value = { wireType: 2, bytes: take(Number(readVarint())) };
    else if (wireType === 5) value = { wireType: 5, bytes: take(4) };
    else throw new Error(`unsupported wire type ${wireType}`);
    const list = fields.get(fieldNumber) ?? [];
    list.push(value);
    fields.set(fieldNumber, list);
  }
  return fields;
}

/** All length-delimited values of a field. */
export function bytesFields(fields: Map<number, WireValue[]>, fieldNumber: number): Uint8Array[] {
  return (fields.get(fieldNumber) ?? []).flatMap((value) =>
    value.wireType === 2 ? [value.bytes] : [],
  );
}

/** The strings of a field. */
export function stringFields(fields: Map<number, WireValue[]>, fieldNumber: number): string[] {
  return bytesFields(fields, fieldNumber).map((bytes) => new TextDecoder().decode(bytes));
}

/** The first string of a field, or undefined. */
export function stringField(
  fields: Map<number, WireValue[]>,
  fieldNumber: number,
): string | undefined {
  return stringFields(fields, fieldNumber)[0];
}

/** A varint field read as a signed 64-bit number (two's complement), or undefined. */
export function intField(
  fields: Map<number, WireValue[]>,
  fieldNumber: number,
): number | undefined {
  const value = fields.get(fieldNumber)?.find((entry) => entry.wireType === 0);
  return value === undefined || value.wireType !== 0
    ? undefined
    : Number(BigInt.asIntN(64, value.value));
}

/** A repeated int64 field, packed or not, as signed numbers. */
export function repeatedInts(fields: Map<number, WireValue[]>, fieldNumber: number): number[] {
  const result: number[] = [];
  for (const entry of fields.get(fieldNumber) ?? []) {
    if (entry.wireType === 0) result.push(Number(BigInt.asIntN(64, entry.value)));
    else if (entry.wireType === 2) {
      result.push(...decodePackedVarints(entry.bytes));
    }
  }
  return result;
}

function decodePackedVarints(bytes: Uint8Array): number[] {
  const values: number[] = [];
  let current = 0n;
  let shift = 0n;
  for (const byte of bytes) {
    current |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      values.push(Number(BigInt.asIntN(64, current)));
      current = 0n;
      shift = 0n;
    } else shift += 7n;
  }
  if (shift !== 0n) throw new Error("truncated packed varint");
  return values;
}

/** A float field (fixed32), or undefined. */
export function floatField(
  fields: Map<number, WireValue[]>,
  fieldNumber: number,
): number | undefined {
  const value = fields.get(fieldNumber)?.find((entry) => entry.wireType === 5);
  if (value === undefined || value.wireType !== 5) return undefined;
  return new DataView(value.bytes.buffer, value.bytes.byteOffset, 4).getFloat32(0, true);
}

/** A packed repeated float field. */
export function packedFloats(fields: Map<number, WireValue[]>, fieldNumber: number): number[] {
  return bytesFields(fields, fieldNumber).flatMap((bytes) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Array.from({ length: bytes.byteLength / 4 }, (_, index) =>
      view.getFloat32(index * 4, true),
    );
  });
}

/** The parts of an ONNX model the tests look at. */
export interface DecodedOnnxModel {
  irVersion: number | undefined;
  producerName: string | undefined;
  opsets: { domain: string; version: number | undefined }[];
  graphName: string | undefined;
  nodes: {
    name: string | undefined;
    opType: string | undefined;
    inputs: string[];
    outputs: string[];
    domain: string | undefined;
  }[];
  initializers: {
    name: string | undefined;
    dims: number[];
    dataType: number | undefined;
    rawData: Uint8Array;
  }[];
  inputs: { name: string | undefined; elemType: number | undefined; shape: (number | string)[] }[];
  outputs: { name: string | undefined; elemType: number | undefined; shape: (number | string)[] }[];
}

/** Reads ModelProto → GraphProto → NodeProto / TensorProto / ValueInfoProto by onnx.proto field numbers. */
export function decodeOnnxModel(bytes: Uint8Array): DecodedOnnxModel {
  const model = decodeMessage(bytes);
  const graphBytes = bytesFields(model, 7)[0];
  if (graphBytes === undefined) throw new Error("model has no graph");
  const graph = decodeMessage(graphBytes);
  return {
    irVersion: intField(model, 1),
    producerName: stringField(model, 2),
    opsets: bytesFields(model, 8).map((entry) => {
      const opset = decodeMessage(entry);
      return { domain: stringField(opset, 1) ?? "", version: intField(opset, 2) };
    }),
    graphName: stringField(graph, 2),
    nodes: bytesFields(graph, 1).map((entry) => {
      const node = decodeMessage(entry);
      return {
        name: stringField(node, 3),
        opType: stringField(node, 4),
        inputs: stringFields(node, 1),
        outputs: stringFields(node, 2),
        domain: stringField(node, 7),
      };
    }),
    initializers: bytesFields(graph, 5).map((entry) => {
      const tensor = decodeMessage(entry);
      return {
        name: stringField(tensor, 8),
        dims: repeatedInts(tensor, 1),
        dataType: intField(tensor, 2),
        rawData: bytesFields(tensor, 9)[0] ?? new Uint8Array(),
      };
    }),
    inputs: bytesFields(graph, 11).map(decodeValueInfo),
    outputs: bytesFields(graph, 12).map(decodeValueInfo),
  };
}

function decodeValueInfo(bytes: Uint8Array): {
  name: string | undefined;
  elemType: number | undefined;
  shape: (number | string)[];
} {
  const info = decodeMessage(bytes);
  const type = decodeMessage(bytesFields(info, 2)[0] ?? new Uint8Array());
  const tensorType = decodeMessage(bytesFields(type, 1)[0] ?? new Uint8Array());
  const shape = decodeMessage(bytesFields(tensorType, 2)[0] ?? new Uint8Array());
  return {
    name: stringField(info, 1),
    elemType: intField(tensorType, 1),
    shape: bytesFields(shape, 1).map((dimBytes) => {
      const dim = decodeMessage(dimBytes);
      return stringField(dim, 2) ?? intField(dim, 1) ?? Number.NaN;
    }),
  };
}
