/**
 * The sustainable-VAE study: a small VAE on the 8×8 digits, binarised at half intensity so
 * that the ELBO is a true bound on a Bernoulli likelihood. The baseline (encoder 256–128,
 * 16 latent dimensions, every epoch) against a smaller latent, narrower networks, half the
 * training samples, early stopping on the validation ELBO, and narrow + early stopping.
 * Quality: the test −ELBO (nats per image) and the reconstruction error.
 */
import { EarlyStopping } from "../optimize/callbacks/early-stopping.js";
import { EnergyLogger } from "../optimize/callbacks/energy-logger.js";
import { ReduceLrOnPlateau } from "../optimize/callbacks/reduce-lr-on-plateau.js";
import type { TrainingCallback } from "../optimize/callbacks/training-callback.js";
import type { DataSplit } from "../optimize/datasets.js";
import { tfjsPredictor } from "../optimize/measure.js";
import type {
  StudyContext,
  StudyDefinition,
  StudyOptions,
  StudyVariantPlan,
  VariantOutcome,
} from "./study-definition.js";
import type { QualityMetric } from "./study-result.js";
import { buildVae, disposeVae, evaluateVae, trainVae, type Vae } from "./vae-model.js";

/** The tolerance: test −ELBO at most this share above the baseline's. */
export const VAE_TOLERANCE_FRACTION = 0.03;
/** Noise draws per test image for the reported −ELBO. */
export const VAE_TEST_SAMPLES = 8;

const LEARNING_RATE = 0.002;
const NEG_ELBO: QualityMetric = {
  key: "negElboNats",
  label: "test −ELBO (nats per image)",
  unit: "nats per image",
  better: "lower",
};
const RECONSTRUCTION_MSE: QualityMetric = {
  key: "reconstructionMse",
  label: "reconstruction error (MSE per pixel, from the posterior mean)",
  unit: "squared intensity",
  better: "lower",
};
const KL: QualityMetric = {
  key: "klNats",
  label: "KL part of the −ELBO (nats per image)",
  unit: "nats per image",
  better: "lower",
};

interface VaeConfig {
  hiddenUnits: number[];
  latentDim: number;
  earlyStopping: boolean;
  /** Share of the training samples used. */
  dataFraction: number;
}

const BASELINE: VaeConfig = {
  hiddenUnits: [256, 128],
  latentDim: 16,
  earlyStopping: false,
  dataFraction: 1,
};

/** Binarises a split at half intensity (values ≥ 0.5 → 1, else 0). */
export function binarize(split: DataSplit): DataSplit {
  return { x: split.x.map((v) => (v >= 0.5 ? 1 : 0)), y: split.y, count: split.count };
}

/** The study's definition (see the module comment). */
export function vaeStudy(_options: StudyOptions): StudyDefinition {
  const vaes: Vae[] = [];
  let data: { fit: DataSplit; validation: DataSplit; test: DataSplit } | null = null;

  const runVariant = async (
    context: StudyContext,
    name: string,
    config: VaeConfig,
  ): Promise<VariantOutcome> => {
    if (data === null) throw new Error("the binarised data were not prepared");
    const vae = buildVae({
      features: context.dataset.features,
      latentDim: config.latentDim,
      hiddenUnits: config.hiddenUnits,
      seed: context.seed,
    });
    vaes.push(vae);
    const fit =
      config.dataFraction < 1
        ? headOf(data.fit, Math.max(2, Math.round(data.fit.count * config.dataFraction)))
        : data.fit;
    const callbacks: TrainingCallback[] = [
      new EnergyLogger({ log: (line) => context.log(`${name} ${line}`) }),
    ];
    if (config.earlyStopping) {
      callbacks.push(
        new ReduceLrOnPlateau({ patience: 3, factor: 0.5 }),
        new EarlyStopping({ monitor: "valLoss", patience: 5, minDelta: 0.01 }),
      );
    }
    const training = await trainVae(vae, fit, {
      epochs: context.epochs,
      batchSize: context.batchSize,
      learningRate: LEARNING_RATE,
      seed: context.seed,
      validation: data.validation,
      meter: context.meter,
      phaseName: `train ${name}`,
      callbacks,
    });
    const evaluation = evaluateVae(vae, data.test, {
      samples: VAE_TEST_SAMPLES,
      seed: context.seed + 99,
    });
    const inference = { predictor: tfjsPredictor(vae.model), inputs: data.test };
    return {
      params: vae.model.countParams(),
      quality: {
        negElboNats: evaluation.negElboNats,
        reconstructionMse: evaluation.reconstructionMse,
        klNats: evaluation.klNats,
      },
      training,
      epochsPlanned: context.epochs,
      trainingIncludes: `training epochs on ${fit.count} images with each epoch's validation −ELBO`,
      inference,
      notes: [
        `reconstruction part of the −ELBO: ${evaluation.reconstructionNats.toFixed(3)} nats per image`,
      ],
    };
  };

  const variant = (
    name: string,
    technique: string,
    description: string,
    config: VaeConfig,
  ): StudyVariantPlan => ({
    name,
    technique,
    description,
    run: (context) => runVariant(context, name, config),
  });

  return {
    name: "vae",
    title: "Sustainable VAE: latent size, width, data and early stopping on the 8×8 digits",
    defaultEpochs: 100,
    quickEpochs: 2,
    batchSize: 64,
    primary: NEG_ELBO,
    metrics: [NEG_ELBO, RECONSTRUCTION_MSE, KL],
    tolerance: `test −ELBO at most ${VAE_TOLERANCE_FRACTION * 100}% above the baseline's`,
    method:
      "digits binarised at half intensity; −ELBO = Bernoulli reconstruction negative log-likelihood + KL(q(z|x) ‖ N(0, I)), in nats per image, " +
      `on the test split with ${VAE_TEST_SAMPLES} seeded noise draws per image; reconstruction error = mean squared error per pixel of the decoder's output at the posterior mean. ` +
      "Adam (learning rate 0.002), batch 64; early stopping watches the validation −ELBO (patience 5, least improvement 0.01 nats, best weights restored) with learning-rate halving after 3 epochs without improvement.",
    inferenceUnit: "encode and decode one image",
    checkTolerance: (candidate, baseline) => {
      const value = candidate.quality.negElboNats ?? null;
      const reference = baseline.quality.negElboNats ?? null;
      if (value === null || reference === null) return "−ELBO unknown";
      const excess = (value - reference) / Math.abs(reference);
      return excess <= VAE_TOLERANCE_FRACTION + 1e-12
        ? null
        : `−ELBO ${(excess * 100).toFixed(1)}% above the baseline's`;
    },
    warmUp: async (context) => {
      const vae = buildVae({
        features: context.dataset.features,
        latentDim: 4,
        hiddenUnits: [16],
        seed: 5,
      });
      vaes.push(vae);
      await trainVae(vae, headOf(binarize(context.fit), 128), { epochs: 1, seed: 5 });
    },
    prepare: async (context) => {
      data = {
        fit: binarize(context.fit),
        validation: binarize(context.validation),
        test: binarize(context.test),
      };
    },
    variants: [
      variant(
        "baseline",
        "baseline",
        "encoder 256–128, 16 latent dimensions, decoder 128–256, all epochs",
        BASELINE,
      ),
      variant("small-latent", "smaller latent", "4 latent dimensions instead of 16", {
        ...BASELINE,
        latentDim: 4,
      }),
      variant("narrow", "narrower networks", "encoder 64–32 and decoder 32–64", {
        ...BASELINE,
        hiddenUnits: [64, 32],
      }),
      variant(
        "half-data",
        "fewer training samples",
        "the baseline trained on half of the training images",
        { ...BASELINE, dataFraction: 0.5 },
      ),
      variant(
        "early-stopped",
        "early stopping on the validation ELBO",
        "the baseline, stopped when the validation −ELBO stalls",
        { ...BASELINE, earlyStopping: true },
      ),
      variant(
        "narrow-early-stopped",
        "narrower + early stopping",
        "the narrow networks, stopped when the validation −ELBO stalls",
        {
          ...BASELINE,
          hiddenUnits: [64, 32],
          earlyStopping: true,
        },
      ),
    ],
    dispose: () => {
      for (const vae of vaes) disposeVae(vae);
      vaes.length = 0;
      data = null;
    },
  };
}

function headOf(split: DataSplit, count: number): DataSplit {
  const features = split.x.length / split.count;
  const n = Math.min(count, split.count);
  return { x: split.x.slice(0, n * features), y: split.y.slice(0, n), count: n };
}
