import { describe, expect, it } from "vitest";
import { compareInference, compareTraining } from "../../src/estimate/compare.js";
import { estimateTraining } from "../../src/estimate/training.js";
import { resolveAccelerator } from "../../src/hardware/accelerators.js";
import { resolveRegion } from "../../src/grid/regions.js";

describe("compareTraining", () => {
  it("puts the same job in other regions beside the base and marks the lowest", () => {
    const rows = compareTraining(
      { hardware: "A100-80GB", deviceHours: 1e5, pue: 1.1, region: "US" },
      { regions: ["FR", "PL"] },
    );
    expect(rows.map((row) => row.label)).toEqual(["base", "region FR", "region PL"]);
    for (const row of rows.slice(1)) {
      expect(row.intensityGPerKWh).toBe(resolveRegion(row.region ?? "").intensityGPerKWh);
      expect(row.pue).toBe(1.1);
      expect(row.energyKWh).toBeCloseTo(rows[0]?.energyKWh ?? Number.NaN, 9);
      expect(row.ratioToBase).toBeCloseTo((row.totalCo2eKg ?? 0) / (rows[0]?.totalCo2eKg ?? 1), 12);
    }
    const totals = rows.map((row) => row.totalCo2eKg ?? Infinity);
    const lowest = rows[totals.indexOf(Math.min(...totals))];
    expect(lowest?.lowest).toBe(true);
    expect(rows.filter((row) => row.lowest)).toHaveLength(1);
    expect(rows[0]?.ratioToBase).toBe(1);
  });

  it("uses each cloud region's own PUE when the user gave none", () => {
    const rows = compareTraining(
      { hardware: "H100", deviceHours: 10 },
      { regions: ["gcp:europe-west1"] },
    );
    expect(rows[1]?.pue).toBe(resolveRegion("gcp:europe-west1").pue);
  });

  it("moves device-hours to other hardware by the ratio of peak FLOP/s", () => {
    const rows = compareTraining(
      { hardware: "A100-80GB", deviceHours: 1000, intensityGPerKWh: 100, pue: 1 },
      { hardware: ["H100-SXM"] },
    );
    const ratio =
      resolveAccelerator("A100-80GB").peakDenseTflops /
      resolveAccelerator("H100-SXM").peakDenseTflops;
    expect(rows[1]?.deviceHours).toBeCloseTo(1000 * ratio, 9);
    expect(rows[1]?.hardware).toBe("H100-SXM");
  });

  it("recomputes FLOP-based jobs on the other hardware, without the base's power figure", () => {
    const base = {
      hardware: "A100-80GB",
      params: 7e9,
      tokens: 1e11,
      intensityGPerKWh: 100,
      powerW: 250,
    };
    const rows = compareTraining(base, { hardware: ["H100-SXM"] });
    const direct = estimateTraining({ ...base, hardware: "H100-SXM", powerW: undefined });
    expect(rows[1]?.energyKWh).toBeCloseTo(direct.energyKWh, 9);
    expect(rows[1]?.deviceHours).toBeCloseTo(direct.deviceHours, 9);
  });

  it("shows why a row cannot be computed instead of zeros", () => {
    const rows = compareTraining({ hardware: "H100", deviceHours: 10 }, { hardware: ["TPU-v5e"] });
    expect(rows[1]?.unavailable).toMatch(/no power figure for TPU-v5e/);
    expect(rows[1]?.totalCo2eKg).toBeNull();
    expect(rows[1]?.lowest).toBe(false);
    expect(rows[0]?.lowest).toBe(true);
  });

  it("compares fine-tuning with training from scratch", () => {
    const rows = compareTraining(
      { hardware: "H100", params: 8e9, tokens: 1e9, method: "peft", intensityGPerKWh: 300 },
      { pretrainTokens: 15e12 },
    );
    expect(rows[1]?.label).toBe("from scratch");
    expect((rows[1]?.deviceHours ?? 0) / (rows[0]?.deviceHours ?? 1)).toBeCloseTo(
      (6 * 15e12) / (4 * 1e9),
      6,
    );
    expect(rows[0]?.lowest).toBe(true);
  });

  it("refuses a from-scratch row without a fine-tuning base", () => {
    expect(() =>
      compareTraining({ hardware: "H100", params: 8e9, tokens: 1e9 }, { pretrainTokens: 1e12 }),
    ).toThrow(/--pretrain-tokens compares a fine-tuning run/);
  });

  it("refuses unknown hardware and regions in the list", () => {
    expect(() =>
      compareTraining({ hardware: "H100", deviceHours: 1 }, { hardware: ["H1OO"] }),
    ).toThrow(/unknown hardware "H1OO"/);
    expect(() =>
      compareTraining({ hardware: "H100", deviceHours: 1 }, { regions: ["Atlantis"] }),
    ).toThrow(/unknown region/);
  });
});

describe("compareInference", () => {
  it("compares serving on other hardware and regions", () => {
    const rows = compareInference(
      { hardware: "H100", params: 8e9, outputTokens: 500, requests: 1e6, region: "US" },
      { hardware: ["B200"], regions: ["FR"] },
    );
    expect(rows.map((row) => row.label)).toEqual(["base", "hardware B200", "region FR"]);
    expect(rows[2]?.energyKWh).toBeGreaterThan(0);
    expect(rows[2]?.co2eKg ?? Infinity).toBeLessThan(rows[0]?.co2eKg ?? 0);
    expect(rows[1]?.energyKWh ?? Infinity).toBeLessThan(rows[0]?.energyKWh ?? 0);
  });
});
