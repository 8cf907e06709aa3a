import { describe, expect, it } from "vitest";
import { adviseRun, rankFindings } from "../../src/advise/advise.js";
import { RULE_IDS, type Finding } from "../../src/advise/types.js";
import { meanOverHours, readHourly, recordRun, type PhaseSpec } from "./fixtures.js";

const HOUR_MS = 3_600_000;

/** A training run with every pattern: idle GPU while loading, a plateau, a dirty start, PUE 1.6. */
function wastefulRun() {
  const values = [1.0, 0.8, 0.7, 0.65, 0.66, 0.67, 0.68, 0.69];
  const phases: PhaseSpec[] = [
    { name: "load-data", durationS: 1200, gpuW: 70, cpuW: 120 },
    ...values.map((value, index) => ({
      name: `epoch ${index + 1}`,
      durationS: 900,
      gpuW: 600,
      cpuW: 120,
      metrics: { val_loss: value },
    })),
  ];
  return recordRun({
    startedAt: "2022-06-16T03:00:00.000Z",
    region: "US-CAL-CISO",
    pue: 1.6,
    phases,
    command: ["python", "train.py", "--epochs", "8"],
  });
}

describe("adviseRun", () => {
  it("runs every rule and ranks the findings by CO2e saved", async () => {
    const { run, samples } = wastefulRun();
    const report = await adviseRun({ run, samples, origin: "test" }, { regions: ["US-NW-BPAT"] });
    expect(report.rules.map((rule) => rule.rule)).toEqual([...RULE_IDS]);
    const found = new Set(report.findings.map((finding) => finding.rule));
    for (const rule of ["idle-hardware", "time-shift", "region", "early-stopping", "pue"]) {
      expect(found.has(rule as Finding["rule"])).toBe(true);
    }
    const co2 = report.findings.map((finding) => finding.saving.co2eG as number);
    for (let index = 1; index < co2.length; index += 1) {
      expect(co2[index]).toBeLessThanOrEqual(co2[index - 1] as number);
    }
    for (const finding of report.findings) {
      expect(finding.evidence.length).toBeGreaterThan(0);
      expect(finding.command).toMatch(/^wattprint /);
      expect(finding.saving.low.co2eG as number).toBeLessThanOrEqual(
        finding.saving.co2eG as number,
      );
      expect(finding.saving.high.co2eG as number).toBeGreaterThanOrEqual(
        finding.saving.co2eG as number,
      );
      expect(finding.saving.derivation.length).toBeGreaterThan(20);
    }
    expect(report.rules.find((rule) => rule.rule === "serving")?.status).toBe("not-enough-data");
    expect(report.run.origin).toBe("test");
    expect(report.options.regions).toEqual(["US-NW-BPAT"]);
    expect(report.options.deadlineS).toBe(86_400);
  });

  it("yields no finding for a clean run", async () => {
    // A run in the cleanest allowed region, started at its greenest 2 h window, GPU busy,
    // metric still improving, efficient PUE, CPU well used.
    const bpat = readHourly("US-NW-BPAT");
    let start = NaN;
    for (
      let ms = Date.parse("2022-06-01T00:00:00Z");
      ms < Date.parse("2022-07-01T00:00:00Z");
      ms += HOUR_MS
    ) {
      const now = meanOverHours(bpat, ms, 2);
      let best = Infinity;
      for (let offset = 0; offset <= 22; offset += 1)
        best = Math.min(best, meanOverHours(bpat, ms + offset * HOUR_MS, 2));
      if (now <= best) {
        start = ms;
        break;
      }
    }
    const { run, samples } = recordRun({
      startedAt: new Date(start).toISOString(),
      region: "US-NW-BPAT",
      pue: 1.1,
      cpuUtilisation: 0.6,
      phases: [0.9, 0.7, 0.6, 0.55].map((value, index) => ({
        name: `epoch ${index + 1}`,
        durationS: 1800,
        gpuW: 560,
        cpuW: 120,
        metrics: { val_loss: value },
      })),
    });
    const report = await adviseRun({ run, samples }, { regions: ["US-CAL-CISO", "US-SW-AZPS"] });
    expect(report.findings).toEqual([]);
    const statuses = Object.fromEntries(report.rules.map((rule) => [rule.rule, rule.status]));
    expect(statuses).toEqual({
      "idle-hardware": "ok",
      "time-shift": "ok",
      region: "ok",
      serving: "not-enough-data",
      "early-stopping": "ok",
      pue: "ok",
    });
  });

  it("still runs the other rules when the timeline is missing", async () => {
    const { run } = wastefulRun();
    const report = await adviseRun({ run, samples: null });
    const status = (id: string) => report.rules.find((rule) => rule.rule === id)?.status;
    expect(status("idle-hardware")).toBe("not-enough-data");
    expect(status("time-shift")).toBe("findings");
    expect(status("early-stopping")).toBe("findings");
    expect(status("pue")).toBe("findings");
  });

  it("turns a rule's data error into 'not enough data' for that rule only", async () => {
    const { run, samples } = wastefulRun();
    const report = await adviseRun(
      { run, samples },
      { intensityFile: "/nonexistent/intensity.csv" },
    );
    const timeShift = report.rules.find((rule) => rule.rule === "time-shift");
    expect(timeShift?.status).toBe("not-enough-data");
    expect(timeShift?.missing[0]).toMatch(/nonexistent/);
    expect(report.rules.find((rule) => rule.rule === "pue")?.status).toBe("findings");
  });

  it("rejects options out of range", async () => {
    const { run, samples } = wastefulRun();
    await expect(adviseRun({ run, samples }, { deadlineS: 0 })).rejects.toMatchObject({
      code: "USAGE",
    });
    await expect(adviseRun({ run, samples }, { patience: 0 })).rejects.toMatchObject({
      code: "USAGE",
    });
    await expect(adviseRun({ run, samples }, { efficientPue: 0.9 })).rejects.toMatchObject({
      code: "USAGE",
    });
  });
});

describe("rankFindings", () => {
  const finding = (rule: Finding["rule"], co2eG: number | null, energyJ: number): Finding => ({
    rule,
    title: `${rule} ${co2eG}`,
    evidence: [],
    saving: {
      energyJ,
      co2eG,
      low: { energyJ, co2eG },
      high: { energyJ, co2eG },
      basis: "this run",
      derivation: "",
    },
    confidence: "medium",
    confidenceReason: "",
    command: "wattprint",
    notes: [],
  });

  it("puts larger CO2e first, unknown CO2e last, then energy, then rule order", () => {
    const ranked = rankFindings([
      finding("pue", 5, 0),
      finding("serving", null, 100),
      finding("region", 9, 0),
      finding("time-shift", 5, 0),
      finding("idle-hardware", 5, 10),
    ]);
    expect(ranked.map((item) => item.title)).toEqual([
      "region 9",
      "idle-hardware 5",
      "time-shift 5",
      "pue 5",
      "serving null",
    ]);
  });
});
