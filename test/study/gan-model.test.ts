// The conditional GAN's pieces and its training loop, driven through optimize's callbacks
// and energy meter with a real tracker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Tracker } from "../../src/api/track.js";
import { EarlyStopping } from "../../src/optimize/callbacks/early-stopping.js";
import { loadDigits, type Dataset } from "../../src/optimize/datasets.js";
import { EnergyMeter } from "../../src/optimize/energy-meter.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import {
  buildDiscriminator,
  buildGenerator,
  generateImages,
  generatorInputs,
  trainConditionalGan,
} from "../../src/study/gan-model.js";
import { intraClassKid } from "../../src/study/gan-study.js";
import { kernelInceptionDistance } from "../../src/study/kid.js";
import { GaussianSource } from "../../src/study/ops.js";
import { headOf, Recorder, studyTracker, tempDir } from "./helpers.js";

const NOISE = 8;

describe("conditional GAN", () => {
  const dir = tempDir();
  let tracker: Tracker;
  let data: Dataset;
  beforeAll(async () => {
    await initTensorflow();
    data = loadDigits({ seed: 3, trainLimit: 600, testLimit: 200 });
    tracker = studyTracker(dir.path);
    await tracker.start();
  });
  afterAll(async () => {
    await tracker.stop();
    dir.cleanup();
  });

  const pair = (seed: number, units = [32]) => ({
    generator: buildGenerator({
      noiseDim: NOISE,
      classes: 10,
      features: 64,
      hiddenUnits: units,
      seed,
    }),
    discriminator: buildDiscriminator({
      classes: 10,
      features: 64,
      hiddenUnits: [32],
      seed: seed + 1,
    }),
  });

  it("puts the noise first and the one-hot class after it, drawn from the seed", () => {
    const inputs = generatorInputs([3, 0], NOISE, 10, new GaussianSource(4));
    const again = generatorInputs([3, 0], NOISE, 10, new GaussianSource(4));
    expect(Array.from(inputs)).toEqual(Array.from(again));
    const width = NOISE + 10;
    expect(Array.from(inputs.subarray(NOISE, width))).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(inputs.subarray(width + NOISE, 2 * width))).toEqual([
      1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    const noise = [
      ...Array.from(inputs.subarray(0, NOISE)),
      ...Array.from(inputs.subarray(width, width + NOISE)),
    ];
    expect(new Set(noise).size).toBe(2 * NOISE);
  });

  it("generates the same images for the same seed and other images for another", () => {
    const { generator } = pair(1);
    const labels = Int32Array.from([0, 1, 2, 3]);
    const a = generateImages(generator, labels, NOISE, 10, 7);
    const b = generateImages(generator, labels, NOISE, 10, 7);
    const c = generateImages(generator, labels, NOISE, 10, 8);
    expect(a.length).toBe(4 * 64);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(a.every((v) => v > 0 && v < 1)).toBe(true);
    generator.dispose();
  });

  it("moves generated digits towards the real ones in pixel space, measuring every epoch's energy", async () => {
    const { generator, discriminator } = pair(2, [64]);
    const fit = data.train;
    const labels = data.test.y;
    const kidBefore = kernelInceptionDistance(
      data.test.x,
      generateImages(generator, labels, NOISE, 10, 5),
      64,
    ).kid;
    const recorder = new Recorder();
    const result = await trainConditionalGan(generator, discriminator, fit, {
      epochs: 12,
      noiseDim: NOISE,
      classes: 10,
      discriminatorSteps: 2,
      seed: 2,
      callbacks: [recorder],
      meter: new EnergyMeter(tracker),
    });
    const kidAfter = kernelInceptionDistance(
      data.test.x,
      generateImages(generator, labels, NOISE, 10, 5),
      64,
    ).kid;
    expect(kidAfter).toBeLessThan(kidBefore * 0.5);
    expect(result.epochsRun).toBe(12);
    expect(result.steps).toBe(12 * Math.ceil(fit.count / 64) * 3);
    expect(
      recorder.logs.every((logs) => typeof logs.energyJ === "number" && logs.energyJ > 0),
    ).toBe(true);
    expect(result.energyJ).toBeCloseTo(
      recorder.logs.reduce((sum, logs) => sum + (logs.energyJ as number), 0),
      9,
    );
    generator.dispose();
    discriminator.dispose();
  });

  it("lets early stopping end training on the validation figure and restore the best generator", async () => {
    const { generator, discriminator } = pair(3);
    const recorder = new Recorder();
    const scripted = [5, 3, 4, 6, 7, 8, 9];
    const result = await trainConditionalGan(generator, discriminator, headOf(data.train, 128), {
      epochs: scripted.length,
      noiseDim: NOISE,
      classes: 10,
      seed: 3,
      validate: (epoch) => ({ valLoss: scripted[epoch] as number }),
      callbacks: [recorder, new EarlyStopping({ monitor: "valLoss", patience: 2 })],
    });
    expect(result.epochsRun).toBe(4);
    expect(result.stopReason).toMatch(/valLoss did not improve for 2 epochs/);
    expect(recorder.logs.map((logs) => logs.valLoss)).toEqual([5, 3, 4, 6]);
    const restored = generator.getWeights().map((t) => Array.from(t.dataSync()));
    expect(restored).toEqual((recorder.weights[1] as Float32Array[]).map((w) => Array.from(w)));
    expect(restored).not.toEqual((recorder.weights[3] as Float32Array[]).map((w) => Array.from(w)));
    generator.dispose();
    discriminator.dispose();
  });

  it("scores a generator that ignores the class worse by intra-class KID than by plain KID", () => {
    // Real features: class c clusters around c; a class-blind generator has the right overall
    // mixture but puts each requested class anywhere.
    const noise = new GaussianSource(9);
    const dims = 2;
    const classes = 3;
    const realLabels = Int32Array.from({ length: 150 }, (_, i) => i % classes);
    const real = Float32Array.from(
      { length: 150 * dims },
      (_, k) => 3 * (realLabels[Math.floor(k / dims)] as number) + 0.3 * noise.next(),
    );
    const asked = Int32Array.from({ length: 150 }, (_, i) => i % classes);
    const blind = Float32Array.from(
      { length: 150 * dims },
      (_, k) => 3 * ((Math.floor(k / dims) + 1) % classes) + 0.3 * noise.next(),
    );
    const faithful = Float32Array.from(
      { length: 150 * dims },
      (_, k) => 3 * (asked[Math.floor(k / dims)] as number) + 0.3 * noise.next(),
    );
    const plainBlind = kernelInceptionDistance(real, blind, dims).kid;
    const plainFaithful = kernelInceptionDistance(real, faithful, dims).kid;
    const intraBlind = intraClassKid(real, realLabels, blind, asked, dims, classes);
    const intraFaithful = intraClassKid(real, realLabels, faithful, asked, dims, classes);
    expect(Math.abs(plainBlind - plainFaithful)).toBeLessThan(0.05 * intraBlind);
    expect(intraBlind).toBeGreaterThan(10 * Math.max(intraFaithful, 0.01));
  });
});
