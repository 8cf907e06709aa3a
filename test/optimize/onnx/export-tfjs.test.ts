/**
 * Cross-check against TensorFlow.js itself (cpu backend): a TF.js Sequential model and the
 * ONNX export of its weights must give the same outputs, so the layouts (NHWC input,
 * [kh, kw, in, out] kernels, `same` padding, flatten order) are TF.js's and not only the
 * test reference's reading of them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as TfCore from "@tensorflow/tfjs-core";
import type * as TfLayers from "@tensorflow/tfjs-layers";
import {
  exportModelToOnnx,
  quantizeOnnxDynamicInt8,
  type LayerSpec,
  type ModelSpec,
} from "../../../src/optimize/onnx/export.js";
import { createOnnxRunner } from "../../../src/optimize/onnx/session.js";
import { argmax, randomValues, seededRandom } from "./reference.js";

let tf: typeof TfCore;
let tfl: typeof TfLayers;

beforeAll(async () => {
  tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-cpu");
  tfl = await import("@tensorflow/tfjs-layers");
  await tf.setBackend("cpu");
});
afterAll(() => tf?.disposeVariables());

/** Reads a TF.js Sequential model into a ModelSpec, the way a caller of the exporter would. */
function specFromTfjs(model: TfLayers.Sequential): ModelSpec {
  const inputShape = (model.inputs[0]?.shape ?? []).slice(1) as number[];
  const layers: LayerSpec[] = model.layers.map((layer) => {
    const config = layer.getConfig();
    const weights = layer.getWeights().map((tensor) => tensor.dataSync() as Float32Array);
    const activation = (config.activation ?? "linear") as "relu" | "linear" | "softmax";
    switch (layer.getClassName()) {
      case "Dense": {
        const kernelShape = layer.getWeights()[0]?.shape as [number, number];
        return {
          kind: "dense",
          inputSize: kernelShape[0],
          outputSize: kernelShape[1],
          weights: weights[0] as Float32Array,
          bias: weights[1] as Float32Array,
          activation,
        };
      }
      case "Conv2D": {
        const kernelShape = layer.getWeights()[0]?.shape as [number, number, number, number];
        return {
          kind: "conv2d",
          inChannels: kernelShape[2],
          outChannels: kernelShape[3],
          kernelSize: [kernelShape[0], kernelShape[1]],
          strides: config.strides as [number, number],
          padding: config.padding as "valid" | "same",
          weights: weights[0] as Float32Array,
          bias: weights[1] as Float32Array,
          activation,
        };
      }
      case "MaxPooling2D":
        return {
          kind: "maxpool2d",
          poolSize: config.poolSize as [number, number],
          strides: config.strides as [number, number],
        };
      case "Flatten":
        return { kind: "flatten" };
      default:
        throw new Error(`layer ${layer.getClassName()} not covered by this test`);
    }
  });
  return { inputShape, layers };
}

describe("ONNX export agrees with TensorFlow.js", () => {
  it("for a CNN with same/strided convolutions, pooling, flatten and dense layers", async () => {
    const init = (seed: number) => ({
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      biasInitializer: tfl.initializers.randomUniform({
        minval: -0.2,
        maxval: 0.2,
        seed: seed + 100,
      }),
    });
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [10, 9, 3],
          filters: 4,
          kernelSize: 3,
          strides: 2,
          padding: "same",
          activation: "relu",
          ...init(1),
        }),
        tfl.layers.conv2d({
          filters: 6,
          kernelSize: [2, 3],
          padding: "valid",
          activation: "relu",
          ...init(2),
        }),
        tfl.layers.maxPooling2d({ poolSize: 2, strides: 1 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 10, activation: "relu", ...init(3) }),
        tfl.layers.dense({ units: 4, activation: "softmax", ...init(4) }),
      ],
    });
    const spec = specFromTfjs(model);
    const batch = 6;
    const input = randomValues(seededRandom(31), batch * 10 * 9 * 3);
    const expected = tf.tidy(() =>
      (model.predict(tf.tensor4d(input, [batch, 10, 9, 3])) as TfCore.Tensor).dataSync(),
    );

    const runner = await createOnnxRunner(exportModelToOnnx(spec), { intraOpThreads: 1 });
    const output = await runner.run(input, batch);
    await runner.close();
    expect(output).toHaveLength(expected.length);
    Array.from(expected).forEach((value, index) => expect(output[index]).toBeCloseTo(value, 4));

    const quantizedRunner = await createOnnxRunner(quantizeOnnxDynamicInt8(spec), {
      intraOpThreads: 1,
    });
    const quantized = await quantizedRunner.run(input, batch);
    await quantizedRunner.close();
    // int8 must keep every clear decision (top-2 probability gap over 0.05) of the float model.
    let clearDecisions = 0;
    for (let sample = 0; sample < batch; sample++) {
      const slice = (values: ArrayLike<number>) =>
        Array.from(values).slice(sample * 4, sample * 4 + 4);
      const probabilities = slice(expected).sort((a, b) => b - a);
      if ((probabilities[0] as number) - (probabilities[1] as number) < 0.05) continue;
      clearDecisions++;
      expect(argmax(slice(quantized))).toBe(argmax(slice(expected)));
    }
    expect(clearDecisions).toBeGreaterThan(0);
    model.dispose();
  });
});
