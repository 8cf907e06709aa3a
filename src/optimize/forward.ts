/**
 * A functional forward pass over a sequential TF.js model, used for training. It computes
 * what `model.apply` computes, but dense layers go through {@link denseMatMul}, whose
 * gradient avoids transposed matrix products: the wasm backend runs those on a slow path
 * (about 15x slower than a plain product here), which made training about 3x slower.
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";

/** One layer of a TF.js model. */
export type TfLayer = tfl.LayersModel["layers"][number];

/**
 * x [n, in] · w [in, out] with a gradient made of untransposed products
 * (dx = dy · wᵀ, dw = xᵀ · dy, with the transposes done as their own cheap op).
 */
export const denseMatMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedX, savedW] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        tf.matMul(dy as tf.Tensor2D, tf.transpose(savedW)),
        tf.matMul(tf.transpose(savedX), dy as tf.Tensor2D),
      ];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

export interface ForwardOptions {
  /** Training mode: dropout active. Default false. */
  training?: boolean;
  /**
   * Stop before a final softmax and return its input (logits), for numerically stable
   * losses. Default false. Has no effect when the last layer has no softmax.
   */
  logits?: boolean;
}

const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x,
  relu: (x) => tf.relu(x),
  relu6: (x) => tf.relu6(x),
  elu: (x) => tf.elu(x),
  selu: (x) => tf.selu(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  softplus: (x) => tf.softplus(x),
  softmax: (x) => tf.softmax(x),
};

/** The activation name of a Dense or Conv2D layer ("relu", "softmax", "linear"). */
export function layerActivation(layer: TfLayer): string {
  const activation = layer.getConfig().activation;
  return typeof activation === "string" ? activation : "linear";
}

/**
 * Runs `x` through the model's layers in order. Dense (rank-2 input), Conv2D (NHWC),
 * MaxPooling2D, Flatten and Dropout are computed here; any other layer by its own `apply`.
 */
export function forward(
  model: tfl.LayersModel,
  x: tf.Tensor,
  options: ForwardOptions = {},
): tf.Tensor {
  const training = options.training ?? false;
  let h = x;
  const layers = model.layers;
  layers.forEach((layer, index) => {
    const last = index === layers.length - 1;
    h = applyLayer(layer, h, training, last && options.logits === true);
  });
  return h;
}

function applyLayer(
  layer: TfLayer,
  h: tf.Tensor,
  training: boolean,
  skipSoftmax: boolean,
): tf.Tensor {
  const config = layer.getConfig();
  const className = layer.getClassName();
  if ((className === "Dense" && h.rank === 2) || className === "Conv2D") {
    const activationName = layerActivation(layer);
    const activation =
      skipSoftmax && activationName === "softmax"
        ? ACTIVATIONS.linear
        : ACTIVATIONS[activationName];
    if (
      activation !== undefined &&
      (className === "Dense" || config.dataFormat !== "channelsFirst")
    ) {
      const [kernel, bias] =
        layer.trainableWeights.length > 0
          ? layer.trainableWeights.map((w) => w.read())
          : layer.weights.map((w) => w.read());
      let out =
        className === "Dense"
          ? denseMatMul(h as tf.Tensor2D, kernel as tf.Tensor2D)
          : tf.conv2d(
              h as tf.Tensor4D,
              kernel as tf.Tensor4D,
              config.strides as [number, number],
              config.padding as "valid" | "same",
              "NHWC",
              config.dilationRate as [number, number],
            );
      if (bias !== undefined && config.useBias !== false) out = tf.add(out, bias);
      return activation(out);
    }
  }
  if (className === "MaxPooling2D" && config.dataFormat !== "channelsFirst") {
    return tf.maxPool(
      h as tf.Tensor4D,
      config.poolSize as [number, number],
      config.strides as [number, number],
      config.padding as "valid" | "same",
    );
  }
  if (className === "Flatten") return tf.reshape(h, [h.shape[0] ?? -1, -1]);
  if (className === "Dropout") {
    const rate = Number(config.rate ?? 0);
    return training && rate > 0 ? tf.dropout(h, rate) : h;
  }
  if (skipSoftmax && className === "Activation" && config.activation === "softmax") return h;
  return layer.apply(h, { training }) as tf.Tensor;
}
