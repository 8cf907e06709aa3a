import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import * as tf from "@tensorflow/tfjs-core";
import {
  kernelSparsity,
  magnitudeMask,
  pruneByMagnitude,
  prunableKernels,
} from "../../../src/optimize/pruning/magnitude.js";
import { buildCnn } from "../../../src/optimize/models.js";
import { initTensorflow } from "../../../src/optimize/runtime.js";

describe("magnitude pruning", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  it("masks exactly floor(s·n) weights, and every one pruned is no larger than every one kept (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (list, sparsity) => {
          const values = Float32Array.from(list);
          const mask = magnitudeMask(values, sparsity);
          const pruned = [...mask.keys()].filter((i) => mask[i] === 0);
          const kept = [...mask.keys()].filter((i) => mask[i] === 1);
          expect(pruned.length).toBe(Math.floor(sparsity * values.length));
          const largestPruned = Math.max(0, ...pruned.map((i) => Math.abs(values[i] as number)));
          const smallestKept = Math.min(
            Infinity,
            ...kept.map((i) => Math.abs(values[i] as number)),
          );
          expect(largestPruned).toBeLessThanOrEqual(smallestKept);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("zeroes the smallest weights of each Dense and Conv2D kernel at the sparsity asked for, biases untouched", () => {
    const model = buildCnn({
      inputShape: [8, 8, 1],
      classes: 10,
      filters: [4, 6],
      denseUnits: 12,
      padding: "same",
      seed: 8,
    });
    // Give the biases values so that "untouched" is checked.
    model.layers.forEach((layer) => {
      const weights = layer.getWeights();
      if (weights.length === 2)
        layer.setWeights([
          weights[0] as tf.Tensor,
          tf.fill((weights[1] as tf.Tensor).shape, 0.001),
        ]);
    });
    const before = prunableKernels(model).map((k) => Float32Array.from(k.variable.dataSync()));
    pruneByMagnitude(model, 0.6);
    const after = prunableKernels(model).map((k) => k.variable.dataSync());
    before.forEach((values, layer) => {
      const now = after[layer] as Float32Array;
      const zeroed = [...values.keys()].filter((i) => now[i] === 0);
      expect(zeroed.length).toBe(Math.floor(0.6 * values.length));
      // The kept weights are unchanged, the zeroed ones are the smallest in magnitude.
      const threshold = Math.max(...zeroed.map((i) => Math.abs(values[i] as number)));
      values.forEach((v, i) => {
        if (now[i] !== 0) {
          expect(now[i]).toBe(v);
          expect(Math.abs(v)).toBeGreaterThanOrEqual(threshold);
        }
      });
    });
    const sparsity = kernelSparsity(model);
    expect(sparsity.layers).toHaveLength(4);
    expect(sparsity.sparsity).toBeCloseTo(0.6, 2);
    for (const layer of model.layers) {
      const bias = layer.getWeights()[1];
      if (bias !== undefined) expect(Math.min(...bias.dataSync())).toBeCloseTo(0.001, 6);
    }
  });
});
