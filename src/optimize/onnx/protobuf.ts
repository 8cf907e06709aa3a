/**
 * A minimal Protocol Buffers wire-format encoder: the subset (varints, 32-bit floats,
 * length-delimited bytes, strings, nested messages, packed repeated fields) that ONNX
 * model files need. Encoding only; wattprint never has to read a protobuf back.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/
 */

/** Protobuf wire types used here. */
export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  fixed32: 5,
} as const;

const textEncoder = new TextEncoder();
const TWO_POW_64 = 1n << 64n;

/**
 * Appends protobuf fields to a growing buffer. Nested messages are encoded on their own
 * writer first (their length must precede them) and added with {@link ProtobufWriter.message}.
 */
export class ProtobufWriter {
  private buffer = new Uint8Array(256);
  private length = 0;

  /** An int32/int64/uint64/enum/bool field (wire type 0). Negative values take ten bytes, as int64 does. */
  varint(fieldNumber: number, value: number | bigint): this {
    this.tag(fieldNumber, WireType.varint);
    this.rawVarint(value);
    return this;
  }

  /** A `float` field (wire type 5, little-endian IEEE 754 single). */
  float(fieldNumber: number, value: number): this {
    this.tag(fieldNumber, WireType.fixed32);
    this.reserve(4);
    new DataView(this.buffer.buffer, this.buffer.byteOffset).setFloat32(this.length, value, true);
    this.length += 4;
    return this;
  }

  /** A `bytes` field (wire type 2). */
  bytes(fieldNumber: number, value: Uint8Array): this {
    this.tag(fieldNumber, WireType.lengthDelimited);
    this.rawVarint(value.byteLength);
    this.rawBytes(value);
    return this;
  }

  /** A `string` field, UTF-8 encoded (wire type 2). */
  string(fieldNumber: number, value: string): this {
    return this.bytes(fieldNumber, textEncoder.encode(value));
  }

  /** An embedded message field, given the message's own encoding (wire type 2). */
  message(fieldNumber: number, encoded: Uint8Array): this {
    return this.bytes(fieldNumber, encoded);
  }

  /** A packed repeated varint field (`repeated int64`/`int32` in proto3). Writes nothing when empty. */
  packedVarints(fieldNumber: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const inner = new ProtobufWriter();
    for (const value of values) inner.rawVarint(value);
    return this.bytes(fieldNumber, inner.finish());
  }

  /** A packed repeated `float` field. Writes nothing when empty. */
  packedFloats(fieldNumber: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    const packed = new Uint8Array(values.length * 4);
    const view = new DataView(packed.buffer);
    for (let index = 0; index < values.length; index++) {
      view.setFloat32(index * 4, values[index] as number, true);
    }
    return this.bytes(fieldNumber, packed);
  }

  /** The encoded bytes so far (a copy, so the writer can be reused or dropped). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private tag(fieldNumber: number, wireType: number): void {
    if (!Number.isInteger(fieldNumber) || fieldNumber < 1 || fieldNumber > 0x1fffffff) {
      throw new RangeError(`protobuf field number out of range: ${fieldNumber}`);
    }
    this.rawVarint(fieldNumber * 8 + wireType);
  }

  private rawVarint(value: number | bigint): void {
    let remaining = toUnsigned64(value);
    this.reserve(10);
    do {
      let byte = Number(remaining & 0x7fn);
      remaining >>= 7n;
      if (remaining !== 0n) byte |= 0x80;
      this.buffer[this.length++] = byte;
    } while (remaining !== 0n);
  }

  private rawBytes(value: Uint8Array): void {
    this.reserve(value.byteLength);
    this.buffer.set(value, this.length);
    this.length += value.byteLength;
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.byteLength) return;
    let capacity = this.buffer.byteLength * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}

// Negative int32/int64 values are sign-extended to 64 bits on the wire (two's complement).
function toUnsigned64(value: number | bigint): bigint {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(`protobuf varint must be a safe integer, got ${value}`);
  }
  const big = BigInt(value);
  if (big < -(1n << 63n) || big >= TWO_POW_64) {
    throw new RangeError(`protobuf varint out of 64-bit range: ${big}`);
  }
  return big < 0n ? big + TWO_POW_64 : big;
}
