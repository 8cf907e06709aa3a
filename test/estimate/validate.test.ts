import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  crossValidateInferenceModel,
  loadPublishedFootprints,
  publishedHardwareId,
  validateTrainingEstimates,
  VALIDATION_TARGETS,
} from "../../src/estimate/validate.js";
import { resolveAccelerator } from "../../src/hardware/accelerators.js";

/** CI keeps ../shared beside the clone; a checkout without it skips the published-data tests. */
const PUBLISHED = resolve(import.meta.dirname, "../../../shared/data/published-footprints-dev.csv");
const HAVE_PUBLISHED = existsSync(PUBLISHED);

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const HEADER =
  "model,params_b,tokens_b,hardware,hardware_count,hours,gpu_hours,energy_mwh,pue,ci_kg_per_kwh,op_tco2e,embodied_tco2e,source,notes";

function tempCsv(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-validate-"));
  tempDirs.push(dir);
  const file = join(dir, "published.csv");
  writeFileSync(file, `${HEADER}\n${lines.join("\n")}\n`);
  return file;
}

describe("validateTrainingEstimates on a small file", () => {
  const tdp = resolveAccelerator("A100-80GB").tdpW ?? Number.NaN;
  // 1,000 GPU-h × TDP × 1.1 = exact; the second row is published 10% low, so the estimate is +11.1%.
  const exact = (1000 * tdp * 1.1) / 1e6;
  const file = tempCsv([
    `Exact,7,100,A100-80GB,,,1000,${exact},1.1,,,,"paper A",`,
    `Low,7,,A100-SXM4-80GB (8-GPU node),,,1000,${exact * 0.9},1.1,,,,"paper B",`,
    `Unsure,,,A100-80GB (recollection),,,1000,${exact * 2},1.1,,,,"paper C",`,
    `Exotic,,,Cerebras CS-2,,,1000,5,,,,,"paper D",`,
    `[inference] chat,8,,H100,1,,10,0.001,,,,,"paper E",`,
    `"Mixture (17B active, 109B total)",109,1000,H100-80GB,,,100000,,,,,,"paper F","VERIFY tokens"`,
  ]);
  const rows = loadPublishedFootprints(file);
  const report = validateTrainingEstimates(rows);

  it("reads the flags it needs from each row", () => {
    expect(rows.map((row) => row.inference)).toEqual([false, false, false, false, true, false]);
    expect(rows.map((row) => row.uncertain)).toEqual([false, false, true, false, false, true]);
    expect(rows[5]?.activeParamsB).toBe(17);
    expect(publishedHardwareId("A100-SXM4-80GB (8-GPU node, AWS us-west-2)")).toBe("A100-80GB");
    expect(publishedHardwareId("NVIDIA GPUs (undisclosed)")).toBeNull();
  });

  it("computes each row's error and the MAPE over counted rows only", () => {
    const byModel = new Map(report.energy.rows.map((row) => [row.model, row]));
    expect(byModel.get("Exact")?.errorPct).toBeCloseTo(0, 9);
    expect(byModel.get("Low")?.errorPct).toBeCloseTo((1 / 0.9 - 1) * 100, 9);
    expect(byModel.get("Unsure")?.counted).toBe(false);
    expect(byModel.get("Unsure")?.errorPct).toBeCloseTo(-50, 9);
    expect(byModel.get("Exotic")?.estimatedEnergyMWh).toBeNull();
    expect(byModel.get("Exotic")?.note).toBe("hardware not in the table");
    expect(byModel.has("[inference] chat")).toBe(false);
    expect(report.energy.counted).toBe(2);
    expect(report.energy.mapePct).toBeCloseTo(((1 / 0.9 - 1) * 100) / 2, 9);
    expect(report.energy.mapeWithUncertainPct).toBeCloseTo(((1 / 0.9 - 1) * 100 + 50) / 3, 9);
  });

  it("checks device-hours from params and tokens, with MoE rows on their active parameters", () => {
    const exact = report.deviceHours.rows.find((row) => row.model === "Exact");
    const a100 = resolveAccelerator("A100-80GB");
    const expected =
      (6 * 7e9 * 100e9) / (a100.peakDenseTflops * 1e12 * report.deviceHours.mfu) / 3600;
    expect(exact?.estimatedDeviceHours).toBeCloseTo(expected, 6);
    expect(exact?.ratio).toBeCloseTo(expected / 1000, 9);
    const moe = report.deviceHours.rows.find((row) => row.model.startsWith("Mixture"));
    expect(moe?.activeParamsB).toBe(17);
    expect(moe?.counted).toBe(false);
    expect(report.deviceHours.counted).toBe(1);
  });
});

describe.skipIf(!HAVE_PUBLISHED)(
  HAVE_PUBLISHED
    ? "validation on the published footprints (../shared)"
    : `validation on the published footprints: skipped, ${PUBLISHED} is missing`,
  () => {
    // Read only when the block runs: a skipped describe still has its body collected.
    let cached: ReturnType<typeof validateTrainingEstimates> | undefined;
    const published = () =>
      (cached ??= validateTrainingEstimates(loadPublishedFootprints(PUBLISHED)));

    it("estimates energy from device-hours within the 10% MAPE target on rows whose hardware is in the table", () => {
      const report = published();
      expect(report.energy.counted).toBeGreaterThanOrEqual(15);
      expect(report.energy.mapePct ?? Infinity).toBeLessThanOrEqual(
        VALIDATION_TARGETS.energyMapePct,
      );
      expect(report.energy.met).toBe(true);
    });

    it("estimates device-hours from params and tokens within a factor 1.5 for the median row", () => {
      const report = published();
      expect(report.deviceHours.counted).toBeGreaterThanOrEqual(10);
      expect(report.deviceHours.medianFactor ?? Infinity).toBeLessThanOrEqual(
        VALIDATION_TARGETS.deviceHoursMedianFactor,
      );
    });

    it("does not count rows marked recollection or VERIFY", () => {
      const report = published();
      const uncertain = report.energy.rows.filter((row) => row.uncertain);
      expect(uncertain.length).toBeGreaterThan(0);
      expect(uncertain.every((row) => !row.counted)).toBe(true);
    });
  },
);

describe("crossValidateInferenceModel", () => {
  it("predicts each model's measurements, fitted without them, within a median factor of 1.5", () => {
    const result = crossValidateInferenceModel();
    expect(result.perModel.length).toBeGreaterThanOrEqual(10);
    expect(result.medianFactor).toBeLessThan(1.5);
    expect(result.rowMedianFactor).toBeLessThan(1.5);
  });
});
