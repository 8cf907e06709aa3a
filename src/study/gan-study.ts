/**
 * The green-GAN study: a small conditional GAN on the 8×8 digits. The baseline (two hidden
 * layers of 128 in the generator, two discriminator updates per generator update, every
 * epoch) against a lighter generator, one discriminator update per generator update, early
 * stopping on the validation KID, and all three together. Quality is judged by a classifier
 * trained on the real digits (optimize's MLP and `trainModel`): the KID in its feature space
 * between generated and real test digits, and its accuracy on generated digits of the
 * classes asked for.
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { EarlyStopping } from "../optimize/callbacks/early-stopping.js";
import { EnergyLogger } from "../optimize/callbacks/energy-logger.js";
import type { TrainingCallback } from "../optimize/callbacks/training-callback.js";
import type { DataSplit } from "../optimize/datasets.js";
import { tfjsPredictor } from "../optimize/measure.js";
import {
  classify,
  extractFeatures,
  trainFeatureClassifier,
  type FeatureClassifier,
} from "./feature-classifier.js";
import {
  buildDiscriminator,
  buildGenerator,
  generateImages,
  generatorInputs,
  trainConditionalGan,
} from "./gan-model.js";
import { kernelInceptionDistance } from "./kid.js";
import { GaussianSource } from "./ops.js";
import { StartFromEpoch } from "./start-from-epoch.js";
import type {
  StudyContext,
  StudyDefinition,
  StudyOptions,
  StudyVariantPlan,
  VariantOutcome,
} from "./study-definition.js";
import type { QualityMetric } from "./study-result.js";

/** The tolerance: KID at most this many combined standard errors above the baseline's … */
export const GAN_KID_TOLERANCE_SE = 2;
/** … and class accuracy on generated digits at most this many points below the baseline's. */
export const GAN_CLASS_ACCURACY_TOLERANCE_POINTS = 5;

const NOISE_DIM = 16;
const LEARNING_RATE = 0.002;
/** Real training images the per-epoch validation KID compares with, and generated images per check. */
const VALIDATION_REAL = 500;
const VALIDATION_GENERATED = 250;
/** Share of the planned epochs early stopping ignores (the GAN's chaotic start). */
const EARLY_STOPPING_START_FRACTION = 0.25;
const EARLY_STOPPING_PATIENCE = 10;

const KID: QualityMetric = {
  key: "kid",
  label: "KID (judge features, test digits)",
  unit: "squared feature units",
  better: "lower",
};
const KID_SE: QualityMetric = {
  key: "kidStandardError",
  label: "KID standard error",
  unit: "squared feature units",
  better: "lower",
};
const CLASS_ACCURACY: QualityMetric = {
  key: "classAccuracy",
  label: "judge accuracy on generated digits of the requested class",
  unit: "share 0..1",
  better: "higher",
  percent: true,
};

interface GanConfig {
  generatorUnits: number[];
  discriminatorSteps: number;
  earlyStopping: boolean;
}

const BASELINE: GanConfig = {
  generatorUnits: [128, 128],
  discriminatorSteps: 2,
  earlyStopping: false,
};
const DISCRIMINATOR_UNITS = [128];

/** The study's definition (see the module comment). */
export function ganStudy(_options: StudyOptions): StudyDefinition {
  const models: tfl.LayersModel[] = [];
  let judge: FeatureClassifier | null = null;
  let testFeatures: Float32Array | null = null;
  let validationReference: { features: Float32Array; labels: Int32Array } | null = null;

  const requireJudge = () => {
    if (judge === null || testFeatures === null || validationReference === null)
      throw new Error("the judge classifier was not trained");
    return { judge, testFeatures, validationReference };
  };

  /** The generator's images for `labels`, their judge features and the judge's class accuracy on them. */
  const judgeGenerator = (
    generator: tfl.LayersModel,
    labels: Int32Array,
    classes: number,
    seed: number,
  ) => {
    const { judge: j } = requireJudge();
    const images = generateImages(generator, labels, NOISE_DIM, classes, seed);
    const features = extractFeatures(j.model, images, labels.length);
    const predicted = classify(j.model, images, labels.length);
    let correct = 0;
    predicted.forEach((c, i) => (correct += c === labels[i] ? 1 : 0));
    return { features, classAccuracy: correct / labels.length, featureDims: j.featureDims };
  };

  const runVariant = async (
    context: StudyContext,
    name: string,
    config: GanConfig,
  ): Promise<VariantOutcome> => {
    const { testFeatures: reference, validationReference: validationFeatures } = requireJudge();
    const classes = context.dataset.classes;
    const generator = buildGenerator({
      noiseDim: NOISE_DIM,
      classes,
      features: context.dataset.features,
      hiddenUnits: config.generatorUnits,
      seed: context.seed,
    });
    const discriminator = buildDiscriminator({
      classes,
      features: context.dataset.features,
      hiddenUnits: DISCRIMINATOR_UNITS,
      seed: context.seed + 1,
    });
    models.push(generator, discriminator);
    const validationLabels = balancedLabels(
      Math.min(VALIDATION_GENERATED, context.fit.count),
      classes,
    );
    const callbacks: TrainingCallback[] = [
      new EnergyLogger({ log: (line) => context.log(`${name} ${line}`) }),
    ];
    if (config.earlyStopping) {
      const startEpoch = Math.floor(context.epochs * EARLY_STOPPING_START_FRACTION);
      callbacks.push(
        new StartFromEpoch(
          startEpoch,
          new EarlyStopping({
            monitor: "valLoss",
            patience: context.quick ? 1 : EARLY_STOPPING_PATIENCE,
          }),
        ),
      );
    }
    const training = await trainConditionalGan(generator, discriminator, context.fit, {
      epochs: context.epochs,
      batchSize: context.batchSize,
      discriminatorSteps: config.discriminatorSteps,
      learningRate: LEARNING_RATE,
      noiseDim: NOISE_DIM,
      classes,
      seed: context.seed,
      meter: context.meter,
      phaseName: `train ${name}`,
      callbacks,
      // The same noise every epoch, so the curve shows the generator changing, not the draw.
      validate: () => {
        const generated = judgeGenerator(generator, validationLabels, classes, context.seed + 77);
        const valLoss = intraClassKid(
          validationFeatures.features,
          validationFeatures.labels,
          generated.features,
          validationLabels,
          generated.featureDims,
          classes,
        );
        return { valLoss, valAccuracy: generated.classAccuracy };
      },
    });
    const generated = judgeGenerator(generator, context.test.y, classes, context.seed + 99);
    const kid = kernelInceptionDistance(reference, generated.features, generated.featureDims);
    const classAccuracy = generated.classAccuracy;
    const inputs: DataSplit = {
      x: generatorInputs(
        context.test.y,
        NOISE_DIM,
        classes,
        new GaussianSource(context.seed + 123),
      ),
      y: context.test.y,
      count: context.test.count,
    };
    const inference = { predictor: tfjsPredictor(generator), inputs };
    return {
      params: generator.countParams(),
      quality: { kid: kid.kid, kidStandardError: kid.standardError, classAccuracy },
      training,
      epochsPlanned: context.epochs,
      trainingIncludes: "generator and discriminator updates, and each epoch's validation KID",
      inference,
      notes: [
        `discriminator: ${discriminator.countParams().toLocaleString("en-US")} parameters (training only); ${config.discriminatorSteps} discriminator update${config.discriminatorSteps === 1 ? "" : "s"} per generator update`,
        `KID over ${kid.generatedCount} generated and ${kid.realCount} real test digits; standard error from ${kid.subsets} disjoint subsets`,
      ],
    };
  };

  const variant = (
    name: string,
    technique: string,
    description: string,
    config: GanConfig,
  ): StudyVariantPlan => ({
    name,
    technique,
    description,
    run: (context) => runVariant(context, name, config),
  });

  return {
    name: "gan",
    title: "Green GAN: a conditional GAN on the 8×8 digits, lighter and stopped on time",
    defaultEpochs: 100,
    quickEpochs: 2,
    batchSize: 64,
    primary: KID,
    metrics: [KID, KID_SE, CLASS_ACCURACY],
    tolerance: `KID at most ${GAN_KID_TOLERANCE_SE} combined standard errors above the baseline's, and class accuracy at most ${GAN_CLASS_ACCURACY_TOLERANCE_POINTS} points below it`,
    method:
      "the judge is an MLP (hidden layers 128 and 64, ReLU) trained on the real training digits; its 64 last-hidden-layer activations are the feature space. " +
      "KID (Bińkowski et al. 2018): unbiased squared MMD with the cubic polynomial kernel between the features of the real test digits and of as many generated digits of the same classes (fixed seeded noise); chosen over the FID because the FID's estimator is biased at a few hundred samples and the KID's is not. " +
      "Class accuracy: the judge's accuracy on those generated digits against the classes requested. " +
      `Early stopping watches the intra-class KID (the mean over classes of the KID between generated and real digits of that class) between ${VALIDATION_GENERATED} generated digits and ${VALIDATION_REAL} real training digits after each epoch, from a quarter of the planned epochs on (patience ${EARLY_STOPPING_PATIENCE}, best generator restored); the test digits are never used for a training decision. ` +
      "An epoch is ⌈training samples / 64⌉ generator updates; Adam (learning rate 0.002, β1 = 0.5) for both networks, non-saturating loss, one-sided label smoothing 0.9.",
    inferenceUnit: "generate one image",
    checkTolerance: (candidate, baseline) => {
      const kid = candidate.quality.kid ?? null;
      const baseKid = baseline.quality.kid ?? null;
      const accuracy = candidate.quality.classAccuracy ?? null;
      const baseAccuracy = baseline.quality.classAccuracy ?? null;
      if (kid === null || baseKid === null || accuracy === null || baseAccuracy === null)
        return "quality unknown";
      const se = Math.hypot(
        candidate.quality.kidStandardError ?? 0,
        baseline.quality.kidStandardError ?? 0,
      );
      const reasons: string[] = [];
      if (kid > baseKid + GAN_KID_TOLERANCE_SE * se) {
        reasons.push(
          `KID ${kid.toPrecision(3)} against ${baseKid.toPrecision(3)}, more than ${GAN_KID_TOLERANCE_SE} × ${se.toPrecision(2)} above`,
        );
      }
      const dropPoints = (baseAccuracy - accuracy) * 100;
      if (dropPoints > GAN_CLASS_ACCURACY_TOLERANCE_POINTS + 1e-9)
        reasons.push(`class accuracy ${dropPoints.toFixed(1)} points below`);
      return reasons.length === 0 ? null : reasons.join("; ");
    },
    warmUp: async (context) => {
      const classes = context.dataset.classes;
      const generator = buildGenerator({
        noiseDim: NOISE_DIM,
        classes,
        features: context.dataset.features,
        hiddenUnits: [16],
        seed: 5,
      });
      const discriminator = buildDiscriminator({
        classes,
        features: context.dataset.features,
        hiddenUnits: [16],
        seed: 6,
      });
      models.push(generator, discriminator);
      const sample: DataSplit = {
        x: context.fit.x.slice(0, 128 * context.dataset.features),
        y: context.fit.y.slice(0, 128),
        count: Math.min(128, context.fit.count),
      };
      await trainConditionalGan(generator, discriminator, sample, {
        epochs: 1,
        noiseDim: NOISE_DIM,
        classes,
        seed: 5,
      });
    },
    prepare: async (context) => {
      context.log("training the judge classifier on the real digits");
      const startedMs = performance.now();
      judge = await trainFeatureClassifier(
        context.dataset.inputShape,
        context.dataset.classes,
        context.fit,
        context.validation,
        context.test,
        {
          epochs: context.quick ? 3 : 40,
          seed: context.seed,
          meter: context.meter,
        },
      );
      testFeatures = extractFeatures(judge.model, context.test.x, context.test.count);
      const realCount = Math.min(VALIDATION_REAL, context.fit.count);
      validationReference = {
        features: extractFeatures(
          judge.model,
          context.fit.x.subarray(0, realCount * context.dataset.features),
          realCount,
        ),
        labels: context.fit.y.slice(0, realCount),
      };
      models.push(judge.model);
      context.log(
        `judge: ${(judge.testAccuracy * 100).toFixed(2)}% accurate on the real test digits`,
      );
      context.setOverhead({
        description: `training the judge classifier (${judge.model.countParams().toLocaleString("en-US")} parameters, ${judge.training.epochsRun} epochs, ${(judge.testAccuracy * 100).toFixed(2)}% test accuracy)`,
        energyJ: judge.training.energyJ,
        durationS: (performance.now() - startedMs) / 1000,
      });
    },
    variants: [
      variant(
        "baseline",
        "baseline",
        "generator with hidden layers 128 and 128, 2 discriminator updates per generator update, all epochs",
        BASELINE,
      ),
      variant("light-generator", "lighter generator", "generator with one hidden layer of 32", {
        ...BASELINE,
        generatorUnits: [32],
      }),
      variant(
        "one-d-step",
        "fewer discriminator steps",
        "1 discriminator update per generator update instead of 2",
        { ...BASELINE, discriminatorSteps: 1 },
      ),
      variant(
        "early-stopped",
        "early stopping on quality",
        "the baseline, stopped when the validation intra-class KID has not improved for 10 epochs (watched from a quarter of the epochs on; best generator kept)",
        {
          ...BASELINE,
          earlyStopping: true,
        },
      ),
      variant(
        "green-combined",
        "all three",
        "lighter generator, 1 discriminator update per generator update, early stopping on the validation intra-class KID",
        {
          generatorUnits: [32],
          discriminatorSteps: 1,
          earlyStopping: true,
        },
      ),
    ],
    dispose: () => {
      for (const model of models) model.dispose();
      models.length = 0;
      judge = null;
      testFeatures = null;
      validationReference = null;
    },
  };
}

/**
 * The mean over classes of the KID between real and generated features of that class
 * (an intra-class KID, after the intra-class FID of Miyato & Koyama 2018): low only when
 * every requested class looks like its real digits, so it punishes a generator that
 * ignores the class. Classes with fewer than 2 samples on either side are left out.
 */
export function intraClassKid(
  realFeatures: Float32Array,
  realLabels: Int32Array,
  generatedFeatures: Float32Array,
  generatedLabels: Int32Array,
  dims: number,
  classes: number,
): number {
  const pick = (features: Float32Array, labels: Int32Array, c: number) => {
    const rows: number[] = [];
    labels.forEach((label, i) => {
      if (label === c) rows.push(i);
    });
    const out = new Float32Array(rows.length * dims);
    rows.forEach((row, i) => out.set(features.subarray(row * dims, (row + 1) * dims), i * dims));
    return out;
  };
  let sum = 0;
  let counted = 0;
  for (let c = 0; c < classes; c++) {
    const real = pick(realFeatures, realLabels, c);
    const generated = pick(generatedFeatures, generatedLabels, c);
    if (real.length < 2 * dims || generated.length < 2 * dims) continue;
    sum += kernelInceptionDistance(real, generated, dims, { subsets: 1 }).kid;
    counted++;
  }
  return counted === 0 ? Number.NaN : sum / counted;
}

/** `count` labels cycling through the classes (0, 1, …, classes − 1, 0, …). */
function balancedLabels(count: number, classes: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => i % classes);
}
