import { describe, expect, it } from "vitest";
import { adviseRun } from "../../src/advise/advise.js";
import { parseOptimizeResult } from "../../src/advise/optimize-result.js";
import type { AdviseOptions } from "../../src/advise/types.js";
import { J_PER_KWH, recordRun } from "./fixtures.js";

const OPTIMIZE = {
  variants: [
    {
      name: "baseline",
      accuracy: 0.981,
      sizeBytes: 3_200_000,
      energyJPer1kInferences: 40,
      pareto: true,
    },
    {
      name: "prune-0.5",
      accuracy: 0.979,
      sizeBytes: 1_600_000,
      energyJPer1kInferences: 30,
      pareto: true,
    },
    { name: "int8", accuracy: 0.976, sizeBytes: 800_000, energyJPer1kInferences: 16, pareto: true },
    {
      name: "prune-0.8",
      accuracy: 0.9,
      sizeBytes: 640_000,
      energyJPer1kInferences: 12,
      pareto: true,
    },
  ],
  recommended: "int8",
};

async function serving(result: unknown, options: AdviseOptions = {}) {
  const { run, samples } = recordRun({
    startedAt: "2022-06-16T12:00:00.000Z",
    pue: 1.2,
    intensityGPerKWh: 300,
    phases: [{ name: "serve", durationS: 600, gpuW: 500, cpuW: 100 }],
  });
  const optimizeResult =
    result === null ? null : parseOptimizeResult(JSON.stringify(result), "file optimize.json");
  const report = await adviseRun({ run, samples }, { ...options, optimizeResult });
  const rule = report.rules.find((item) => item.rule === "serving");
  if (rule === undefined) throw new Error("serving missing");
  return rule;
}

describe("serving", () => {
  it("prices the recommended variant per 1,000 inferences", async () => {
    const rule = await serving(OPTIMIZE);
    const finding = rule.findings[0];
    expect(finding?.saving.basis).toBe("per 1,000 inferences");
    expect(finding?.saving.energyJ).toBeCloseTo(40 - 16, 9);
    expect(finding?.saving.co2eG).toBeCloseTo(((40 - 16) / J_PER_KWH) * 1.2 * 300, 12);
    // The more accurate prune-0.5 on the front saves less: the cautious end of the range.
    expect(finding?.saving.low.energyJ).toBeCloseTo(40 - 30, 9);
    expect(finding?.saving.high.energyJ).toBeCloseTo(40 - 16, 9);
    expect(finding?.evidence.find((item) => item.label === "accuracy drop")?.value).toBeCloseTo(
      0.5,
      9,
    );
    expect(finding?.confidence).toBe("medium");
  });

  it("scales to --inferences", async () => {
    const rule = await serving(OPTIMIZE, { inferences: 2_000_000 });
    expect(rule.findings[0]?.saving.energyJ).toBeCloseTo((40 - 16) * 2000, 6);
    expect(rule.findings[0]?.saving.basis).toBe("per 2,000,000 inferences");
  });

  it("lowers confidence when accuracy drops more than a point", async () => {
    const rule = await serving({ ...OPTIMIZE, recommended: "prune-0.8" });
    expect(rule.findings[0]?.confidence).toBe("low");
  });

  it("finds nothing when optimize recommends the baseline", async () => {
    expect((await serving({ ...OPTIMIZE, recommended: "baseline" })).status).toBe("ok");
  });

  it("says what is missing", async () => {
    const none = await serving(null);
    expect(none.status).toBe("not-enough-data");
    expect(none.missing[0]).toMatch(/--optimize-result/);
    const unmeasured = await serving({
      variants: [
        { name: "baseline", energyJPer1kInferences: null },
        { name: "int8", energyJPer1kInferences: 3 },
      ],
      recommended: "int8",
    });
    expect(unmeasured.status).toBe("not-enough-data");
    expect(unmeasured.missing[0]).toMatch(/the baseline \(baseline\)/);
  });
});
