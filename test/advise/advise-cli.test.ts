import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adviseCli } from "../../src/cli/commands/advise.js";
import type { CliIo } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import type { AdviceReport } from "../../src/advise/types.js";
import { RunStore } from "../../src/store/run-store.js";
import { recordRun, type PhaseSpec } from "./fixtures.js";

function fakeIo(home: string) {
  const out = { stdout: "", stderr: "" };
  const io: CliIo = {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    env: { WATTPRINT_HOME: home },
    stdinIsTTY: false,
    stderrIsTTY: false,
  };
  return { io, out };
}

const PHASES: PhaseSpec[] = [
  { name: "load-data", durationS: 900, gpuW: 70, cpuW: 120 },
  ...[1.0, 0.8, 0.7, 0.7, 0.71, 0.72, 0.73].map((value, index) => ({
    name: `epoch ${index + 1}`,
    durationS: 600,
    gpuW: 600,
    cpuW: 120,
    metrics: { val_loss: value },
  })),
];

describe("wattprint advise (command function)", () => {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-advise-cli-"));
  const home = join(dir, "home");
  const { run, samples } = recordRun({
    id: "7a1c9e20-0000-4000-8000-000000000001",
    startedAt: "2022-06-16T03:00:00.000Z",
    region: "US-CAL-CISO",
    pue: 1.5,
    phases: PHASES,
  });
  const runFile = join(dir, "run.json");

  beforeAll(() => {
    const store = RunStore.open(join(home, "runs.sqlite"));
    store.beginRun({ ...run, status: "running" }, process.pid);
    for (const sample of samples) store.saveProgress(run, sample);
    store.finishRun(run);
    store.close();
    writeFileSync(runFile, JSON.stringify(run));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the ranked findings as JSON for a stored run (id prefix)", async () => {
    const { io, out } = fakeIo(home);
    const code = await adviseCli(
      ["7a1c9e20", "--json", "--regions", "US-NW-BPAT", "--patience", "2"],
      io,
    );
    expect(code).toBe(0);
    const report = JSON.parse(out.stdout) as AdviceReport;
    expect(report.adviceVersion).toBe(1);
    expect(report.run.id).toBe(run.id);
    expect(report.options.patience).toBe(2);
    expect(report.options.runReference).toBe("7a1c9e20");
    const rules = new Set(report.findings.map((finding) => finding.rule));
    expect([...rules].sort()).toEqual([
      "early-stopping",
      "idle-hardware",
      "pue",
      "region",
      "time-shift",
    ]);
    const idle = report.findings.find((finding) => finding.rule === "idle-hardware");
    expect(idle?.saving.energyJ).toBeCloseTo(70 * 900, 6);
    expect(idle?.command).toBe("wattprint report 7a1c9e20 --format html --out report.html");
  });

  it("prints readable text", async () => {
    const { io, out } = fakeIo(home);
    await adviseCli([run.id], io);
    expect(out.stdout).toMatch(
      /^Advice for run 7a1c9e20 \(python train\.py\): 4 findings, ranked by CO2e saved/,
    );
    expect(out.stdout).toMatch(/\n1\. /);
    expect(out.stdout).toMatch(/check: wattprint schedule --duration/);
    expect(out.stdout).toMatch(/serving +not enough data: measured model variants/);
  });

  it("reads a run.json, which has no timeline", async () => {
    const { io, out } = fakeIo(home);
    await adviseCli([runFile, "--json"], io);
    const report = JSON.parse(out.stdout) as AdviceReport;
    const idle = report.rules.find((rule) => rule.rule === "idle-hardware");
    expect(idle?.status).toBe("not-enough-data");
    expect(idle?.missing[0]).toMatch(/a run record file holds no timeline/);
    expect(report.rules.find((rule) => rule.rule === "early-stopping")?.status).toBe("findings");
  });

  it("prices serving with --optimize-result and --inferences", async () => {
    const file = join(dir, "optimize.json");
    writeFileSync(
      file,
      JSON.stringify({
        variants: [
          { name: "baseline", accuracy: 0.98, energyJPer1kInferences: 50, pareto: true },
          { name: "int8", accuracy: 0.975, energyJPer1kInferences: 20, pareto: true },
        ],
        recommended: "int8",
      }),
    );
    const { io, out } = fakeIo(home);
    await adviseCli([run.id, "--json", "--optimize-result", file, "--inferences", "1e6"], io);
    const report = JSON.parse(out.stdout) as AdviceReport;
    const serving = report.findings.find((finding) => finding.rule === "serving");
    expect(serving?.saving.energyJ).toBeCloseTo(30 * 1000, 6);
    expect(report.options.optimizeResult).toBe(`file ${file}`);
  });

  it("exits 3 with one line and a hint for an unknown run", async () => {
    const { io, out } = fakeIo(home);
    const code = await runCli(["advise", "ffffffff"], io);
    expect(code).toBe(3);
    expect(out.stdout).toBe("");
    expect(out.stderr).toBe(
      'wattprint: no run with id or prefix "ffffffff"\n  hint: list the stored runs to see their ids\n',
    );
  });

  it("refuses bad options and an estimate", async () => {
    const { io } = fakeIo(home);
    await expect(adviseCli([run.id, "--mode", "sideways"], io)).rejects.toMatchObject({
      code: "USAGE",
    });
    await expect(adviseCli([run.id, "--deadline", "soon"], io)).rejects.toMatchObject({
      code: "USAGE",
    });
    await expect(adviseCli([], io)).rejects.toMatchObject({ code: "USAGE" });
    await expect(
      adviseCli([run.id, "--optimize-result", join(dir, "none.json")], io),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    const estimate = join(dir, "estimate.json");
    writeFileSync(estimate, JSON.stringify({ energyKWh: 1, assumptions: [] }));
    await expect(adviseCli([estimate], io)).rejects.toMatchObject({ code: "USAGE" });
  });
});
