import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { pruneStructured } from "../../../src/optimize/pruning/structured.js";
import { buildCnn, buildMlp } from "../../../src/optimize/models.js";
import { initTensorflow } from "../../../src/optimize/runtime.js";
import { predictValues } from "../helpers.js";

/** Output of layer `index` of a sequential model. */
function layerOutput(model: tfl.LayersModel, index: number, x: tf.Tensor): tf.Tensor {
  let h = x;
  for (let i = 0; i <= index; i++)
    h = (model.layers[i] as tfl.LayersModel["layers"][number]).apply(h) as tf.Tensor;
  return h;
}

/** A copy of the model with the given units of layer `index` silenced (outgoing weights zeroed in its consumer). */
async function silenceUnits(
  model: tfl.LayersModel,
  consumerIndex: number,
  removed: number[],
  channels: number,
): Promise<void> {
  const consumer = model.layers[consumerIndex] as tfl.LayersModel["layers"][number];
  const [kernel, bias] = consumer.getWeights() as [tf.Tensor, tf.Tensor];
  const values = Float32Array.from(kernel.dataSync());
  const out = kernel.shape[kernel.shape.length - 1] as number;
  const inputs = values.length / out;
  for (let row = 0; row < inputs; row++) {
    const channel = kernel.rank === 4 ? row % (kernel.shape[2] as number) : row % channels;
    if (removed.includes(channel)) for (let o = 0; o < out; o++) values[row * out + o] = 0;
  }
  consumer.setWeights([tf.tensor(values, kernel.shape), bias]);
}

describe("structured pruning", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  it("removes hidden units of an MLP: fewer parameters, same output shape, same function on the kept units", async () => {
    const model = buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [20, 10], classes: 4, seed: 12 });
    const { model: pruned, layers } = await pruneStructured(model, 0.5);
    expect(layers.map((l) => [l.before, l.after])).toEqual([
      [20, 10],
      [10, 5],
    ]);
    expect(pruned.countParams()).toBe(64 * 10 + 10 + 10 * 5 + 5 + 5 * 4 + 4);
    expect(pruned.outputs[0]?.shape).toEqual([null, 4]);

    const x = tf.randomUniform([6, 8, 8, 1], 0, 1, "float32", 3);
    // Layer 1 (first hidden Dense) of the pruned model equals the kept units of the original.
    const kept = (layers[0] as { kept: number[] }).kept;
    const original = layerOutput(model, 1, x).arraySync() as number[][];
    const smaller = layerOutput(pruned, 1, x).arraySync() as number[][];
    original.forEach((row, r) =>
      kept.forEach((unit, k) => expect(smaller[r]?.[k]).toBeCloseTo(row[unit] as number, 5)),
    );

    // The whole pruned network equals the original with the removed units silenced.
    const removed1 = [...Array(20).keys()].filter((u) => !kept.includes(u));
    const removed2 = [...Array(10).keys()].filter(
      (u) => !(layers[1] as { kept: number[] }).kept.includes(u),
    );
    await silenceUnits(model, 2, removed1, 20);
    await silenceUnits(model, 3, removed2, 10);
    const expected = predictValues(model, x);
    predictValues(pruned, x).forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
  });

  it("removes the filters with the smallest L1 norm from a CNN, through pooling and flatten", async () => {
    const model = buildCnn({
      inputShape: [8, 8, 1],
      classes: 10,
      filters: [6, 8],
      denseUnits: 12,
      padding: "same",
      seed: 4,
    });
    // Make filter 2 of the first conv the weakest by far, so the ranking is known.
    const conv = model.layers[0] as tfl.LayersModel["layers"][number];
    const [k, b] = conv.getWeights() as [tf.Tensor, tf.Tensor];
    const scaled = Float32Array.from(k.dataSync()).map((v, i) => (i % 6 === 2 ? v * 1e-3 : v));
    conv.setWeights([tf.tensor(scaled, k.shape), b]);

    const { model: pruned, layers } = await pruneStructured(model, 0.5);
    expect(layers.map((l) => [l.layerName.split("_")[0], l.before, l.after])).toEqual([
      ["conv2d", 6, 3],
      ["conv2d", 8, 4],
      ["dense", 12, 6],
    ]);
    expect(layers[0]?.kept).not.toContain(2);
    expect(pruned.outputs[0]?.shape).toEqual([null, 10]);
    // conv1 3·3·1·3+3, conv2 3·3·3·4+4, dense (2·2·4)·6+6, output 6·10+10
    expect(pruned.countParams()).toBe(30 + 112 + 102 + 70);

    const x = tf.randomUniform([5, 8, 8, 1], 0, 1, "float32", 6);
    // The first conv's kept filters compute what they computed before.
    const original = layerOutput(model, 0, x);
    const kept0 = layers[0]?.kept as number[];
    const expectedKept = tf.gather(original, kept0, 3).dataSync();
    layerOutput(pruned, 0, x)
      .dataSync()
      .forEach((v, i) => expect(v).toBeCloseTo(expectedKept[i] as number, 5));

    // Silencing the removed filters and units in the original gives the pruned network's outputs.
    await silenceUnits(
      model,
      2,
      [...Array(6).keys()].filter((f) => !kept0.includes(f)),
      6,
    );
    const kept1 = layers[1]?.kept as number[];
    await silenceUnits(
      model,
      5,
      [...Array(8).keys()].filter((f) => !kept1.includes(f)),
      8,
    );
    const kept2 = layers[2]?.kept as number[];
    await silenceUnits(
      model,
      6,
      [...Array(12).keys()].filter((u) => !kept2.includes(u)),
      12,
    );
    const expected = predictValues(model, x);
    predictValues(pruned, x).forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
  });

  it("skips a layer whose output feeds a layer it cannot rewrite, and keeps the original untouched", async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [6], units: 8, activation: "relu" }),
        tfl.layers.batchNormalization(),
        tfl.layers.dense({ units: 4, activation: "relu" }),
        tfl.layers.dense({ units: 2, activation: "softmax" }),
      ],
    });
    const params = model.countParams();
    const result = await pruneStructured(model, 0.5);
    expect(result.skipped).toEqual([
      { layerName: model.layers[0]?.name, reason: expect.stringMatching(/BatchNormalization/) },
    ]);
    expect(result.layers.map((l) => [l.before, l.after])).toEqual([[4, 2]]);
    expect(model.countParams()).toBe(params);
  });
});
