/**
 * Magnitude pruning: the smallest weights (by absolute value) of each Dense and Conv2D
 * kernel are set to zero and held there by a mask, layer by layer at the same sparsity
 * (biases are not pruned). The model keeps its shape, so it is not faster in TF.js; its
 * zeros make it compress well and are what sparse kernels would exploit.
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";

/** A kernel that magnitude pruning applies to. */
export interface PrunableKernel {
  layerName: string;
  variable: tf.Variable;
  size: number;
}

/** The kernels of the model's Dense and Conv2D layers. */
export function prunableKernels(model: tfl.LayersModel): PrunableKernel[] {
  const kernels: PrunableKernel[] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className !== "Dense" && className !== "Conv2D") continue;
    const kernel = layer.weights.find(
      (weight) => weight.originalName.endsWith("/kernel") || weight.name.endsWith("/kernel"),
    );
    if (kernel === undefined) continue;
    const variable = kernel.read() as tf.Variable;
    kernels.push({ layerName: layer.name, variable, size: variable.size });
  }
  return kernels;
}

/**
 * Keep-masks (1 keep, 0 pruned) zeroing exactly floor(sparsity × size) of each kernel's
 * weights: those with the smallest absolute values (ties broken by position).
 */
export function magnitudeMask(values: Float32Array, sparsity: number): Float32Array {
  const prune = Math.floor(Math.min(1, Math.max(0, sparsity)) * values.length);
  const mask = new Float32Array(values.length).fill(1);
  if (prune === 0) return mask;
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => Math.abs(values[a] as number) - Math.abs(values[b] as number) || a - b);
  for (let i = 0; i < prune; i++) mask[order[i] as number] = 0;
  return mask;
}

/** Masks for every prunable kernel of a model, which can be applied after each training step. */
export class PruningMasks {
  private masks: { kernel: PrunableKernel; mask: tf.Tensor }[] = [];
  /** The sparsity the masks were last computed for. */
  sparsity = 0;

  constructor(readonly model: tfl.LayersModel) {}

  /** Recomputes the masks from the kernels' current magnitudes at `sparsity` and applies them. */
  update(sparsity: number): void {
    this.dispose();
    this.sparsity = sparsity;
    for (const kernel of prunableKernels(this.model)) {
      const values = kernel.variable.dataSync() as Float32Array;
      const mask = tf.keep(tf.tensor(magnitudeMask(values, sparsity), kernel.variable.shape));
      this.masks.push({ kernel, mask });
    }
    this.apply();
  }

  /** Multiplies each kernel by its mask (pruned weights back to exactly zero). */
  apply(): void {
    tf.tidy(() => {
      for (const { kernel, mask } of this.masks)
        kernel.variable.assign(tf.mul(kernel.variable, mask));
    });
  }

  dispose(): void {
    for (const { mask } of this.masks) mask.dispose();
    this.masks = [];
  }
}

/** Zeroes the smallest weights of every prunable kernel at `sparsity`, once. */
export function pruneByMagnitude(model: tfl.LayersModel, sparsity: number): void {
  const masks = new PruningMasks(model);
  masks.update(sparsity);
  masks.dispose();
}

/** Zeros among the prunable kernels' weights, per layer and in all. */
export function kernelSparsity(model: tfl.LayersModel): {
  zeros: number;
  total: number;
  sparsity: number;
  layers: { layerName: string; zeros: number; total: number }[];
} {
  const layers = prunableKernels(model).map((kernel) => {
    const values = kernel.variable.dataSync();
    let zeros = 0;
    for (const value of values) if (value === 0) zeros++;
    return { layerName: kernel.layerName, zeros, total: values.length };
  });
  const zeros = layers.reduce((sum, layer) => sum + layer.zeros, 0);
  const total = layers.reduce((sum, layer) => sum + layer.total, 0);
  return { zeros, total, sparsity: total === 0 ? 0 : zeros / total, layers };
}
