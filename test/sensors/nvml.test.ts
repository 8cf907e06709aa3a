import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import koffi from "koffi";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createNvmlSensor } from "../../src/sensors/nvml.js";
import type { ChannelReading, SampleContext, Sensor } from "../../src/sensors/sensor.js";

const CONTEXT: SampleContext = {
  intervalS: null,
  machineCpuUtilization: null,
  machineMemoryUsedBytes: 0,
};

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-nvml-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function reasonOf(availability: Awaited<ReturnType<Sensor["probe"]>>): string {
  return availability.available ? "(available)" : availability.reason;
}

/** Whether the real NVML loads here, and if not, why (printed in the skipped test's name). */
function realNvml(): { loads: boolean; why: string } {
  try {
    koffi.load("libnvidia-ml.so.1");
    return { loads: true, why: "" };
  } catch (error) {
    return { loads: false, why: (error as Error).message };
  }
}
const REAL_NVML = realNvml();

describe("createNvmlSensor without a usable NVML library", () => {
  it("names a library path that cannot be loaded", async () => {
    const path = join(tempDir(), "libnvidia-ml.so.1");
    const availability = await createNvmlSensor({ libraryPath: path }).probe();
    expect(availability.available).toBe(false);
    expect(reasonOf(availability)).toContain(`${path} could not be loaded`);
  });

  it("names the missing NVML symbol when given a library that is not NVML (libc)", async () => {
    const libc = process.report
      .getReport()
      // @ts-expect-error sharedObjects is in every Linux report but not in @types/node
      .sharedObjects.find((path: string) => /\/libc\.so\.6$/.test(path)) as string | undefined;
    expect(libc, "libc.so.6 should be loaded in this Node process").toBeDefined();
    const availability = await createNvmlSensor({ libraryPath: libc }).probe();
    expect(availability.available).toBe(false);
    expect(reasonOf(availability)).toMatch(/is not a usable NVML library: .*nvmlInit_v2/);
  });

  it.skipIf(REAL_NVML.loads)(
    "says the driver is missing when libnvidia-ml.so.1 is not installed",
    async () => {
      const availability = await createNvmlSensor().probe();
      expect(availability).toMatchObject({
        available: false,
        reason: "libnvidia-ml.so.1 not found (no NVIDIA driver)",
      });
    },
  );
});

/**
 * A stand-in libnvidia-ml built from C at test time: the real nvml.h struct layouts and
 * entry points, with values the test sets through stub_* functions. It exercises the FFI
 * binding itself (out-parameters, struct arrays, INSUFFICIENT_SIZE retries, error strings).
 */
const STUB_SOURCE = String.raw`
#include <stdio.h>
#include <string.h>
typedef int nvmlReturn_t;
struct nvmlDevice_st { int index; char uuid[96]; };
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct nvmlProcessInfo_st {
  unsigned int pid; unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId; unsigned int computeInstanceId;
} nvmlProcessInfo_t;
typedef struct nvmlProcessUtilizationSample_st {
  unsigned int pid; unsigned long long timeStamp;
  unsigned int smUtil; unsigned int memUtil; unsigned int encUtil; unsigned int decUtil;
} nvmlProcessUtilizationSample_t;

#define MAX_DEV 4
#define MAX_PROC 64
static struct nvmlDevice_st devices[MAX_DEV], migs[MAX_DEV][2];
static char names[MAX_DEV][96];
static int device_count, init_rc, init_calls, shutdown_calls, initialised, mig_n[MAX_DEV];
static int energy_rc[MAX_DEV], power_rc[MAX_DEV], proc_rc[MAX_DEV], util_rc[MAX_DEV], proc_n[MAX_DEV], sample_n[MAX_DEV];
static unsigned long long energy_mj[MAX_DEV], last_seen[MAX_DEV];
static unsigned int power_mw[MAX_DEV], proc_pids[MAX_DEV][MAX_PROC];
static nvmlProcessUtilizationSample_t samples[MAX_DEV][MAX_PROC];
static unsigned long long clock_us = 1700000000000000ULL;

void stub_reset(int count, int initRc) {
  memset(devices, 0, sizeof devices); memset(migs, 0, sizeof migs); memset(names, 0, sizeof names);
  memset(mig_n, 0, sizeof mig_n); memset(energy_rc, 0, sizeof energy_rc); memset(power_rc, 0, sizeof power_rc);
  memset(proc_rc, 0, sizeof proc_rc); memset(util_rc, 0, sizeof util_rc); memset(proc_n, 0, sizeof proc_n);
  memset(sample_n, 0, sizeof sample_n); memset(last_seen, 0, sizeof last_seen);
  device_count = count; init_rc = initRc; init_calls = 0; shutdown_calls = 0; initialised = 0;
  for (int i = 0; i < MAX_DEV; i++) devices[i].index = i;
}
void stub_set_device(int i, const char *name, const char *uuid, int energyRc, unsigned long long energyMj, int powerRc, unsigned int powerMw) {
  snprintf(names[i], 96, "%s", name); snprintf(devices[i].uuid, 96, "%s", uuid);
  energy_rc[i] = energyRc; energy_mj[i] = energyMj; power_rc[i] = powerRc; power_mw[i] = powerMw;
}
void stub_set_processes(int i, int rc, int n, const unsigned int *pids) {
  proc_rc[i] = rc; proc_n[i] = n; for (int k = 0; k < n; k++) proc_pids[i][k] = pids[k];
}
void stub_add_sample(int i, unsigned int pid, unsigned int smUtil) {
  nvmlProcessUtilizationSample_t *s = &samples[i][sample_n[i]++];
  s->pid = pid; s->timeStamp = ++clock_us; s->smUtil = smUtil; s->memUtil = 99; s->encUtil = 98; s->decUtil = 97;
}
void stub_set_util_rc(int i, int rc) { util_rc[i] = rc; }
void stub_add_mig(int i, const char *uuid) { migs[i][mig_n[i]].index = i; snprintf(migs[i][mig_n[i]++].uuid, 96, "%s", uuid); }
int stub_init_calls(void) { return init_calls; }
int stub_shutdown_calls(void) { return shutdown_calls; }
unsigned long long stub_last_seen(int i) { return last_seen[i]; }
unsigned long long stub_clock(void) { return clock_us; }

nvmlReturn_t nvmlInit_v2(void) { init_calls++; if (init_rc == 0) initialised = 1; return init_rc; }
nvmlReturn_t nvmlShutdown(void) { shutdown_calls++; initialised = 0; return 0; }
const char *nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case 3: return "Not Supported"; case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded"; case 15: return "GPU is lost"; default: return "Unknown Error";
  }
}
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) { if (!initialised) return 1; *count = device_count; return 0; }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) {
  if (!initialised) return 1; if (i >= (unsigned)device_count) return 2; *d = &devices[i]; return 0;
}
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int len) { snprintf(name, len, "%s", names[d->index]); return 0; }
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int len) { snprintf(uuid, len, "%s", d->uuid); return 0; }
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj) {
  if (energy_rc[d->index]) return energy_rc[d->index]; *mj = energy_mj[d->index]; return 0;
}
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) {
  if (power_rc[d->index]) return power_rc[d->index]; *mw = power_mw[d->index]; return 0;
}
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos) {
  int i = d->index;
  if (proc_rc[i]) return proc_rc[i];
  if (*count < (unsigned)proc_n[i]) { *count = proc_n[i]; return 7; }
  for (int k = 0; k < proc_n[i]; k++) {
    infos[k].pid = proc_pids[i][k]; infos[k].usedGpuMemory = 0x00000002FFFFFFFFULL;
    infos[k].gpuInstanceId = 0xFFFFFFFF; infos[k].computeInstanceId = 0xFFFFFFFF;
  }
  *count = proc_n[i]; return 0;
}
nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t d, nvmlProcessUtilizationSample_t *out, unsigned int *count, unsigned long long lastSeen) {
  int i = d->index, n = 0;
  last_seen[i] = lastSeen;
  if (util_rc[i]) return util_rc[i];
  for (int k = 0; k < sample_n[i]; k++) if (samples[i][k].timeStamp > lastSeen) n++;
  if (n == 0) { *count = 0; return 6; }
  if (out == NULL || *count < (unsigned)n) { *count = n; return 7; }
  n = 0;
  for (int k = 0; k < sample_n[i]; k++) if (samples[i][k].timeStamp > lastSeen) out[n++] = samples[i][k];
  *count = n; return 0;
}
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *count) {
  if (mig_n[d->index] == 0) return 3; *count = 7; return 0;
}
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int k, nvmlDevice_t *mig) {
  if (k >= (unsigned)mig_n[d->index]) return 6; *mig = &migs[d->index][k]; return 0;
}
`;

function buildStub(): { path: string } | { why: string } {
  const compiler = spawnSync("cc", ["--version"]);
  if (compiler.status !== 0) return { why: "no C compiler (cc) to build the stand-in NVML" };
  const dir = tempDir();
  const source = join(dir, "nvml-stub.c");
  const path = join(dir, "libnvidia-ml.so.1");
  writeFileSync(source, STUB_SOURCE);
  const build = spawnSync("cc", ["-shared", "-fPIC", "-O1", "-o", path, source], {
    encoding: "utf8",
  });
  if (build.status !== 0) return { why: `the stand-in NVML did not compile: ${build.stderr}` };
  return { path };
}
const STUB = buildStub();
const STUB_PATH = "path" in STUB ? STUB.path : "";

const UUID_0 = "GPU-5c1e0a4b-71d2-4c3e-9f10-2b6a8d1e0f01";
const UUID_1 = "GPU-9ad07c33-0e4f-4b51-8c2d-7e3f1a2b3c02";
const MIG_ON_1 = "MIG-3f1c2b7a-8d9e-5f60-a1b2-c3d4e5f60718";
const NOT_SUPPORTED = 3;
const GPU_IS_LOST = 15;

describe.skipIf(!("path" in STUB))(
  `createNvmlSensor against a stand-in libnvidia-ml${"why" in STUB ? ` (skipped: ${STUB.why})` : ""}`,
  () => {
    const stub = koffi.load(STUB_PATH);
    const control = {
      reset: stub.func("void stub_reset(int count, int initRc)"),
      setDevice: stub.func(
        "void stub_set_device(int i, const char *name, const char *uuid, int energyRc, unsigned long long energyMj, int powerRc, unsigned int powerMw)",
      ),
      setProcesses: stub.func(
        "void stub_set_processes(int i, int rc, int n, const unsigned int *pids)",
      ),
      addSample: stub.func("void stub_add_sample(int i, unsigned int pid, unsigned int smUtil)"),
      setUtilRc: stub.func("void stub_set_util_rc(int i, int rc)"),
      addMig: stub.func("void stub_add_mig(int i, const char *uuid)"),
      initCalls: stub.func("int stub_init_calls(void)"),
      shutdownCalls: stub.func("int stub_shutdown_calls(void)"),
      lastSeen: stub.func("unsigned long long stub_last_seen(int i)"),
      clock: stub.func("unsigned long long stub_clock(void)"),
    };
    const setProcesses = (device: number, rc: number, pids: number[]) =>
      control.setProcesses(device, rc, pids.length, Uint32Array.from(pids));
    const sensor = (options: { cudaVisibleDevices?: string; cudaDeviceOrder?: string } = {}) =>
      createNvmlSensor({ libraryPath: STUB_PATH, ...options });
    const byId = (readings: ChannelReading[], id: string) =>
      readings.find((r) => r.channelId === id);

    beforeEach(() => {
      control.reset(2, 0);
      // GPU 0 has the energy counter; GPU 1 (older) only power.
      control.setDevice(0, "NVIDIA H100 80GB HBM3", UUID_0, 0, 123_456_789, 0, 70_000);
      control.setDevice(1, "Tesla P100-PCIE-16GB", UUID_1, NOT_SUPPORTED, 0, 0, 31_250);
    });

    it("reports the init error with NVML's own message and does not shut down", async () => {
      control.reset(2, 9);
      const availability = await sensor().probe();
      expect(reasonOf(availability)).toMatch(
        /NVML could not start: Driver Not Loaded \(NVML error 9\)/,
      );
      expect(control.shutdownCalls()).toBe(0);
    });

    it("is unavailable when NVML finds no GPU, and balances init with shutdown", async () => {
      control.reset(0, 0);
      const availability = await sensor().probe();
      expect(reasonOf(availability)).toBe("NVML found no GPUs");
      expect(control.initCalls()).toBe(1);
      expect(control.shutdownCalls()).toBe(1);
    });

    it("uses the energy counter where it works and power elsewhere", async () => {
      const nvml = sensor();
      const availability = await nvml.probe();
      expect(availability.available).toBe(true);
      if (!availability.available) return;
      expect(availability.channels).toHaveLength(2);
      expect(availability.channels[0]).toMatchObject({
        id: "nvml:0",
        component: "gpu",
        method: "counter",
        source: "nvml:total-energy",
        label: "GPU 0 (NVIDIA H100 80GB HBM3)",
        device: { index: 0, uuid: UUID_0, name: "NVIDIA H100 80GB HBM3" },
      });
      expect(availability.channels[1]).toMatchObject({
        id: "nvml:1",
        method: "power-integration",
        source: "nvml:power-usage",
        device: { index: 1, uuid: UUID_1, name: "Tesla P100-PCIE-16GB" },
      });
      expect(availability.channels[1]?.notes?.join(" ")).toMatch(/Not Supported/);

      const first = await nvml.read(CONTEXT);
      const energy = byId(first, "nvml:0")?.value;
      expect(energy?.kind).toBe("energy");
      if (energy?.kind !== "energy") return;
      expect(energy.energyJ).toBeCloseTo(123_456.789, 6);
      expect(energy.wrapJ).toBeNull();
      const power = byId(first, "nvml:1")?.value;
      expect(power?.kind === "power" && power.powerW).toBeCloseTo(31.25, 6);

      control.setDevice(0, "NVIDIA H100 80GB HBM3", UUID_0, 0, 9_007_199_254_740_000, 0, 0);
      const later = byId(await nvml.read(CONTEXT), "nvml:0")?.value;
      expect(later?.kind === "energy" && later.energyJ).toBeCloseTo(9_007_199_254_740, 0);
      nvml.close?.();
    });

    it("returns a null reading with NVML's error when a GPU fails mid-run", async () => {
      const nvml = sensor();
      await nvml.probe();
      control.setDevice(0, "NVIDIA H100 80GB HBM3", UUID_0, GPU_IS_LOST, 0, 0, 0);
      const readings = await nvml.read(CONTEXT);
      expect(byId(readings, "nvml:0")).toMatchObject({ value: null });
      expect(byId(readings, "nvml:0")?.error).toContain("GPU is lost");
      expect(byId(readings, "nvml:1")?.value).not.toBeNull();
      nvml.close?.();
    });

    it("leaves out a GPU that reports neither energy nor power, saying why", async () => {
      control.setDevice(1, "Tesla K80", UUID_1, NOT_SUPPORTED, 0, NOT_SUPPORTED, 0);
      const availability = await sensor().probe();
      expect(availability.available && availability.channels.map((c) => c.id)).toEqual(["nvml:0"]);
      expect(availability.available && availability.notes.join(" ")).toMatch(
        /GPU 1 \(Tesla K80\) reports neither total energy nor power/,
      );
    });

    it("lists compute processes with shares from SM utilisation since the last read", async () => {
      const nvml = sensor();
      control.addSample(0, 999, 50); // before the probe: not part of the run
      await nvml.probe();
      expect(Number(control.lastSeen(0))).toBe(0);
      setProcesses(0, 0, [4100, 4200]);
      control.addSample(0, 4100, 60);
      control.addSample(0, 4100, 80);
      control.addSample(0, 4200, 30);
      control.addSample(0, 31337, 0); // a graphics client with no SM use
      const first = byId(await nvml.read(CONTEXT), "nvml:0");
      expect(first?.processes?.map((p) => p.pid)).toEqual([4100, 4200]);
      // 4100 averages 70 %, 4200 30 %: shares of the 100 % seen.
      expect(first?.processes?.[0]?.share).toBeCloseTo(0.7, 9);
      expect(first?.processes?.[1]?.share).toBeCloseTo(0.3, 9);

      // The next read asks only for samples after the newest one seen; there are none.
      const newest = control.clock();
      const second = byId(await nvml.read(CONTEXT), "nvml:0");
      expect(BigInt(control.lastSeen(0))).toBe(BigInt(newest));
      expect(second?.processes?.map((p) => p.share)).toEqual([null, null]);
      nvml.close?.();
    });

    it("grows its buffer when NVML says it is too small", async () => {
      const nvml = sensor();
      await nvml.probe();
      const pids = Array.from({ length: 45 }, (_, k) => 10_000 + k * 7);
      setProcesses(0, 0, pids);
      const reading = byId(await nvml.read(CONTEXT), "nvml:0");
      expect(reading?.processes?.map((p) => p.pid)).toEqual(pids);
      nvml.close?.();
    });

    it("leaves processes unknown when the process query fails, shares null without utilisation", async () => {
      const nvml = sensor();
      await nvml.probe();
      setProcesses(0, NOT_SUPPORTED, []);
      setProcesses(1, 0, [77]);
      control.setUtilRc(1, NOT_SUPPORTED);
      const readings = await nvml.read(CONTEXT);
      expect(byId(readings, "nvml:0")?.processes).toBeUndefined();
      expect(byId(readings, "nvml:0")?.value).not.toBeNull();
      expect(byId(readings, "nvml:1")?.processes).toEqual([{ pid: 77, share: null }]);
      nvml.close?.();
    });

    it("honours CUDA_VISIBLE_DEVICES by index, UUID and MIG device", async () => {
      const byIndex = await sensor({ cudaVisibleDevices: "1" }).probe();
      expect(byIndex.available && byIndex.channels.map((c) => c.id)).toEqual(["nvml:1"]);
      expect(byIndex.available && byIndex.channels[0]?.notes?.join(" ")).toMatch(
        /PCI bus order.*FASTEST_FIRST/,
      );
      const pciOrder = await sensor({
        cudaVisibleDevices: "1",
        cudaDeviceOrder: "PCI_BUS_ID",
      }).probe();
      expect(pciOrder.available && pciOrder.channels[0]?.notes?.join(" ")).not.toMatch(
        /FASTEST_FIRST/,
      );

      const byUuid = await sensor({ cudaVisibleDevices: "GPU-9ad0" }).probe();
      expect(byUuid.available && byUuid.channels.map((c) => c.id)).toEqual(["nvml:1"]);

      control.addMig(1, MIG_ON_1);
      const byMig = await sensor({ cudaVisibleDevices: MIG_ON_1 }).probe();
      expect(byMig.available && byMig.channels.map((c) => c.id)).toEqual(["nvml:1"]);

      const shutdownsBefore = control.shutdownCalls();
      const none = await sensor({ cudaVisibleDevices: "-1" }).probe();
      expect(reasonOf(none)).toMatch(/CUDA_VISIBLE_DEVICES="-1" leaves no GPU/);
      expect(control.shutdownCalls()).toBe(shutdownsBefore + 1);
    });

    it("shuts NVML down once on close, however often close is called", async () => {
      const nvml = sensor();
      await nvml.probe();
      expect(control.shutdownCalls()).toBe(0);
      await nvml.close?.();
      await nvml.close?.();
      expect(control.shutdownCalls()).toBe(1);
      const readings = await nvml.read(CONTEXT);
      expect(readings.every((r) => r.value === null && r.error === "NVML is shut down")).toBe(true);
    });
  },
);

describe.skipIf(!REAL_NVML.loads)(
  `createNvmlSensor on real NVIDIA hardware${REAL_NVML.loads ? "" : ` (skipped: ${REAL_NVML.why})`}`,
  () => {
    it("reads finite, non-negative values, with energy not decreasing over 200 ms", async () => {
      const nvml = createNvmlSensor();
      const availability = await nvml.probe();
      expect(availability.available, reasonOf(availability)).toBe(true);
      const first = await nvml.read(CONTEXT);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const second = await nvml.read(CONTEXT);
      for (const reading of [...first, ...second]) {
        expect(reading.value, reading.error).not.toBeNull();
        const value = reading.value!;
        const figure = value.kind === "energy" ? value.energyJ : value.powerW;
        expect(Number.isFinite(figure)).toBe(true);
        expect(figure).toBeGreaterThanOrEqual(0);
        for (const process of reading.processes ?? []) {
          expect(process.pid).toBeGreaterThan(0);
          if (process.share !== null) expect(process.share).toBeGreaterThanOrEqual(0);
        }
      }
      for (const before of first) {
        const after = second.find((r) => r.channelId === before.channelId);
        if (before.value?.kind === "energy" && after?.value?.kind === "energy") {
          expect(after.value.energyJ).toBeGreaterThanOrEqual(before.value.energyJ);
        }
      }
      await nvml.close?.();
    });
  },
);
