/**
 * A plain TypeScript reference for the layers a ModelSpec can hold, written straight from
 * TF.js semantics (NHWC, kernels [kh, kw, in, out], `same` padding with the odd pad at the
 * end, flatten with channels fastest), plus a seeded random source. Used to check what
 * onnxruntime computes from the exported graphs.
 */
import type { Activation, LayerSpec, ModelSpec } from "../../../src/optimize/onnx/export.js";

/** Deterministic uniform [0, 1) numbers (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` values uniform in [-scale, scale). */
export function randomValues(random: () => number, count: number, scale = 1): Float32Array {
  return Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);
}

/** A sample's activations with its TF.js shape (no batch axis). */
interface Activations {
  shape: number[];
  values: Float64Array;
}

/** Runs one sample (TF.js layout, no batch axis) through `spec` in float64. */
export function referenceForward(spec: ModelSpec, sample: Float32Array): Float64Array {
  let current: Activations = { shape: [...spec.inputShape], values: Float64Array.from(sample) };
  for (const layer of spec.layers) current = applyLayer(layer, current);
  return current.values;
}

/** Runs `batch` samples laid out one after another. */
export function referenceForwardBatch(
  spec: ModelSpec,
  input: Float32Array,
  batch: number,
): Float64Array[] {
  const sampleSize = input.length / batch;
  return Array.from({ length: batch }, (_, index) =>
    referenceForward(spec, input.subarray(index * sampleSize, (index + 1) * sampleSize)),
  );
}

function applyLayer(layer: LayerSpec, input: Activations): Activations {
  switch (layer.kind) {
    case "dense": {
      const out = new Float64Array(layer.outputSize);
      for (let j = 0; j < layer.outputSize; j++) {
        let sum = layer.bias[j] as number;
        for (let i = 0; i < layer.inputSize; i++) {
          sum += (input.values[i] as number) * (layer.weights[i * layer.outputSize + j] as number);
        }
        out[j] = sum;
      }
      return {
        shape: [layer.outputSize],
        values: activate(out, layer.outputSize, layer.activation),
      };
    }
    case "conv2d": {
      const [height, width, channels] = input.shape as [number, number, number];
      const [kh, kw] = layer.kernelSize;
      const [sh, sw] = layer.strides;
      let outH: number;
      let outW: number;
      let padTop = 0;
      let padLeft = 0;
      if (layer.padding === "same") {
        outH = Math.ceil(height / sh);
        outW = Math.ceil(width / sw);
        padTop = Math.floor(Math.max((outH - 1) * sh + kh - height, 0) / 2);
        padLeft = Math.floor(Math.max((outW - 1) * sw + kw - width, 0) / 2);
      } else {
        outH = Math.floor((height - kh) / sh) + 1;
        outW = Math.floor((width - kw) / sw) + 1;
      }
      const outC = layer.outChannels;
      const out = new Float64Array(outH * outW * outC);
      for (let y = 0; y < outH; y++) {
        for (let x = 0; x < outW; x++) {
          for (let o = 0; o < outC; o++) {
            let sum = layer.bias[o] as number;
            for (let dy = 0; dy < kh; dy++) {
              const iy = y * sh + dy - padTop;
              if (iy < 0 || iy >= height) continue;
              for (let dx = 0; dx < kw; dx++) {
                const ix = x * sw + dx - padLeft;
                if (ix < 0 || ix >= width) continue;
                for (let c = 0; c < channels; c++) {
                  const value = input.values[(iy * width + ix) * channels + c] as number;
                  const weight = layer.weights[
                    ((dy * kw + dx) * channels + c) * outC + o
                  ] as number;
                  sum += value * weight;
                }
              }
            }
            out[(y * outW + x) * outC + o] = sum;
          }
        }
      }
      return { shape: [outH, outW, outC], values: activate(out, outC, layer.activation) };
    }
    case "maxpool2d": {
      const [height, width, channels] = input.shape as [number, number, number];
      const [ph, pw] = layer.poolSize;
      const [sh, sw] = layer.strides;
      const outH = Math.floor((height - ph) / sh) + 1;
      const outW = Math.floor((width - pw) / sw) + 1;
      const out = new Float64Array(outH * outW * channels);
      for (let y = 0; y < outH; y++) {
        for (let x = 0; x < outW; x++) {
          for (let c = 0; c < channels; c++) {
            let best = -Infinity;
            for (let dy = 0; dy < ph; dy++) {
              for (let dx = 0; dx < pw; dx++) {
                best = Math.max(
                  best,
                  input.values[((y * sh + dy) * width + (x * sw + dx)) * channels + c] as number,
                );
              }
            }
            out[(y * outW + x) * channels + c] = best;
          }
        }
      }
      return { shape: [outH, outW, channels], values: out };
    }
    case "flatten":
      return { shape: [input.values.length], values: input.values };
  }
}

/** Applies the activation over the last axis (groups of `lastAxis` consecutive values). */
function activate(values: Float64Array, lastAxis: number, activation: Activation): Float64Array {
  if (activation === "linear") return values;
  if (activation === "relu") return values.map((value) => Math.max(0, value));
  const out = new Float64Array(values.length);
  for (let start = 0; start < values.length; start += lastAxis) {
    let max = -Infinity;
    for (let k = 0; k < lastAxis; k++) max = Math.max(max, values[start + k] as number);
    let total = 0;
    for (let k = 0; k < lastAxis; k++) total += Math.exp((values[start + k] as number) - max);
    for (let k = 0; k < lastAxis; k++)
      out[start + k] = Math.exp((values[start + k] as number) - max) / total;
  }
  return out;
}

/** Index of the largest value. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) {
    if ((values[index] as number) > (values[best] as number)) best = index;
  }
  return best;
}
