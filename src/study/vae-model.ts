/**
 * A small variational autoencoder (Kingma & Welling 2014, arXiv:1312.6114) for 8×8 digits:
 * a dense encoder gives the mean and log-variance of a diagonal Gaussian posterior, a dense
 * decoder gives Bernoulli logits for the pixels. Trained on the negative ELBO with the
 * reparameterisation trick, noise drawn on the host from a seed:
 *
 *   −ELBO(x) = Σ_pixels BCE(x, σ(logits(z))) + ½ Σ_latent (μ² + σ² − log σ² − 1),  z = μ + σ·ε.
 *
 * Grey levels in 0..1 are used as Bernoulli targets, the common practice for MNIST-like
 * data; the figure is then a training objective in nats per image, comparable between
 * variants, not a true density bound of continuous images.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { TrainingCallback } from "../optimize/callbacks/training-callback.js";
import { shuffledIndices, type DataSplit } from "../optimize/datasets.js";
import type { EnergyMeter } from "../optimize/energy-meter.js";
import { forward } from "../optimize/forward.js";
import type { TrainResult } from "../optimize/train.js";
import { runEpochLoop } from "../optimize/epoch-loop.js";
import { GaussianSource } from "./ops.js";

type Shape = (number | null)[];

/** [batch, 2·latent] (μ ‖ log σ²) → [batch, latent]: the posterior mean, what the model encodes at inference. */
export class PosteriorMean extends tfl.layers.Layer {
  static className = "WattprintPosteriorMean";
  readonly latentDim: number;

  constructor(args: { latentDim: number; name?: string }) {
    super({ name: args.name });
    this.latentDim = args.latentDim;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [shape[0] ?? null, this.latentDim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    return tf.slice(x, [0, 0], [-1, this.latentDim]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), latentDim: this.latentDim };
  }
}
tf.serialization.registerClass(PosteriorMean);

export interface VaeOptions {
  /** Values per sample (64 for 8×8). */
  features: number;
  latentDim: number;
  /** Encoder hidden units (ReLU); the decoder mirrors them. */
  hiddenUnits: number[];
  seed: number;
}

/** The two halves, and the deployed model made of their layers: image → reconstruction from the posterior mean. */
export interface Vae {
  encoder: tfl.Sequential;
  decoder: tfl.Sequential;
  /** x → σ(decoder(μ(x))); shares the halves' weights (its weights are theirs). */
  model: tfl.Sequential;
  latentDim: number;
  features: number;
}

/** The VAE (see the module comment). */
export function buildVae(options: VaeOptions): Vae {
  const { features, latentDim, hiddenUnits, seed } = options;
  const dense = (
    units: number,
    activation: "relu" | "linear",
    seedOffset: number,
    inputShape?: number[],
  ) =>
    tfl.layers.dense({
      units,
      activation,
      kernelInitializer:
        activation === "relu"
          ? tfl.initializers.heNormal({ seed: seed + seedOffset })
          : tfl.initializers.glorotUniform({ seed: seed + seedOffset }),
      ...(inputShape === undefined ? {} : { inputShape }),
    });
  const encoder = tfl.sequential();
  hiddenUnits.forEach((units, i) =>
    encoder.add(dense(units, "relu", i, i === 0 ? [features] : undefined)),
  );
  encoder.add(
    dense(2 * latentDim, "linear", 50, hiddenUnits.length === 0 ? [features] : undefined),
  );
  const decoder = tfl.sequential();
  const mirrored = [...hiddenUnits].reverse();
  mirrored.forEach((units, i) =>
    decoder.add(dense(units, "relu", 100 + i, i === 0 ? [latentDim] : undefined)),
  );
  decoder.add(dense(features, "linear", 150, mirrored.length === 0 ? [latentDim] : undefined));
  const model = tfl.sequential({
    layers: [
      ...encoder.layers,
      new PosteriorMean({ latentDim }),
      ...decoder.layers,
      tfl.layers.activation({ activation: "sigmoid" }),
    ],
  });
  return { encoder, decoder, model, latentDim, features };
}

/**
 * Frees the VAE's weights. Its three models share their layers (and TF.js counts layer
 * uses, not owners), so the weights are freed one by one instead of model by model.
 */
export function disposeVae(vae: Vae): void {
  for (const weight of vae.model.weights) weight.dispose();
}

/** Per-sample −ELBO terms of a batch, nats: [reconstruction, KL] each [batch]. */
function elboTerms(
  vae: Vae,
  x: tf.Tensor2D,
  noise: tf.Tensor2D,
  training: boolean,
): { reconstruction: tf.Tensor1D; kl: tf.Tensor1D } {
  const stats = forward(vae.encoder, x, { training }) as tf.Tensor2D;
  const mean = tf.slice(stats, [0, 0], [-1, vae.latentDim]);
  const logVariance = tf.slice(stats, [0, vae.latentDim], [-1, vae.latentDim]);
  const z = tf.add(mean, tf.mul(tf.exp(tf.mul(logVariance, 0.5)), noise));
  const logits = forward(vae.decoder, z, { training });
  const reconstruction = tf.sum(
    tf.losses.sigmoidCrossEntropy(x, logits, undefined, 0, tf.Reduction.NONE),
    1,
  ) as tf.Tensor1D;
  const kl = tf.mul(
    tf.sum(tf.sub(tf.add(tf.square(mean), tf.exp(logVariance)), tf.add(logVariance, 1)), 1),
    0.5,
  ) as tf.Tensor1D;
  return { reconstruction, kl };
}

/** Quality of a VAE on a split. */
export interface VaeEvaluation {
  /** Mean −ELBO, nats per image (lower is better), averaged over `samples` noise draws. */
  negElboNats: number;
  /** Its reconstruction part (expected Bernoulli negative log-likelihood), nats per image. */
  reconstructionNats: number;
  /** Its KL part, nats per image. */
  klNats: number;
  /** Mean squared error per pixel of σ(decoder(μ)) against the image (values 0..1). */
  reconstructionMse: number;
}

/** Evaluates on `data` with `samples` seeded noise draws per image (deterministic for a seed). */
export function evaluateVae(
  vae: Vae,
  data: DataSplit,
  options: { samples?: number; seed: number },
): VaeEvaluation {
  const samples = options.samples ?? 1;
  const noise = new GaussianSource(options.seed);
  const batchSize = 256;
  let reconstructionSum = 0;
  let klSum = 0;
  let squaredErrorSum = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const count = Math.min(batchSize, data.count - start);
    const xValues = data.x.subarray(start * vae.features, (start + count) * vae.features);
    for (let s = 0; s < samples; s++) {
      const eps = noise.fill(count * vae.latentDim);
      const [r, k] = tf.tidy(() => {
        const terms = elboTerms(
          vae,
          tf.tensor2d(xValues, [count, vae.features]),
          tf.tensor2d(eps, [count, vae.latentDim]),
          false,
        );
        return [
          tf.sum(terms.reconstruction).dataSync()[0] as number,
          tf.sum(terms.kl).dataSync()[0] as number,
        ];
      });
      reconstructionSum += r;
      klSum += k;
    }
    squaredErrorSum += tf.tidy(() => {
      const x = tf.tensor2d(xValues, [count, vae.features]);
      return tf
        .sum(tf.squaredDifference(vae.model.predict(x) as tf.Tensor, x))
        .dataSync()[0] as number;
    });
  }
  const reconstructionNats = reconstructionSum / (data.count * samples);
  const klNats = klSum / (data.count * samples);
  return {
    negElboNats: reconstructionNats + klNats,
    reconstructionNats,
    klNats,
    reconstructionMse: squaredErrorSum / (data.count * vae.features),
  };
}

export interface VaeTrainingOptions {
  epochs: number;
  /** Default 64. */
  batchSize?: number;
  /** Adam learning rate; default 0.002. */
  learningRate?: number;
  /** Seed of the shuffles and the noise; default 1. */
  seed?: number;
  /** Evaluated after each epoch: its −ELBO is the logs' valLoss (one seeded noise draw). */
  validation?: DataSplit | null;
  callbacks?: readonly TrainingCallback[];
  meter?: EnergyMeter | null;
  phaseName?: string;
  log?: (line: string) => void;
}

/** Trains the VAE in place on `data` (mini-batch Adam on the −ELBO, through the shared callbacks). */
export async function trainVae(
  vae: Vae,
  data: DataSplit,
  options: VaeTrainingOptions,
): Promise<TrainResult> {
  const batchSize = options.batchSize ?? 64;
  const seed = options.seed ?? 1;
  const optimizer = tf.train.adam(options.learningRate ?? 0.002);
  const variables = [...vae.encoder.trainableWeights, ...vae.decoder.trainableWeights].map(
    (w) => w.read() as tf.Variable,
  );
  const noise = new GaussianSource(seed * 977 + 5);
  const validation = options.validation ?? null;
  try {
    return await runEpochLoop({
      model: vae.model,
      optimizer: () => optimizer,
      epochs: options.epochs,
      callbacks: options.callbacks,
      meter: options.meter,
      phaseName: options.phaseName ?? "train vae",
      log: options.log,
      validate:
        validation === null
          ? undefined
          : () => ({ valLoss: evaluateVae(vae, validation, { seed: seed + 4242 }).negElboNats }),
      trainEpoch: async (epoch) => {
        const order = shuffledIndices(data.count, seed * 7919 + epoch);
        let lossSum = tf.scalar(0);
        let steps = 0;
        for (let start = 0; start < data.count; start += batchSize) {
          const count = Math.min(batchSize, data.count - start);
          const x = new Float32Array(count * vae.features);
          for (let i = 0; i < count; i++) {
            const row = order[start + i] as number;
            x.set(data.x.subarray(row * vae.features, (row + 1) * vae.features), i * vae.features);
          }
          const eps = noise.fill(count * vae.latentDim);
          const next = tf.tidy(() => {
            const cost = optimizer.minimize(
              () => {
                const terms = elboTerms(
                  vae,
                  tf.tensor2d(x, [count, vae.features]),
                  tf.tensor2d(eps, [count, vae.latentDim]),
                  true,
                );
                return tf.mean(tf.add(terms.reconstruction, terms.kl)) as tf.Scalar;
              },
              true,
              variables,
            ) as tf.Scalar;
            return tf.add(lossSum, tf.mul(cost, count)) as tf.Scalar;
          });
          lossSum.dispose();
          lossSum = next;
          steps++;
        }
        const loss = ((await lossSum.data())[0] as number) / data.count;
        lossSum.dispose();
        return { loss, steps };
      },
    });
  } finally {
    optimizer.dispose();
  }
}
