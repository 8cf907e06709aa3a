import { describe, expect, it } from "vitest";
import { adviseRun } from "../../src/advise/advise.js";
import type { AdviseOptions } from "../../src/advise/types.js";
import { resolveRegion } from "../../src/grid/regions.js";
import { J_PER_KWH, meanOverHours, readHourly, recordRun, type RunSpec } from "./fixtures.js";

const START = "2022-06-16T03:00:00.000Z";
const START_MS = Date.parse(START);
const KWH = (200 * 7200) / J_PER_KWH;

function job(region: string): RunSpec {
  return {
    startedAt: START,
    region,
    intervalS: 60,
    pue: 1.2,
    phases: [{ name: "train", durationS: 7200, gpuW: null, cpuW: 200 }],
  };
}

async function regionRule(spec: RunSpec, options: AdviseOptions) {
  const { run, samples } = recordRun(spec);
  const report = await adviseRun({ run, samples }, options);
  const rule = report.rules.find((item) => item.rule === "region");
  if (rule === undefined) throw new Error("region missing");
  return rule;
}

describe("region", () => {
  const ciso = meanOverHours(readHourly("US-CAL-CISO"), START_MS, 2);
  const bpat = meanOverHours(readHourly("US-NW-BPAT"), START_MS, 2);

  it("moves the same energy to the cleanest allowed region at the same hours", async () => {
    const rule = await regionRule(job("US-CAL-CISO"), { regions: ["US-NW-BPAT", "US-SW-AZPS"] });
    expect(rule.status).toBe("findings");
    const finding = rule.findings[0];
    expect(finding?.title).toMatch(/^Run in US-NW-BPAT/);
    const central = KWH * 1.2 * (ciso - bpat);
    expect(finding?.saving.co2eG).toBeCloseTo(central, 6);
    const annual =
      KWH *
      1.2 *
      (resolveRegion("US-CAL-CISO").intensityGPerKWh -
        resolveRegion("US-NW-BPAT").intensityGPerKWh);
    expect(finding?.saving.low.co2eG).toBeCloseTo(Math.min(central, annual), 6);
    expect(finding?.saving.high.co2eG).toBeCloseTo(Math.max(central, annual), 6);
    expect(finding?.command).toBe(
      "wattprint schedule --duration 2h --deadline 2h --regions US-CAL-CISO,US-NW-BPAT,US-SW-AZPS --now 2022-06-16T03:00:00.000Z",
    );
  });

  it("applies a cloud region's published PUE", async () => {
    const rule = await regionRule(job("US-CAL-CISO"), { regions: ["aws:us-west-2"] });
    const pue = resolveRegion("aws:us-west-2").pue as number;
    expect(rule.findings[0]?.saving.co2eG).toBeCloseTo(KWH * (1.2 * ciso - pue * bpat), 6);
  });

  it("falls back to the annual average where no hourly data is shipped", async () => {
    const rule = await regionRule(job("US-CAL-CISO"), { regions: ["FR"] });
    const finding = rule.findings[0];
    expect(finding?.saving.co2eG).toBeCloseTo(
      KWH * 1.2 * (ciso - resolveRegion("FR").intensityGPerKWh),
      6,
    );
    expect(finding?.confidence).toBe("low");
    expect(finding?.command).toBe("wattprint regions show FR");
  });

  it("finds nothing when the run's region is already the cleanest", async () => {
    const rule = await regionRule(job("US-NW-BPAT"), { regions: ["US-CAL-CISO", "US-SW-AZPS"] });
    expect(rule.status).toBe("ok");
    expect(rule.summary).toMatch(/already the cleanest/);
  });

  it("says what is missing without --regions", async () => {
    const rule = await regionRule(job("US-CAL-CISO"), {});
    expect(rule.status).toBe("not-enough-data");
    expect(rule.missing).toEqual(["the regions the job may run in (--regions)"]);
  });

  it("refuses an unknown region before running any rule", async () => {
    const { run, samples } = recordRun(job("US-CAL-CISO"));
    await expect(adviseRun({ run, samples }, { regions: ["Atlantis"] })).rejects.toMatchObject({
      code: "UNKNOWN_REGION",
    });
  });
});
