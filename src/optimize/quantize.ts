/**
 * Post-training weight quantization in TensorFlow.js's own stored format, so a quantized
 * model is an ordinary TF.js layers model that `tf.loadLayersModel` reads (it turns the
 * weights back into float32 when it loads them). Weights shrink on disk and in transfer;
 * the arithmetic stays float32, so TF.js inference is not faster. The run-time speed-up
 * of 8-bit integers comes from the ONNX dynamic-int8 variant run in onnxruntime.
 *
 * - `float16`: IEEE 754 half precision, round to nearest even; relative error ≤ 2⁻¹¹.
 * - `int8`: 8-bit affine, q = round((w − min) / scale), one scale and minimum per tensor,
 *   stored as TF.js `uint8` quantization; |error| ≤ scale / 2 with scale = range / 255.
 *   The range is widened to hold 0 and zero is made exactly representable, so pruned
 *   weights stay exactly 0.
 *
 * Only kernels (weights of rank ≥ 2) are quantized; biases stay float32 (a few hundred
 * bytes, and the most sensitive values), as is common practice.
 */
import * as tf from "@tensorflow/tfjs-core";

/** A post-training weight quantization. */
export type WeightQuantization = "float16" | "int8";

export const WEIGHT_QUANTIZATIONS: readonly WeightQuantization[] = ["int8", "float16"];

/** Largest finite half-precision value; larger weights are clamped to it. */
export const FLOAT16_MAX = 65504;

const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

/** The IEEE 754 half-precision bits nearest to `value` (ties to even); beyond ±65504 clamped. */
export function float32ToFloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  float32[0] = Math.max(-FLOAT16_MAX, Math.min(FLOAT16_MAX, value));
  const bits = float32Bits[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7bff;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the full mantissa (with its hidden 1) into place.
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    return sign | roundShift(full, shift);
  }
  // roundShift may carry into the exponent, which is still the right result.
  return sign | ((halfExponent << 10) + roundShift(mantissa, 13));
}

/** `value >> shift` rounded to nearest, ties to even. */
function roundShift(value: number, shift: number): number {
  const truncated = value >>> shift;
  const remainder = value - truncated * 2 ** shift;
  const half = 2 ** (shift - 1);
  if (remainder > half || (remainder === half && (truncated & 1) === 1)) return truncated + 1;
  return truncated;
}

/** The float value of half-precision bits. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** 8-bit affine parameters: value = q · scale + min, q in 0..255. */
export interface AffineParams {
  scale: number;
  min: number;
}

/**
 * The 8-bit affine parameters for `values`: the range widened to include 0, then `min`
 * moved (by at most scale / 2) so that 0 is exactly q = round(−min / scale).
 */
export function affineInt8Params(values: ArrayLike<number>): AffineParams {
  let low = 0;
  let high = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  const scale = (high - low) / 255;
  if (scale === 0) return { scale: 1, min: 0 };
  const zeroPoint = Math.round(-low / scale);
  return { scale, min: -zeroPoint * scale };
}

/** Quantizes to 8 bits with `params` (default: from the values themselves). */
export function quantizeInt8(
  values: ArrayLike<number>,
  params: AffineParams = affineInt8Params(values),
): { bytes: Uint8Array; params: AffineParams } {
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const q = Math.round(((values[i] as number) - params.min) / params.scale);
    bytes[i] = Math.max(0, Math.min(255, q));
  }
  return { bytes, params };
}

/** The float32 values of 8-bit affine codes. */
export function dequantizeInt8(bytes: Uint8Array, params: AffineParams): Float32Array {
  const values = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++)
    values[i] = (bytes[i] as number) * params.scale + params.min;
  return values;
}

/** Half-precision codes of `values`. */
export function quantizeFloat16(values: ArrayLike<number>): Uint16Array {
  const codes = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) codes[i] = float32ToFloat16Bits(values[i] as number);
  return codes;
}

/** The float32 values of half-precision codes. */
export function dequantizeFloat16(codes: Uint16Array): Float32Array {
  const values = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) values[i] = float16BitsToFloat32(codes[i] as number);
  return values;
}

/**
 * The same model artifacts with every float32 kernel (rank ≥ 2) stored quantized, in the
 * TF.js weights-manifest format (`quantization: { dtype: "uint8", scale, min }` or
 * `{ dtype: "float16" }`). Biases and other weights are kept as they are.
 */
export function quantizeModelArtifacts(
  artifacts: tf.io.ModelArtifacts,
  quantization: WeightQuantization,
): tf.io.ModelArtifacts {
  const specs = artifacts.weightSpecs ?? [];
  const data = joinWeightData(artifacts.weightData);
  const parts: Uint8Array[] = [];
  const newSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((product, dim) => product * dim, 1);
    const bytesPerValue = storedBytesPerValue(spec);
    const raw = new Uint8Array(data, offset, count * bytesPerValue);
    offset += count * bytesPerValue;
    if (spec.dtype !== "float32" || spec.quantization !== undefined || spec.shape.length < 2) {
      parts.push(raw.slice());
      newSpecs.push(spec);
      continue;
    }
    const values = new Float32Array(raw.slice().buffer);
    if (quantization === "float16") {
      parts.push(new Uint8Array(quantizeFloat16(values).buffer));
      newSpecs.push({ ...spec, quantization: { dtype: "float16" } });
    } else {
      const { bytes, params } = quantizeInt8(values);
      parts.push(bytes);
      newSpecs.push({
        ...spec,
        quantization: { dtype: "uint8", scale: params.scale, min: params.min },
      });
    }
  }
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(total);
  let position = 0;
  for (const part of parts) {
    joined.set(part, position);
    position += part.length;
  }
  return { ...artifacts, weightSpecs: newSpecs, weightData: joined.buffer };
}

/** Bytes one value of a weight takes in storage (after any quantization). */
export function storedBytesPerValue(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  if (dtype === "uint8" || dtype === "bool") return 1;
  if (dtype === "uint16" || dtype === "float16") return 2;
  return 4;
}

/** One ArrayBuffer from TF.js weight data (a buffer or a list of buffers). */
export function joinWeightData(weightData: tf.io.WeightData | undefined): ArrayBuffer {
  if (weightData === undefined) return new ArrayBuffer(0);
  return tf.io.CompositeArrayBuffer.join(weightData);
}
