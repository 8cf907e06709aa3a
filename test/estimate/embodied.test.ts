import { describe, expect, it } from "vitest";
import {
  amortizedEmbodiedKg,
  DEFAULT_LIFETIME_YEARS,
  estimateEmbodied,
  HOURS_PER_YEAR,
} from "../../src/estimate/embodied.js";
import { resolveAccelerator } from "../../src/hardware/accelerators.js";

describe("amortizedEmbodiedKg", () => {
  it("spreads a device's kg over its life in hours", () => {
    expect(amortizedEmbodiedKg(HOURS_PER_YEAR * 4, 462.5, 4)).toBeCloseTo(462.5, 9);
    expect(amortizedEmbodiedKg(0, 462.5, 4)).toBe(0);
  });

  it("is linear in device-hours and inverse in lifetime", () => {
    const base = amortizedEmbodiedKg(1000, 300, 4);
    expect(amortizedEmbodiedKg(3000, 300, 4) / base).toBeCloseTo(3, 12);
    expect(amortizedEmbodiedKg(1000, 300, 8) / base).toBeCloseTo(0.5, 12);
  });
});

describe("estimateEmbodied", () => {
  it("reproduces Morrison et al. 2025's 0.013 kgCO2e per H100 GPU-hour (463 kg over 4 years)", () => {
    const estimate = estimateEmbodied(resolveAccelerator("H100-SXM"), 1);
    expect(estimate.kgPerDeviceHour).toBeCloseTo(0.013, 3);
    expect(estimate.lifetimeYears).toBe(DEFAULT_LIFETIME_YEARS);
    expect(estimate.proxy).toBe(false);
    // Their 1.65M GPU-hours came to 22 t embodied.
    expect(
      estimateEmbodied(resolveAccelerator("H100-SXM"), 1.65e6).embodiedCo2eKg / 1000,
    ).toBeCloseTo(22, 0);
  });

  it("adds the device's share of its host to the device's own kg", () => {
    const a100 = resolveAccelerator("A100-80GB");
    const estimate = estimateEmbodied(a100, 1000);
    expect(estimate.deviceKg).toBe(a100.embodiedDeviceKg);
    expect(estimate.hostShareKg).toBeCloseTo(a100.hostEmbodiedKg / a100.devicesPerHost, 9);
    expect(estimate.embodiedCo2eKg).toBeCloseTo(
      amortizedEmbodiedKg(1000, estimate.deviceKg + estimate.hostShareKg, DEFAULT_LIFETIME_YEARS),
      9,
    );
  });

  it("flags stand-in figures and names the device that stands in", () => {
    const estimate = estimateEmbodied(resolveAccelerator("L4"), 10);
    expect(estimate.proxy).toBe(true);
    const device = estimate.assumptions.find((entry) => entry.name === "embodiedDeviceKg");
    expect(device?.source).toMatch(/^proxy \(same as A100-80GB\)/);
  });

  it("records a user lifetime as the user's", () => {
    const estimate = estimateEmbodied(resolveAccelerator("H100"), 100, { lifetimeYears: 6 });
    expect(estimate.lifetimeYears).toBe(6);
    const lifetime = estimate.assumptions.find((entry) => entry.name === "lifetimeYears");
    expect(lifetime).toMatchObject({ value: 6, unit: "years", source: "given by the user" });
  });
});
