import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  createNvidiaSmiSensor,
  parseNvidiaSmiApps,
  parseNvidiaSmiGpus,
  type NvidiaSmiSensorOptions,
} from "../../src/sensors/nvidia-smi.js";
import type { ChannelInfo, SampleContext } from "../../src/sensors/sensor.js";

const FIXTURE_BIN = fileURLToPath(new URL("../fixtures/bin", import.meta.url));
const FAKE = join(FIXTURE_BIN, "nvidia-smi");
const NODE_DIR = dirname(process.execPath);
const CONTEXT: SampleContext = {
  intervalS: null,
  machineCpuUtilization: null,
  machineMemoryUsedBytes: 0,
};

const UUID_0 = "GPU-5c1e0a4b-71d2-4c3e-9f10-2b6a8d1e0f01";
const UUID_1 = "GPU-9ad07c33-0e4f-4b51-8c2d-7e3f1a2b3c02";
const GPUS = [
  { index: 0, uuid: UUID_0, name: "NVIDIA A100-SXM4-80GB", idleW: 61.234, busyW: 312.5 },
  { index: 1, uuid: UUID_1, name: "NVIDIA H100 80GB HBM3", idleW: 72.5, busyW: 655.25 },
];

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-nvidia-smi-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Environment for the fake: its settings plus a PATH on which `env node` resolves. */
function fakeEnv(settings: Record<string, string>, path?: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: path ?? `${NODE_DIR}:${process.env.PATH ?? ""}`,
    FAKE_NVIDIA_SMI_START_MS: String(Date.now()),
    ...settings,
  };
}

function fakeSensor(
  settings: Record<string, string>,
  options: NvidiaSmiSensorOptions = {},
): ReturnType<typeof createNvidiaSmiSensor> {
  return createNvidiaSmiSensor({
    command: FAKE,
    env: fakeEnv({ FAKE_NVIDIA_SMI_GPUS: JSON.stringify(GPUS), ...settings }),
    ...options,
  });
}

function sleepUntil(epochMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));
}

function powerOf(readings: Awaited<ReturnType<ReturnType<typeof fakeSensor>["read"]>>, id: string) {
  const reading = readings.find((r) => r.channelId === id);
  if (reading?.value?.kind !== "power") return null;
  return reading.value.powerW;
}

describe("parsers", () => {
  it("parse the real CSV shapes, including a name with a comma and [N/A]", () => {
    const rows = parseNvidiaSmiGpus(
      `0, ${UUID_0}, NVIDIA A100-SXM4-80GB, 61.23\n1, ${UUID_1}, Odd, Name, [N/A]\n`,
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]?.powerW).toBeCloseTo(61.23, 5);
    expect(rows[1]).toMatchObject({ index: 1, name: "Odd, Name", powerW: null });
    expect(rows[1]?.powerError).toContain("[N/A]");
    expect(() => parseNvidiaSmiGpus("hello world")).toThrow(/hello world/);
    expect(() => parseNvidiaSmiGpus("")).toThrow(/no GPUs/);
    expect(parseNvidiaSmiApps(`${UUID_0}, 4242\n${UUID_1}, 7\n`)).toEqual([
      { gpuUuid: UUID_0, pid: 4242 },
      { gpuUuid: UUID_1, pid: 7 },
    ]);
    expect(parseNvidiaSmiApps("")).toEqual([]);
    expect(() => parseNvidiaSmiApps("pid, 12")).toThrow();
  });
});

describe("createNvidiaSmiSensor with the fake nvidia-smi", () => {
  it("finds every GPU and reads its power", async () => {
    const sensor = fakeSensor({});
    const availability = await sensor.probe();
    expect(availability.available).toBe(true);
    if (!availability.available) return;
    expect(availability.channels.map((c: ChannelInfo) => c.id)).toEqual([
      "nvidia-smi:0",
      "nvidia-smi:1",
    ]);
    expect(availability.channels[1]).toMatchObject({
      component: "gpu",
      method: "power-integration",
      source: "nvidia-smi:power.draw",
      label: "GPU 1 (NVIDIA H100 80GB HBM3)",
      device: { index: 1, uuid: UUID_1, name: "NVIDIA H100 80GB HBM3" },
    });
    const readings = await sensor.read(CONTEXT);
    expect(powerOf(readings, "nvidia-smi:0")).toBeCloseTo(GPUS[0]!.idleW, 1);
    expect(powerOf(readings, "nvidia-smi:1")).toBeCloseTo(GPUS[1]!.idleW, 1);
  });

  it("honours CUDA_VISIBLE_DEVICES by index and by UUID prefix", async () => {
    const byIndex = await fakeSensor({}, { cudaVisibleDevices: "1" }).probe();
    expect(byIndex.available && byIndex.channels.map((c) => c.id)).toEqual(["nvidia-smi:1"]);
    expect(byIndex.available && byIndex.channels[0]?.notes?.join(" ")).toMatch(/FASTEST_FIRST/);

    const byUuid = fakeSensor({}, { cudaVisibleDevices: UUID_0.slice(0, 12) });
    const uuidAvailability = await byUuid.probe();
    expect(uuidAvailability.available && uuidAvailability.channels.map((c) => c.id)).toEqual([
      "nvidia-smi:0",
    ]);
    const readings = await byUuid.read(CONTEXT);
    expect(readings.map((r) => r.channelId)).toEqual(["nvidia-smi:0"]);

    const none = await fakeSensor({}, { cudaVisibleDevices: "" }).probe();
    expect(none.available).toBe(false);
    expect(!none.available && none.reason).toMatch(/CUDA_VISIBLE_DEVICES/);
  });

  it("follows the configured busy window over time", async () => {
    const startMs = Date.now();
    const gpus = [{ ...GPUS[0], busyFromMs: 1200, busyToMs: 2600 }];
    const sensor = fakeSensor({
      FAKE_NVIDIA_SMI_GPUS: JSON.stringify(gpus),
      FAKE_NVIDIA_SMI_START_MS: String(startMs),
    });
    await sensor.probe();
    const before = await sensor.read(CONTEXT);
    expect(Date.now() - startMs).toBeLessThan(1200); // otherwise the test itself is too slow
    expect(powerOf(before, "nvidia-smi:0")).toBeCloseTo(GPUS[0]!.idleW, 1);
    await sleepUntil(startMs + 1600);
    const during = await sensor.read(CONTEXT);
    expect(powerOf(during, "nvidia-smi:0")).toBeCloseTo(GPUS[0]!.busyW, 1);
    await sleepUntil(startMs + 2800);
    const after = await sensor.read(CONTEXT);
    expect(powerOf(after, "nvidia-smi:0")).toBeCloseTo(GPUS[0]!.idleW, 1);
  });

  it("reports [N/A] and [Not Supported] power as null with the reason", async () => {
    for (const [setting, shown] of [
      ["1", "[N/A]"],
      ["not-supported", "[Not Supported]"],
    ] as const) {
      const sensor = fakeSensor({ FAKE_NVIDIA_SMI_NA: setting });
      const availability = await sensor.probe();
      expect(availability.available).toBe(true);
      expect(availability.available && availability.notes.join(" ")).toContain(shown);
      const readings = await sensor.read(CONTEXT);
      expect(readings).toHaveLength(2);
      for (const reading of readings) {
        expect(reading.value).toBeNull();
        expect(reading.error).toContain(shown);
      }
    }
  });

  it("is unavailable with the tool's first error line when the driver cannot be reached", async () => {
    const availability = await fakeSensor({ FAKE_NVIDIA_SMI_FAIL: "1" }).probe();
    expect(availability.available).toBe(false);
    expect(!availability.available && availability.reason).toMatch(
      /exit 9.*couldn't communicate with the NVIDIA driver/,
    );
  });

  it("returns null readings with the error when the tool starts failing mid-run", async () => {
    const startMs = Date.now();
    const sensor = fakeSensor({
      FAKE_NVIDIA_SMI_START_MS: String(startMs),
      FAKE_NVIDIA_SMI_FAIL_FROM_MS: "1000",
    });
    expect((await sensor.probe()).available).toBe(true);
    await sleepUntil(startMs + 1200);
    const readings = await sensor.read(CONTEXT);
    expect(readings.map((r) => r.channelId)).toEqual(["nvidia-smi:0", "nvidia-smi:1"]);
    for (const reading of readings) {
      expect(reading.value).toBeNull();
      expect(reading.error).toMatch(/couldn't communicate/);
      expect(reading.processes).toBeUndefined();
    }
  });

  it("maps compute processes to their GPU, following a file rewritten between reads", async () => {
    const appsFile = join(tempDir(), "apps.json");
    const writeApps = (apps: { gpuUuid: string; pid: number }[]) =>
      writeFileSync(appsFile, JSON.stringify(apps));
    writeApps([
      { gpuUuid: UUID_0, pid: 101 },
      { gpuUuid: UUID_1, pid: 202 },
      { gpuUuid: UUID_0, pid: 303 },
    ]);
    const sensor = fakeSensor({ FAKE_NVIDIA_SMI_APPS: appsFile });
    await sensor.probe();
    const first = await sensor.read(CONTEXT);
    const pidsOn = (readings: typeof first, id: string) =>
      readings.find((r) => r.channelId === id)?.processes?.map((p) => p.pid);
    expect(pidsOn(first, "nvidia-smi:0")).toEqual([101, 303]);
    expect(pidsOn(first, "nvidia-smi:1")).toEqual([202]);
    expect(first[0]?.processes?.every((p) => p.share === null)).toBe(true);

    writeApps([{ gpuUuid: UUID_1, pid: 404 }]);
    const second = await sensor.read(CONTEXT);
    expect(pidsOn(second, "nvidia-smi:0")).toEqual([]);
    expect(pidsOn(second, "nvidia-smi:1")).toEqual([404]);

    // The process query failing leaves the processes unknown but the power readable.
    writeFileSync(appsFile, "{not json");
    const third = await sensor.read(CONTEXT);
    expect(third[0]?.processes).toBeUndefined();
    expect(powerOf(third, "nvidia-smi:0")).toBeCloseTo(GPUS[0]!.idleW, 1);
  });
});

describe("createNvidiaSmiSensor finding and running the command", () => {
  it("looks nvidia-smi up on the PATH it is given", async () => {
    const found = createNvidiaSmiSensor({
      env: fakeEnv({ FAKE_NVIDIA_SMI_GPUS: JSON.stringify(GPUS) }, `${FIXTURE_BIN}:${NODE_DIR}`),
    });
    expect((await found.probe()).available).toBe(true);

    const missing = createNvidiaSmiSensor({ env: fakeEnv({}, tempDir()) });
    const availability = await missing.probe();
    expect(availability).toMatchObject({
      available: false,
      reason: "nvidia-smi not found on PATH",
    });
    expect(await missing.read(CONTEXT)).toEqual([]);
  });

  it("says which path is missing when given one", async () => {
    const path = join(tempDir(), "nvidia-smi");
    const availability = await createNvidiaSmiSensor({ command: path }).probe();
    expect(!availability.available && availability.reason).toBe(`${path} not found`);
  });

  it("rejects output it cannot parse and a tool that hangs", async () => {
    const dir = tempDir();
    const garbage = join(dir, "garbage-smi");
    writeFileSync(garbage, "#!/bin/sh\necho 'Segmentation fault in libfoo'\n");
    chmodSync(garbage, 0o755);
    const garbled = await createNvidiaSmiSensor({ command: garbage }).probe();
    expect(!garbled.available && garbled.reason).toMatch(/Segmentation fault in libfoo/);

    const hang = join(dir, "hang-smi");
    writeFileSync(hang, "#!/bin/sh\nexec sleep 10\n");
    chmodSync(hang, 0o755);
    const began = Date.now();
    const hung = await createNvidiaSmiSensor({ command: hang, timeoutMs: 300 }).probe();
    expect(Date.now() - began).toBeLessThan(5000);
    expect(!hung.available && hung.reason).toMatch(/did not answer within 300 ms/);
  });
});
