import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

import {
  classifyRaplDomain,
  createRaplSensor,
  discoverRaplZones,
  RAPL_PERMISSION_FIX,
  RAPL_UDEV_RULE_PATH,
  type RaplSensorOptions,
} from "../../src/sensors/rapl.js";
import type {
  Availability,
  ChannelInfo,
  ChannelReading,
  SampleContext,
} from "../../src/sensors/sensor.js";
import {
  AMD_ZEN_POWERCAP,
  createPowercapFixture,
  DESKTOP_POWERCAP,
  LAPTOP_POWERCAP,
  SERVER_POWERCAP,
  TYPICAL_MAX_ENERGY_RANGE_UJ,
  type PowercapFixture,
  type PowercapFixtureSpec,
} from "../fixtures/powercap-fixture.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ADVANCE_COUNTERS = fileURLToPath(
  new URL("../fixtures/bin/advance-counters.js", import.meta.url),
);
const CONTEXT: SampleContext = {
  intervalS: null,
  machineCpuUtilization: null,
  machineMemoryUsedBytes: 0,
};

const fixtures: PowercapFixture[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const fixture of fixtures.splice(0)) fixture.cleanup();
});

function fixtureOf(spec: PowercapFixtureSpec): PowercapFixture {
  const fixture = createPowercapFixture(spec);
  fixtures.push(fixture);
  return fixture;
}

function channelsOf(availability: Availability): ChannelInfo[] {
  if (!availability.available) throw new Error(`unavailable: ${availability.reason}`);
  return availability.channels;
}

function notesOf(availability: Availability): string[] {
  if (!availability.available) throw new Error(`unavailable: ${availability.reason}`);
  return availability.notes;
}

function energyOf(readings: ChannelReading[], channelId: string): number {
  const reading = readings.find((candidate) => candidate.channelId === channelId);
  if (reading?.value?.kind !== "energy") {
    throw new Error(`no energy reading for ${channelId}: ${JSON.stringify(reading)}`);
  }
  return reading.value.energyJ;
}

async function probe(fixture: PowercapFixture, options: RaplSensorOptions = {}) {
  const sensor = createRaplSensor({ root: fixture.root, ...options });
  const availability = await sensor.probe();
  return { sensor, availability };
}

describe("RAPL discovery and classification", () => {
  it("reports a missing powercap tree as unavailable, naming the root and the likely causes", async () => {
    const base = mkdtempSync(join(tmpdir(), "wattprint-nopowercap-"));
    try {
      const root = join(base, "sys", "class", "powercap");
      const availability = await createRaplSensor({ root }).probe();
      expect(availability.available).toBe(false);
      if (availability.available) return;
      expect(availability.reason).toContain(`no powercap tree at ${root}`);
      expect(availability.reason).toContain("VM without RAPL passthrough");
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it("reports an empty powercap tree as unavailable", async () => {
    const fixture = fixtureOf({});
    const { availability } = await probe(fixture);
    expect(availability.available).toBe(false);
  });

  it("desktop: counts the package once, core and uncore only as notes, and says RAM is not measured", async () => {
    const fixture = fixtureOf(DESKTOP_POWERCAP);
    const { sensor, availability } = await probe(fixture);
    const channels = channelsOf(availability);
    expect(channels).toHaveLength(1);
    expect(channels[0]).toMatchObject({
      id: "rapl:intel-rapl:0",
      component: "cpu",
      method: "counter",
      source: "rapl:package-0",
      label: "package-0",
    });
    const notes = notesOf(availability).join("\n");
    expect(notes).toMatch(/core \(intel-rapl:0:0\) lies inside package-0 \(intel-rapl:0\)/);
    expect(notes).toMatch(/uncore \(intel-rapl:0:1\) lies inside package-0/);
    expect(notes).toMatch(/no RAPL dram zone/);

    const readings = await sensor.read(CONTEXT);
    expect(readings).toHaveLength(1);
    expect(energyOf(readings, "rapl:intel-rapl:0")).toBeCloseTo(48_211.004551, 6);
    const value = readings[0]?.value;
    expect(value?.kind === "energy" ? value.wrapJ : undefined).toBeCloseTo(
      TYPICAL_MAX_ENERGY_RANGE_UJ / 1e6,
      6,
    );
  });

  it("server: two packages as cpu and their two dram zones as ram, dram counted although power limiting is off", async () => {
    const fixture = fixtureOf(SERVER_POWERCAP);
    const { sensor, availability } = await probe(fixture);
    const channels = channelsOf(availability);
    expect(channels.map((channel) => [channel.id, channel.component, channel.source])).toEqual([
      ["rapl:intel-rapl:0", "cpu", "rapl:package-0"],
      ["rapl:intel-rapl:1", "cpu", "rapl:package-1"],
      ["rapl:intel-rapl:0:0", "ram", "rapl:dram-0"],
      ["rapl:intel-rapl:1:0", "ram", "rapl:dram-1"],
    ]);
    const dram = channels.find((channel) => channel.id === "rapl:intel-rapl:0:0");
    expect(dram?.notes?.join("\n")).toMatch(/enabled = 0.*still counts/);

    fixture.setEnergyUJ("intel-rapl:1:0", 20_000_123_456);
    const readings = await sensor.read(CONTEXT);
    expect(readings).toHaveLength(4);
    expect(energyOf(readings, "rapl:intel-rapl:0")).toBeCloseTo(120_000, 6);
    expect(energyOf(readings, "rapl:intel-rapl:1")).toBeCloseTo(98_000, 6);
    expect(energyOf(readings, "rapl:intel-rapl:0:0")).toBeCloseTo(21_000, 6);
    expect(energyOf(readings, "rapl:intel-rapl:1:0")).toBeCloseTo(20_000.123456, 6);
  });

  it("finds every zone exactly once although sub-zones appear nested and as top-level symlinks", () => {
    const fixture = fixtureOf(LAPTOP_POWERCAP);
    const zones = discoverRaplZones(fixture.root);
    expect(zones?.map((zone) => zone.id).sort()).toEqual([...fixture.zoneIds].sort());
    expect(zones?.find((zone) => zone.id === "intel-rapl:0:1")).toMatchObject({
      name: "uncore",
      kind: "uncore",
      parentId: "intel-rapl:0",
      provider: "intel-rapl",
      powerLimitEnabled: false,
    });
  });

  it("counts no zone twice in a copied tree where sub-zones are real directories in two places", async () => {
    const fixture = fixtureOf({ ...SERVER_POWERCAP, layout: "copied" });
    const { sensor, availability } = await probe(fixture);
    const ids = channelsOf(availability).map((channel) => channel.id);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    expect(await sensor.read(CONTEXT)).toHaveLength(4);
  });

  it("reads a tree rooted at the devices directory (control-type folders, no class links)", async () => {
    const fixture = fixtureOf(SERVER_POWERCAP);
    const root = join(fixture.base, "sys", "devices", "virtual", "powercap");
    const availability = await createRaplSensor({ root }).probe();
    expect(channelsOf(availability).map((channel) => channel.source)).toEqual([
      "rapl:package-0",
      "rapl:package-1",
      "rapl:dram-0",
      "rapl:dram-1",
    ]);
  });

  it("orders zones by their hexadecimal kernel index (intel-rapl:a after intel-rapl:9)", async () => {
    const packages = Array.from({ length: 11 }, (_, index) => ({
      name: `package-${index}`,
      energyUj: index * 1_000_000,
    }));
    const fixture = fixtureOf({ msr: packages });
    const { sensor, availability } = await probe(fixture);
    const channels = channelsOf(availability);
    expect(channels.map((channel) => channel.label)).toEqual(packages.map((zone) => zone.name));
    expect(channels[10]?.id).toBe("rapl:intel-rapl:a");
    expect(energyOf(await sensor.read(CONTEXT), "rapl:intel-rapl:a")).toBeCloseTo(10, 6);
  });

  it("laptop: reads package-0 from MSR once, skips its MMIO duplicate, and leaves psys out by default", async () => {
    const fixture = fixtureOf(LAPTOP_POWERCAP);
    const { sensor, availability } = await probe(fixture);
    const channels = channelsOf(availability);
    expect(channels.map((channel) => channel.id)).toEqual(["rapl:intel-rapl:0"]);
    const notes = notesOf(availability).join("\n");
    expect(notes).toMatch(/package-0 \(intel-rapl-mmio:0\) repeats package-0 \(intel-rapl:0\)/);
    expect(notes).toMatch(/psys \(intel-rapl:1\) not counted/);
    expect(energyOf(await sensor.read(CONTEXT), "rapl:intel-rapl:0")).toBeCloseTo(7_000, 6);
  });

  it("laptop with domains psys: one platform channel as cpu, no ram channel", async () => {
    const fixture = fixtureOf(LAPTOP_POWERCAP);
    const { sensor, availability } = await probe(fixture, { domains: "psys" });
    const channels = channelsOf(availability);
    expect(channels).toHaveLength(1);
    expect(channels[0]).toMatchObject({
      id: "rapl:intel-rapl:1",
      component: "cpu",
      source: "rapl:psys",
    });
    expect(channels[0]?.notes?.join("\n")).toMatch(/whole SoC platform/);
    expect(channels.some((channel) => channel.component === "ram")).toBe(false);
    expect(energyOf(await sensor.read(CONTEXT), "rapl:intel-rapl:1")).toBeCloseTo(11_000, 6);
  });

  it("domains psys where no psys zone exists: unavailable, saying why", async () => {
    const fixture = fixtureOf(SERVER_POWERCAP);
    const { availability } = await probe(fixture, { domains: "psys" });
    expect(availability.available).toBe(false);
    if (!availability.available) expect(availability.reason).toMatch(/psys/);
  });

  it("falls back to psys when the default is asked but only psys exists, and says so", async () => {
    const fixture = fixtureOf({ msr: [{ name: "psys", energyUj: 3_000_000 }] });
    const { sensor, availability } = await probe(fixture);
    const channels = channelsOf(availability);
    expect(channels.map((channel) => channel.source)).toEqual(["rapl:psys"]);
    expect(notesOf(availability).join("\n")).toMatch(/no RAPL package zone; using the psys/);
    expect(energyOf(await sensor.read(CONTEXT), "rapl:intel-rapl:0")).toBeCloseTo(3, 6);
  });

  it("uses the MMIO interface where there is no MSR zone, and says so", async () => {
    const fixture = fixtureOf({ mmio: [{ name: "package-0", energyUj: 1_500_000 }] });
    const { sensor, availability } = await probe(fixture);
    const channels = channelsOf(availability);
    expect(channels).toHaveLength(1);
    expect(channels[0]).toMatchObject({ id: "rapl:intel-rapl-mmio:0", source: "rapl:package-0" });
    expect(channels[0]?.notes?.join("\n")).toMatch(/intel-rapl-mmio interface/);
    expect(energyOf(await sensor.read(CONTEXT), "rapl:intel-rapl-mmio:0")).toBeCloseTo(1.5, 6);
  });

  it("AMD Zen (power limiting off everywhere): the package counter is still read", async () => {
    const fixture = fixtureOf(AMD_ZEN_POWERCAP);
    const { sensor, availability } = await probe(fixture);
    const channels = channelsOf(availability);
    expect(channels.map((channel) => channel.id)).toEqual(["rapl:intel-rapl:0"]);
    expect(channels[0]?.notes?.join("\n")).toMatch(/enabled = 0/);
    expect(energyOf(await sensor.read(CONTEXT), "rapl:intel-rapl:0")).toBeCloseTo(5_500, 6);
  });

  it("classifies kernel domain names, multi-die packages included", () => {
    expect(classifyRaplDomain("package-0")).toBe("package");
    expect(classifyRaplDomain("package-1-die-1")).toBe("package");
    expect(classifyRaplDomain("dram")).toBe("dram");
    expect(classifyRaplDomain("psys")).toBe("psys");
    expect(classifyRaplDomain("core")).toBe("core");
    expect(classifyRaplDomain("uncore")).toBe("uncore");
    expect(classifyRaplDomain("packages")).toBe("unknown");
    expect(classifyRaplDomain(null)).toBe("unknown");
  });
});

describe("RAPL readings", () => {
  it("returns no readings before probe()", async () => {
    const fixture = fixtureOf(DESKTOP_POWERCAP);
    expect(await createRaplSensor({ root: fixture.root }).read(CONTEXT)).toEqual([]);
  });

  it("keeps reading the other zones when one vanishes mid-run, and never throws", async () => {
    const fixture = fixtureOf(SERVER_POWERCAP);
    const { sensor, availability } = await probe(fixture);
    expect(channelsOf(availability)).toHaveLength(4);
    fixture.remove("intel-rapl:1");
    fixture.advanceEnergyUJ("intel-rapl:0", 2_500_000);
    const readings = await sensor.read(CONTEXT);
    expect(readings).toHaveLength(4);
    expect(energyOf(readings, "rapl:intel-rapl:0")).toBeCloseTo(120_002.5, 6);
    expect(energyOf(readings, "rapl:intel-rapl:0:0")).toBeCloseTo(21_000, 6);
    for (const id of ["rapl:intel-rapl:1", "rapl:intel-rapl:1:0"]) {
      const reading = readings.find((candidate) => candidate.channelId === id);
      expect(reading?.value).toBeNull();
      expect(reading?.error).toMatch(/vanished/);
    }
  });

  it("reports a counter that no longer holds a number as an error on that channel only", async () => {
    const fixture = fixtureOf(SERVER_POWERCAP);
    const { sensor } = await probe(fixture);
    writeFileSync(fixture.energyPath("intel-rapl:0:0"), "not a number\n");
    const readings = await sensor.read(CONTEXT);
    const dram = readings.find((reading) => reading.channelId === "rapl:intel-rapl:0:0");
    expect(dram?.value).toBeNull();
    expect(dram?.error).toMatch(/intel-rapl:0:0\/energy_uj does not hold a non-negative integer$/);
    expect(energyOf(readings, "rapl:intel-rapl:1")).toBeCloseTo(98_000, 6);
  });

  it("skips at probe a zone whose counter is a directory, keeping the others", async () => {
    const fixture = fixtureOf(SERVER_POWERCAP);
    const path = fixture.energyPath("intel-rapl:1:0");
    rmSync(path);
    mkdirSync(path);
    const { availability } = await probe(fixture);
    expect(channelsOf(availability).map((channel) => channel.id)).toEqual([
      "rapl:intel-rapl:0",
      "rapl:intel-rapl:1",
      "rapl:intel-rapl:0:0",
    ]);
    expect(notesOf(availability).join("\n")).toMatch(/intel-rapl:1:0\) skipped: .*is a directory/);
  });

  it("reports wrapped counters raw, with the wrap range, so the tracker can unwrap them", async () => {
    const maxEnergyRangeUj = 65_712_999_613;
    const fixture = fixtureOf({
      msr: [{ name: "package-0", energyUj: maxEnergyRangeUj - 4_000_000, maxEnergyRangeUj }],
    });
    const { sensor } = await probe(fixture);
    const before = await sensor.read(CONTEXT);
    fixture.advanceEnergyUJ("intel-rapl:0", 10_000_000);
    const after = await sensor.read(CONTEXT);
    const first = before[0]?.value;
    const second = after[0]?.value;
    if (first?.kind !== "energy" || second?.kind !== "energy") throw new Error("no energy");
    expect(first.wrapJ).toBeCloseTo(maxEnergyRangeUj / 1e6, 6);
    expect(second.energyJ).toBeLessThan(first.energyJ);
    expect(second.energyJ).toBeCloseTo(6, 6);
    // Unwrapping the two raw values recovers the 10 J that were added.
    expect(first.wrapJ! - first.energyJ + second.energyJ).toBeCloseTo(10, 4);
  });
});

describe("RAPL counters advancing in real time (advance-counters.js)", () => {
  function startAdvancing(args: string[]): Promise<ChildProcessWithoutNullStreams> {
    const child = spawn(process.execPath, [ADVANCE_COUNTERS, ...args, "--exit-after-ms", "20000"]);
    children.push(child);
    return new Promise((resolve, reject) => {
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.once("exit", (code) => reject(new Error(`advance-counters exited ${code}: ${stderr}`)));
      createInterface({ input: child.stdout }).once("line", (line) => {
        if (line === "ready") resolve(child);
        else reject(new Error(`unexpected output: ${line}`));
      });
    });
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("sees energy grow by watts × elapsed on package and dram", async () => {
    const fixture = fixtureOf(SERVER_POWERCAP);
    const { sensor } = await probe(fixture);
    await startAdvancing([
      "--file", fixture.energyPath("intel-rapl:0"), "--watts", "25",
      "--file", fixture.energyPath("intel-rapl:0:0"), "--watts", "4",
      "--interval-ms", "10",
    ]); // prettier-ignore
    const firstAt = performance.now();
    const first = await sensor.read(CONTEXT);
    await sleep(300);
    const second = await sensor.read(CONTEXT);
    const elapsedS = (performance.now() - firstAt) / 1000;

    for (const [id, watts] of [
      ["rapl:intel-rapl:0", 25],
      ["rapl:intel-rapl:0:0", 4],
    ] as const) {
      const deltaJ = energyOf(second, id) - energyOf(first, id);
      // Each read can lag the writer by about one tick; allow 0.15 s of slack either way.
      expect(deltaJ).toBeGreaterThan(watts * (elapsedS - 0.15));
      expect(deltaJ).toBeLessThan(watts * (elapsedS + 0.15));
    }
    // The package that nothing advances stays put.
    expect(energyOf(second, "rapl:intel-rapl:1")).toBeCloseTo(
      energyOf(first, "rapl:intel-rapl:1"),
      9,
    );
  });

  it("sees a small counter wrap in real time and every raw value stays within its range", async () => {
    const maxEnergyRangeUj = 10_000_000; // 10 J: wraps every 0.2 s at 50 W
    const fixture = fixtureOf({ msr: [{ name: "package-0", energyUj: 0, maxEnergyRangeUj }] });
    const { sensor } = await probe(fixture);
    await startAdvancing([
      "--file", fixture.energyPath("intel-rapl:0"), "--watts", "50",
      "--max-uj", String(maxEnergyRangeUj), "--interval-ms", "5",
    ]); // prettier-ignore
    const values: number[] = [];
    for (let i = 0; i < 40; i++) {
      const reading = (await sensor.read(CONTEXT))[0]?.value;
      if (reading?.kind !== "energy") throw new Error("no energy");
      expect(reading.wrapJ).toBeCloseTo(10, 9);
      values.push(reading.energyJ);
      await sleep(25);
    }
    expect(values.every((value) => value >= 0 && value < 10)).toBe(true);
    const decreases = values.filter((value, index) => index > 0 && value < values[index - 1]!);
    expect(decreases.length).toBeGreaterThan(0);
  });
});

describe("RAPL permissions (read as an unprivileged user)", () => {
  const isRoot = process.getuid?.() === 0;
  // As root, chmod 000 does not stop reads; run the sensor in a child that dropped to nobody.
  const unprivilegedUid = isRoot ? 65534 : undefined;
  const canRunUnprivileged =
    !isRoot || spawnSync(process.execPath, ["-e", ""], { uid: 65534, gid: 65534 }).status === 0;

  interface ChildReport {
    availability: Availability;
    first: ChannelReading[];
    second: ChannelReading[];
  }

  /**
   * Runs the real sensor in a child process without read permission on 000 files; calls
   * `between` after the child's first read and before its second.
   */
  async function runUnprivileged(
    fixture: PowercapFixture,
    between: () => void,
  ): Promise<ChildReport> {
    const script = join(fixture.base, "probe-as-user.mjs");
    const moduleUrl = pathToFileURL(join(REPO_ROOT, "src", "sensors", "rapl.ts")).href;
    writeFileSync(
      script,
      [
        `import { createRaplSensor } from ${JSON.stringify(moduleUrl)};`,
        `const context = ${JSON.stringify(CONTEXT)};`,
        `const sensor = createRaplSensor({ root: ${JSON.stringify(fixture.root)} });`,
        `const availability = await sensor.probe();`,
        `const first = await sensor.read(context);`,
        `console.log(JSON.stringify({ availability, first }));`,
        `await new Promise((resolve) => process.stdin.once("data", resolve));`,
        `console.log(JSON.stringify({ second: await sensor.read(context) }));`,
        `process.exit(0);`,
      ].join("\n"),
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: REPO_ROOT,
      ...(unprivilegedUid === undefined ? {} : { uid: unprivilegedUid, gid: unprivilegedUid }),
    });
    children.push(child);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<Record<string, unknown>> => {
      const line = await lines.next();
      if (line.done === true) throw new Error(`child ended early: ${stderr}`);
      return JSON.parse(line.value) as Record<string, unknown>;
    };
    const firstReport = await next();
    between();
    child.stdin.write("go\n");
    const secondReport = await next();
    return { ...firstReport, ...secondReport } as unknown as ChildReport;
  }

  it.skipIf(!canRunUnprivileged)(
    "permission denied at probe: unavailable, naming the path, CVE-2020-8694 and the udev fix",
    async () => {
      const fixture = fixtureOf(SERVER_POWERCAP);
      fixture.makeUnreadable("intel-rapl:0");
      const report = await runUnprivileged(fixture, () => {});
      const { availability } = report;
      expect(availability.available).toBe(false);
      if (availability.available) return;
      expect(availability.reason).toBe(
        `permission denied reading ${join(fixture.root, "intel-rapl:0", "energy_uj")} ` +
          "(kernel restricts RAPL energy counters to root since CVE-2020-8694)",
      );
      expect(availability.fix).toBe(RAPL_PERMISSION_FIX);
      expect(availability.fix).toContain(RAPL_UDEV_RULE_PATH);
      expect(availability.fix).toContain("udevadm trigger --subsystem-match=powercap --action=add");
      expect(availability.fix).not.toMatch(/chmod (0?666|a\+r|o\+r)/);
      expect(report.first).toEqual([]);
    },
  );

  it.skipIf(!canRunUnprivileged)(
    "a zone that becomes unreadable mid-run gives that channel an error; the others continue",
    async () => {
      const fixture = fixtureOf(SERVER_POWERCAP);
      const report = await runUnprivileged(fixture, () => {
        fixture.makeUnreadable("intel-rapl:1:0");
        fixture.advanceEnergyUJ("intel-rapl:0", 1_000_000);
      });
      expect(channelsOf(report.availability)).toHaveLength(4);
      expect(report.first.every((reading) => reading.value !== null)).toBe(true);
      const dram = report.second.find((reading) => reading.channelId === "rapl:intel-rapl:1:0");
      expect(dram?.value).toBeNull();
      expect(dram?.error).toMatch(/^permission denied reading .*intel-rapl:1:0\/energy_uj$/);
      expect(energyOf(report.second, "rapl:intel-rapl:0")).toBeCloseTo(120_001, 6);
    },
  );
});
