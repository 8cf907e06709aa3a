/**
 * The layers of the study's small transformer encoder, as TF.js layers so that a model of
 * them trains with optimize's `trainModel`, distils with `distill` and is measured with
 * `measurePredictor` like any other: a token embedding (each token's values projected to
 * `dModel`, plus a learned position embedding), a pre-norm encoder block with softmax or
 * linear attention (applied `repeats` times with the same weights for ALBERT-style
 * sharing), and a mean over the tokens.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { denseMatMul } from "../optimize/forward.js";
import { batchedMatMul } from "./ops.js";

type Shape = (number | null)[];
type LayerVariable = tfl.LayerVariable;

/** How attention mixes the tokens. */
export type AttentionKind = "softmax" | "linear";

const LAYER_NORM_EPSILON = 1e-5;
const LINEAR_ATTENTION_EPSILON = 1e-6;

function onlyTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
}

function onlyShape(inputShape: Shape | Shape[]): Shape {
  return Array.isArray(inputShape[0]) ? (inputShape[0] as Shape) : (inputShape as Shape);
}

/** x [rows, in] · w [in, out] + b, through optimize's fast-gradient product. */
function affine(x: tf.Tensor2D, w: LayerVariable, b: LayerVariable): tf.Tensor2D {
  return tf.add(denseMatMul(x, w.read() as tf.Tensor2D), b.read()) as tf.Tensor2D;
}

/** Layer normalisation over the last axis of x [rows, d]. */
function layerNorm(x: tf.Tensor2D, gamma: LayerVariable, beta: LayerVariable): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  const normalised = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, LAYER_NORM_EPSILON)));
  return tf.add(tf.mul(normalised, gamma.read()), beta.read()) as tf.Tensor2D;
}

export interface TokenEmbeddingArgs {
  /** Width of a token's vector. */
  dModel: number;
  /** Seed of the weight initialisers. */
  seed: number;
  /** Per-sample input shape, when this is a model's first layer. */
  inputShape?: number[];
  name?: string;
}

/**
 * [batch, tokens, ...values] → [batch, tokens, dModel]: each token's values (an image row)
 * projected by one shared matrix, plus a learned embedding of its position.
 */
export class TokenEmbedding extends tfl.layers.Layer {
  static className = "WattprintTokenEmbedding";
  readonly dModel: number;
  readonly seed: number;
  private kernel!: LayerVariable;
  private bias!: LayerVariable;
  private position!: LayerVariable;
  private tokens = 0;
  private valuesPerToken = 0;

  constructor(args: TokenEmbeddingArgs) {
    super({
      name: args.name,
      ...(args.inputShape === undefined ? {} : { inputShape: args.inputShape }),
    });
    this.dModel = args.dModel;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = onlyShape(inputShape);
    this.tokens = shape[1] as number;
    this.valuesPerToken = shape.slice(2).reduce<number>((p, d) => p * (d as number), 1);
    this.kernel = this.addWeight(
      "kernel",
      [this.valuesPerToken, this.dModel],
      "float32",
      tfl.initializers.glorotUniform({ seed: this.seed }),
    );
    this.bias = this.addWeight("bias", [this.dModel], "float32", tfl.initializers.zeros());
    this.position = this.addWeight(
      "position",
      [this.tokens, this.dModel],
      "float32",
      tfl.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: this.seed + 1 }),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = onlyShape(inputShape);
    return [shape[0] ?? null, shape[1] ?? null, this.dModel];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = onlyTensor(inputs);
      const batch = x.shape[0] as number;
      const rows = tf.reshape(x, [batch * this.tokens, this.valuesPerToken]) as tf.Tensor2D;
      const embedded = tf.reshape(affine(rows, this.kernel, this.bias), [
        batch,
        this.tokens,
        this.dModel,
      ]);
      return tf.add(embedded, this.position.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dModel: this.dModel, seed: this.seed };
  }
}

export interface EncoderBlockArgs {
  dModel: number;
  /** Attention heads; must divide `dModel`. */
  heads: number;
  /** Hidden units of the feed-forward part. */
  ffnUnits: number;
  attention: AttentionKind;
  /** Times the block is applied with the same weights; default 1. */
  repeats?: number;
  seed: number;
  name?: string;
}

/**
 * A pre-norm transformer encoder block on [batch, tokens, dModel]:
 * h = x + Attention(LN(x)); y = h + FFN(LN(h)), FFN = ReLU(h·W1 + b1)·W2 + b2.
 *
 * Softmax attention (Vaswani et al. 2017): softmax(Q·Kᵀ / √dk)·V, O(tokens² · dModel).
 * Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs", arXiv:2006.16236):
 * φ(Q)·(φ(K)ᵀ·V) / (φ(Q)·Σ φ(K)) with φ = elu + 1, O(tokens · dModel²/heads): it is cheaper
 * only when the sequence is longer than the head width.
 */
export class EncoderBlock extends tfl.layers.Layer {
  static className = "WattprintEncoderBlock";
  readonly dModel: number;
  readonly heads: number;
  readonly ffnUnits: number;
  readonly attention: AttentionKind;
  readonly repeats: number;
  readonly seed: number;
  private w: Record<string, LayerVariable> = {};

  constructor(args: EncoderBlockArgs) {
    super({ name: args.name });
    if (args.dModel % args.heads !== 0) {
      throw new RangeError(`dModel ${args.dModel} is not a multiple of ${args.heads} heads`);
    }
    this.dModel = args.dModel;
    this.heads = args.heads;
    this.ffnUnits = args.ffnUnits;
    this.attention = args.attention;
    this.repeats = args.repeats ?? 1;
    this.seed = args.seed;
  }

  override build(): void {
    const d = this.dModel;
    const glorot = (offset: number) => tfl.initializers.glorotUniform({ seed: this.seed + offset });
    const zeros = () => tfl.initializers.zeros();
    const ones = () => tfl.initializers.ones();
    this.w = {
      norm1Gamma: this.addWeight("norm1_gamma", [d], "float32", ones()),
      norm1Beta: this.addWeight("norm1_beta", [d], "float32", zeros()),
      qkvKernel: this.addWeight("qkv_kernel", [d, 3 * d], "float32", glorot(1)),
      qkvBias: this.addWeight("qkv_bias", [3 * d], "float32", zeros()),
      outKernel: this.addWeight("out_kernel", [d, d], "float32", glorot(2)),
      outBias: this.addWeight("out_bias", [d], "float32", zeros()),
      norm2Gamma: this.addWeight("norm2_gamma", [d], "float32", ones()),
      norm2Beta: this.addWeight("norm2_beta", [d], "float32", zeros()),
      ffn1Kernel: this.addWeight("ffn1_kernel", [d, this.ffnUnits], "float32", glorot(3)),
      ffn1Bias: this.addWeight("ffn1_bias", [this.ffnUnits], "float32", zeros()),
      ffn2Kernel: this.addWeight("ffn2_kernel", [this.ffnUnits, d], "float32", glorot(4)),
      ffn2Bias: this.addWeight("ffn2_bias", [d], "float32", zeros()),
    };
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return onlyShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = onlyTensor(inputs) as tf.Tensor3D;
      const [batch, tokens] = x.shape as [number, number, number];
      let h = tf.reshape(x, [batch * tokens, this.dModel]) as tf.Tensor2D;
      for (let r = 0; r < this.repeats; r++) h = this.applyOnce(h, batch, tokens);
      return tf.reshape(h, [batch, tokens, this.dModel]);
    });
  }

  private applyOnce(x: tf.Tensor2D, batch: number, tokens: number): tf.Tensor2D {
    const w = this.w as Record<string, LayerVariable>;
    const get = (key: string) => w[key] as LayerVariable;
    const attended = this.attend(layerNorm(x, get("norm1Gamma"), get("norm1Beta")), batch, tokens);
    const h = tf.add(x, affine(attended, get("outKernel"), get("outBias"))) as tf.Tensor2D;
    const hidden = tf.relu(
      affine(layerNorm(h, get("norm2Gamma"), get("norm2Beta")), get("ffn1Kernel"), get("ffn1Bias")),
    );
    return tf.add(
      h,
      affine(hidden as tf.Tensor2D, get("ffn2Kernel"), get("ffn2Bias")),
    ) as tf.Tensor2D;
  }

  /** Multi-head attention of x [batch·tokens, d] → [batch·tokens, d] (before the output projection). */
  private attend(x: tf.Tensor2D, batch: number, tokens: number): tf.Tensor2D {
    const d = this.dModel;
    const headWidth = d / this.heads;
    const qkv = affine(x, this.w.qkvKernel as LayerVariable, this.w.qkvBias as LayerVariable);
    // [batch·tokens, 3d] → three [batch·heads, tokens, headWidth].
    const split = (part: number) =>
      tf.reshape(
        tf.transpose(
          tf.reshape(tf.slice(qkv, [0, part * d], [batch * tokens, d]), [
            batch,
            tokens,
            this.heads,
            headWidth,
          ]),
          [0, 2, 1, 3],
        ),
        [batch * this.heads, tokens, headWidth],
      ) as tf.Tensor3D;
    const q = split(0);
    const k = split(1);
    const v = split(2);
    let out: tf.Tensor3D;
    if (this.attention === "softmax") {
      const scores = tf.div(batchedMatMul(q, tf.transpose(k, [0, 2, 1])), Math.sqrt(headWidth));
      out = batchedMatMul(tf.softmax(scores) as tf.Tensor3D, v);
    } else {
      const phiQ = tf.add(tf.elu(q), 1) as tf.Tensor3D;
      const phiK = tf.add(tf.elu(k), 1) as tf.Tensor3D;
      const keyValue = batchedMatMul(tf.transpose(phiK, [0, 2, 1]), v);
      const numerator = batchedMatMul(phiQ, keyValue);
      const denominator = tf.sum(tf.mul(phiQ, tf.sum(phiK, 1, true)), -1, true);
      out = tf.div(numerator, tf.add(denominator, LINEAR_ATTENTION_EPSILON)) as tf.Tensor3D;
    }
    return tf.reshape(
      tf.transpose(tf.reshape(out, [batch, this.heads, tokens, headWidth]), [0, 2, 1, 3]),
      [batch * tokens, d],
    ) as tf.Tensor2D;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dModel: this.dModel,
      heads: this.heads,
      ffnUnits: this.ffnUnits,
      attention: this.attention,
      repeats: this.repeats,
      seed: this.seed,
    };
  }
}

/** [batch, tokens, d] → [batch, d]: the mean over the tokens. */
export class TokenMeanPool extends tfl.layers.Layer {
  static className = "WattprintTokenMeanPool";

  constructor(args: { name?: string } = {}) {
    super({ name: args.name });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = onlyShape(inputShape);
    return [shape[0] ?? null, shape[2] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mean(onlyTensor(inputs), 1));
  }
}

tf.serialization.registerClass(TokenEmbedding);
tf.serialization.registerClass(EncoderBlock);
tf.serialization.registerClass(TokenMeanPool);
