import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

import { createAmdGpuSensor, discoverAmdGpus } from "../../src/sensors/amd-hwmon.js";
import type {
  Availability,
  ChannelInfo,
  ChannelReading,
  SampleContext,
} from "../../src/sensors/sensor.js";
import {
  amdgpuEntry,
  createHwmonFixture,
  type HwmonFixture,
  type HwmonFixtureSpec,
} from "../fixtures/hwmon-fixture.js";

const ADVANCE_COUNTERS = fileURLToPath(
  new URL("../fixtures/bin/advance-counters.js", import.meta.url),
);
const CONTEXT: SampleContext = {
  intervalS: null,
  machineCpuUtilization: null,
  machineMemoryUsedBytes: 0,
};

const fixtures: HwmonFixture[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const fixture of fixtures.splice(0)) fixture.cleanup();
});

function fixtureOf(spec: HwmonFixtureSpec): HwmonFixture {
  const fixture = createHwmonFixture(spec);
  fixtures.push(fixture);
  return fixture;
}

function channelsOf(availability: Availability): ChannelInfo[] {
  if (!availability.available) throw new Error(`unavailable: ${availability.reason}`);
  return availability.channels;
}

function readingOf(readings: ChannelReading[], channelId: string): ChannelReading {
  const reading = readings.find((candidate) => candidate.channelId === channelId);
  if (reading === undefined) throw new Error(`no reading for ${channelId}`);
  return reading;
}

/** A workstation: CPU temperature sensor, NVMe, and two AMD GPUs listed out of PCI order. */
const TWO_GPUS: HwmonFixtureSpec = {
  entries: [
    { name: "k10temp", pciAddress: "0000:00:18.3", attributes: { temp1_input: 52000 } },
    amdgpuEntry({ pciAddress: "0000:0c:00.0", powerAverageUw: 212_000_000 }),
    { name: "nvme", pciAddress: "0000:01:00.0", attributes: { temp1_input: 38000 } },
    amdgpuEntry({ pciAddress: "0000:03:00.0", energyUj: 9_876_543_210, powerAverageUw: 1 }),
  ],
};

describe("AMD GPU discovery", () => {
  it("reports a missing hwmon tree as unavailable", async () => {
    const base = mkdtempSync(join(tmpdir(), "wattprint-nohwmon-"));
    try {
      const root = join(base, "sys", "class", "hwmon");
      const availability = await createAmdGpuSensor({ root }).probe();
      expect(availability.available).toBe(false);
      if (!availability.available) expect(availability.reason).toContain(root);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it("reports a machine with hwmon devices but no amdgpu as unavailable", async () => {
    const fixture = fixtureOf({ entries: [TWO_GPUS.entries[0]!, TWO_GPUS.entries[2]!] });
    const availability = await createAmdGpuSensor({ root: fixture.root }).probe();
    expect(availability.available).toBe(false);
    if (!availability.available) expect(availability.reason).toMatch(/no amdgpu hwmon device/);
  });

  it("numbers GPUs by PCI address, ignores other hwmon devices, and prefers energy1_input", async () => {
    const fixture = fixtureOf(TWO_GPUS);
    const sensor = createAmdGpuSensor({ root: fixture.root });
    const channels = channelsOf(await sensor.probe());
    expect(channels).toHaveLength(2);
    expect(channels[0]).toMatchObject({
      id: "amd-hwmon:0",
      component: "gpu",
      method: "counter",
      source: "amd-hwmon:energy1_input",
      label: "GPU 0 (amdgpu 0000:03:00.0)",
      device: { index: 0 },
    });
    expect(channels[1]).toMatchObject({
      id: "amd-hwmon:1",
      method: "power-integration",
      source: "amd-hwmon:power1_average",
      label: "GPU 1 (amdgpu 0000:0c:00.0)",
      device: { index: 1 },
    });
    for (const channel of channels) {
      expect(channel.notes?.join("\n")).toMatch(/whole device attributed/);
    }

    const readings = await sensor.read(CONTEXT);
    const energy = readingOf(readings, "amd-hwmon:0");
    expect(energy.value?.kind).toBe("energy");
    if (energy.value?.kind === "energy") {
      expect(energy.value.energyJ).toBeCloseTo(9_876.54321, 6);
      expect(energy.value.wrapJ).toBeNull();
    }
    const power = readingOf(readings, "amd-hwmon:1");
    expect(power.value?.kind).toBe("power");
    if (power.value?.kind === "power") expect(power.value.powerW).toBeCloseTo(212, 9);
    expect(energy.processes).toBeUndefined();
    expect(power.processes).toBeUndefined();
  });

  it("resolves the device link to the PCI address", () => {
    const fixture = fixtureOf(TWO_GPUS);
    expect(discoverAmdGpus(fixture.root)).toEqual([
      expect.objectContaining({ hwmon: "hwmon3", pciAddress: "0000:03:00.0" }),
      expect.objectContaining({ hwmon: "hwmon1", pciAddress: "0000:0c:00.0" }),
    ]);
  });

  it("falls back to hwmon order for devices without a device link", async () => {
    const fixture = fixtureOf({
      entries: [
        amdgpuEntry({ pciAddress: null, powerInputUw: 30_000_000 }),
        amdgpuEntry({ pciAddress: null, powerInputUw: 40_000_000 }),
      ],
    });
    const sensor = createAmdGpuSensor({ root: fixture.root });
    const availability = await sensor.probe();
    const channels = channelsOf(availability);
    expect(channels.map((channel) => [channel.label, channel.source])).toEqual([
      ["GPU 0 (amdgpu hwmon0)", "amd-hwmon:power1_input"],
      ["GPU 1 (amdgpu hwmon1)", "amd-hwmon:power1_input"],
    ]);
    const readings = await sensor.read(CONTEXT);
    const second = readingOf(readings, "amd-hwmon:1").value;
    expect(second?.kind === "power" ? second.powerW : null).toBeCloseTo(40, 9);
  });

  it("uses power1_input when power1_average exists but cannot be read", async () => {
    const fixture = fixtureOf({
      entries: [amdgpuEntry({ pciAddress: "0000:03:00.0", powerInputUw: 55_500_000 })],
    });
    fixture.setAttribute("hwmon0", "power1_average", "");
    const sensor = createAmdGpuSensor({ root: fixture.root });
    const channels = channelsOf(await sensor.probe());
    expect(channels[0]?.source).toBe("amd-hwmon:power1_input");
    expect(channels[0]?.notes?.join("\n")).toMatch(/power1_average does not hold/);
    const value = (await sensor.read(CONTEXT))[0]?.value;
    expect(value?.kind === "power" ? value.powerW : null).toBeCloseTo(55.5, 9);
  });

  it("skips a GPU that reports neither power nor energy, with a note", async () => {
    const fixture = fixtureOf({
      entries: [
        amdgpuEntry({ pciAddress: "0000:03:00.0" }),
        amdgpuEntry({ pciAddress: "0000:04:00.0", powerAverageUw: 10_000_000 }),
      ],
    });
    const availability = await createAmdGpuSensor({ root: fixture.root }).probe();
    expect(channelsOf(availability).map((channel) => channel.label)).toEqual([
      "GPU 1 (amdgpu 0000:04:00.0)",
    ]);
    if (availability.available) {
      expect(availability.notes.join("\n")).toMatch(/GPU 0 \(amdgpu 0000:03:00.0\) skipped/);
    }
  });
});

describe("AMD GPU readings", () => {
  it("returns no readings before probe()", async () => {
    const fixture = fixtureOf(TWO_GPUS);
    expect(await createAmdGpuSensor({ root: fixture.root }).read(CONTEXT)).toEqual([]);
  });

  it("a GPU that disappears mid-run gets an error; the other keeps reporting", async () => {
    const fixture = fixtureOf(TWO_GPUS);
    const sensor = createAmdGpuSensor({ root: fixture.root });
    channelsOf(await sensor.probe());
    fixture.remove("hwmon1");
    fixture.setAttribute("hwmon3", "energy1_input", 9_900_000_000);
    const readings = await sensor.read(CONTEXT);
    expect(readingOf(readings, "amd-hwmon:1").value).toBeNull();
    expect(readingOf(readings, "amd-hwmon:1").error).toMatch(/power1_average does not exist/);
    const energy = readingOf(readings, "amd-hwmon:0").value;
    expect(energy?.kind === "energy" ? energy.energyJ : null).toBeCloseTo(9_900, 6);
  });

  it("follows power and energy written in real time by advance-counters.js", async () => {
    const fixture = fixtureOf(TWO_GPUS);
    const sensor = createAmdGpuSensor({ root: fixture.root });
    channelsOf(await sensor.probe());
    const child = spawn(process.execPath, [
      ADVANCE_COUNTERS,
      "--file", fixture.attributePath("hwmon3", "energy1_input"), "--watts", "150",
      "--power-file", fixture.attributePath("hwmon1", "power1_average"), "--watts", "80",
      "--jitter", "0.02",
      "--interval-ms", "10",
      "--exit-after-ms", "20000",
    ]); // prettier-ignore
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`advance-counters exited ${code}`)));
      createInterface({ input: child.stdout }).once("line", () => resolve());
    });

    const firstAt = performance.now();
    const first = await sensor.read(CONTEXT);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await sensor.read(CONTEXT);
    const elapsedS = (performance.now() - firstAt) / 1000;

    const energyJ = (readings: ChannelReading[]) => {
      const value = readingOf(readings, "amd-hwmon:0").value;
      if (value?.kind !== "energy") throw new Error("no energy");
      return value.energyJ;
    };
    const deltaJ = energyJ(second) - energyJ(first);
    expect(deltaJ).toBeGreaterThan(150 * (elapsedS - 0.15));
    expect(deltaJ).toBeLessThan(150 * (elapsedS + 0.15));
    for (const readings of [first, second]) {
      const power = readingOf(readings, "amd-hwmon:1").value;
      if (power?.kind !== "power") throw new Error("no power");
      expect(power.powerW).toBeGreaterThanOrEqual(80 * 0.98 - 1e-6);
      expect(power.powerW).toBeLessThanOrEqual(80 * 1.02 + 1e-6);
    }
  });
});
