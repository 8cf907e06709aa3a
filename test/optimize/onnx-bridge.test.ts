import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { WattprintError } from "../../src/errors.js";
import { onnxPredictor, toLayerSpecs } from "../../src/optimize/onnx-bridge.js";
import { exportModelToOnnx, quantizeOnnxDynamicInt8 } from "../../src/optimize/onnx/export.js";
import { createOnnxRunner } from "../../src/optimize/onnx/session.js";
import { loadDigits } from "../../src/optimize/datasets.js";
import { predictorAccuracy, tfjsPredictor } from "../../src/optimize/measure.js";
import { buildCnn, buildMlp } from "../../src/optimize/models.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { trainModel } from "../../src/optimize/train.js";
import { headOf, predictValues } from "./helpers.js";

describe("TF.js to ONNX", () => {
  beforeAll(async () => {
    await initTensorflow();
  });

  it("describes an MLP and a CNN layer by layer with their weights (dropout left out)", () => {
    const mlp = buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [6], classes: 3, dropout: 0.2 });
    const spec = toLayerSpecs(mlp);
    expect(spec.inputShape).toEqual([8, 8, 1]);
    expect(spec.layers.map((l) => l.kind)).toEqual(["flatten", "dense", "dense"]);
    const dense = spec.layers[1] as Extract<(typeof spec.layers)[number], { kind: "dense" }>;
    expect([dense.inputSize, dense.outputSize, dense.activation]).toEqual([64, 6, "relu"]);
    expect(Array.from(dense.weights)).toEqual(
      Array.from((mlp.layers[1]?.getWeights()[0] as tf.Tensor).dataSync()),
    );

    const cnn = buildCnn({
      inputShape: [8, 8, 1],
      classes: 10,
      filters: [4],
      denseUnits: 8,
      padding: "same",
    });
    const cnnSpec = toLayerSpecs(cnn);
    expect(cnnSpec.layers.map((l) => l.kind)).toEqual([
      "conv2d",
      "maxpool2d",
      "flatten",
      "dense",
      "dense",
    ]);
    expect(cnnSpec.layers[0]).toMatchObject({
      inChannels: 1,
      outChannels: 4,
      kernelSize: [3, 3],
      strides: [1, 1],
      padding: "same",
      activation: "relu",
    });
    expect(cnnSpec.layers[1]).toMatchObject({ poolSize: [2, 2], strides: [2, 2] });
    expect(cnnSpec.layers[4]).toMatchObject({ activation: "softmax" });
  });

  it("names the layer ONNX export cannot take", () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [4], units: 3, activation: "tanh" }),
        tfl.layers.dense({ units: 2 }),
      ],
    });
    expect(() => toLayerSpecs(model)).toThrow(WattprintError);
    expect(() => toLayerSpecs(model)).toThrow(
      /layer dense_Dense\d+ \(Dense\) cannot be exported to ONNX: activation "tanh"/,
    );
  });

  it("runs in onnxruntime with TF.js's outputs (float32) and its accuracy within a point (dynamic int8)", async () => {
    const digits = loadDigits();
    const test = headOf(digits.test, 200);
    const model = buildCnn({
      inputShape: [8, 8, 1],
      classes: 10,
      filters: [6],
      denseUnits: 16,
      padding: "same",
      seed: 3,
    });
    await trainModel(model, headOf(digits.train, 600), {
      epochs: 4,
      batchSize: 32,
      learningRate: 0.01,
    });
    const spec = toLayerSpecs(model);
    const fp32 = await createOnnxRunner(exportModelToOnnx(spec), { intraOpThreads: 1 });
    const int8 = await createOnnxRunner(quantizeOnnxDynamicInt8(spec), { intraOpThreads: 1 });
    try {
      const x = test.x.slice(0, 5 * 64);
      const expected = predictValues(model, tf.tensor(x, [5, 8, 8, 1]));
      const actual = await fp32.run(x, 5);
      actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 4));
      const tfjsAccuracy = await predictorAccuracy(tfjsPredictor(model), test);
      expect(await predictorAccuracy(onnxPredictor(fp32, model), test)).toBeCloseTo(
        tfjsAccuracy,
        10,
      );
      expect(
        Math.abs((await predictorAccuracy(onnxPredictor(int8, model), test)) - tfjsAccuracy),
      ).toBeLessThanOrEqual(0.01);
    } finally {
      await fp32.close();
      await int8.close();
    }
  });
});
