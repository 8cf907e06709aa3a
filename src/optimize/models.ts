/**
 * The baseline models `wattprint optimize --train-baseline` builds: a multilayer perceptron
 * and a small convolutional network, both TF.js `Sequential` models of the layer kinds the
 * optimize tools understand (Dense, Conv2D, MaxPooling2D, Flatten, Dropout).
 */
import * as tfl from "@tensorflow/tfjs-layers";

export interface MlpOptions {
  /** Per-sample input shape ([784] or [28, 28, 1]); a rank above 1 is flattened first. */
  inputShape: number[];
  /** Units of each hidden layer (ReLU); default [256, 128]. */
  hiddenUnits?: number[];
  classes: number;
  /** Dropout rate after each hidden layer; default 0 (none). */
  dropout?: number;
  /** Seed of the weight initialisers, for repeatable runs; default 1. */
  seed?: number;
}

/** A multilayer perceptron: [Flatten], Dense(ReLU) per hidden layer, Dense(softmax). */
export function buildMlp(options: MlpOptions): tfl.Sequential {
  const seed = options.seed ?? 1;
  const model = tfl.sequential();
  const flat = options.inputShape.length > 1;
  if (flat) model.add(tfl.layers.flatten({ inputShape: options.inputShape }));
  (options.hiddenUnits ?? [256, 128]).forEach((units, index) => {
    model.add(
      tfl.layers.dense({
        units,
        activation: "relu",
        kernelInitializer: tfl.initializers.heNormal({ seed: seed + index }),
        ...(index === 0 && !flat ? { inputShape: options.inputShape } : {}),
      }),
    );
    if ((options.dropout ?? 0) > 0) model.add(tfl.layers.dropout({ rate: options.dropout ?? 0 }));
  });
  model.add(
    tfl.layers.dense({
      units: options.classes,
      activation: "softmax",
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 100 }),
      ...(model.layers.length === 0 ? { inputShape: options.inputShape } : {}),
    }),
  );
  return model;
}

export interface CnnOptions {
  /** Per-sample image shape, NHWC without the batch: [28, 28, 1]. */
  inputShape: [number, number, number];
  /** Filters of each 3×3 convolution (ReLU, each followed by 2×2 max pooling); default [8, 16]. */
  filters?: number[];
  /** Units of the dense layer before the output; default 64. */
  denseUnits?: number;
  classes: number;
  /** Padding of the convolutions; default "valid" (use "same" for small images such as 8×8). */
  padding?: "valid" | "same";
  seed?: number;
}

/** A small CNN: (Conv2D 3×3 ReLU → MaxPooling2D 2×2) per entry of `filters`, Flatten, Dense, Dense(softmax). */
export function buildCnn(options: CnnOptions): tfl.Sequential {
  const seed = options.seed ?? 1;
  const model = tfl.sequential();
  (options.filters ?? [8, 16]).forEach((filters, index) => {
    model.add(
      tfl.layers.conv2d({
        filters,
        kernelSize: 3,
        activation: "relu",
        padding: options.padding ?? "valid",
        kernelInitializer: tfl.initializers.heNormal({ seed: seed + index }),
        ...(index === 0 ? { inputShape: options.inputShape } : {}),
      }),
    );
    model.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  });
  model.add(
    tfl.layers.flatten(model.layers.length === 0 ? { inputShape: options.inputShape } : {}),
  );
  model.add(
    tfl.layers.dense({
      units: options.denseUnits ?? 64,
      activation: "relu",
      kernelInitializer: tfl.initializers.heNormal({ seed: seed + 50 }),
    }),
  );
  model.add(
    tfl.layers.dense({
      units: options.classes,
      activation: "softmax",
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 100 }),
    }),
  );
  return model;
}

/** Number of weights of a model (trainable and not), biases included. */
export function countParams(model: tfl.LayersModel): number {
  return model.countParams();
}

/** The model's per-sample input shape (without the batch axis). */
export function modelInputShape(model: tfl.LayersModel): number[] {
  const shape = model.inputs[0]?.shape ?? [];
  return shape.slice(1).map((dim) => dim ?? -1);
}

/** The number of values a model outputs per sample (classes). */
export function modelOutputSize(model: tfl.LayersModel): number {
  const shape = model.outputs[0]?.shape ?? [];
  return shape.slice(1).reduce<number>((product, dim) => product * (dim ?? 1), 1);
}
