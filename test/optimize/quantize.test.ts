import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs-core";
import {
  affineInt8Params,
  dequantizeFloat16,
  dequantizeInt8,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  quantizeFloat16,
  quantizeInt8,
  quantizeModelArtifacts,
} from "../../src/optimize/quantize.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { buildMlp } from "../../src/optimize/models.js";
import {
  artifactsToFiles,
  modelArtifacts,
  modelFromArtifacts,
} from "../../src/optimize/model-io.js";

describe("float16", () => {
  it("round-trips within half a unit in the last place (relative 2^-11) for normal values (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 6.2e-5, max: 65000, noNaN: true }),
        fc.boolean(),
        (magnitude, negative) => {
          const value = negative ? -magnitude : magnitude;
          const back = float16BitsToFloat32(float32ToFloat16Bits(value));
          expect(Math.abs(back - value) / Math.abs(value)).toBeLessThanOrEqual(2 ** -11 + 1e-12);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("encodes the IEEE 754 bit patterns, subnormals and clamps", () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(0.5)).toBe(0x3800);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(1e6)).toBe(0x7bff); // clamped to the largest finite half
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(2 ** -26)).toBe(0x0000);
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie goes to even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float16BitsToFloat32(0x0001)).toBe(2 ** -24);
    expect(Array.from(dequantizeFloat16(quantizeFloat16([0, -0.25, 3]))).map(Number)).toEqual([
      0, -0.25, 3,
    ]);
  });

  it("agrees with TensorFlow.js's own float16 decoder", async () => {
    await initTensorflow();
    const values = Float32Array.from([0.1, -1.5, 3.14159, 1e-5, -200.7]);
    const codes = quantizeFloat16(values);
    const decoded = tf.io.decodeWeights(codes.buffer as ArrayBuffer, [
      { name: "w", shape: [5], dtype: "float32", quantization: { dtype: "float16" } },
    ]);
    const ours = dequantizeFloat16(codes);
    const theirs = (decoded.w as tf.Tensor).dataSync();
    ours.forEach((value, i) => expect(theirs[i]).toBeCloseTo(value, 6));
  });
});

describe("int8", () => {
  it("round-trips every value within scale / 2 and keeps zero exact (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (list) => {
          const values = Float32Array.from([...list, 0]);
          const { bytes, params } = quantizeInt8(values);
          const back = dequantizeInt8(bytes, params);
          values.forEach((value, i) => {
            expect(Math.abs((back[i] as number) - value)).toBeLessThanOrEqual(
              params.scale / 2 + 1e-6 * Math.max(1, Math.abs(value)),
            );
          });
          expect(back[values.length - 1]).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("uses the range over 255 steps as the scale", () => {
    const params = affineInt8Params([-1, 0.5, 3]);
    expect(params.scale).toBeCloseTo(4 / 255, 10);
    expect(-params.min / params.scale).toBeCloseTo(Math.round(1 / (4 / 255)), 6);
  });
});

describe("quantized model artifacts", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  it("store kernels in 1 (int8) or 2 (float16) bytes, keep biases, and load back in TF.js within the error bound", async () => {
    const model = buildMlp({ inputShape: [16], hiddenUnits: [12], classes: 4, seed: 3 });
    const original = await modelArtifacts(model);
    const x = tf.randomUniform([8, 16], 0, 1, "float32", 5);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    const kernels = 16 * 12 + 12 * 4;
    const biases = 12 + 4;
    const originalBytes = artifactsToFiles(original).weights.length;
    expect(originalBytes).toBe((kernels + biases) * 4);

    for (const [quantization, bytesPerKernelValue] of [
      ["int8", 1],
      ["float16", 2],
    ] as const) {
      const quantized = quantizeModelArtifacts(original, quantization);
      expect(artifactsToFiles(quantized).weights.length).toBe(
        kernels * bytesPerKernelValue + biases * 4,
      );
      const kernelSpecs = (quantized.weightSpecs ?? []).filter((s) => s.name.endsWith("/kernel"));
      expect(
        kernelSpecs.every(
          (s) => s.quantization?.dtype === (quantization === "int8" ? "uint8" : "float16"),
        ),
      ).toBe(true);
      const loaded = await modelFromArtifacts(quantized);
      // Every weight TF.js decoded is within the bound of its own quantization.
      const before = model.getWeights();
      loaded.getWeights().forEach((w, i) => {
        const a = (before[i] as tf.Tensor).dataSync();
        const b = w.dataSync();
        const spec = (quantized.weightSpecs ?? [])[i];
        const bound =
          spec?.quantization?.dtype === "uint8"
            ? (spec.quantization.scale as number) / 2 + 1e-7
            : spec?.quantization?.dtype === "float16"
              ? Math.max(...Array.from(a, Math.abs)) * 2 ** -11 + 1e-7
              : 0;
        a.forEach((value, j) =>
          expect(Math.abs((b[j] as number) - value)).toBeLessThanOrEqual(bound),
        );
      });
      const outputs = (loaded.predict(x) as tf.Tensor).dataSync();
      outputs.forEach((value, i) =>
        expect(Math.abs(value - (expected[i] as number))).toBeLessThan(0.05),
      );
      loaded.dispose();
    }
    model.dispose();
  });
});
