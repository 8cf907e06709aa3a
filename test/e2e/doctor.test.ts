import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { SERVER_POWERCAP, createPowercapFixture } from "../fixtures/powercap-fixture.js";
import { BIN, FIXTURE_BIN, isolatedEnv, runCli, tempDir } from "../helpers/cli.js";

const dir = tempDir();
const fixture = createPowercapFixture(SERVER_POWERCAP);
afterAll(() => {
  fixture.cleanup();
  dir.cleanup();
});

interface DoctorReport {
  sensors: {
    sensor: string;
    available: boolean;
    reason?: string;
    fix?: string | null;
    channels?: { source: string }[];
  }[];
  track: { uses: string[]; unmeasured: { component: string; reason: string }[] };
  machine: { virtualMachine: boolean };
}

describe("wattprint doctor", () => {
  it("says what can be measured, from which source, and what track will use", async () => {
    const gpus = JSON.stringify([
      { index: 0, uuid: "GPU-aaaa", name: "NVIDIA L4", idleW: 16, busyW: 16 },
    ]);
    const result = await runCli(["doctor", "--json"], {
      env: isolatedEnv(dir.path, {
        WATTPRINT_POWERCAP_ROOT: fixture.root,
        PATH: `${FIXTURE_BIN}:${process.env.PATH ?? ""}`,
        FAKE_NVIDIA_SMI_GPUS: gpus,
      }),
    });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as DoctorReport;
    const rapl = report.sensors.find((s) => s.sensor === "rapl");
    expect(rapl?.available).toBe(true);
    expect(rapl?.channels?.map((c) => c.source).sort()).toEqual([
      "rapl:dram-0",
      "rapl:dram-1",
      "rapl:package-0",
      "rapl:package-1",
    ]);
    const nvml = report.sensors.find((s) => s.sensor === "nvml");
    expect(nvml).toBeUndefined(); // WATTPRINT_NVML=off
    expect(report.track.uses).toContain("cpu: counter rapl:package-0");
    expect(report.track.uses).toContain("gpu: power-integration nvidia-smi:power.draw");
    expect(report.track.uses.some((u) => u.startsWith("cpu: model"))).toBe(false);
  });

  it("explains missing sensors with the reason and the safe fix in plain text", async () => {
    const result = await runCli(["doctor"], { env: isolatedEnv(dir.path) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/no {2}rapl .*\n {6}why: no powercap tree at/);
    expect(result.stdout).toMatch(/cpu: model tdp-model:/);
    expect(result.stdout).toMatch(/gpu: not measured — no GPU found/);
  });

  const isRoot = process.getuid?.() === 0;
  const nobodyCanRun =
    isRoot && spawnSync(process.execPath, ["-e", "0"], { uid: 65534, gid: 65534 }).status === 0;
  it.skipIf(!nobodyCanRun)(
    "gives the group-readable udev rule, not chmod 666, when RAPL is root-only (run as uid 65534)",
    () => {
      const restricted = createPowercapFixture(SERVER_POWERCAP);
      try {
        for (const zone of restricted.zoneIds) chmodSync(restricted.energyPath(zone), 0o400);
        const result = spawnSync(process.execPath, [BIN, "doctor"], {
          uid: 65534,
          gid: 65534,
          env: isolatedEnv(dir.path, { WATTPRINT_POWERCAP_ROOT: restricted.root, HOME: "/tmp" }),
          encoding: "utf8",
        });
        expect(result.status).toBe(0);
        expect(result.stdout).toMatch(/why: permission denied reading .*energy_uj.*CVE-2020-8694/);
        expect(result.stdout).toMatch(/fix: .*udev/);
        expect(result.stdout).toMatch(/chgrp/);
        expect(result.stdout).not.toMatch(/chmod (a\+r|666|0?444)/);
      } finally {
        restricted.cleanup();
      }
    },
  );
});
