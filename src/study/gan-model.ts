/**
 * A small conditional GAN (Mirza & Osindero 2014, arXiv:1411.1784) for 8×8 digits: the
 * generator maps noise and a one-hot class to an image, the discriminator scores an image
 * with its class. Both are dense TF.js `Sequential` models (forward passes go through
 * optimize's `forward`, with its fast dense gradient). Training alternates
 * `discriminatorSteps` discriminator updates with one generator update, with the
 * non-saturating loss of Goodfellow et al. (2014) and one-sided label smoothing (0.9).
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { TrainingCallback } from "../optimize/callbacks/training-callback.js";
import { seededRandom, type DataSplit } from "../optimize/datasets.js";
import type { EnergyMeter } from "../optimize/energy-meter.js";
import { forward } from "../optimize/forward.js";
import type { TrainResult } from "../optimize/train.js";
import { runEpochLoop, type EpochValidation } from "../optimize/epoch-loop.js";
import { GaussianSource } from "./ops.js";

export interface GeneratorOptions {
  /** Length of the noise vector z. */
  noiseDim: number;
  classes: number;
  /** Values per generated sample (64 for 8×8). */
  features: number;
  /** Units of each hidden layer (ReLU). */
  hiddenUnits: number[];
  seed: number;
}

/** [z ‖ one-hot class] → hidden ReLU layers → sigmoid image values in 0..1. */
export function buildGenerator(options: GeneratorOptions): tfl.Sequential {
  const model = tfl.sequential();
  const inputShape = [options.noiseDim + options.classes];
  options.hiddenUnits.forEach((units, index) => {
    model.add(
      tfl.layers.dense({
        units,
        activation: "relu",
        kernelInitializer: tfl.initializers.heNormal({ seed: options.seed + index }),
        ...(index === 0 ? { inputShape } : {}),
      }),
    );
  });
  model.add(
    tfl.layers.dense({
      units: options.features,
      activation: "sigmoid",
      kernelInitializer: tfl.initializers.glorotUniform({ seed: options.seed + 100 }),
      ...(options.hiddenUnits.length === 0 ? { inputShape } : {}),
    }),
  );
  return model;
}

export interface DiscriminatorOptions {
  classes: number;
  features: number;
  hiddenUnits: number[];
  seed: number;
}

/** [image ‖ one-hot class] → hidden layers (LeakyReLU 0.2) → one logit (real vs generated). */
export function buildDiscriminator(options: DiscriminatorOptions): tfl.Sequential {
  const model = tfl.sequential();
  const inputShape = [options.features + options.classes];
  options.hiddenUnits.forEach((units, index) => {
    model.add(
      tfl.layers.dense({
        units,
        kernelInitializer: tfl.initializers.heNormal({ seed: options.seed + index }),
        ...(index === 0 ? { inputShape } : {}),
      }),
    );
    model.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  });
  model.add(
    tfl.layers.dense({
      units: 1,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: options.seed + 100 }),
      ...(options.hiddenUnits.length === 0 ? { inputShape } : {}),
    }),
  );
  return model;
}

/**
 * Generator inputs for the classes in `labels`: one row per label, the noise drawn from
 * `noise` then the one-hot class ([count × (noiseDim + classes)]).
 */
export function generatorInputs(
  labels: ArrayLike<number>,
  noiseDim: number,
  classes: number,
  noise: GaussianSource,
): Float32Array {
  const width = noiseDim + classes;
  const values = new Float32Array(labels.length * width);
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < noiseDim; j++) values[i * width + j] = noise.next();
    values[i * width + noiseDim + (labels[i] as number)] = 1;
  }
  return values;
}

/** Images the generator makes for `labels` (row after row), in batches. */
export function generateImages(
  generator: tfl.LayersModel,
  labels: ArrayLike<number>,
  noiseDim: number,
  classes: number,
  seed: number,
): Float32Array {
  const inputs = generatorInputs(labels, noiseDim, classes, new GaussianSource(seed));
  const width = noiseDim + classes;
  const features = (generator.outputs[0]?.shape[1] as number | null) ?? 0;
  const out = new Float32Array(labels.length * features);
  const batch = 256;
  for (let start = 0; start < labels.length; start += batch) {
    const count = Math.min(batch, labels.length - start);
    const values = tf.tidy(() =>
      forward(
        generator,
        tf.tensor2d(inputs.subarray(start * width, (start + count) * width), [count, width]),
      ).dataSync(),
    );
    out.set(values, start * features);
  }
  return out;
}

export interface GanTrainingOptions {
  /** Epochs; an epoch is ⌈samples / batchSize⌉ generator updates. */
  epochs: number;
  /** Default 64. */
  batchSize?: number;
  /** Discriminator updates before each generator update; default 1. */
  discriminatorSteps?: number;
  /** Adam learning rate of both networks (β1 = 0.5); default 0.002. */
  learningRate?: number;
  noiseDim: number;
  classes: number;
  /** Seed of the batches and the noise; default 1. */
  seed?: number;
  /** Quality after each epoch (a KID as valLoss, so early stopping can watch it). */
  validate?: (epoch: number) => EpochValidation | Promise<EpochValidation>;
  /** Green-training callbacks; they see the generator's weights. */
  callbacks?: readonly TrainingCallback[];
  meter?: EnergyMeter | null;
  phaseName?: string;
  log?: (line: string) => void;
}

/**
 * Trains the pair in place on `data` (see the module comment). The result's `loss` per
 * epoch is the generator's mean loss.
 */
export async function trainConditionalGan(
  generator: tfl.LayersModel,
  discriminator: tfl.LayersModel,
  data: DataSplit,
  options: GanTrainingOptions,
): Promise<TrainResult> {
  const batchSize = options.batchSize ?? 64;
  const dSteps = options.discriminatorSteps ?? 1;
  const learningRate = options.learningRate ?? 0.002;
  const seed = options.seed ?? 1;
  const features = data.x.length / data.count;
  const { noiseDim, classes } = options;
  const generatorOptimizer = tf.train.adam(learningRate, 0.5);
  const discriminatorOptimizer = tf.train.adam(learningRate, 0.5);
  const generatorVariables = generator.trainableWeights.map((w) => w.read() as tf.Variable);
  const discriminatorVariables = discriminator.trainableWeights.map((w) => w.read() as tf.Variable);
  const pick = seededRandom(seed * 31 + 7);
  const noise = new GaussianSource(seed * 131 + 3);
  const stepsPerEpoch = Math.ceil(data.count / batchSize);

  const realBatch = () => {
    const x = new Float32Array(batchSize * features);
    const labels = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      const row = Math.floor(pick() * data.count);
      x.set(data.x.subarray(row * features, (row + 1) * features), i * features);
      labels[i] = data.y[row] as number;
    }
    return { x, labels };
  };
  const oneHot = (labels: Int32Array) => {
    const values = new Float32Array(labels.length * classes);
    labels.forEach((label, i) => (values[i * classes + label] = 1));
    return tf.tensor2d(values, [labels.length, classes]);
  };
  const generate = (labels: Int32Array, training: boolean) =>
    forward(
      generator,
      tf.tensor2d(generatorInputs(labels, noiseDim, classes, noise), [
        labels.length,
        noiseDim + classes,
      ]),
      {
        training,
      },
    );

  try {
    return await runEpochLoop({
      model: generator,
      optimizer: () => generatorOptimizer,
      epochs: options.epochs,
      callbacks: options.callbacks,
      meter: options.meter,
      phaseName: options.phaseName ?? "train gan",
      log: options.log,
      validate: options.validate,
      trainEpoch: async () => {
        let generatorLoss = tf.scalar(0);
        for (let step = 0; step < stepsPerEpoch; step++) {
          for (let d = 0; d < dSteps; d++) {
            const real = realBatch();
            tf.tidy(() => {
              const labels = oneHot(real.labels);
              const fake = generate(real.labels, false);
              discriminatorOptimizer.minimize(
                () => {
                  const realLogits = forward(
                    discriminator,
                    tf.concat([tf.tensor2d(real.x, [batchSize, features]), labels], 1),
                    { training: true },
                  );
                  const fakeLogits = forward(discriminator, tf.concat([fake, labels], 1), {
                    training: true,
                  });
                  const realLoss = tf.losses.sigmoidCrossEntropy(
                    tf.fill([batchSize, 1], 0.9),
                    realLogits,
                  );
                  const fakeLoss = tf.losses.sigmoidCrossEntropy(
                    tf.zeros([batchSize, 1]),
                    fakeLogits,
                  );
                  return tf.add(realLoss, fakeLoss) as tf.Scalar;
                },
                false,
                discriminatorVariables,
              );
            });
          }
          const target = realBatch().labels;
          const next = tf.tidy(() => {
            const labels = oneHot(target);
            const cost = generatorOptimizer.minimize(
              () => {
                const fake = generate(target, true);
                const logits = forward(discriminator, tf.concat([fake, labels], 1), {
                  training: true,
                });
                return tf.losses.sigmoidCrossEntropy(tf.ones([batchSize, 1]), logits) as tf.Scalar;
              },
              true,
              generatorVariables,
            ) as tf.Scalar;
            return tf.add(generatorLoss, cost) as tf.Scalar;
          });
          generatorLoss.dispose();
          generatorLoss = next;
        }
        const loss = ((await generatorLoss.data())[0] as number) / stepsPerEpoch;
        generatorLoss.dispose();
        return { loss, steps: stepsPerEpoch * (dSteps + 1) };
      },
    });
  } finally {
    generatorOptimizer.dispose();
    discriminatorOptimizer.dispose();
  }
}
