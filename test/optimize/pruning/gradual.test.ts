import { beforeAll, describe, expect, it } from "vitest";
import { loadDigits } from "../../../src/optimize/datasets.js";
import { buildMlp } from "../../../src/optimize/models.js";
import { pruneGradually } from "../../../src/optimize/pruning/gradual.js";
import { kernelSparsity, prunableKernels } from "../../../src/optimize/pruning/magnitude.js";
import { scheduledSparsity } from "../../../src/optimize/pruning/schedule.js";
import { initTensorflow } from "../../../src/optimize/runtime.js";
import { evaluateLoss } from "../../../src/optimize/train.js";
import type { TrainingCallback } from "../../../src/optimize/callbacks/training-callback.js";
import { headOf } from "../helpers.js";

describe("gradual magnitude pruning with fine-tuning", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  it("holds every kernel at the scheduled sparsity during training and ends exactly at the final one", async () => {
    const digits = loadDigits();
    const train = headOf(digits.train, 320);
    const model = buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [32], classes: 10, seed: 5 });
    const stepsPerEpoch = Math.ceil(train.count / 32);
    const seen: { step: number; zeros: number[] }[] = [];
    const probe: TrainingCallback = {
      name: "probe",
      onEpochEnd: (logs) => {
        seen.push({
          step: (logs.epoch + 1) * stepsPerEpoch,
          zeros: kernelSparsity(model).layers.map((l) => l.zeros),
        });
      },
    };
    const result = await pruneGradually(model, train, {
      finalSparsity: 0.8,
      epochs: 4,
      batchSize: 32,
      learningRate: 0.01,
      rampFraction: 0.75,
      frequency: 3,
      callbacks: [probe],
    });
    const sizes = prunableKernels(model).map((k) => k.size);
    expect(result.schedule.endStep).toBe(Math.round(4 * stepsPerEpoch * 0.75));
    // At each epoch end, each kernel has exactly floor(s(step) · n) zeros, s from the schedule.
    for (const { step, zeros } of seen) {
      const s = scheduledSparsity(step, result.schedule) as number;
      zeros.forEach((z, layer) => expect(z).toBe(Math.floor(s * (sizes[layer] as number))));
    }
    // Sparsity rose over the epochs and the updates followed the schedule.
    expect(seen[0]?.zeros[0]).toBeLessThan(seen[seen.length - 1]?.zeros[0] as number);
    for (const update of result.updates)
      expect(update.sparsity).toBeCloseTo(
        scheduledSparsity(update.step, result.schedule) as number,
        12,
      );
    const final = kernelSparsity(model);
    final.layers.forEach((l, i) => expect(l.zeros).toBe(Math.floor(0.8 * (sizes[i] as number))));
    // Fine-tuning kept the pruned model useful (10 classes: chance is 10%).
    expect(evaluateLoss(model, digits.test).accuracy).toBeGreaterThan(0.5);
  });
});
