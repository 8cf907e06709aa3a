import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  DEFAULT_BATCH,
  DEFAULT_INFERENCE_MEASUREMENTS_URL,
  defaultPerTokenModel,
  estimateInference,
  fitPerTokenModel,
  hardwareScaling,
  loadInferenceMeasurements,
  predictEnergyPerOutputTokenJ,
  type InferenceMeasurement,
} from "../../src/estimate/inference.js";
import { resolveAccelerator } from "../../src/hardware/accelerators.js";
import { WattprintError } from "../../src/errors.js";

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** The shipped measurements, read independently of the loader (no quoted fields in it). */
function rawMeasurements(): Record<string, string>[] {
  const [header = "", ...lines] = readFileSync(
    fileURLToPath(DEFAULT_INFERENCE_MEASUREMENTS_URL),
    "utf8",
  )
    .trim()
    .split("\n");
  const names = header.split(",");
  return lines.map((line) =>
    Object.fromEntries(line.split(",").map((value, index) => [names[index], value])),
  );
}

/** Rows generated from known coefficients, to check that the fit recovers them. */
function syntheticRows(truth: {
  a: number;
  c: number;
  e: number;
  d: number;
  k: number;
}): InferenceMeasurement[] {
  const rows: InferenceMeasurement[] = [];
  const models: Array<[number, number]> = [
    [8, 8],
    [14, 14],
    [70, 70],
    [30, 3],
    [235, 22],
    [405, 405],
  ];
  for (const [total, active] of models) {
    for (const hardwareId of ["H100-SXM", "B200"]) {
      for (const batch of [8, 32, 128, 512]) {
        const factor = hardwareId === "B200" ? truth.k : 1;
        const energy =
          factor *
          ((truth.a * total * 2) / batch + truth.c * active + truth.e * (total - active) + truth.d);
        rows.push({
          modelId: `m${total}-${active}`,
          task: "chat",
          architecture: active < total ? "moe" : "dense",
          totalParamsB: total,
          activeParamsB: active,
          bytesPerParam: 2,
          hardwareId,
          devices: 1,
          maxBatch: batch,
          batch,
          outputTokens: 500,
          energyPerOutputTokenJ: energy,
          powerW: hardwareId === "B200" ? 800 : 560,
          source: "synthetic",
        });
      }
    }
  }
  return rows;
}

describe("fitPerTokenModel", () => {
  it("recovers the coefficients that generated exact data", () => {
    const truth = { a: 0.2, c: 0.004, e: 0.0012, d: 0.04, k: 0.85 };
    const model = fitPerTokenModel(syntheticRows(truth), {
      referenceHardwareId: "H100-SXM",
      tdpW: (id) => resolveAccelerator(id).tdpW,
    });
    expect(model.weightJPerGB).toBeCloseTo(truth.a, 6);
    expect(model.activeJPerBParam).toBeCloseTo(truth.c, 6);
    expect(model.inactiveJPerBParam).toBeCloseTo(truth.e, 6);
    expect(model.baseJPerToken).toBeCloseTo(truth.d, 6);
    expect(model.hardwareFactors.B200).toBeCloseTo(truth.k, 6);
    expect(model.hardwareFactors["H100-SXM"]).toBe(1);
    expect(model.medianFactorError).toBeCloseTo(1, 6);
    // 560 W of 700 W and 800 W of 1000 W: both 0.8.
    expect(model.servingPowerFraction).toBeCloseTo(0.8, 9);
  });

  it("refuses too few rows", () => {
    expect(() =>
      fitPerTokenModel(syntheticRows({ a: 1, c: 1, e: 1, d: 1, k: 1 }).slice(0, 3)),
    ).toThrow(/need 8 or more/);
  });
});

describe("the package's per-token model", () => {
  const model = defaultPerTokenModel();
  const raw = rawMeasurements();

  it("is fitted on every row of the measurements file", () => {
    expect(model.rows).toBe(raw.length);
    expect(model.rows).toBeGreaterThanOrEqual(200);
    expect(model.referenceHardwareId).toBe("H100-SXM");
    expect(model.source).toMatch(/ML\.ENERGY/);
  });

  it("reproduces the measurements it was fitted on within a median factor of 1.25", () => {
    let within = 0;
    const factors = raw.map((row) => {
      const hardwareId = resolveAccelerator(row.gpu ?? "").id;
      const factor = model.hardwareFactors[hardwareId] ?? Number.NaN;
      const predicted = predictEnergyPerOutputTokenJ(
        model,
        {
          totalParamsB: Number(row.total_params_b),
          activeParamsB: Number(row.active_params_b),
          bytesPerParam: row.weight_precision === "fp8" ? 1 : 2,
          batch: Number(row.avg_batch_size),
        },
        { memory: factor, compute: factor, basis: "fitted" },
      );
      const ratio = predicted / Number(row.energy_per_output_token_j);
      if (ratio < 2 && ratio > 0.5) within += 1;
      return Math.max(ratio, 1 / ratio);
    });
    const sorted = [...factors].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(1.25);
    expect(model.medianFactorError).toBeLessThan(1.25);
    expect(within / raw.length).toBeGreaterThan(0.9);
  });

  it("finds B200 more efficient per token than H100, but less than its spec sheet suggests", () => {
    const b200 = model.hardwareFactors.B200 ?? Number.NaN;
    expect(b200).toBeLessThan(1);
    const specRatio = hardwareScaling(
      { ...model, hardwareFactors: {} },
      resolveAccelerator("B200"),
    );
    expect(specRatio?.basis).toBe("spec-ratio");
    expect(specRatio?.memory ?? Number.NaN).toBeLessThan(b200);
  });

  it("falls with batch, grows with parameters, and costs less for a sparse expert model", () => {
    const energy = (totalParamsB: number, activeParamsB: number, batch: number): number =>
      predictEnergyPerOutputTokenJ(model, { totalParamsB, activeParamsB, bytesPerParam: 2, batch });
    expect(energy(8, 8, 8)).toBeGreaterThan(energy(8, 8, 64));
    expect(energy(8, 8, 64)).toBeGreaterThan(energy(8, 8, 512));
    expect(energy(70, 70, 64)).toBeGreaterThan(energy(8, 8, 64));
    expect(energy(109, 17, 64)).toBeLessThan(energy(109, 109, 64));
  });
});

describe("estimateInference", () => {
  it("builds per-request, per-1,000 and total figures from the per-token energy", () => {
    const estimate = estimateInference({
      hardware: "H100-SXM",
      params: 8e9,
      outputTokens: 500,
      requests: 1e6,
      pue: 1.2,
      intensityGPerKWh: 400,
    });
    const model = defaultPerTokenModel();
    const perTokenJ = predictEnergyPerOutputTokenJ(model, {
      totalParamsB: 8,
      activeParamsB: 8,
      bytesPerParam: 2,
      batch: DEFAULT_BATCH,
    });
    expect(estimate.energyPerOutputTokenJ).toBeCloseTo(perTokenJ, 12);
    const perRequestWh = (perTokenJ * 500 * 1.2) / 3600;
    expect(estimate.perRequest.energyWh).toBeCloseTo(perRequestWh, 12);
    expect(estimate.per1000Requests.energyKWh).toBeCloseTo((perRequestWh * 1000) / 1000, 12);
    expect(estimate.energyKWh).toBeCloseTo((perRequestWh * 1e6) / 1000, 6);
    expect(estimate.co2eKg).toBeCloseTo((estimate.energyKWh * 400) / 1000, 9);
    expect(estimate.perRequest.co2eG * 1e6).toBeCloseTo(estimate.co2eKg * 1000, 3);
    expect(estimate.acceleratorEnergyKWh * 1.2).toBeCloseTo(estimate.energyKWh, 9);
    const tdpW = resolveAccelerator("H100-SXM").tdpW ?? Number.NaN;
    expect(estimate.deviceHours).toBeCloseTo(
      (estimate.acceleratorEnergyKWh * 1000) / (tdpW * model.servingPowerFraction),
      6,
    );
    expect(estimate.embodiedCo2eKg).toBeGreaterThan(0);
    expect(estimate.minDevicesForWeights).toBe(1);
  });

  it("lands within a factor 1.5 of a measured configuration it is asked about", () => {
    const row = rawMeasurements().find(
      (entry) =>
        entry.model_id === "meta-llama/Llama-3.1-70B-Instruct" &&
        entry.gpu === "H100" &&
        entry.max_num_seqs === "128",
    );
    if (row === undefined) throw new Error("measurement missing");
    const estimate = estimateInference({
      hardware: "H100",
      params: 70e9,
      outputTokens: 300,
      requests: 1,
      batch: 128,
      intensityGPerKWh: 0,
    });
    const ratio = estimate.energyPerOutputTokenJ / Number(row.energy_per_output_token_j);
    expect(ratio).toBeGreaterThan(1 / 1.5);
    expect(ratio).toBeLessThan(1.5);
  });

  it("scales hardware the fit did not measure by spec-sheet ratios and says so", () => {
    const estimate = estimateInference({
      hardware: "A100-80GB",
      params: 8e9,
      outputTokens: 100,
      requests: 10,
    });
    expect(estimate.warnings.join(" ")).toMatch(/A100-80GB was not measured/);
    const factor = estimate.assumptions.find((entry) => entry.name === "hardwareFactor");
    expect(factor?.source).toMatch(/spec-sheet ratio/);
  });

  it("needs a power figure for hardware without one", () => {
    expect(() =>
      estimateInference({ hardware: "TPU-v5e", params: 8e9, outputTokens: 100, requests: 10 }),
    ).toThrow(/no power figure for TPU-v5e/);
    const estimate = estimateInference({
      hardware: "TPU-v5e",
      params: 8e9,
      outputTokens: 100,
      requests: 10,
      powerW: 200,
    });
    expect(Number.isFinite(estimate.energyKWh)).toBe(true);
  });

  it.each([
    [{ params: 0 }, /invalid --params 0/],
    [{ outputTokens: -1 }, /invalid --output-tokens -1/],
    [{ requests: 0 }, /invalid --requests 0/],
    [{ batch: 0 }, /invalid --batch 0/],
    [{ activeParams: 9e9 }, /--active-params 9e9 is more than --params 8e9/],
    [{ region: "FR", intensityGPerKWh: 1 }, /contradict/],
  ])("refuses %o", (override, message) => {
    try {
      estimateInference({
        hardware: "H100",
        params: 8e9,
        outputTokens: 100,
        requests: 10,
        ...override,
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WattprintError);
      expect((error as WattprintError).code).toBe("USAGE");
      expect((error as WattprintError).message).toMatch(message);
    }
  });
});

describe("loadInferenceMeasurements", () => {
  it("reads the shipped file with hardware resolved to table ids", () => {
    const rows = loadInferenceMeasurements();
    expect(new Set(rows.map((row) => row.hardwareId))).toEqual(new Set(["H100-SXM", "B200"]));
    expect(rows.every((row) => row.source.startsWith("ml-energy-leaderboard-v3:"))).toBe(true);
  });

  it("names the line of a row whose GPU is not in the table", () => {
    const header = readFileSync(fileURLToPath(DEFAULT_INFERENCE_MEASUREMENTS_URL), "utf8").split(
      "\n",
    )[0];
    const dir = mkdtempSync(join(tmpdir(), "wattprint-inference-"));
    tempDirs.push(dir);
    const file = join(dir, "m.csv");
    writeFileSync(file, `${header}\nm,chat,dense,8,8,bfloat16,Z900,1,8,8,400,0.4,500,test\n`);
    expect(() => loadInferenceMeasurements(file)).toThrow(
      /line 2: column "gpu" "Z900" is not in the accelerator table/,
    );
  });
});
