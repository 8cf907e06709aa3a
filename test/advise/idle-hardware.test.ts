import { describe, expect, it } from "vitest";
import { adviseRun } from "../../src/advise/advise.js";
import type { AdviceReport, Finding } from "../../src/advise/types.js";
import { listAccelerators } from "../../src/hardware/accelerators.js";
import { J_PER_KWH, recordRun, type RunSpec } from "./fixtures.js";

const START = "2022-06-16T12:00:00.000Z";

async function advise(spec: RunSpec, options = {}): Promise<AdviceReport> {
  const { run, samples } = recordRun(spec);
  return adviseRun({ run, samples }, options);
}

function idleRule(report: AdviceReport) {
  const rule = report.rules.find((item) => item.rule === "idle-hardware");
  if (rule === undefined) throw new Error("idle-hardware missing");
  return rule;
}

const co2 = (energyJ: number, pue = 1.2, intensity = 250) =>
  (energyJ / J_PER_KWH) * pue * intensity;

describe("idle-hardware: an idle GPU phase", () => {
  // An H100 (700 W TDP) idles at 70 W while data loads and at 90 W during evaluation.
  const spec: RunSpec = {
    startedAt: START,
    phases: [
      { name: "load-data", durationS: 600, gpuW: 70, cpuW: 100 },
      { name: "train", durationS: 1800, gpuW: 560, cpuW: 100 },
      { name: "eval", durationS: 300, gpuW: 90, cpuW: 100 },
    ],
  };

  it("finds each idle phase with the GPU energy it cost and the floor-based low end", async () => {
    const rule = idleRule(await advise(spec));
    expect(rule.status).toBe("findings");
    const byPhase = (name: string) =>
      rule.findings.find((finding) => finding.title.includes(`phase "${name}"`)) as Finding;
    expect(rule.findings).toHaveLength(2);

    const load = byPhase("load-data");
    expect(load.saving.energyJ).toBeCloseTo(70 * 600, 6);
    expect(load.saving.high.energyJ).toBeCloseTo(70 * 600, 6);
    // Its lowest draw (70 W) is the static power: nothing above it to save if the GPU stays on.
    expect(load.saving.low.energyJ).toBeCloseTo(0, 6);
    expect(load.saving.co2eG).toBeCloseTo(co2(70 * 600), 9);

    const evaluation = byPhase("eval");
    expect(evaluation.saving.energyJ).toBeCloseTo(90 * 300, 6);
    expect(evaluation.saving.low.energyJ).toBeCloseTo((90 - 70) * 300, 6);
    expect(evaluation.saving.co2eG).toBeCloseTo(co2(90 * 300), 9);
    expect(evaluation.confidence).toBe("high");
    expect(evaluation.command).toContain("wattprint report run-advise-0001");
    const meanEvidence = evaluation.evidence.find((item) => item.label === "mean power while idle");
    expect(meanEvidence?.value).toBeCloseTo(90, 9);
    expect(evaluation.evidence.find((item) => item.label === "TDP")?.value).toBe(700);
  });

  it("does not count a nested phase's time twice", async () => {
    const { run, samples } = recordRun(spec);
    run.phases.push({
      name: "all",
      startedAt: run.startedAt,
      endedAt: run.endedAt,
      energyJ: run.energyJ,
      co2eG: run.co2eG,
    });
    const rule = idleRule(await adviseRun({ run, samples }));
    expect(rule.findings).toHaveLength(2);
    const total = rule.findings.reduce((sum, finding) => sum + (finding.saving.energyJ ?? 0), 0);
    expect(total).toBeCloseTo(70 * 600 + 90 * 300, 6);
  });

  it("ignores idle stretches shorter than a minute", async () => {
    const rule = idleRule(
      await advise({
        startedAt: START,
        phases: [
          { name: "train", durationS: 1800, gpuW: 560, cpuW: 100 },
          { name: "checkpoint", durationS: 50, gpuW: 70, cpuW: 100 },
          { name: "train-2", durationS: 1800, gpuW: 560, cpuW: 100 },
        ],
      }),
    );
    expect(rule.status).toBe("ok");
    expect(rule.findings).toHaveLength(0);
  });

  it("treats samples outside every phase as their own segment", async () => {
    const rule = idleRule(
      await advise({
        startedAt: START,
        phases: [
          { name: "setup", durationS: 300, gpuW: 75, cpuW: 100, marked: false },
          { name: "train", durationS: 1800, gpuW: 560, cpuW: 100 },
        ],
      }),
    );
    expect(rule.findings).toHaveLength(1);
    expect(rule.findings[0]?.title).toContain("outside any phase");
    expect(rule.findings[0]?.saving.energyJ).toBeCloseTo(75 * 300, 6);
  });
});

describe("idle-hardware: an underused GPU", () => {
  it("sizes the card down by TDP, static power in proportion", async () => {
    const rule = idleRule(
      await advise({
        startedAt: START,
        gpuName: "NVIDIA A100-SXM4-80GB",
        phases: [
          { name: "warmup", durationS: 120, gpuW: 60, cpuW: 100 },
          { name: "train", durationS: 1800, gpuW: 120, cpuW: 100 },
        ],
      }),
    );
    const underused = rule.findings.find((finding) => finding.title.includes("ran at 30%"));
    expect(underused).toBeDefined();
    // The A100's TDP is 400 W; smaller NVIDIA cards whose TDP still covers the 120 W peak:
    const fits = listAccelerators()
      .filter((row) => row.vendor === "NVIDIA" && row.kind === "gpu" && row.tdpW !== null)
      .filter((row) => (row.tdpW as number) < 400 && (row.tdpW as number) >= 120)
      .map((row) => row.tdpW as number)
      .sort((a, b) => a - b);
    expect(fits.length).toBeGreaterThan(1);
    const staticW = 60; // the lowest draw, under 20% of 400 W
    const smallest = fits[0] as number;
    const largest = fits[fits.length - 1] as number;
    expect(underused?.saving.energyJ).toBeCloseTo(staticW * (1 - smallest / 400) * 1800, 6);
    expect(underused?.saving.low.energyJ).toBeCloseTo(staticW * (1 - largest / 400) * 1800, 6);
    expect(underused?.confidence).toBe("low");
    expect(underused?.command).toMatch(/^wattprint track --out run-.+\.json -- python train\.py$/);
  });
});

describe("idle-hardware: missing data", () => {
  const phases = [
    { name: "load-data", durationS: 600, gpuW: 30, cpuW: 100 },
    { name: "train", durationS: 1800, gpuW: 200, cpuW: 100 },
  ];

  it("says which TDP is missing for a GPU the table does not know", async () => {
    const rule = idleRule(
      await advise({ startedAt: START, gpuName: "Mystery Accelerator X", phases }),
    );
    expect(rule.status).toBe("not-enough-data");
    expect(rule.missing.join(" ")).toMatch(/TDP of GPU 0 \(Mystery Accelerator X\)/);
    expect(rule.hint).toMatch(/--gpu-tdp/);
  });

  it("uses --gpu-tdp when given", async () => {
    const rule = idleRule(
      await advise(
        { startedAt: START, gpuName: "Mystery Accelerator X", phases },
        { gpuTdpW: 250 },
      ),
    );
    expect(rule.status).toBe("findings");
    expect(rule.findings[0]?.saving.energyJ).toBeCloseTo(30 * 600, 6);
  });

  it("reports the missing timeline and still judges the CPU", async () => {
    const { run } = recordRun({ startedAt: START, phases });
    const report = await adviseRun({
      run,
      samples: null,
      samplesNote: "a run record file holds no timeline",
    });
    const rule = idleRule(report);
    expect(rule.status).toBe("not-enough-data");
    expect(rule.missing[0]).toMatch(/timeline.*a run record file holds no timeline/);
  });
});

describe("idle-hardware: a CPU-only run without its timeline", () => {
  it("needs no timeline when the run had no GPU", async () => {
    const { run } = recordRun({
      startedAt: START,
      phases: [{ name: "work", durationS: 1800, gpuW: null, cpuW: 150 }],
    });
    const rule = idleRule(await adviseRun({ run, samples: null }));
    expect(rule.status).toBe("ok");
    expect(rule.summary).toMatch(/no GPU in the run/);
  });
});

describe("idle-hardware: an underused CPU", () => {
  it("right-sizes the cores, idle power in proportion", async () => {
    const report = await advise({
      startedAt: START,
      cpuCount: 64,
      cpuUtilisation: 0.05,
      cpuIdleW: 120,
      phases: [{ name: "work", durationS: 1800, gpuW: null, cpuW: 150 }],
    });
    const finding = idleRule(report).findings[0];
    expect(finding).toBeDefined();
    const idleJ = 120 * 1800;
    const busyCores = 64 * 0.05; // 3.2
    const saving = (cores: number) => idleJ * (1 - cores / 64);
    expect(finding?.saving.energyJ).toBeCloseTo(saving(Math.ceil(busyCores / 0.5)), 6);
    expect(finding?.saving.low.energyJ).toBeCloseTo(saving(Math.ceil(busyCores / 0.25)), 6);
    expect(finding?.saving.high.energyJ).toBeCloseTo(saving(Math.ceil(busyCores / 1)), 6);
    expect(finding?.command).toBe("wattprint track -- taskset -c 0-6 python train.py");
  });

  it("leaves a busy CPU alone", async () => {
    const report = await advise({
      startedAt: START,
      cpuCount: 8,
      cpuUtilisation: 0.7,
      phases: [{ name: "work", durationS: 1800, gpuW: null, cpuW: 150 }],
    });
    expect(idleRule(report).status).toBe("ok");
  });
});
