import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import type { AdviceReport } from "../../src/advise/types.js";
import { RunStore } from "../../src/store/run-store.js";
import { recordRun } from "../advise/fixtures.js";
import { busyScript, isolatedEnv, runCli, tempDir } from "../helpers/cli.js";

// `wattprint advise` through the built binary (npm test builds it first): a run tracked by
// the binary itself, a recorded run with every pattern, and an unknown run.
describe("wattprint advise", () => {
  const dir = tempDir();
  const env = () => isolatedEnv(dir.path);
  let trackedId = "";
  const recorded = recordRun({
    id: "b0d5e6f7-0000-4000-8000-000000000002",
    startedAt: "2022-06-16T03:00:00.000Z",
    region: "US-CAL-CISO",
    pue: 1.6,
    command: ["python", "train.py", "--epochs", "7"],
    phases: [
      { name: "load-data", durationS: 900, gpuW: 70, cpuW: 120 },
      ...[1.0, 0.8, 0.75, 0.76, 0.77, 0.78, 0.79].map((value, index) => ({
        name: `epoch ${index + 1}`,
        durationS: 600,
        gpuW: 600,
        cpuW: 120,
        metrics: { val_loss: value },
      })),
    ],
  });

  beforeAll(async () => {
    const tracked = await runCli(
      [
        "track",
        "--region",
        "SE",
        "--interval",
        "200ms",
        "--",
        process.execPath,
        "-e",
        busyScript(400),
      ],
      { env: env() },
    );
    expect(tracked.code).toBe(0);
    trackedId = /saved as run ([0-9a-f]{8})/.exec(tracked.stderr)?.[1] ?? "";
    const store = RunStore.open(join(dir.path, ".wattprint", "runs.sqlite"));
    store.beginRun({ ...recorded.run, status: "running" }, process.pid);
    for (const sample of recorded.samples) store.saveProgress(recorded.run, sample);
    store.finishRun(recorded.run);
    store.close();
  });
  afterAll(() => dir.cleanup());

  it("advises on a run it tracked, every rule accounted for", async () => {
    const result = await runCli(["advise", trackedId, "--json"], { env: env() });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as AdviceReport;
    expect(report.run.id.startsWith(trackedId)).toBe(true);
    expect(report.rules).toHaveLength(6);
    // SE has no shipped hourly data: time shifting says what is missing, the rest still run.
    const timeShift = report.rules.find((rule) => rule.rule === "time-shift");
    expect(timeShift?.status).toBe("not-enough-data");
    expect(timeShift?.missing[0]).toMatch(/hourly intensity for SE/);
  });

  it("ranks the findings of a recorded wasteful run", async () => {
    const result = await runCli(["advise", "b0d5e6f7", "--regions", "US-NW-BPAT"], { env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^Advice for run b0d5e6f7 \(python train\.py --epochs 7\): 5 findings/,
    );
    const titles = [...result.stdout.matchAll(/^\d\. (.*)$/gm)].map((match) => match[1]);
    expect(titles).toHaveLength(5);
    expect(titles[0]).toMatch(/^Run in US-NW-BPAT/);
    expect(result.stdout).toContain("check: wattprint track -- python train.py --epochs 6");
  });

  it("fails with one line and a hint for an unknown run", async () => {
    const result = await runCli(["advise", "0123abcd"], { env: env() });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toEqual([
      'wattprint: no run with id or prefix "0123abcd"',
      "  hint: list the stored runs to see their ids",
    ]);
  });
});
