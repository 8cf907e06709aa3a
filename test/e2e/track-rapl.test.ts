import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import type { RunRecord } from "../../src/record/run-record.js";
import {
  SERVER_POWERCAP,
  createPowercapFixture,
  type PowercapFixture,
} from "../fixtures/powercap-fixture.js";
import { FIXTURE_BIN, busyScript, isolatedEnv, runCli, tempDir } from "../helpers/cli.js";

const PACKAGE_0_W = 40;
const PACKAGE_1_W = 20;
const DRAM_W = 6;

/** Starts the stand-in hardware: counters advancing at the given watts, in real time. */
async function startHardware(fixture: PowercapFixture, wrapUj: number): Promise<ChildProcess> {
  const files: string[] = [];
  const add = (zone: string, watts: number, maxUj?: number) =>
    files.push(
      "--file",
      fixture.energyPath(zone),
      "--watts",
      String(watts),
      ...(maxUj ? ["--max-uj", String(maxUj)] : []),
    );
  add("intel-rapl:0", PACKAGE_0_W, wrapUj);
  add("intel-rapl:1", PACKAGE_1_W);
  add("intel-rapl:0:0", DRAM_W);
  add("intel-rapl:1:0", 0);
  const hardware = spawn(
    process.execPath,
    [join(FIXTURE_BIN, "advance-counters.js"), ...files, "--interval-ms", "20"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await once(hardware.stdout!, "data");
  return hardware;
}

describe("wattprint track reading RAPL counters that advance in real time", () => {
  const dir = tempDir();
  // package-0 wraps every 2 s at 40 W: the run crosses at least one wrap.
  const wrapUj = 80_000_000;
  const fixture = createPowercapFixture({
    msr: SERVER_POWERCAP.msr?.map((zone, i) =>
      i === 0 ? { ...zone, energyUj: 70_000_000, maxEnergyRangeUj: wrapUj } : zone,
    ),
  });
  let hardware: ChildProcess;
  let run: RunRecord;
  let stderr = "";

  beforeAll(async () => {
    hardware = await startHardware(fixture, wrapUj);
    const result = await runCli(
      [
        "track",
        "--interval",
        "200ms",
        "--region",
        "DE",
        "--out",
        join(dir.path, "run.json"),
        "--",
        process.execPath,
        "-e",
        busyScript(2500),
      ],
      { env: isolatedEnv(dir.path, { WATTPRINT_POWERCAP_ROOT: fixture.root }) },
    );
    expect(result.code).toBe(0);
    stderr = result.stderr;
    run = JSON.parse(readFileSync(join(dir.path, "run.json"), "utf8")) as RunRecord;
  });
  afterAll(() => {
    hardware?.kill("SIGTERM");
    fixture.cleanup();
    dir.cleanup();
  });

  it("reads every package and dram zone as counters, not the model", () => {
    const sources = run.sources.map((s) => `${s.component}:${s.method}:${s.source}`).sort();
    expect(sources).toEqual([
      "cpu:counter:rapl:package-0",
      "cpu:counter:rapl:package-1",
      "ram:counter:rapl:dram-0",
      "ram:counter:rapl:dram-1",
    ]);
    expect(run.warnings.some((w) => /modelled/.test(w))).toBe(false);
  });

  it("gets the machine's energy right across a counter wraparound", () => {
    // Energy is integrated between the first and last samples, about the run's duration.
    const spanS = run.durationS;
    expect(run.machineEnergyJ.cpu).toBeGreaterThan((PACKAGE_0_W + PACKAGE_1_W) * spanS * 0.85);
    expect(run.machineEnergyJ.cpu).toBeLessThan((PACKAGE_0_W + PACKAGE_1_W) * spanS * 1.1);
    expect(run.machineEnergyJ.ram).toBeGreaterThan(DRAM_W * spanS * 0.85);
    expect(run.machineEnergyJ.ram).toBeLessThan(DRAM_W * spanS * 1.1);
    expect(run.warnings.some((w) => /rapl:package-0: counter wrapped around/.test(w))).toBe(true);
    const package0 = run.sources.find((s) => s.source === "rapl:package-0");
    expect(package0?.machineEnergyJ).toBeGreaterThan(PACKAGE_0_W * spanS * 0.85);
  });

  it("splits the machine's CPU energy into the run, idle power and other processes", () => {
    const split = run.cpuSplitJ;
    expect(split).not.toBeNull();
    if (!split) return;
    expect(split.attributedJ + split.idleJ + split.otherProcessesJ).toBeCloseTo(
      run.machineEnergyJ.cpu ?? -1,
      6,
    );
    expect(split.attributedJ).toBeGreaterThan(0);
    expect(split.idleSource).toMatch(/tdp-model/);
    expect(run.energyJ.ram).toBeGreaterThan(0);
    expect(run.energyJ.ram).toBeLessThan(run.machineEnergyJ.ram ?? 0);
  });

  it("names the counters in the summary", () => {
    expect(stderr).toMatch(/cpu: counter rapl:package-0/);
  });
});

describe("wattprint track when a RAPL zone vanishes mid-run", () => {
  it("switches the CPU to the model from then on and says so", async () => {
    const dir = tempDir();
    const fixture = createPowercapFixture({ msr: [{ name: "package-0", energyUj: 1_000_000 }] });
    const hardware = await startHardwareSingle(fixture);
    try {
      const script = `${busyScript(600)} require("fs").rmSync(${JSON.stringify(fixture.zonePath("intel-rapl:0"))}, { recursive: true, force: true }); ${busyScript(900)}`;
      const result = await runCli(
        [
          "track",
          "--quiet",
          "--interval",
          "200ms",
          "--no-store",
          "--out",
          join(dir.path, "run.json"),
          "--",
          process.execPath,
          "-e",
          script,
        ],
        { env: isolatedEnv(dir.path, { WATTPRINT_POWERCAP_ROOT: fixture.root }) },
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const run = JSON.parse(readFileSync(join(dir.path, "run.json"), "utf8")) as RunRecord;
      expect(run.warnings.join("\n")).toMatch(
        /CPU: rapl:package-0 stopped reading .* tdp-model.* stands in/,
      );
      expect(run.sources.map((s) => s.method).sort()).toEqual(["counter", "model", "model"]);
      expect(run.machineEnergyJ.cpu).toBeGreaterThan(0);
    } finally {
      hardware.kill("SIGTERM");
      fixture.cleanup();
      dir.cleanup();
    }
  });
});

async function startHardwareSingle(fixture: PowercapFixture): Promise<ChildProcess> {
  const hardware = spawn(
    process.execPath,
    [
      join(FIXTURE_BIN, "advance-counters.js"),
      "--file",
      fixture.energyPath("intel-rapl:0"),
      "--watts",
      "30",
      "--interval-ms",
      "20",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  await once(hardware.stdout!, "data");
  return hardware;
}
