// The study harness: comparison and finding (pure), the run with files, skips and failures
// (a stand-in study of small MLPs), and the shipped studies in their quick configuration,
// repeatable for a seed.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Tracker } from "../../src/api/track.js";
import { WattprintError } from "../../src/errors.js";
import { tfjsPredictor } from "../../src/optimize/measure.js";
import { buildMlp } from "../../src/optimize/models.js";
import { evaluateLoss, trainModel } from "../../src/optimize/train.js";
import {
  compareVariants,
  inferenceFigures,
  runStudy,
  runStudyDefinition,
  savingPct,
} from "../../src/study/run-study.js";
import type {
  StudyContext,
  StudyDefinition,
  StudyVariantPlan,
} from "../../src/study/study-definition.js";
import type {
  QualityMetric,
  StudyResult,
  StudyVariantResult,
} from "../../src/study/study-result.js";
import { studyTracker, tempDir } from "./helpers.js";

const ACCURACY: QualityMetric = {
  key: "accuracy",
  label: "accuracy",
  unit: "share",
  better: "higher",
  percent: true,
};

function variant(
  name: string,
  accuracy: number,
  trainingJ: number | null,
  inferenceJ: number | null,
): StudyVariantResult {
  return {
    name,
    description: name,
    technique: name,
    params: 1,
    quality: { accuracy },
    training: {
      energyJ: trainingJ,
      co2eG: null,
      durationS: 1,
      epochsRun: 1,
      epochsPlanned: 1,
      stopReason: null,
      epochEnergyJ: [trainingJ],
      cpuS: 1,
      includes: "",
    },
    inference: {
      unit: "classify one image",
      energyJPer1k: inferenceJ,
      energyJPer1kRange: null,
      co2eGPer1k: null,
      cpuSPer1k: null,
      latencyMsP50: { batch1: 1, batch64: 1 },
      batchSize: 64,
      inferencesMeasured: 1,
      rounds: 1,
    },
    trainingSavingPct: null,
    inferenceSavingPct: null,
    withinTolerance: true,
    toleranceNote: null,
    paretoTraining: false,
    paretoInference: false,
    notes: [],
  };
}

function syntheticResult(variants: StudyVariantResult[]): StudyResult {
  return { variants, finding: { variant: null, text: "" } } as unknown as StudyResult;
}

const withinTwoPoints = {
  primary: ACCURACY,
  tolerance: "at most 2 points below",
  checkTolerance: (v: StudyVariantResult, b: StudyVariantResult) =>
    ((b.quality.accuracy as number) - (v.quality.accuracy as number)) * 100 <= 2
      ? null
      : "too inaccurate",
};

describe("comparing variants", () => {
  it("computes savings, the tolerance, both Pareto fronts and the finding", () => {
    const result = syntheticResult([
      variant("baseline", 0.95, 100, 10),
      variant("smaller", 0.94, 60, 4),
      variant("tiny", 0.9, 20, 2),
      variant("bigger", 0.96, 120, 12),
      variant("worse", 0.93, 110, 11),
    ]);
    compareVariants(result, withinTwoPoints);
    const [baseline, smaller, tiny, bigger, worse] = result.variants as [
      StudyVariantResult,
      ...StudyVariantResult[],
    ];
    expect(baseline.trainingSavingPct).toBeNull();
    expect(smaller?.trainingSavingPct).toBeCloseTo(40);
    expect(smaller?.inferenceSavingPct).toBeCloseTo(60);
    expect(bigger?.trainingSavingPct).toBeCloseTo(-20);
    expect(tiny?.withinTolerance).toBe(false);
    expect(tiny?.toleranceNote).toBe("too inaccurate");
    expect(worse?.withinTolerance).toBe(true);
    // "worse" is less accurate than the baseline and costs more on both axes: dominated.
    expect(result.variants.map((v) => v.paretoTraining)).toEqual([true, true, true, true, false]);
    expect(result.variants.map((v) => v.paretoInference)).toEqual([true, true, true, true, false]);
    expect(result.finding.variant).toBe("smaller");
    expect(result.finding.text).toMatch(
      /^smaller .* 40\.0% less training energy and 60\.0% less inference energy/,
    );
  });

  it("says why no variant made the 30% bar within the tolerance", () => {
    const result = syntheticResult([
      variant("baseline", 0.95, 100, 10),
      variant("close", 0.95, 80, 9),
      variant("cheap", 0.8, 10, 1),
      variant("blind", 0.95, null, null),
    ]);
    compareVariants(result, withinTwoPoints);
    expect(result.finding.variant).toBeNull();
    expect(result.finding.text).toMatch(/close: within the tolerance but saved at most 20\.0%/);
    expect(result.finding.text).toMatch(/cheap: outside the tolerance \(too inaccurate\)/);
    expect(result.finding.text).toMatch(/blind: energy unknown/);
  });

  it("treats a lower-is-better quality the right way round on the fronts", () => {
    const result = syntheticResult([
      variant("baseline", 2, 100, 10),
      variant("better", 1, 100, 10),
      variant("cheaper", 3, 50, 5),
    ]);
    compareVariants(result, {
      ...withinTwoPoints,
      primary: { ...ACCURACY, better: "lower" },
      checkTolerance: () => null,
    });
    expect(result.variants.map((v) => v.paretoTraining)).toEqual([false, true, true]);
  });

  it("takes the median round of inference figures and the range over all their windows", () => {
    const round = (energyJ: number | null, low: number, high: number, latency: number) => ({
      accuracy: 0,
      latencyMsP50: { batch1: latency, batch64: latency * 10 },
      energyJPer1kInferences: energyJ,
      energyJPer1kRange: energyJ === null ? null : ([low, high] as [number, number]),
      co2eGPer1kInferences: energyJ === null ? null : energyJ / 100,
      cpuSPer1kInferences: 0.5,
      inferencesMeasured: 640,
      energyBatchSize: 64,
      energyDurationS: 1,
    });
    const figures = inferenceFigures(
      [round(3, 2.5, 3.5, 1), round(1, 0.9, 1.2, 3), round(2, 1.8, 2.4, 2)],
      "classify one image",
    );
    expect(figures.energyJPer1k).toBe(2);
    expect(figures.energyJPer1kRange).toEqual([0.9, 3.5]);
    expect(figures.co2eGPer1k).toBeCloseTo(0.02);
    expect(figures.latencyMsP50).toEqual({ batch1: 2, batch64: 20 });
    expect(figures.inferencesMeasured).toBe(3 * 640);
    expect(figures.rounds).toBe(3);
    const unknown = inferenceFigures([round(3, 2.5, 3.5, 1), round(null, 0, 0, 1)], "x");
    expect(unknown.energyJPer1k).toBeNull();
    expect(unknown.energyJPer1kRange).toBeNull();
  });

  it("has no saving without both figures or against a zero baseline", () => {
    expect(savingPct(null, 1)).toBeNull();
    expect(savingPct(0, 1)).toBeNull();
    expect(savingPct(10, 12)).toBeCloseTo(-20);
  });
});

/** A stand-in study of MLPs on the digits; `failing` names variants that throw. */
function mlpStudy(
  failing: Record<string, Error> = {},
): StudyDefinition & { disposed: () => boolean } {
  const models: tfl.LayersModel[] = [];
  let disposed = false;
  const plan = (name: string, hiddenUnits: number[]): StudyVariantPlan => ({
    name,
    technique: name,
    description: `MLP ${hiddenUnits.join("-")}`,
    run: async (context: StudyContext) => {
      const error = failing[name];
      if (error) throw error;
      const model = buildMlp({
        inputShape: context.dataset.inputShape,
        classes: 10,
        hiddenUnits,
        seed: context.seed,
      });
      models.push(model);
      const training = await trainModel(model, context.fit, {
        epochs: context.epochs,
        seed: context.seed,
        meter: context.meter,
        validation: context.validation,
      });
      return {
        params: model.countParams(),
        quality: { accuracy: evaluateLoss(model, context.test).accuracy },
        training,
        epochsPlanned: context.epochs,
        trainingIncludes: "training",
        inference: { predictor: tfjsPredictor(model), inputs: context.test },
      };
    },
  });
  return {
    name: "transformer",
    title: "stand-in <MLP> study",
    defaultEpochs: 2,
    quickEpochs: 1,
    batchSize: 64,
    primary: ACCURACY,
    metrics: [ACCURACY],
    tolerance: "within 50 points",
    method: "test accuracy",
    inferenceUnit: "classify one image",
    checkTolerance: (v, b) =>
      ((b.quality.accuracy as number) - (v.quality.accuracy as number)) * 100 <= 50
        ? null
        : "far worse",
    variants: [plan("baseline", [64]), plan("broken", [8]), plan("small", [8])],
    dispose: () => {
      disposed = true;
      for (const model of models) model.dispose();
    },
    disposed: () => disposed,
  };
}

const FAST = { trainLimit: 300, testLimit: 100, energyMinDurationS: 0.15, latencyDurationS: 0.02 };

describe("running a study", () => {
  const dir = tempDir();
  let tracker: Tracker;
  beforeAll(async () => {
    tracker = studyTracker(dir.path);
    await tracker.start();
  });
  afterAll(async () => {
    await tracker.stop();
    dir.cleanup();
  });

  it("skips a failing variant, keeps the others, and writes results, charts and a self-contained report", async () => {
    const out = join(dir.path, "mlp");
    const study = mlpStudy({ broken: new Error("out of memory") });
    const lines: string[] = [];
    const result = await runStudyDefinition(study, {
      ...FAST,
      inferenceRounds: 2,
      outDir: out,
      tracker,
      log: (line) => lines.push(line),
    });
    expect(result.status).toBe("complete");
    expect(result.variants.map((v) => v.inference.rounds)).toEqual([2, 2]);
    expect(lines).toContain("inference round 2 of 2 over all variants");
    expect(
      result.variants.every((v) => v.training.cpuS > 0 && (v.inference.cpuSPer1k as number) > 0),
    ).toBe(true);
    expect(result.variants.map((v) => v.name)).toEqual(["baseline", "small"]);
    expect(result.skipped).toEqual([{ name: "broken", reason: "out of memory" }]);
    expect(study.disposed()).toBe(true);
    const saved = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as StudyResult;
    expect(saved).toEqual(JSON.parse(JSON.stringify(result)));
    const [baseline, small] = result.variants as [StudyVariantResult, StudyVariantResult];
    expect(baseline.training.energyJ as number).toBeGreaterThan(0);
    expect(small.trainingSavingPct).toBeCloseTo(
      savingPct(baseline.training.energyJ, small.training.energyJ) as number,
      9,
    );
    expect(
      baseline.training.epochEnergyJ.reduce<number>((s, e) => s + (e as number), 0),
    ).toBeCloseTo(baseline.training.energyJ as number, 9);
    expect(result.measurement.energySource).toMatch(/cpu: model/);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("Content-Security-Policy");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain("stand-in &lt;MLP&gt; study");
    expect(html).not.toContain("<MLP>");
    expect(html).toContain("skipped (out of memory)");
    for (const chart of ["pareto-training.svg", "pareto-inference.svg"]) {
      const svg = readFileSync(join(out, chart), "utf8");
      expect(svg.match(/data-variant="/g)?.length).toBe(2);
    }
    expect(lines.some((line) => line.startsWith("broken: skipped"))).toBe(true);
  });

  it("keeps what was measured when the study fails, and says so in the files", async () => {
    const out = join(dir.path, "failing");
    const study = mlpStudy({ small: new Error("unused") });
    study.prepare = async () => {
      throw new WattprintError("BAD_INPUT", "the data are unusable");
    };
    await expect(runStudyDefinition(study, { ...FAST, outDir: out, tracker })).rejects.toThrow(
      "the data are unusable",
    );
    const saved = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as StudyResult;
    expect(saved.status).toBe("failed");
    expect(saved.error).toBe("the data are unusable");
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain(
      "failed (the data are unusable)",
    );
    expect(study.disposed()).toBe(true);
  });

  it("ends on a failed baseline, with the failure in results.json", async () => {
    const out = join(dir.path, "no-baseline");
    await expect(
      runStudyDefinition(mlpStudy({ baseline: new Error("diverged") }), {
        ...FAST,
        outDir: out,
        tracker,
      }),
    ).rejects.toThrow("diverged");
    const saved = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as StudyResult;
    expect(saved.status).toBe("failed");
    expect(saved.variants).toEqual([]);
  });

  it("refuses bad options before running anything", async () => {
    const blocker = join(dir.path, "a-file");
    writeFileSync(blocker, "not a directory");
    const study = mlpStudy();
    const codeOf = async (promise: Promise<unknown>) => {
      try {
        await promise;
        return "resolved";
      } catch (error) {
        return error instanceof WattprintError ? error.code : String(error);
      }
    };
    expect(await codeOf(runStudyDefinition(study, { outDir: join(blocker, "out"), tracker }))).toBe(
      "OUTPUT_UNWRITABLE",
    );
    expect(await codeOf(runStudyDefinition(study, { epochs: 0, tracker }))).toBe("USAGE");
    expect(await codeOf(runStudyDefinition(study, { epochs: 1.5, tracker }))).toBe("USAGE");
    expect(await codeOf(runStudyDefinition(study, { seed: -1, tracker }))).toBe("USAGE");
    expect(await codeOf(runStudyDefinition(study, { variants: ["nope"], tracker }))).toBe("USAGE");
    expect(await codeOf(runStudy("diffusion", { tracker }))).toBe("USAGE");
    expect(existsSync(join(blocker, "out"))).toBe(false);
    expect(study.disposed()).toBe(false);
  });
});

describe("the shipped studies, quick", () => {
  const dir = tempDir();
  let tracker: Tracker;
  beforeAll(async () => {
    tracker = studyTracker(dir.path);
    await tracker.start();
  });
  afterAll(async () => {
    await tracker.stop();
    dir.cleanup();
  });
  const quick = { ...FAST, quick: true, trainLimit: 250, testLimit: 100 };

  it("repeats the transformer's quality figures for a seed, and changes them with the seed", async () => {
    const run = (seed: number) =>
      runStudy("transformer", { ...quick, seed, tracker, variants: ["shared-weights"] });
    const first = await run(1);
    const again = await run(1);
    const other = await run(2);
    expect(first.variants.map((v) => v.name)).toEqual(["baseline", "shared-weights"]);
    expect(again.variants.map((v) => v.quality)).toEqual(first.variants.map((v) => v.quality));
    expect(again.variants.map((v) => v.training.epochsRun)).toEqual(
      first.variants.map((v) => v.training.epochsRun),
    );
    expect(other.variants.map((v) => v.quality)).not.toEqual(first.variants.map((v) => v.quality));
    expect(first.settings).toMatchObject({ seed: 1, epochs: 2, quick: true });
    expect(first.variants[1]?.params).toBeLessThan(first.variants[0]?.params as number);
  });

  it("runs every GAN variant with the judge as shared cost", async () => {
    const result = await runStudy("gan", { ...quick, tracker });
    expect(result.status).toBe("complete");
    expect(result.skipped).toEqual([]);
    expect(result.variants.map((v) => v.name)).toEqual([
      "baseline",
      "light-generator",
      "one-d-step",
      "early-stopped",
      "green-combined",
    ]);
    expect(result.overhead?.description).toMatch(/judge classifier/);
    expect(result.overhead?.energyJ as number).toBeGreaterThan(0);
    for (const v of result.variants) {
      expect(Number.isFinite(v.quality.kid)).toBe(true);
      expect(v.quality.classAccuracy as number).toBeGreaterThanOrEqual(0);
      expect(v.inference.energyJPer1k as number).toBeGreaterThan(0);
      expect(v.inference.unit).toBe("generate one image");
    }
    expect(result.variants[1]?.params).toBeLessThan(result.variants[0]?.params as number);
    expect(result.finding.text.length).toBeGreaterThan(20);
  });

  it("runs every VAE variant on binarised digits, half-data on half the images", async () => {
    const result = await runStudy("vae", { ...quick, tracker });
    expect(result.status).toBe("complete");
    expect(result.variants.map((v) => v.name)).toEqual([
      "baseline",
      "small-latent",
      "narrow",
      "half-data",
      "early-stopped",
      "narrow-early-stopped",
    ]);
    for (const v of result.variants) {
      // Binary pixels: −ELBO is positive and below the fair-coin 64·ln 2 after training.
      expect(v.quality.negElboNats as number).toBeGreaterThan(0);
      expect(v.quality.negElboNats as number).toBeLessThan(64 * Math.LN2);
      expect(v.quality.klNats as number).toBeGreaterThanOrEqual(0);
    }
    const half = result.variants.find((v) => v.name === "half-data");
    expect(half?.training.includes).toMatch(
      new RegExp(`on ${Math.round(result.dataset.trainSamples / 2)} images`),
    );
  });
});
