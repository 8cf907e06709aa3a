import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import {
  buildStudent,
  distill,
  distillationLoss,
  teacherLogits,
} from "../../src/optimize/distill.js";
import { loadDigits } from "../../src/optimize/datasets.js";
import { buildCnn, buildMlp } from "../../src/optimize/models.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { evaluateLoss, trainModel } from "../../src/optimize/train.js";
import { headOf } from "./helpers.js";

describe("knowledge distillation", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  it("has a loss that is cross-entropy at α = 0, T²·KL at α = 1, and zero KL when the student matches", () => {
    const student = tf.tensor2d([
      [2, 0.5, -1],
      [0, 1, 3],
    ]);
    const teacher = tf.tensor2d([
      [1, 1, 0],
      [0.2, 0.1, 2],
    ]);
    const labels = tf.tensor2d([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    const ce = tf.losses.softmaxCrossEntropy(labels, student).dataSync()[0] as number;
    expect(distillationLoss(student, teacher, labels, 3, 0).dataSync()[0]).toBeCloseTo(ce, 6);
    // KL by hand for T = 2.
    const softmax = (row: number[], t: number) => {
      const e = row.map((v) => Math.exp(v / t));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    const rows = [
      [
        [2, 0.5, -1],
        [1, 1, 0],
      ],
      [
        [0, 1, 3],
        [0.2, 0.1, 2],
      ],
    ] as const;
    const kl = rows.map(([s, t]) => {
      const p = softmax([...t], 2);
      const q = softmax([...s], 2);
      return p.reduce((sum, pi, i) => sum + pi * Math.log(pi / (q[i] as number)), 0);
    });
    expect(distillationLoss(student, teacher, labels, 2, 1).dataSync()[0]).toBeCloseTo(
      (4 * (kl[0]! + kl[1]!)) / 2,
      5,
    );
    expect(distillationLoss(teacher, teacher, labels, 2, 1).dataSync()[0]).toBeCloseTo(0, 6);
  });

  it("builds students narrower than the teacher, MLP or CNN", async () => {
    const mlp = buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [64, 32], classes: 10 });
    const narrow = await buildStudent(mlp, 0.25);
    expect(
      narrow.layers.filter((l) => l.getClassName() === "Dense").map((l) => l.getConfig().units),
    ).toEqual([16, 8, 10]);
    const wide = await buildStudent(mlp, 12);
    expect(
      wide.layers.filter((l) => l.getClassName() === "Dense").map((l) => l.getConfig().units),
    ).toEqual([12, 10]);
    const cnn = buildCnn({
      inputShape: [8, 8, 1],
      classes: 10,
      filters: [8, 16],
      denseUnits: 32,
      padding: "same",
    });
    const cnnStudent = await buildStudent(cnn, 0.5);
    expect(
      cnnStudent.layers
        .filter((l) => l.getClassName() === "Conv2D")
        .map((l) => l.getConfig().filters),
    ).toEqual([4, 8]);
    expect(cnnStudent.countParams()).toBeLessThan(cnn.countParams() / 2);
  });

  it("teaches a small student from a trained teacher's logits", async () => {
    const digits = loadDigits();
    const train = headOf(digits.train, 900);
    const teacher = buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [64], classes: 10, seed: 3 });
    await trainModel(teacher, train, { epochs: 6, batchSize: 32, learningRate: 0.01 });
    const logits = teacherLogits(teacher, headOf(train, 4));
    const expected = tf.tidy(() =>
      tf.log(teacher.predict(tf.tensor(headOf(train, 4).x, [4, 8, 8, 1])) as tf.Tensor).dataSync(),
    );
    // Logits are log-probabilities up to a constant per row: their softmax gives the outputs back.
    const probs = tf.softmax(tf.tensor2d(logits, [4, 10])).dataSync();
    probs.forEach((p, i) => expect(Math.log(p)).toBeCloseTo(expected[i] as number, 4));

    const student = await buildStudent(teacher, 0.25, 9);
    expect(student.countParams()).toBeLessThan(0.3 * teacher.countParams());
    const result = await distill(teacher, student, train, {
      epochs: 6,
      batchSize: 32,
      learningRate: 0.01,
    });
    expect(result.epochsRun).toBe(6);
    expect(result.teacherInference).toBeNull(); // no meter
    const teacherAccuracy = evaluateLoss(teacher, digits.test).accuracy;
    const studentAccuracy = evaluateLoss(student, digits.test).accuracy;
    expect(teacherAccuracy).toBeGreaterThan(0.8);
    expect(studentAccuracy).toBeGreaterThan(0.5);
  });
});
