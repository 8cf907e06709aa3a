import { describe, expect, it } from "vitest";
import { WattprintError } from "../../src/errors.js";
import { parseReportDocument, type ReportInput } from "../../src/report/load-input.js";
import { buildReportModel } from "../../src/report/report-model.js";
import type { RunRecord, TimelineSample } from "../../src/record/run-record.js";
import { makeRunRecord, makeSample } from "../fixtures/store/record-factory.js";

const runInput = (
  overrides: Partial<RunRecord> = {},
  samples: TimelineSample[] | null = null,
): ReportInput => ({
  kind: "run",
  origin: "test",
  run: makeRunRecord(overrides),
  samples,
  samplesNote: samples === null ? "no timeline in a file" : null,
});

/** An estimate read from JSON, as a file would be. */
const estimateInput = (overrides: Record<string, unknown> = {}): ReportInput =>
  parseReportDocument(
    JSON.stringify({
      deviceHours: 1000,
      energyKWh: 400,
      co2eKg: 160,
      embodiedCo2eKg: null,
      assumptions: [
        { name: "hardware", value: "H100-SXM", unit: null, source: "user" },
        { name: "region", value: "FR", unit: null, source: "user" },
        { name: "grid intensity", value: 400, unit: "gCO2e/kWh", source: "Ember 2024" },
        { name: "PUE", value: 1.1, unit: "ratio", source: "user" },
      ],
      wattprintVersion: "0.2.0",
      ...overrides,
    }),
    "file e.json",
  );

describe("buildReportModel from a run", () => {
  it("echoes the record's figures with their sources", () => {
    const model = buildReportModel(runInput(), { generatedAt: new Date("2025-01-02T03:04:05Z") });
    expect(model.generatedAt).toBe("2025-01-02T03:04:05.000Z");
    expect(model.energy.totalJ).toBe(9000);
    expect(model.energy.machineTotalJ).toBe(15000);
    expect(model.operational.co2eG).toBe(0.15);
    expect(model.intensity).toMatchObject({
      intensityGPerKWh: 56,
      zone: "FR",
      source: "test table",
      year: 2023,
    });
    expect(model.pue).toEqual({ value: 1.2, source: "user" });
    expect(model.location).toBe("France (FR)");
    expect(model.hardware).toEqual(["Test CPU 9000 (8 logical CPUs)"]);
    expect(model.embodied.co2eG).toBeNull();
    expect(model.embodied.reason).toMatch(/--embodied-kg/);
    expect(model.totalCo2eG).toBeNull();
    expect(model.sci).toBeNull();
    expect(model.assumptions.map((a) => a.name)).toContain("PUE");
  });

  it("amortises embodied hardware over the run's duration and adds the SCI", () => {
    const model = buildReportModel(runInput(), {
      embodied: { totalEmbodiedKg: 1000, lifetimeYears: 4, resourceShare: 0.5, source: "user" },
      functionalUnit: { unit: "sample", count: 200 },
    });
    // 100 s of a 4 × 365-day life, half the machine: 1e6 g × 100 / 126,144,000 × 0.5.
    const embodiedG = ((1e6 * 100) / (4 * 365 * 86_400)) * 0.5;
    expect(model.embodied.co2eG).toBeCloseTo(embodiedG, 9);
    expect(model.totalCo2eG).toBeCloseTo(0.15 + embodiedG, 9);
    // O is the run's own CO2e (interval by interval); E echoes 9000 J = 0.0025 kWh × PUE 1.2.
    expect(model.sci?.operationalCo2eG).toBe(0.15);
    expect(model.sci?.operationalSource).toMatch(/the run's CO2e/);
    expect(model.sci?.energyKWh).toBeCloseTo(0.0025 * 1.2, 12);
    expect(model.sci?.sciGPerUnit).toBeCloseTo((0.15 + embodiedG) / 200, 12);
    expect(model.assumptions.find((a) => a.name === "functional units (R)")?.value).toBe(200);
  });

  it("draws intensity over time only when the run used a time series", () => {
    const samples = [0, 1, 2].map((seq) => ({ ...makeSample(seq), intensityGPerKWh: 100 + seq }));
    const constant = buildReportModel(runInput({}, samples));
    expect(constant.intensity.series).toBeNull();

    const seriesRun = runInput(
      {
        intensitySource: {
          ...makeRunRecord().intensitySource,
          series: {
            source: "file:trace.csv",
            zone: "FR",
            signal: "average",
            coveredEnergyShare: 0.5,
          },
        },
      },
      samples,
    );
    const model = buildReportModel(seriesRun);
    expect(model.intensity.series?.map((p) => p.intensityGPerKWh)).toEqual([100, 101, 102]);
    const first = model.intensity.series?.[0];
    expect((first?.endMs ?? 0) - (first?.startMs ?? 0)).toBe(1000);
    expect(model.intensity.seriesSource).toMatch(/file:trace\.csv.*50% of the energy covered/);
  });

  it("refuses a run without energy instead of reporting 0", () => {
    expect(() =>
      buildReportModel(runInput({ energyJ: { total: null, cpu: null, gpu: null, ram: null } })),
    ).toThrow(/has no energy/);
  });
});

describe("buildReportModel from an estimate", () => {
  it("reads intensity, PUE, region and hardware from the estimate's assumptions", () => {
    const model = buildReportModel(estimateInput());
    expect(model.energy.totalJ).toBeCloseTo(400 * 3_600_000, 3);
    expect(model.operational.co2eG).toBeCloseTo(160_000, 6);
    expect(model.intensity.intensityGPerKWh).toBe(400);
    expect(model.intensity.source).toBe("Ember 2024");
    expect(model.pue.value).toBe(1.1);
    expect(model.location).toBe("France (FR)");
    expect(model.hardware).toEqual(["H100-SXM"]);
    expect(model.producedBy).toBe("wattprint 0.2.0");
    expect(model.timeline.available).toBe(false);
  });

  it("prefers the estimator's own fields: hardware, devices, region, intensity, PUE, warnings", () => {
    const model = buildReportModel(
      estimateInput({
        kind: "training",
        hardware: { id: "h100-sxm", name: "NVIDIA H100 SXM" },
        devices: 8,
        region: "US-CA",
        intensityGPerKWh: 250,
        pue: 1.2,
        itEnergyKWh: 333,
        warnings: ["MFU assumed"],
        assumptions: [
          { name: "intensityGPerKWh", value: 250, unit: "gCO2e/kWh", source: "EIA-930; US-CA" },
          { name: "pue", value: 1.2, unit: "ratio", source: "given by the user" },
        ],
      }),
    );
    expect(model.title).toBe("training estimate (file e.json)");
    expect(model.hardware).toEqual(["8 × NVIDIA H100 SXM"]);
    expect(model.intensity.intensityGPerKWh).toBe(250);
    expect(model.intensity.source).toBe("EIA-930; US-CA");
    expect(model.pue).toEqual({ value: 1.2, source: "given by the user" });
    expect(model.location).toMatch(/California/);
    expect(model.warnings).toEqual(["MFU assumed"]);
    expect(model.energy.basis).toMatch(/facility energy/);
  });

  it("takes the estimate's embodied figure, and refuses a second one", () => {
    const model = buildReportModel(estimateInput({ embodiedCo2eKg: 12 }), {
      functionalUnit: { unit: "token", count: 1e9 },
    });
    expect(model.embodied.co2eG).toBeCloseTo(12_000, 9);
    expect(model.sci?.operationalMethod).toBe("given");
    expect(model.sci?.sciGPerUnit).toBeCloseTo((160_000 + 12_000) / 1e9, 15);
    let error: unknown;
    try {
      buildReportModel(estimateInput({ embodiedCo2eKg: 12 }), {
        embodied: { totalEmbodiedKg: 100, source: "user" },
      });
    } catch (caught) {
      error = caught;
    }
    expect((error as WattprintError).code).toBe("USAGE");
  });

  it("amortises embodied hardware over device-hours, or says it cannot", () => {
    const model = buildReportModel(estimateInput(), {
      embodied: { totalEmbodiedKg: 2000, lifetimeYears: 5, source: "user" },
    });
    expect(model.embodied.co2eG).toBeCloseTo((2e6 * 1000) / (5 * 365 * 24), 6);
    expect(() =>
      buildReportModel(estimateInput({ deviceHours: null }), {
        embodied: { totalEmbodiedKg: 2000, source: "user" },
      }),
    ).toThrow(/no deviceHours/);
  });

  it("keeps unknown CO2e unknown", () => {
    const model = buildReportModel(estimateInput({ co2eKg: null }));
    expect(model.operational.co2eG).toBeNull();
    expect(model.operational.reason).toMatch(/co2eKg is null/);
    expect(model.equivalents.find((e) => e.basis === "co2e")?.value).toBeNull();
  });
});
