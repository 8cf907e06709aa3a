import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { denseMatMul, forward } from "../../src/optimize/forward.js";
import { buildCnn, buildMlp } from "../../src/optimize/models.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { predictValues } from "./helpers.js";

describe("forward pass for training", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  it("computes what model.predict computes, for an MLP, a CNN and unlisted layers", () => {
    const withDropout = buildMlp({
      inputShape: [8, 8, 1],
      hiddenUnits: [10, 6],
      classes: 4,
      dropout: 0.5,
      seed: 4,
    });
    const cnn = buildCnn({
      inputShape: [8, 8, 1],
      classes: 3,
      filters: [3, 5],
      denseUnits: 7,
      padding: "same",
      seed: 5,
    });
    const other = tfl.sequential({
      layers: [
        tfl.layers.flatten({ inputShape: [8, 8, 1] }),
        tfl.layers.dense({ units: 5, activation: "tanh" }),
        tfl.layers.batchNormalization(),
        tfl.layers.dense({ units: 3, activation: "softmax" }),
      ],
    });
    const x = tf.randomUniform([4, 8, 8, 1], 0, 1, "float32", 1);
    for (const model of [withDropout, cnn, other]) {
      const expected = predictValues(model, x);
      const actual = tf.tidy(() => forward(model, x).dataSync());
      actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
      // logits: true stops before the softmax: softmax of the logits gives the outputs back.
      const fromLogits = tf.tidy(() => tf.softmax(forward(model, x, { logits: true })).dataSync());
      fromLogits.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
    }
  });

  it("gives dense products the same gradients as tf.matMul", () => {
    const x = tf.randomNormal([5, 7], 0, 1, "float32", 2) as tf.Tensor2D;
    const w = tf.randomNormal([7, 3], 0, 1, "float32", 3) as tf.Tensor2D;
    const r = tf.randomNormal([5, 3], 0, 1, "float32", 4);
    const loss =
      (mm: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D) => (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.relu(mm(a as tf.Tensor2D, b as tf.Tensor2D)), r));
    const ours = tf.grads(loss(denseMatMul))([x, w]);
    const reference = tf.grads(loss((a, b) => tf.matMul(a, b)))([x, w]);
    ours.forEach((g, k) => {
      const expected = (reference[k] as tf.Tensor).dataSync();
      g.dataSync().forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 4));
    });
  });
});
