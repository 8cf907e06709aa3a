import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "../../src/record/run-record.js";
import { busyScript, isolatedEnv, runCli, tempDir } from "../helpers/cli.js";

// Real child processes on this machine, measured through the CPU and RAM models.
describe("wattprint track on a machine without power counters", () => {
  const dir = tempDir();
  let result: Awaited<ReturnType<typeof runCli>>;
  let run: RunRecord;

  beforeAll(async () => {
    const script = `${busyScript(1500)} console.log("out line"); console.error("err line"); process.exit(3);`;
    result = await runCli(
      [
        "track",
        "--region",
        "FR",
        "--interval",
        "250ms",
        "--out",
        join(dir.path, "run.json"),
        "--",
        process.execPath,
        "-e",
        script,
      ],
      { env: isolatedEnv(dir.path) },
    );
    run = JSON.parse(readFileSync(join(dir.path, "run.json"), "utf8")) as RunRecord;
  });
  afterAll(() => dir.cleanup());

  it("passes the command's output and exit code through untouched", () => {
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("out line\n");
    expect(result.stderr.startsWith("err line\n")).toBe(true);
    expect(run.exitCode).toBe(3);
    expect(run.status).toBe("failed");
  });

  it("measures the run's CPU energy with the model and says so", () => {
    expect(run.durationS).toBeGreaterThan(1.4);
    expect(run.durationS).toBeLessThan(20);
    expect(run.energyJ.cpu).toBeGreaterThan(0);
    const cpuSource = run.sources.find((s) => s.component === "cpu");
    expect(cpuSource?.method).toBe("model");
    expect(cpuSource?.source).toMatch(/^tdp-model:/);
    expect(run.warnings.some((w) => /CPU energy is modelled/.test(w))).toBe(true);
    expect(run.warnings.some((w) => /RAM energy is modelled/.test(w))).toBe(true);
    expect(run.energyJ.gpu).toBeNull();
    expect(run.unmeasured.find((u) => u.component === "gpu")?.reason).toMatch(/no GPU found/);
  });

  it("attributes most of the busy machine's active CPU energy to the busy tree", () => {
    const split = run.cpuSplitJ;
    expect(split).not.toBeNull();
    if (!split) return;
    // The tree used 1.5 s of CPU (plus Node's start-up), however loaded the machine was.
    expect(run.cpuTimeS).toBeGreaterThan(1.4);
    expect(run.cpuTimeS).toBeLessThan(2.5);
    expect(split.attributedJ).toBeGreaterThan(0);
    expect(split.attributedJ + split.idleJ + split.otherProcessesJ).toBeCloseTo(
      run.machineEnergyJ.cpu ?? -1,
      6,
    );
    expect(run.shareOfMachine).toBeGreaterThan(0);
    expect(run.shareOfMachine).toBeLessThanOrEqual(1);
  });

  it("reconciles totals and converts to CO2e with the region's intensity", () => {
    const sum = (run.energyJ.cpu ?? 0) + (run.energyJ.ram ?? 0);
    expect(run.energyJ.total).toBeCloseTo(sum, 9);
    expect(run.energyJ.total ?? Infinity).toBeLessThanOrEqual(run.machineEnergyJ.total ?? 0);
    expect(run.region).toBe("FR");
    expect(run.intensityGPerKWh).toBeGreaterThan(0);
    expect(run.co2eG).toBeCloseTo(
      ((run.energyJ.total ?? 0) / 3.6e6) * run.pue * run.intensityGPerKWh,
      9,
    );
    expect(run.intensitySource.source).toMatch(/Ember/);
  });

  it("prints a summary to stderr and saves the run in the store", async () => {
    expect(result.stderr).toMatch(/wattprint: .* — failed in/);
    expect(result.stderr).toMatch(/saved as run ([0-9a-f]{8})/);
    const id = /saved as run ([0-9a-f]{8})/.exec(result.stderr)?.[1] ?? "";
    expect(run.id.startsWith(id)).toBe(true);
    const shown = await runCli(["runs", "show", id, "--json"], { env: isolatedEnv(dir.path) });
    expect(shown.code).toBe(0);
    const stored = JSON.parse(shown.stdout) as RunRecord;
    expect(stored.id).toBe(run.id);
    expect(stored.energyJ.total).toBeCloseTo(run.energyJ.total ?? -1, 9);
    const listed = await runCli(["runs", "--json"], { env: isolatedEnv(dir.path) });
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id)).toContain(run.id);
  });

  it("measures a command shorter than one interval", async () => {
    const out = join(dir.path, "short.json");
    const short = await runCli(
      [
        "track",
        "--quiet",
        "--no-store",
        "--out",
        out,
        "--",
        process.execPath,
        "-e",
        busyScript(300),
      ],
      { env: isolatedEnv(dir.path) },
    );
    expect(short.code).toBe(0);
    expect(short.stderr).toBe("");
    const record = JSON.parse(readFileSync(out, "utf8")) as RunRecord;
    expect(record.status).toBe("completed");
    expect(record.energyJ.cpu).toBeGreaterThan(0);
    expect(record.sampling.samples).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(dir.path, ".wattprint", "runs.sqlite-nothing"))).toBe(false);
  });
});
