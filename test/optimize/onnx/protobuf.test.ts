import { describe, expect, it } from "vitest";
import { ProtobufWriter } from "../../../src/optimize/onnx/protobuf.js";
import {
  OnnxDataType,
  encodeAttribute,
  encodeModel,
  encodeNode,
  encodeTensor,
  encodeValueInfo,
} from "../../../src/optimize/onnx/onnx-proto.js";
import {
  bytesFields,
  decodeMessage,
  decodeOnnxModel,
  floatField,
  intField,
  packedFloats,
  repeatedInts,
  stringField,
  stringFields,
} from "./protobuf-decoder.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("ProtobufWriter", () => {
  it("matches the byte examples of the protobuf encoding guide", () => {
    // protobuf.dev "Encoding": field 1 = 150 is 08 96 01; field 2 = "testing" is 12 07 74 65 73 74 69 6e 67.
    expect(hex(new ProtobufWriter().varint(1, 150).finish())).toBe("089601");
    expect(hex(new ProtobufWriter().string(2, "testing").finish())).toBe("120774657374696e67");
    // A negative int64 is sign-extended: ten bytes, the last 0x01.
    expect(hex(new ProtobufWriter().varint(1, -1).finish())).toBe("08ffffffffffffffffff01");
  });

  it("round-trips varints, floats, strings, bytes and packed fields through an independent decoder", () => {
    const varints = [
      0,
      1,
      127,
      128,
      300,
      16_383,
      16_384,
      2 ** 31,
      Number.MAX_SAFE_INTEGER,
      -1,
      -300,
    ];
    const floats = Float32Array.of(0, 1.5, -2.25, 3.4e38, 1e-30, Math.PI);
    const writer = new ProtobufWriter();
    for (const value of varints) writer.varint(1, value);
    writer.varint(2, (1n << 64n) - 1n);
    writer.float(3, -0.1);
    writer.string(4, "Tensor ünïcode ✓");
    writer.bytes(5, Uint8Array.of(0, 255, 7));
    writer.packedVarints(6, [3, 270, 86_942, -5]);
    writer.packedFloats(7, floats);
    writer.message(8, new ProtobufWriter().varint(1, 42).finish());
    writer.varint(536_870_911, 9); // the largest field number protobuf allows
    const fields = decodeMessage(writer.finish());

    expect(repeatedInts(fields, 1)).toEqual(varints);
    expect(fields.get(2)?.[0]).toEqual({ wireType: 0, value: (1n << 64n) - 1n });
    expect(floatField(fields, 3)).toBeCloseTo(-0.1, 6);
    expect(stringField(fields, 4)).toBe("Tensor ünïcode ✓");
    expect(Array.from(bytesFields(fields, 5)[0] ?? [])).toEqual([0, 255, 7]);
    expect(repeatedInts(fields, 6)).toEqual([3, 270, 86_942, -5]);
    const decodedFloats = packedFloats(fields, 7);
    expect(decodedFloats).toHaveLength(floats.length);
    decodedFloats.forEach((value, index) => expect(value).toBe(floats[index]));
    expect(intField(decodeMessage(bytesFields(fields, 8)[0] ?? new Uint8Array()), 1)).toBe(42);
    expect(intField(fields, 536_870_911)).toBe(9);
  });

  it("grows past its initial buffer without losing bytes", () => {
    const payload = Uint8Array.from({ length: 100_000 }, (_, index) => (index * 31) % 256);
    const fields = decodeMessage(
      new ProtobufWriter().varint(1, 5).bytes(2, payload).varint(3, 6).finish(),
    );
    expect(bytesFields(fields, 2)[0]).toEqual(payload);
    expect(intField(fields, 3)).toBe(6);
  });

  it("writes nothing for empty packed fields and refuses values it cannot encode", () => {
    expect(new ProtobufWriter().packedVarints(1, []).packedFloats(2, []).finish()).toHaveLength(0);
    expect(() => new ProtobufWriter().varint(0, 1)).toThrow(RangeError);
    expect(() => new ProtobufWriter().varint(1, 0.5)).toThrow(RangeError);
    expect(() => new ProtobufWriter().varint(1, 1n << 64n)).toThrow(RangeError);
  });
});

describe("ONNX message encoders", () => {
  it("encode a TensorProto with dims, data type, name and raw data", () => {
    const raw = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const fields = decodeMessage(
      encodeTensor({ name: "w", dims: [2, 3], dataType: OnnxDataType.int8, rawData: raw }),
    );
    expect(repeatedInts(fields, 1)).toEqual([2, 3]);
    expect(intField(fields, 2)).toBe(3); // TensorProto.DataType INT8
    expect(stringField(fields, 8)).toBe("w");
    expect(bytesFields(fields, 9)[0]).toEqual(raw);
  });

  it("encode each AttributeProto kind with its AttributeType", () => {
    const intAttr = decodeMessage(encodeAttribute({ name: "axis", kind: "int", value: -1 }));
    expect([stringField(intAttr, 1), intField(intAttr, 3), intField(intAttr, 20)]).toEqual([
      "axis",
      -1,
      2,
    ]);
    const intsAttr = decodeMessage(
      encodeAttribute({ name: "pads", kind: "ints", value: [0, 1, 1, 0] }),
    );
    expect([repeatedInts(intsAttr, 8), intField(intsAttr, 20)]).toEqual([[0, 1, 1, 0], 7]);
    const floatAttr = decodeMessage(encodeAttribute({ name: "alpha", kind: "float", value: 0.25 }));
    expect([floatField(floatAttr, 2), intField(floatAttr, 20)]).toEqual([0.25, 1]);
    const floatsAttr = decodeMessage(
      encodeAttribute({ name: "scales", kind: "floats", value: [0.5, 2] }),
    );
    expect([packedFloats(floatsAttr, 7), intField(floatsAttr, 20)]).toEqual([[0.5, 2], 6]);
    const stringAttr = decodeMessage(
      encodeAttribute({ name: "auto_pad", kind: "string", value: "VALID" }),
    );
    expect([stringField(stringAttr, 4), intField(stringAttr, 20)]).toEqual(["VALID", 3]);
  });

  it("encode a NodeProto with ordered inputs and outputs, attributes and domain", () => {
    const fields = decodeMessage(
      encodeNode({
        name: "n1",
        opType: "DynamicQuantizeLinear",
        inputs: ["x"],
        outputs: ["q", "scale", "zero"],
        attributes: [{ name: "axis", kind: "int", value: 1 }],
        domain: "com.example",
      }),
    );
    expect(stringFields(fields, 1)).toEqual(["x"]);
    expect(stringFields(fields, 2)).toEqual(["q", "scale", "zero"]);
    expect(stringField(fields, 3)).toBe("n1");
    expect(stringField(fields, 4)).toBe("DynamicQuantizeLinear");
    expect(bytesFields(fields, 5)).toHaveLength(1);
    expect(stringField(fields, 7)).toBe("com.example");
  });

  it("encode a ValueInfoProto with a symbolic batch dimension", () => {
    const fields = decodeMessage(
      encodeValueInfo({ name: "input", elemType: OnnxDataType.float, shape: ["batch", 28, 28, 1] }),
    );
    expect(stringField(fields, 1)).toBe("input");
    const model = decodeOnnxModel(
      encodeModel({
        irVersion: 7,
        opsetImports: [{ domain: "", version: 13 }],
        producerName: "p",
        producerVersion: "1",
        graph: {
          name: "g",
          nodes: [
            {
              name: "id",
              opType: "Identity",
              inputs: ["input"],
              outputs: ["output"],
              attributes: [],
            },
          ],
          initializers: [],
          inputs: [{ name: "input", elemType: OnnxDataType.float, shape: ["batch", 28, 28, 1] }],
          outputs: [{ name: "output", elemType: OnnxDataType.float, shape: ["batch", 28, 28, 1] }],
        },
      }),
    );
    expect(model.irVersion).toBe(7);
    expect(model.producerName).toBe("p");
    expect(model.opsets).toEqual([{ domain: "", version: 13 }]);
    expect(model.graphName).toBe("g");
    expect(model.nodes.map((node) => node.opType)).toEqual(["Identity"]);
    expect(model.inputs).toEqual([{ name: "input", elemType: 1, shape: ["batch", 28, 28, 1] }]);
    expect(model.outputs[0]?.shape).toEqual(["batch", 28, 28, 1]);
  });
});
