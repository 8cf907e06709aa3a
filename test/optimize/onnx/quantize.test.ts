import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  exportModelToOnnx,
  onnxSizeBytes,
  quantizeOnnxDynamicInt8,
  type Conv2dLayerSpec,
  type ModelSpec,
} from "../../../src/optimize/onnx/export.js";
import { createOnnxRunner, type OnnxRunner } from "../../../src/optimize/onnx/session.js";
import { cnnModel, convLayer, denseLayer, mlpModel, sampleSize } from "./model-fixtures.js";
import { decodeOnnxModel } from "./protobuf-decoder.js";
import {
  argmax,
  randomValues,
  referenceForward,
  referenceForwardBatch,
  seededRandom,
} from "./reference.js";

const runners: OnnxRunner[] = [];
afterAll(async () => {
  for (const runner of runners) await runner.close();
});

async function runOnnx(
  bytes: Uint8Array,
  input: Float32Array,
  batch: number,
): Promise<Float32Array> {
  const runner = await createOnnxRunner(bytes, { intraOpThreads: 1 });
  runners.push(runner);
  return runner.run(input, batch);
}

/*
 * Error bound for one quantized layer, derived from the scheme:
 *   weights: symmetric per tensor, step sw = max|w| / 127, so |ŵ − w| ≤ sw/2 and |ŵ| ≤ |w| + sw/2;
 *   inputs: DynamicQuantizeLinear over the whole batch, step sx = (max(0, max x) − min(0, min x)) / 255;
 *     rounding is within sx/2 except where the rounded zero point pushes a value past 255 and it is
 *     clamped, so |x̂ − x| ≤ sx is used.
 *   |ŷ − y| = |Σ x̂ŵ − Σ xw| ≤ Σ |x|·sw/2 + Σ (|w| + sw/2)·sx, summed over the output's receptive field,
 *   plus float32 rounding of the rescale (1e-5 relative to Σ|x||w| + |b|).
 */
function weightStep(weights: Float32Array): number {
  return Math.fround(weights.reduce((max, weight) => Math.max(max, Math.abs(weight)), 0) / 127);
}
function inputStep(input: Float32Array): number {
  let min = 0;
  let max = 0;
  for (const value of input) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  return (max - min) / 255;
}

/** Runs a one-layer model on constant inputs/weights through the reference to get receptive-field sums. */
function fieldSums(
  spec: ModelSpec,
  sample: Float32Array,
  layerWeights: Float32Array,
): Float64Array {
  const layer = spec.layers[0];
  if (layer === undefined || (layer.kind !== "dense" && layer.kind !== "conv2d"))
    throw new Error("one dense or conv layer expected");
  const probe = {
    ...layer,
    weights: layerWeights,
    bias: new Float32Array(layer.bias.length),
    activation: "linear" as const,
  };
  return referenceForward({ inputShape: spec.inputShape, layers: [probe] }, sample);
}

async function expectWithinQuantizationBound(
  spec: ModelSpec,
  input: Float32Array,
  batch: number,
): Promise<void> {
  const layer = spec.layers[0];
  if (layer === undefined || (layer.kind !== "dense" && layer.kind !== "conv2d"))
    throw new Error("one dense or conv layer expected");
  const output = await runOnnx(quantizeOnnxDynamicInt8(spec, { quantizeConv: true }), input, batch);
  const expected = referenceForwardBatch(spec, input, batch);
  const sw = weightStep(layer.weights);
  const sx = inputStep(input);
  const size = sampleSize(spec);
  const ones = new Float32Array(size).fill(1);
  const absWeights = layer.weights.map(Math.abs);
  const absWeightsPlusStep = layer.weights.map((weight) => Math.abs(weight) + sw / 2);
  // Σ (|w| + sw/2) over each output's receptive field: the same for every sample.
  const weightSums = fieldSums(spec, ones, absWeightsPlusStep);
  let largestError = 0;
  let largestBound = 0;
  let largestOutput = 0;
  expected.forEach((sampleExpected, sample) => {
    const absSample = input.subarray(sample * size, (sample + 1) * size).map(Math.abs);
    const inputSums = fieldSums(spec, absSample, new Float32Array(layer.weights.length).fill(1));
    const magnitude = fieldSums(spec, absSample, absWeights);
    sampleExpected.forEach((value, index) => {
      const bound =
        (inputSums[index] as number) * (sw / 2) +
        (weightSums[index] as number) * sx +
        1e-5 * ((magnitude[index] as number) + Math.abs(value)) +
        1e-6;
      const error = Math.abs((output[sample * sampleExpected.length + index] as number) - value);
      expect(error).toBeLessThanOrEqual(bound);
      largestError = Math.max(largestError, error);
      largestBound = Math.max(largestBound, bound);
      largestOutput = Math.max(largestOutput, Math.abs(value));
    });
  });
  // The model really is quantized (not float under another name), and the bound is not vacuous.
  expect(largestError).toBeGreaterThan(1e-6);
  expect(largestBound).toBeLessThan(0.1 * largestOutput);
}

describe("quantizeOnnxDynamicInt8 in onnxruntime", () => {
  it("keeps a dense layer within the error bound of int8 weights and uint8 dynamic inputs", async () => {
    const spec: ModelSpec = {
      inputShape: [96],
      layers: [denseLayer(seededRandom(11), 96, 40, "linear")],
    };
    await expectWithinQuantizationBound(spec, randomValues(seededRandom(111), 16 * 96), 16);
  });

  it("keeps a same-padded strided conv within the error bound (padding uses the input zero point)", async () => {
    const conv: Conv2dLayerSpec = convLayer(seededRandom(12), {
      inChannels: 3,
      outChannels: 8,
      kernelSize: [3, 3],
      strides: [2, 1],
      padding: "same",
      activation: "linear",
    });
    const spec: ModelSpec = { inputShape: [9, 8, 3], layers: [conv] };
    // Inputs mostly positive so that the zero point is far from 0: wrong padding would show.
    const input = randomValues(seededRandom(112), 6 * 9 * 8 * 3).map((value) => value + 0.6);
    await expectWithinQuantizationBound(spec, input, 6);
  });

  for (const [name, build, inputSeed, quantizeConv] of [
    ["an MLP", () => mlpModel(seededRandom(13), [64, 48, 32, 10]), 113, false],
    ["a CNN (dense layers int8)", () => cnnModel(seededRandom(14)), 114, false],
    ["a CNN (dense and conv layers int8)", () => cnnModel(seededRandom(14)), 114, true],
  ] as const) {
    it(`agrees with the float model's argmax on at least 99% of 300 random inputs for ${name}`, async () => {
      const spec = build();
      const batch = 300;
      const input = randomValues(seededRandom(inputSeed), batch * sampleSize(spec));
      const floatOutput = await runOnnx(exportModelToOnnx(spec), input, batch);
      const int8Output = await runOnnx(
        quantizeOnnxDynamicInt8(spec, { quantizeConv }),
        input,
        batch,
      );
      const reference = referenceForwardBatch(spec, input, batch);
      const classes = floatOutput.length / batch;
      let agreements = 0;
      for (let sample = 0; sample < batch; sample++) {
        const start = sample * classes;
        const floatClass = argmax(floatOutput.subarray(start, start + classes));
        expect(floatClass).toBe(argmax(reference[sample] as Float64Array));
        if (argmax(int8Output.subarray(start, start + classes)) === floatClass) agreements++;
      }
      expect(agreements / batch).toBeGreaterThanOrEqual(0.99);
    });
  }
  it("handles a batch with no dynamic range (all zeros: input scale 0) without NaN", async () => {
    const spec = mlpModel(seededRandom(18), [8, 6, 3]);
    const zeros = new Float32Array(2 * 8);
    const output = await runOnnx(quantizeOnnxDynamicInt8(spec), zeros, 2);
    const expected = referenceForwardBatch(spec, zeros, 2).flatMap((sample) => Array.from(sample));
    // Zero inputs are exact in uint8, so only the second layer's (nonzero) inputs are rounded.
    expected.forEach((value, index) => expect(output[index]).toBeCloseTo(value, 2));
  });
});

describe("int8 model file", () => {
  it("is about 4x smaller than float32 for an MNIST-sized MLP", () => {
    const spec = mlpModel(seededRandom(15), [784, 512, 256, 10]);
    const weightCount = spec.layers.reduce(
      (total, layer) => total + (layer.kind === "dense" ? layer.weights.length : 0),
      0,
    );
    const floatBytes = onnxSizeBytes(exportModelToOnnx(spec));
    const int8Bytes = onnxSizeBytes(quantizeOnnxDynamicInt8(spec));
    expect(floatBytes).toBeGreaterThanOrEqual(4 * weightCount);
    expect(int8Bytes).toBeGreaterThanOrEqual(weightCount);
    // Biases stay float32 and the graph has a few more nodes, so a little under 4x.
    expect(floatBytes / int8Bytes).toBeGreaterThan(3.9);
    expect(floatBytes / int8Bytes).toBeLessThanOrEqual(4);
  });

  it("keeps conv kernels float32 by default and quantizes only the dense ones", () => {
    const spec = cnnModel(seededRandom(16));
    const model = decodeOnnxModel(quantizeOnnxDynamicInt8(spec));
    const opTypes = model.nodes.map((node) => node.opType);
    expect(opTypes.filter((op) => op === "Conv")).toHaveLength(2);
    expect(opTypes.filter((op) => op === "MatMulInteger")).toHaveLength(2);
    expect(opTypes).not.toContain("ConvInteger");
    const int8Kernels = model.initializers.filter(
      (tensor) => tensor.dataType === 3 && tensor.dims.length > 0,
    );
    expect(int8Kernels.map((tensor) => tensor.dims)).toEqual([
      [45, 16],
      [16, 7],
    ]);
  });

  it("stores kernels as int8 levels whose dequantized values are within half a step of the weights", () => {
    const spec = cnnModel(seededRandom(16));
    const model = decodeOnnxModel(quantizeOnnxDynamicInt8(spec, { quantizeConv: true }));
    const kernels = model.initializers.filter((tensor) => tensor.name?.endsWith("_kernel_int8"));
    const scales = model.initializers.filter((tensor) => tensor.name?.endsWith("_kernel_scale"));
    const weighted = spec.layers.filter(
      (layer) => layer.kind === "dense" || layer.kind === "conv2d",
    );
    expect(kernels).toHaveLength(weighted.length);
    expect(scales).toHaveLength(weighted.length);
    kernels.forEach((kernel, index) => {
      const layer = weighted[index];
      if (layer === undefined) throw new Error("missing layer");
      expect(kernel.dataType).toBe(3); // INT8
      const levels = new Int8Array(
        kernel.rawData.buffer,
        kernel.rawData.byteOffset,
        kernel.rawData.byteLength,
      );
      const scaleBytes = scales[index]?.rawData ?? new Uint8Array(4);
      const scale = new DataView(scaleBytes.buffer, scaleBytes.byteOffset, 4).getFloat32(0, true);
      expect(scale).toBeCloseTo(weightStep(layer.weights), 9);
      expect(Math.max(...levels.map(Math.abs))).toBe(127);
      // Element order differs for conv kernels ([out, in, kh, kw] in ONNX), so compare sorted values.
      const dequantized = Array.from(levels, (level) => level * scale).sort((a, b) => a - b);
      const original = Array.from(layer.weights).sort((a, b) => a - b);
      dequantized.forEach((value, position) =>
        expect(Math.abs(value - (original[position] as number))).toBeLessThanOrEqual(
          scale / 2 + 1e-9,
        ),
      );
    });
    const opTypes = new Set(model.nodes.map((node) => node.opType));
    for (const op of ["DynamicQuantizeLinear", "MatMulInteger", "ConvInteger", "Cast"])
      expect(opTypes).toContain(op);
    expect(opTypes).not.toContain("Gemm");
    expect(opTypes).not.toContain("Conv");
  });

  it("limits levels to ±63 with reduceRange and still runs close to the float model", async () => {
    const spec = mlpModel(seededRandom(17), [32, 16, 4]);
    const model = decodeOnnxModel(quantizeOnnxDynamicInt8(spec, { reduceRange: true }));
    const kernels = model.initializers.filter((tensor) => tensor.name?.endsWith("_kernel_int8"));
    expect(kernels).toHaveLength(2);
    for (const kernel of kernels) {
      const levels = new Int8Array(
        kernel.rawData.buffer,
        kernel.rawData.byteOffset,
        kernel.rawData.byteLength,
      );
      expect(Math.max(...levels.map(Math.abs))).toBe(63);
    }
    const input = randomValues(seededRandom(117), 50 * 32);
    const reduced = await runOnnx(quantizeOnnxDynamicInt8(spec, { reduceRange: true }), input, 50);
    const reference = referenceForwardBatch(spec, input, 50).flatMap((sample) =>
      Array.from(sample),
    );
    reference.forEach((value, index) =>
      expect(Math.abs((reduced[index] as number) - value)).toBeLessThan(0.05),
    );
  });

  it("is fused by onnxruntime into one DynamicQuantizeMatMul kernel per dense layer", async () => {
    const spec = cnnModel(seededRandom(19));
    const dir = mkdtempSync(join(tmpdir(), "wattprint-onnx-fused-"));
    try {
      const optimizedPath = join(dir, "optimized.onnx");
      const ort = await import("onnxruntime-node");
      const session = await ort.InferenceSession.create(quantizeOnnxDynamicInt8(spec), {
        graphOptimizationLevel: "extended",
        optimizedModelFilePath: optimizedPath,
      });
      await session.release();
      const nodes = decodeOnnxModel(readFileSync(optimizedPath)).nodes;
      const fused = nodes.filter(
        (node) => node.domain === "com.microsoft" && node.opType === "DynamicQuantizeMatMul",
      );
      expect(fused).toHaveLength(2);
      expect(nodes.map((node) => node.opType)).not.toContain("MatMulInteger");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
