/**
 * Post-training weight quantization to int8 with one scale per tensor.
 */

/** Weights as int8 levels: `weight ≈ scale × level` (zero point 0). */
export interface Int8Weights {
  levels: Int8Array;
  /** Size of one int8 step, in the weights' own unit; a float32 value. */
  scale: number;
  /** Always 0: the quantization is symmetric around zero. */
  zeroPoint: 0;
}

/**
 * Largest int8 level used by default. 127 rather than 128 keeps the range symmetric, so
 * that −w quantizes to −level(w).
 */
export const INT8_MAX_LEVEL = 127;

/**
 * Largest level with `reduceRange`: 7-bit weights. On x86 CPUs without VNNI,
 * onnxruntime's u8×s8 kernels add pairs of products in 16 bits, which saturates for
 * 255 × 127 × 2; keeping |level| ≤ 63 rules that out at the cost of one bit of resolution.
 */
export const INT8_REDUCED_MAX_LEVEL = 63;

/**
 * Symmetric per-tensor quantization: `scale = max|w| / maxLevel` (as float32),
 * `level = round(w / scale)` clamped to ±maxLevel. All-zero weights get scale 1.
 *
 * @param maxLevel largest level magnitude; default {@link INT8_MAX_LEVEL}.
 */
export function quantizeSymmetricInt8(
  weights: Float32Array,
  maxLevel: number = INT8_MAX_LEVEL,
): Int8Weights {
  let maxAbs = 0;
  for (const weight of weights) maxAbs = Math.max(maxAbs, Math.abs(weight));
  const scale = maxAbs === 0 ? 1 : Math.fround(maxAbs / maxLevel);
  const levels = new Int8Array(weights.length);
  for (let index = 0; index < weights.length; index++) {
    const level = Math.round((weights[index] as number) / scale);
    levels[index] = Math.max(-maxLevel, Math.min(maxLevel, level));
  }
  return { levels, scale, zeroPoint: 0 };
}
