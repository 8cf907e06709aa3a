/**
 * Tensor helpers the studies share: a batched matrix product whose gradient avoids
 * transposed operands (the TF.js wasm backend runs those on a slow path, the same reason
 * optimize's `denseMatMul` exists for 2-D products), and seeded Gaussian noise made on the
 * host so that a seed gives the same numbers on every backend.
 */
import * as tf from "@tensorflow/tfjs-core";
import { seededRandom } from "../optimize/datasets.js";

/**
 * a [n, i, k] × b [n, k, j] → [n, i, j], with a gradient made of untransposed products
 * (da = dy · bᵀ, db = aᵀ · dy, each transpose done as its own cheap op).
 */
export const batchedMatMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedA, savedB] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [
        tf.matMul(dy as tf.Tensor3D, tf.transpose(savedB, [0, 2, 1])),
        tf.matMul(tf.transpose(savedA, [0, 2, 1]), dy as tf.Tensor3D),
      ];
    },
  };
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/** A seeded source of standard normal numbers (Box–Muller over mulberry32). */
export class GaussianSource {
  private readonly uniform: () => number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.uniform = seededRandom(seed);
  }

  /** The next standard normal number. */
  next(): number {
    if (this.spare !== null) {
      const value = this.spare;
      this.spare = null;
      return value;
    }
    // 1 − u keeps the logarithm finite (u is in [0, 1)).
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** `count` standard normal numbers. */
  fill(count: number): Float32Array {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = this.next();
    return values;
  }
}
