// The VAE's ELBO against values derived by hand, weight sharing between its halves and the
// deployed model, and training through the shared callbacks.
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { EarlyStopping } from "../../src/optimize/callbacks/early-stopping.js";
import { loadDigits, type DataSplit } from "../../src/optimize/datasets.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { buildVae, disposeVae, evaluateVae, trainVae } from "../../src/study/vae-model.js";
import { binarize } from "../../src/study/vae-study.js";
import { headOf, Recorder } from "./helpers.js";

describe("variational autoencoder", () => {
  let train: DataSplit;
  let test: DataSplit;
  beforeAll(async () => {
    await initTensorflow();
    const data = loadDigits({ seed: 4, trainLimit: 500, testLimit: 150 });
    train = binarize(data.train);
    test = binarize(data.test);
  });

  it("binarises at half intensity", () => {
    const split = binarize({
      x: Float32Array.from([0, 0.49, 0.5, 1]),
      y: Int32Array.from([1]),
      count: 1,
    });
    expect(Array.from(split.x)).toEqual([0, 0, 1, 1]);
  });

  it("gives 64·ln 2 nats and no KL with all weights zero (a fair coin per pixel, the prior as posterior)", () => {
    const vae = buildVae({ features: 64, latentDim: 3, hiddenUnits: [8], seed: 1 });
    vae.model.setWeights(vae.model.getWeights().map((w) => tf.zerosLike(w)));
    const evaluation = evaluateVae(vae, test, { samples: 2, seed: 1 });
    expect(evaluation.klNats).toBeCloseTo(0, 6);
    expect(evaluation.reconstructionNats).toBeCloseTo(64 * Math.LN2, 3);
    expect(evaluation.negElboNats).toBeCloseTo(64 * Math.LN2, 3);
    // The output is 0.5 everywhere, so the error per pixel is the mean of (x − 0.5)² = 0.25 on binary pixels.
    expect(evaluation.reconstructionMse).toBeCloseTo(0.25, 6);
    disposeVae(vae);
  });

  it("computes the KL of a known posterior: μ = 1 and log σ² = 0 in every dimension give ½ nat each", () => {
    const latent = 3;
    const vae = buildVae({ features: 64, latentDim: latent, hiddenUnits: [], seed: 1 });
    // Encoder without hidden layers: one dense layer; zero kernel, bias (μ = 1, log σ² = 0).
    const [kernel, bias] = vae.encoder.getWeights() as [tf.Tensor, tf.Tensor];
    vae.encoder.setWeights([
      tf.zerosLike(kernel),
      tf.tensor1d([...Array(latent).fill(1), ...Array(latent).fill(0)]),
    ]);
    expect(bias.shape).toEqual([2 * latent]);
    const evaluation = evaluateVae(vae, test, { samples: 1, seed: 2 });
    expect(evaluation.klNats).toBeCloseTo(0.5 * latent, 5);
    disposeVae(vae);
  });

  it("shares weights between its halves and the deployed model", () => {
    const vae = buildVae({ features: 64, latentDim: 4, hiddenUnits: [16], seed: 2 });
    expect(vae.model.countParams()).toBe(vae.encoder.countParams() + vae.decoder.countParams());
    const x = tf.tensor2d(test.x.slice(0, 2 * 64), [2, 64]);
    const before = (vae.model.predict(x) as tf.Tensor).dataSync().slice();
    vae.decoder.setWeights(vae.decoder.getWeights().map((w) => tf.zerosLike(w)));
    const after = (vae.model.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(after).every((v) => Math.abs(v - 0.5) < 1e-6)).toBe(true);
    expect(Array.from(before).some((v) => Math.abs(v - 0.5) > 1e-3)).toBe(true);
    disposeVae(vae);
  });

  it("lowers the validation −ELBO as it trains and repeats itself exactly for a seed", async () => {
    const train1 = async () => {
      const vae = buildVae({ features: 64, latentDim: 4, hiddenUnits: [32], seed: 3 });
      const recorder = new Recorder();
      const result = await trainVae(vae, train, {
        epochs: 6,
        seed: 3,
        validation: test,
        callbacks: [recorder],
      });
      const evaluation = evaluateVae(vae, test, { samples: 4, seed: 9 });
      disposeVae(vae);
      return { result, recorder, evaluation };
    };
    const first = await train1();
    const second = await train1();
    const losses = first.recorder.logs.map((logs) => logs.valLoss as number);
    expect(losses[losses.length - 1]).toBeLessThan((losses[0] as number) - 1);
    expect(first.result.steps).toBe(6 * Math.ceil(train.count / 64));
    expect(second.evaluation.negElboNats).toBe(first.evaluation.negElboNats);
    expect(second.recorder.logs.map((logs) => logs.valLoss)).toEqual(losses);
  });

  it("stops early on the validation −ELBO and keeps the best weights", async () => {
    const vae = buildVae({ features: 64, latentDim: 4, hiddenUnits: [32], seed: 5 });
    const recorder = new Recorder();
    // A tiny training set overfits fast, so the validation −ELBO turns up.
    const result = await trainVae(vae, headOf(train, 40), {
      epochs: 200,
      batchSize: 8,
      learningRate: 0.01,
      seed: 5,
      validation: test,
      callbacks: [recorder, new EarlyStopping({ monitor: "valLoss", patience: 3 })],
    });
    expect(result.epochsRun).toBeLessThan(200);
    const losses = recorder.logs.map((logs) => logs.valLoss as number);
    const best = Math.min(...losses);
    expect(losses.slice(-3).every((loss) => loss >= best)).toBe(true);
    const restored = vae.model.getWeights().map((t) => Array.from(t.dataSync()));
    const bestWeights = recorder.weights[losses.indexOf(best)] as Float32Array[];
    expect(restored).toEqual(bestWeights.map((w) => Array.from(w)));
    disposeVae(vae);
  });
});
