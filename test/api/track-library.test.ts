import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { Tracker, track, trackCommand } from "../../src/index.js";
import { RunStore } from "../../src/store/run-store.js";
import { busyScript, isolatedEnv, spinCpu, tempDir } from "../helpers/cli.js";

const dir = tempDir();
afterAll(() => dir.cleanup());
const env = isolatedEnv(dir.path);

describe("the library", () => {
  it("trackCommand runs a command and returns its run and exit code", async () => {
    const { run, exitCode } = await trackCommand(
      [process.execPath, "-e", `${busyScript(400)} process.exit(5)`],
      {
        env,
        intervalS: 0.2,
        region: "SE",
        stdio: "ignore",
      },
    );
    expect(exitCode).toBe(5);
    expect(run.status).toBe("failed");
    expect(run.region).toBe("SE");
    expect(run.energyJ.cpu).toBeGreaterThan(0);
    const store = RunStore.open(join(dir.path, ".wattprint", "runs.sqlite"));
    try {
      expect(store.getRun(run.id).energyJ.total).toBeCloseTo(run.energyJ.total ?? -1, 9);
      expect(store.getSamples(run.id).length).toBe(run.sampling.samples);
    } finally {
      store.close();
    }
  });

  it("Tracker measures this process, with phases from the API", async () => {
    const tracker = new Tracker({ env, intervalS: 0.1, store: false, label: "library test" });
    await tracker.start();
    await tracker.phase("idle", () => new Promise((resolve) => setTimeout(resolve, 300)));
    const endBusy = tracker.phase("busy");
    spinCpu(600);
    endBusy();
    // Let a sample land after the busy phase (the loop could not run while we spun).
    await new Promise((resolve) => setTimeout(resolve, 150));
    const run = await tracker.stop();
    expect(run.command).toEqual(["library test"]);
    expect(run.phases.map((p) => p.name)).toEqual(["idle", "busy"]);
    const [idle, busy] = run.phases;
    expect(busy?.energyJ.cpu ?? 0).toBeGreaterThan(idle?.energyJ.cpu ?? Infinity);
    expect(run.cpuTimeS).toBeGreaterThan(0.4);
    expect(run.status).toBe("completed");
  });

  it("Tracker counts the children this process starts", async () => {
    const tracker = new Tracker({ env, intervalS: 0.1, store: false });
    await tracker.start();
    await new Promise((resolve) =>
      spawn(process.execPath, ["-e", busyScript(700)]).on("exit", resolve),
    );
    const run = await tracker.stop();
    expect(run.cpuTimeS).toBeGreaterThan(0.4);
    expect(run.sampling.peakTreeProcesses).toBeGreaterThanOrEqual(2);
  });

  it("track() ends the run as failed when the body throws, and re-throws", async () => {
    await expect(
      track(
        () => {
          throw new Error("boom");
        },
        { env, store: false },
      ),
    ).rejects.toThrow("boom");
    const { result, run } = await track(() => 42, { env, store: false, region: "FR" });
    expect(result).toBe(42);
    expect(run.status).toBe("completed");
  });
});
