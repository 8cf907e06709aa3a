import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DEFAULT_MFU,
  estimateTraining,
  trainingFlops,
  type TrainingEstimate,
  type TrainingInput,
} from "../../src/estimate/training.js";
import { DEFAULT_ESTIMATE_PUE } from "../../src/estimate/assumptions.js";
import { resolveAccelerator } from "../../src/hardware/accelerators.js";
import { resolveRegion, worldAverageRegion } from "../../src/grid/regions.js";
import { WattprintError } from "../../src/errors.js";

/** Every number in a result is finite: no NaN or Infinity anywhere. */
function expectAllFinite(value: unknown, path = "result"): void {
  if (typeof value === "number") {
    expect(Number.isFinite(value), path).toBe(true);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => expectAllFinite(item, `${path}[${index}]`));
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) expectAllFinite(item, `${path}.${key}`);
  }
}

function assumptionOf(estimate: TrainingEstimate, name: string) {
  const found = estimate.assumptions.find((entry) => entry.name === name);
  if (found === undefined) throw new Error(`no assumption ${name}`);
  return found;
}

function usageError(input: TrainingInput): WattprintError {
  try {
    estimateTraining(input);
  } catch (error) {
    expect(error).toBeInstanceOf(WattprintError);
    return error as WattprintError;
  }
  throw new Error("expected a WattprintError");
}

describe("training from device-hours", () => {
  it("multiplies device-hours, TDP, PUE and intensity", () => {
    const a100 = resolveAccelerator("A100-80GB");
    const estimate = estimateTraining({
      hardware: "A100-80GB",
      deviceHours: 1.72e6,
      pue: 1.1,
      region: "US",
    });
    const us = resolveRegion("US");
    const itKWh = (1.72e6 * (a100.tdpW ?? 0)) / 1000;
    expect(estimate.itEnergyKWh).toBeCloseTo(itKWh, 6);
    expect(estimate.energyKWh).toBeCloseTo(itKWh * 1.1, 6);
    expect(estimate.co2eKg).toBeCloseTo((itKWh * 1.1 * us.intensityGPerKWh) / 1000, 6);
    expect(estimate.totalCo2eKg).toBeCloseTo(estimate.co2eKg + estimate.embodiedCo2eKg, 6);
    expect(estimate.flops).toBeNull();
    expect(estimate.wallClockHours).toBeNull();
    expectAllFinite(estimate);
  });

  it("uses the measured training average, not the TDP, where one is published", () => {
    const tpu = resolveAccelerator("TPU-v3");
    const estimate = estimateTraining({
      hardware: "tpu v3",
      deviceHours: 1000,
      pue: 1,
      intensityGPerKWh: 100,
    });
    expect(estimate.powerWPerDevice).toBe(tpu.trainingPowerW);
    expect(estimate.itEnergyKWh).toBeCloseTo((1000 * (tpu.trainingPowerW ?? 0)) / 1000, 9);
    expect(assumptionOf(estimate, "powerWPerDevice").source).toMatch(/Patterson/);
  });

  it("takes the user's power and wall-clock devices", () => {
    const estimate = estimateTraining({
      hardware: "H100-SXM",
      deviceHours: 4096,
      devices: 512,
      powerW: 550,
      intensityGPerKWh: 0,
      pue: 1.2,
    });
    expect(estimate.powerWPerDevice).toBe(550);
    expect(estimate.wallClockHours).toBeCloseTo(8, 9);
    expect(estimate.energyKWh).toBeCloseTo((4096 * 550 * 1.2) / 1000, 9);
    expect(estimate.co2eKg).toBe(0);
    expect(assumptionOf(estimate, "powerWPerDevice").source).toBe("given by the user");
  });

  it("records where intensity and PUE come from: cloud region, user override, default", () => {
    const cloud = estimateTraining({ hardware: "H100", deviceHours: 10, region: "aws:us-east-1" });
    const region = resolveRegion("aws:us-east-1");
    expect(cloud.pue).toBe(region.pue);
    expect(cloud.intensityGPerKWh).toBe(region.intensityGPerKWh);
    expect(assumptionOf(cloud, "pue").source).toBe(region.pueSource);

    const overridden = estimateTraining({
      hardware: "H100",
      deviceHours: 10,
      region: "aws:us-east-1",
      pue: 1.3,
    });
    expect(overridden.pue).toBe(1.3);
    expect(assumptionOf(overridden, "pue").source).toMatch(/given by the user \(overrides/);

    const nothing = estimateTraining({ hardware: "H100", deviceHours: 10 });
    expect(nothing.pue).toBe(DEFAULT_ESTIMATE_PUE);
    expect(nothing.intensityGPerKWh).toBe(worldAverageRegion().intensityGPerKWh);
    expect(nothing.region).toBe("WORLD");
    expect(assumptionOf(nothing, "intensityGPerKWh").source).toMatch(/fallback/);
    expect(assumptionOf(nothing, "pue").source).toMatch(/Uptime Institute/);
  });

  it("warns when the TDP stands in for the average power", () => {
    expect(estimateTraining({ hardware: "A100", deviceHours: 1 }).warnings.join(" ")).toMatch(
      /TDP/,
    );
    expect(estimateTraining({ hardware: "V100", deviceHours: 1 }).warnings.join(" ")).not.toMatch(
      /= TDP/,
    );
  });
});

describe("training from model and data size", () => {
  it("counts 6·N·D FLOPs and divides by peak × MFU", () => {
    const h100 = resolveAccelerator("H100-SXM");
    const estimate = estimateTraining({
      hardware: "H100-SXM",
      params: 70e9,
      tokens: 2e12,
      devices: 2048,
      intensityGPerKWh: 400,
      pue: 1.1,
    });
    expect(estimate.flops).toBeCloseTo(6 * 70e9 * 2e12, -10);
    const hours = (6 * 70e9 * 2e12) / (h100.peakDenseTflops * 1e12 * DEFAULT_MFU) / 3600;
    expect(estimate.deviceHours).toBeCloseTo(hours, 3);
    expect(estimate.wallClockHours).toBeCloseTo(hours / 2048, 6);
    expect(assumptionOf(estimate, "mfu").value).toBe(DEFAULT_MFU);
    expect(assumptionOf(estimate, "mfu").source).toMatch(/PaLM/);
    expectAllFinite(estimate);
  });

  it("uses the active parameters of a mixture-of-experts model", () => {
    const dense = estimateTraining({
      hardware: "H100",
      params: 109e9,
      tokens: 1e12,
      intensityGPerKWh: 1,
    });
    const moe = estimateTraining({
      hardware: "H100",
      params: 109e9,
      activeParams: 17e9,
      tokens: 1e12,
      intensityGPerKWh: 1,
    });
    expect(moe.flops).toBeCloseTo(trainingFlops(17e9, 1e12), -10);
    expect(moe.deviceHours / dense.deviceHours).toBeCloseTo(17 / 109, 9);
  });

  it("charges parameter-efficient fine-tuning 4 FLOPs per parameter-token and full fine-tuning 6", () => {
    const base = { hardware: "A100-80GB", params: 7e9, tokens: 1e9, intensityGPerKWh: 1 } as const;
    const full = estimateTraining({ ...base, method: "full" });
    const peft = estimateTraining({ ...base, method: "peft" });
    expect(full.method).toBe("full");
    expect(peft.deviceHours / full.deviceHours).toBeCloseTo(4 / 6, 9);
    expect(assumptionOf(peft, "flopsPerParamPerToken").value).toBe(4);
  });

  it("scales device-hours inversely with MFU and linearly with tokens (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.double({ min: 1e6, max: 1e13, noNaN: true }),
        (mfu, tokens) => {
          const one = estimateTraining({
            hardware: "H100",
            params: 1e9,
            tokens,
            mfu,
            intensityGPerKWh: 1,
          });
          const half = estimateTraining({
            hardware: "H100",
            params: 1e9,
            tokens,
            mfu: mfu / 2,
            intensityGPerKWh: 1,
          });
          const double = estimateTraining({
            hardware: "H100",
            params: 1e9,
            tokens: tokens * 2,
            mfu,
            intensityGPerKWh: 1,
          });
          expect(half.deviceHours / one.deviceHours).toBeCloseTo(2, 9);
          expect(double.energyKWh / one.energyKWh).toBeCloseTo(2, 9);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("bad input", () => {
  it.each<[string, TrainingInput, RegExp]>([
    ["unknown hardware", { hardware: "A100-90GB", deviceHours: 1 }, /unknown hardware "A100-90GB"/],
    [
      "zero device-hours",
      { hardware: "A100", deviceHours: 0 },
      /invalid --device-hours 0: must be greater than 0/,
    ],
    ["negative params", { hardware: "A100", params: -7e9, tokens: 1e9 }, /invalid --params -7e9/],
    ["nothing to size", { hardware: "A100" }, /missing the size of the job/],
    ["params without tokens", { hardware: "A100", params: 7e9 }, /missing --tokens/],
    ["tokens without params", { hardware: "A100", tokens: 7e9 }, /missing --params/],
    [
      "device-hours with params",
      { hardware: "A100", deviceHours: 5, params: 7e9, tokens: 1e9 },
      /--device-hours contradicts/,
    ],
    [
      "device-hours with mfu",
      { hardware: "A100", deviceHours: 5, mfu: 0.5 },
      /--device-hours contradicts/,
    ],
    [
      "region and intensity",
      { hardware: "A100", deviceHours: 5, region: "FR", intensityGPerKWh: 50 },
      /contradict/,
    ],
    [
      "more active than total",
      { hardware: "A100", params: 7e9, activeParams: 9e9, tokens: 1 },
      /--active-params 9e9 is more than --params 7e9/,
    ],
    ["mfu above 1", { hardware: "A100", params: 7e9, tokens: 1e9, mfu: 1.5 }, /invalid --mfu 1.5/],
    ["pue below 1", { hardware: "A100", deviceHours: 1, pue: 0.8 }, /invalid --pue 0.8/],
    [
      "negative intensity",
      { hardware: "A100", deviceHours: 1, intensityGPerKWh: -1 },
      /invalid --intensity -1/,
    ],
    [
      "fractional devices",
      { hardware: "A100", deviceHours: 1, devices: 2.5 },
      /invalid --devices 2.5/,
    ],
    ["no power figure", { hardware: "TPU-v5e", deviceHours: 1 }, /no power figure for TPU-v5e/],
    [
      "zero lifetime",
      { hardware: "A100", deviceHours: 1, lifetimeYears: 0 },
      /invalid --lifetime-years 0/,
    ],
  ])("%s → USAGE, one message and a hint", (_name, input, message) => {
    const error = usageError(input);
    expect(error.code).toBe("USAGE");
    expect(error.message).toMatch(message);
    expect(error.hint ?? "").not.toBe("");
  });

  it("reports an unknown region with suggestions", () => {
    const error = usageError({ hardware: "A100", deviceHours: 1, region: "Frnace" });
    expect(error.code).toBe("UNKNOWN_REGION");
    expect(error.hint).toMatch(/FR/);
  });

  it("accepts a TPU without a power figure once the user gives one", () => {
    const estimate = estimateTraining({
      hardware: "TPU-v5e",
      deviceHours: 100,
      powerW: 200,
      intensityGPerKWh: 1,
      pue: 1,
    });
    expect(estimate.itEnergyKWh).toBeCloseTo(20, 9);
  });
});
