import { describe, expect, it } from "vitest";
import { adviseRun } from "../../src/advise/advise.js";
import type { AdviseOptions } from "../../src/advise/types.js";
import { listRegions } from "../../src/grid/regions.js";
import { recordRun } from "./fixtures.js";

async function pueRule(pue: number, pueSource = "user", options: AdviseOptions = {}) {
  const { run, samples } = recordRun({
    startedAt: "2022-06-16T12:00:00.000Z",
    pue,
    pueSource,
    phases: [{ name: "train", durationS: 1800, gpuW: 500, cpuW: 100 }],
  });
  const report = await adviseRun({ run, samples }, options);
  const rule = report.rules.find((item) => item.rule === "pue");
  if (rule === undefined) throw new Error("pue missing");
  return { rule, run };
}

describe("pue", () => {
  it("prices a high PUE against an efficient 1.1, with the published range", async () => {
    const { rule, run } = await pueRule(1.6);
    expect(rule.status).toBe("findings");
    const finding = rule.findings[0];
    const itJ = run.energyJ.total as number;
    const co2eG = run.co2eG as number;
    expect(finding?.saving.energyJ).toBeCloseTo(itJ * (1.6 - 1.1), 6);
    expect(finding?.saving.co2eG).toBeCloseTo(co2eG * (1 - 1.1 / 1.6), 9);
    const published = listRegions("cloud").flatMap((region) =>
      region.pue === undefined ? [] : [region.pue],
    );
    const worst = Math.max(...published);
    const best = Math.min(...published);
    expect(finding?.saving.low.co2eG).toBeCloseTo(co2eG * (1 - Math.max(1.1, worst) / 1.6), 9);
    expect(finding?.saving.high.co2eG).toBeCloseTo(co2eG * (1 - Math.min(1.1, best) / 1.6), 9);
    expect(finding?.confidence).toBe("medium");
  });

  it("follows --efficient-pue", async () => {
    const { rule, run } = await pueRule(1.6, "user", { efficientPue: 1.3 });
    expect(rule.findings[0]?.saving.co2eG).toBeCloseTo((run.co2eG as number) * (1 - 1.3 / 1.6), 9);
  });

  it("finds nothing at or near an efficient PUE", async () => {
    expect((await pueRule(1.1)).rule.status).toBe("ok");
    // AWS's published 1.15 is within 5% of 1.1.
    expect((await pueRule(1.15, "AWS global PUE, 2023")).rule.status).toBe("ok");
  });

  it("says the PUE is unknown when the run counted none by default", async () => {
    const { rule } = await pueRule(
      1,
      "default 1.0: no data-centre overhead counted (pass --pue for a data centre)",
    );
    expect(rule.status).toBe("not-enough-data");
    expect(rule.hint).toMatch(/--pue/);
  });
});
