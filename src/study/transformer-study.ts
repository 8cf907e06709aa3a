/**
 * The efficient-transformer study: a small transformer encoder classifies the 8×8 digits
 * read as 8 tokens (the image rows). The baseline (softmax attention, two blocks) against
 * linear attention, one block's weights shared by both blocks, and a smaller student
 * distilled from the baseline (with the same student trained on the labels alone, to show
 * what distillation itself buys). Every model trains with optimize's `trainModel` and the
 * green-training callbacks, distils with optimize's `distill` and is measured with
 * `measurePredictor`.
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { EarlyStopping } from "../optimize/callbacks/early-stopping.js";
import { EnergyLogger } from "../optimize/callbacks/energy-logger.js";
import { ReduceLrOnPlateau } from "../optimize/callbacks/reduce-lr-on-plateau.js";
import type { TrainingCallback } from "../optimize/callbacks/training-callback.js";
import { distill } from "../optimize/distill.js";
import { tfjsPredictor } from "../optimize/measure.js";
import { evaluateLoss, trainModel } from "../optimize/train.js";
import type {
  StudyContext,
  StudyDefinition,
  StudyOptions,
  VariantOutcome,
} from "./study-definition.js";
import type { QualityMetric } from "./study-result.js";
import {
  buildTransformer,
  transformerMultiplyAdds,
  type TransformerOptions,
} from "./transformer-model.js";

/** Largest accuracy loss against the baseline that counts as the same quality, points. */
export const TRANSFORMER_TOLERANCE_POINTS = 2;

const LEARNING_RATE = 0.003;
const ACCURACY: QualityMetric = {
  key: "accuracy",
  label: "test accuracy",
  unit: "share 0..1",
  better: "higher",
  percent: true,
};

type Architecture = Omit<TransformerOptions, "inputShape" | "classes" | "seed">;

const BASELINE: Architecture = {
  dModel: 32,
  heads: 4,
  ffnUnits: 64,
  blocks: 2,
  attention: "softmax",
};
const STUDENT: Architecture = {
  dModel: 16,
  heads: 2,
  ffnUnits: 32,
  blocks: 1,
  attention: "softmax",
};

/** The study's definition (see the module comment). */
export function transformerStudy(_options: StudyOptions): StudyDefinition {
  const models: tfl.LayersModel[] = [];
  let teacher: tfl.LayersModel | null = null;

  const build = (context: StudyContext, architecture: Architecture, seedOffset = 0) => {
    const model = buildTransformer({
      ...architecture,
      inputShape: context.dataset.inputShape,
      classes: context.dataset.classes,
      seed: context.seed + seedOffset,
    });
    models.push(model);
    return model;
  };
  const callbacks = (context: StudyContext, name: string): TrainingCallback[] => [
    new EnergyLogger({ log: (line) => context.log(`${name} ${line}`) }),
    new ReduceLrOnPlateau({ patience: 2, factor: 0.5 }),
    new EarlyStopping({ patience: 5 }),
  ];
  const outcome = async (
    context: StudyContext,
    name: string,
    model: tfl.LayersModel,
    architecture: Architecture,
    training: VariantOutcome["training"],
    includes: string,
  ): Promise<VariantOutcome> => {
    const accuracy = evaluateLoss(model, context.test).accuracy;
    const inference = { predictor: tfjsPredictor(model), inputs: context.test };
    const multiplyAdds = transformerMultiplyAdds({
      ...architecture,
      inputShape: context.dataset.inputShape,
      classes: context.dataset.classes,
    });
    return {
      params: model.countParams(),
      quality: { accuracy },
      training,
      epochsPlanned: context.epochs,
      trainingIncludes: includes,
      inference,
      notes: [
        `${multiplyAdds.toLocaleString("en-US")} multiply–adds per image in matrix products (on paper)`,
      ],
    };
  };
  const trainArchitecture = async (
    context: StudyContext,
    name: string,
    architecture: Architecture,
  ) => {
    const model = build(context, architecture);
    const training = await trainModel(model, context.fit, {
      epochs: context.epochs,
      batchSize: context.batchSize,
      learningRate: LEARNING_RATE,
      validation: context.validation,
      seed: context.seed,
      meter: context.meter,
      phaseName: `train ${name}`,
      callbacks: callbacks(context, name),
    });
    return { model, training };
  };
  const architectureVariant = (
    name: string,
    technique: string,
    description: string,
    architecture: Architecture,
    keepAsTeacher = false,
  ) => ({
    name,
    technique,
    description,
    run: async (context: StudyContext) => {
      const { model, training } = await trainArchitecture(context, name, architecture);
      if (keepAsTeacher) teacher = model;
      return outcome(
        context,
        name,
        model,
        architecture,
        training,
        "training epochs with per-epoch validation",
      );
    },
  });

  return {
    name: "transformer",
    title: "Efficient transformer: attention, weight sharing and distillation on the 8×8 digits",
    defaultEpochs: 40,
    quickEpochs: 2,
    batchSize: 64,
    primary: ACCURACY,
    metrics: [ACCURACY],
    tolerance: `test accuracy at most ${TRANSFORMER_TOLERANCE_POINTS} points below the baseline's`,
    method:
      "each 8×8 digit is a sequence of 8 tokens (its rows, 8 values each); accuracy is measured on the held-out test split; every variant trains with Adam (learning rate 0.003), the energy logger, learning-rate halving after 2 epochs without validation improvement and early stopping after 5 (best weights restored)",
    inferenceUnit: "classify one image",
    checkTolerance: (variant, baseline) => {
      const value = variant.quality.accuracy ?? null;
      const reference = baseline.quality.accuracy ?? null;
      if (value === null || reference === null) return "accuracy unknown";
      const dropPoints = (reference - value) * 100;
      return dropPoints <= TRANSFORMER_TOLERANCE_POINTS + 1e-9
        ? null
        : `accuracy ${dropPoints.toFixed(2)} points below the baseline's`;
    },
    warmUp: async (context) => {
      const model = build(context, BASELINE, 1000);
      const sample = {
        x: context.fit.x.slice(0, 128 * context.dataset.features),
        y: context.fit.y.slice(0, 128),
        count: Math.min(128, context.fit.count),
      };
      await trainModel(model, sample, {
        epochs: 1,
        batchSize: context.batchSize,
        seed: context.seed,
      });
      await tfjsPredictor(model).predict(
        sample.x.slice(0, 64 * context.dataset.features),
        Math.min(64, sample.count),
      );
    },
    variants: [
      architectureVariant(
        "baseline",
        "baseline",
        "softmax attention, 2 encoder blocks, 32-wide tokens, 4 heads",
        BASELINE,
        true,
      ),
      architectureVariant(
        "linear-attention",
        "linear attention",
        "the baseline with linear attention (φ(Q)(φ(K)ᵀV), φ = elu + 1) instead of softmax",
        { ...BASELINE, attention: "linear" },
      ),
      architectureVariant(
        "shared-weights",
        "shared layer weights",
        "one encoder block's weights used for both blocks (ALBERT-style): half the block parameters, the same compute",
        { ...BASELINE, shareWeights: true },
      ),
      {
        name: "distilled-student",
        technique: "distillation",
        description:
          "a 1-block, 16-wide, 2-head student distilled from the baseline (T = 4, α = 0.7)",
        run: async (context: StudyContext) => {
          if (teacher === null) throw new Error("the baseline (the teacher) was not trained");
          const student = build(context, STUDENT);
          const training = await distill(teacher, student, context.fit, {
            epochs: context.epochs,
            batchSize: context.batchSize,
            learningRate: LEARNING_RATE,
            validation: context.validation,
            seed: context.seed,
            meter: context.meter,
            phaseName: "distill distilled-student",
            callbacks: callbacks(context, "distilled-student"),
            temperature: 4,
            alpha: 0.7,
          });
          return outcome(
            context,
            "distilled-student",
            student,
            STUDENT,
            training,
            "distillation epochs and the teacher's outputs on the training set (the teacher's own training is the baseline's)",
          );
        },
      },
      architectureVariant(
        "small-from-scratch",
        "smaller model",
        "the student's architecture trained on the labels alone (what distillation adds)",
        STUDENT,
      ),
    ],
    dispose: () => {
      for (const model of models) model.dispose();
      models.length = 0;
      teacher = null;
    },
  };
}
