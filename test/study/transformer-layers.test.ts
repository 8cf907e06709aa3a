// The transformer's layers against a plain-JavaScript transcription of the formulas, with
// random weights, and its training through optimize's trainModel.
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/optimize/datasets.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { evaluateLoss, trainModel } from "../../src/optimize/train.js";
import { batchedMatMul } from "../../src/study/ops.js";
import { EncoderBlock, type AttentionKind } from "../../src/study/transformer-layers.js";
import { buildTransformer, transformerMultiplyAdds } from "../../src/study/transformer-model.js";

type Matrix = number[][];

const matmul = (a: Matrix, b: Matrix): Matrix =>
  a.map((row) =>
    (b[0] as number[]).map((_, j) =>
      row.reduce((s, v, k) => s + v * ((b[k] as number[])[j] as number), 0),
    ),
  );
const addRow = (a: Matrix, v: number[]): Matrix =>
  a.map((row) => row.map((x, j) => x + (v[j] as number)));
const add = (a: Matrix, b: Matrix): Matrix =>
  a.map((row, i) => row.map((x, j) => x + ((b[i] as number[])[j] as number)));
const layerNorm = (a: Matrix, gamma: number[], beta: number[]): Matrix =>
  a.map((row) => {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    return row.map(
      (v, j) =>
        ((v - mean) / Math.sqrt(variance + 1e-5)) * (gamma[j] as number) + (beta[j] as number),
    );
  });
const elu1 = (v: number) => (v > 0 ? v : Math.exp(v) - 1) + 1;

/** One application of the block to one sequence x [tokens][d], written from the formulas. */
function referenceBlock(
  x: Matrix,
  w: Matrix[],
  vectors: number[][],
  heads: number,
  attention: AttentionKind,
): Matrix {
  const [qkvKernel, outKernel, ffn1Kernel, ffn2Kernel] = w as [Matrix, Matrix, Matrix, Matrix];
  const [g1, b1, qkvBias, outBias, g2, b2, ffn1Bias, ffn2Bias] = vectors as [
    number[],
    number[],
    number[],
    number[],
    number[],
    number[],
    number[],
    number[],
  ];
  const d = (x[0] as number[]).length;
  const width = d / heads;
  const qkv = addRow(matmul(layerNorm(x, g1, b1), qkvKernel), qkvBias);
  const attended: Matrix = x.map(() => new Array<number>(d).fill(0));
  for (let h = 0; h < heads; h++) {
    const part = (offset: number) =>
      qkv.map((row) => row.slice(offset + h * width, offset + (h + 1) * width));
    const q = part(0);
    const k = part(d);
    const v = part(2 * d);
    q.forEach((qi, i) => {
      let weights: number[];
      if (attention === "softmax") {
        const scores = k.map(
          (kj) => qi.reduce((s, a, c) => s + a * (kj[c] as number), 0) / Math.sqrt(width),
        );
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((s, e) => s + e, 0);
        weights = exps.map((e) => e / total);
      } else {
        const raw = k.map((kj) => qi.reduce((s, a, c) => s + elu1(a) * elu1(kj[c] as number), 0));
        const total = raw.reduce((s, r) => s + r, 0) + 1e-6;
        weights = raw.map((r) => r / total);
      }
      for (let c = 0; c < width; c++) {
        (attended[i] as number[])[h * width + c] = weights.reduce(
          (s, wj, j) => s + wj * ((v[j] as number[])[c] as number),
          0,
        );
      }
    });
  }
  const h1 = add(x, addRow(matmul(attended, outKernel), outBias));
  const hidden = addRow(matmul(layerNorm(h1, g2, b2), ffn1Kernel), ffn1Bias).map((row) =>
    row.map((v) => Math.max(0, v)),
  );
  return add(h1, addRow(matmul(hidden, ffn2Kernel), ffn2Bias));
}

function toMatrix(values: ArrayLike<number>, rows: number, columns: number): Matrix {
  return Array.from({ length: rows }, (_, i) =>
    Array.from({ length: columns }, (_, j) => values[i * columns + j] as number),
  );
}

describe("transformer layers", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  for (const attention of ["softmax", "linear"] as const) {
    it(`computes the encoder block with ${attention} attention as the formulas say (random weights, two applications)`, () => {
      const [batch, tokens, d, heads, ffn] = [2, 3, 4, 2, 6];
      const block = new EncoderBlock({
        dModel: d,
        heads,
        ffnUnits: ffn,
        attention,
        repeats: 2,
        seed: 3,
      });
      const random = seededRandom(attention === "softmax" ? 5 : 6);
      const input = tf.tensor3d(
        Array.from({ length: batch * tokens * d }, () => random() * 2 - 1),
        [batch, tokens, d],
      );
      block.apply(input);
      // Replace every weight (gammas and biases included) by random values so each one matters.
      const weights = block.getWeights().map((w) =>
        tf.tensor(
          Array.from({ length: w.size }, () => random() - 0.5),
          w.shape,
        ),
      );
      block.setWeights(weights);
      const output = (block.apply(input) as tf.Tensor).arraySync() as number[][][];
      const values = weights.map((w) => Array.from(w.dataSync()));
      const shapes = weights.map((w) => w.shape);
      const matrixAt = (i: number) =>
        toMatrix(values[i] as number[], shapes[i]?.[0] as number, shapes[i]?.[1] as number);
      const kernels = [matrixAt(2), matrixAt(4), matrixAt(8), matrixAt(10)];
      const vectors = [0, 1, 3, 5, 6, 7, 9, 11].map((i) => values[i] as number[]);
      const inputs = input.arraySync() as number[][][];
      for (let b = 0; b < batch; b++) {
        const once = referenceBlock(inputs[b] as Matrix, kernels, vectors, heads, attention);
        const twice = referenceBlock(once, kernels, vectors, heads, attention);
        twice.forEach((row, t) =>
          row.forEach((v, c) => expect(output[b]?.[t]?.[c]).toBeCloseTo(v, 4)),
        );
      }
    });
  }

  it("gives batchedMatMul the value and gradients of a plain matrix product", () => {
    const random = seededRandom(9);
    const a = tf.tensor3d(
      Array.from({ length: 2 * 3 * 4 }, () => random() - 0.5),
      [2, 3, 4],
    );
    const b = tf.tensor3d(
      Array.from({ length: 2 * 4 * 5 }, () => random() - 0.5),
      [2, 4, 5],
    );
    const weight = tf.tensor3d(
      Array.from({ length: 2 * 3 * 5 }, () => random()),
      [2, 3, 5],
    );
    const loss =
      (f: (x: tf.Tensor3D, y: tf.Tensor3D) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(f(x as tf.Tensor3D, y as tf.Tensor3D), weight));
    const [gaOurs, gbOurs] = tf.grads(loss(batchedMatMul))([a, b]);
    const [gaPlain, gbPlain] = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
    const close = (x: tf.Tensor | undefined, y: tf.Tensor | undefined) =>
      Array.from(x?.dataSync() ?? []).forEach((v, i) =>
        expect(v).toBeCloseTo(y?.dataSync()[i] as number, 5),
      );
    close(batchedMatMul(a, b), tf.matMul(a, b));
    close(gaOurs, gaPlain);
    close(gbOurs, gbPlain);
  });

  it("counts parameters as the architecture implies; sharing halves the block weights", () => {
    const d = 32;
    const ffn = 64;
    const perBlock = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * ffn + ffn) + (ffn * d + d);
    const embedding = 8 * d + d + 8 * d;
    const classifier = d * 10 + 10;
    const base = buildTransformer({ inputShape: [8, 8, 1], classes: 10 });
    const shared = buildTransformer({ inputShape: [8, 8, 1], classes: 10, shareWeights: true });
    expect(base.countParams()).toBe(embedding + 2 * perBlock + classifier);
    expect(shared.countParams()).toBe(embedding + perBlock + classifier);
    base.dispose();
    shared.dispose();
  });

  it("puts linear attention below softmax attention on paper only when the sequence is longer than a head is wide", () => {
    const cost = (tokens: number, attention: AttentionKind) =>
      transformerMultiplyAdds({
        inputShape: [tokens, 1],
        classes: 10,
        dModel: 32,
        heads: 4,
        attention,
      });
    // Head width 8: 8 tokens cost the same, 4 tokens favour softmax, 64 tokens favour linear.
    expect(cost(8, "linear")).toBe(cost(8, "softmax"));
    expect(cost(4, "linear")).toBeGreaterThan(cost(4, "softmax"));
    expect(cost(64, "linear")).toBeLessThan(cost(64, "softmax"));
  });

  it("learns the digits through optimize's trainModel (rows as tokens)", async () => {
    const { loadDigits } = await import("../../src/optimize/datasets.js");
    const data = loadDigits({ seed: 2, trainLimit: 500, testLimit: 200 });
    const model = buildTransformer({
      inputShape: data.inputShape,
      classes: data.classes,
      dModel: 16,
      heads: 2,
      blocks: 1,
      seed: 4,
    });
    const before = evaluateLoss(model, data.test);
    const result = await trainModel(model, data.train, { epochs: 4, learningRate: 0.005, seed: 2 });
    const after = evaluateLoss(model, data.test);
    expect(result.epochsRun).toBe(4);
    expect(after.loss).toBeLessThan(before.loss);
    expect(after.accuracy).toBeGreaterThan(0.5);
    model.dispose();
  });
});
