/**
 * A small transformer encoder classifier for images read as sequences of rows (an 8×8
 * digit is 8 tokens of 8 values): token embedding, encoder blocks, mean over the tokens,
 * dense softmax. A TF.js `Sequential` model, so optimize's training, distillation and
 * measurement take it as they take an MLP.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import {
  EncoderBlock,
  TokenEmbedding,
  TokenMeanPool,
  type AttentionKind,
} from "./transformer-layers.js";

export interface TransformerOptions {
  /** Per-sample shape: [tokens, values per token, …] ([8, 8, 1] for the digits). */
  inputShape: number[];
  classes: number;
  /** Width of the token vectors; default 32. */
  dModel?: number;
  /** Attention heads per block; default 4. */
  heads?: number;
  /** Hidden units of each block's feed-forward part; default 2 × dModel. */
  ffnUnits?: number;
  /** Encoder blocks (applications of a block when weights are shared); default 2. */
  blocks?: number;
  /** Default "softmax". */
  attention?: AttentionKind;
  /** One block's weights used for every block (ALBERT-style); default false. */
  shareWeights?: boolean;
  /** Seed of the weight initialisers; default 1. */
  seed?: number;
}

/** The model (see the module comment). */
export function buildTransformer(options: TransformerOptions): tfl.Sequential {
  const dModel = options.dModel ?? 32;
  const heads = options.heads ?? 4;
  const ffnUnits = options.ffnUnits ?? 2 * dModel;
  const blocks = options.blocks ?? 2;
  const attention = options.attention ?? "softmax";
  const seed = options.seed ?? 1;
  if (options.inputShape.length < 2) {
    throw new RangeError(
      `a transformer needs [tokens, values…] inputs, got [${options.inputShape.join(", ")}]`,
    );
  }
  const model = tfl.sequential();
  model.add(
    new TokenEmbedding({ dModel, seed, inputShape: options.inputShape, name: "embedding" }),
  );
  const block = (index: number, repeats: number) =>
    new EncoderBlock({
      dModel,
      heads,
      ffnUnits,
      attention,
      repeats,
      seed: seed + 10 * (index + 1),
      name: `block_${index + 1}`,
    });
  if (options.shareWeights) model.add(block(0, blocks));
  else for (let i = 0; i < blocks; i++) model.add(block(i, 1));
  model.add(new TokenMeanPool({ name: "mean_over_tokens" }));
  model.add(
    tfl.layers.dense({
      units: options.classes,
      activation: "softmax",
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 100 }),
      name: "classifier",
    }),
  );
  return model;
}

/**
 * Multiply–adds per sample of the model's matrix products (projections, attention,
 * feed-forward, classifier); element-wise work is left out. What the architecture costs
 * on paper, to set beside the measured energy.
 */
export function transformerMultiplyAdds(options: TransformerOptions): number {
  const d = options.dModel ?? 32;
  const heads = options.heads ?? 4;
  const ffn = options.ffnUnits ?? 2 * d;
  const blocks = options.blocks ?? 2;
  const tokens = options.inputShape[0] as number;
  const valuesPerToken = options.inputShape.slice(1).reduce((p, v) => p * v, 1);
  const headWidth = d / heads;
  const attention =
    (options.attention ?? "softmax") === "softmax"
      ? 2 * heads * tokens * tokens * headWidth
      : 2 * heads * tokens * headWidth * headWidth;
  const block = tokens * d * 3 * d + attention + tokens * d * d + 2 * tokens * d * ffn;
  return tokens * valuesPerToken * d + blocks * block + d * options.classes;
}
