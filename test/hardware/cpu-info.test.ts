import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readCpuInfo } from "../../src/hardware/cpu-info.js";
import { matchCpu } from "../../src/hardware/cpu-table.js";

const tempDirs: string[] = [];
function procRootWith(cpuinfo: string | null): string {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-cpuinfo-"));
  tempDirs.push(dir);
  if (cpuinfo !== null) writeFileSync(join(dir, "cpuinfo"), cpuinfo);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function x86Block(processor: number, physicalId: number, flags: string): string {
  return [
    `processor\t: ${processor}`,
    "vendor_id\t: GenuineIntel",
    "cpu family\t: 6",
    "model\t\t: 85",
    "model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz",
    `physical id\t: ${physicalId}`,
    "siblings\t: 2",
    `core id\t\t: ${processor % 2}`,
    "cpu cores\t: 2",
    `flags\t\t: ${flags}`,
    "bogomips\t: 5000.00",
    "",
  ].join("\n");
}

function armBlock(processor: number, part: string): string {
  return [
    `processor\t: ${processor}`,
    "BogoMIPS\t: 243.75",
    "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs",
    "CPU implementer\t: 0x41",
    "CPU architecture: 8",
    "CPU variant\t: 0x3",
    `CPU part\t: ${part}`,
    "CPU revision\t: 1",
    "",
  ].join("\n");
}

describe("readCpuInfo", () => {
  it("reads an x86 machine with two sockets on bare metal", () => {
    const text = [0, 1, 2, 3]
      .map((n) => x86Block(n, n < 2 ? 0 : 1, "fpu vme de pse tsc msr avx2"))
      .join("\n");
    const info = readCpuInfo(procRootWith(text));
    expect(info).toEqual({
      modelName: "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz",
      logicalCpus: 4,
      sockets: 2,
      vendor: "Intel",
      virtualized: false,
      source: "cpuinfo",
    });
  });

  it("sees the hypervisor flag of a VM", () => {
    const text = [0, 1].map((n) => x86Block(n, 0, "fpu vme hypervisor lahf_lm")).join("\n");
    const info = readCpuInfo(procRootWith(text));
    expect(info.virtualized).toBe(true);
    expect(info.sockets).toBe(1);
    expect(info.logicalCpus).toBe(2);
  });

  it("names an arm64 CPU without a model name from its implementer and part", () => {
    const text = [0, 1, 2, 3].map((n) => armBlock(n, "0xd0c")).join("\n");
    const info = readCpuInfo(procRootWith(text));
    expect(info.modelName).toBe("ARM Neoverse-N1");
    expect(info.vendor).toBe("ARM");
    expect(info.logicalCpus).toBe(4);
    expect(info.sockets).toBe(1);
    expect(info.virtualized).toBeNull();
    expect(matchCpu(info.modelName, { logicalCpus: info.logicalCpus }).family).toBe("Arm Neoverse");
  });

  it("names a big.LITTLE arm64 CPU after its most common core and keeps unknown parts visible", () => {
    const text = [
      armBlock(0, "0xd05"),
      armBlock(1, "0xd05"),
      armBlock(2, "0xd05"),
      armBlock(3, "0xd0b"),
    ].join("\n");
    expect(readCpuInfo(procRootWith(text)).modelName).toBe("ARM Cortex-A55");
    const unknown = [armBlock(0, "0xfff"), armBlock(1, "0xfff")].join("\n");
    expect(readCpuInfo(procRootWith(unknown)).modelName).toBe("ARM part 0xfff");
  });

  it("falls back to the given source when the file is missing or lists no processor", () => {
    const fallback = () => ({ modelName: "Apple M2", logicalCpus: 8 });
    for (const root of [
      procRootWith(null),
      procRootWith(""),
      procRootWith("Hardware : nothing\n"),
    ]) {
      const info = readCpuInfo(root, fallback);
      expect(info.source).toBe("os");
      expect(info.modelName).toBe("Apple M2");
      expect(info.logicalCpus).toBe(8);
      expect(info.vendor).toBe("Apple");
      expect(info.virtualized).toBeNull();
    }
  });

  it("falls back to Node's os module by default", () => {
    const info = readCpuInfo(procRootWith(null));
    expect(info.source).toBe("os");
    expect(info.logicalCpus).toBe(Math.max(1, cpus().length));
  });

  it.skipIf(!existsSync("/proc/cpuinfo"))("reads this machine's /proc/cpuinfo sanely", () => {
    const info = readCpuInfo();
    expect(info.source).toBe("cpuinfo");
    expect(info.logicalCpus).toBe(cpus().length);
    expect(info.modelName.length).toBeGreaterThan(0);
    expect(info.sockets).toBeGreaterThanOrEqual(1);
    const match = matchCpu(info.modelName, {
      logicalCpus: info.logicalCpus,
      sockets: info.sockets,
      virtualized: info.virtualized,
    });
    expect(Number.isFinite(match.tdpW)).toBe(true);
    expect(match.tdpW).toBeGreaterThan(0);
    // Anything short of an exact published row must say what it assumed.
    if (match.match !== "exact") expect(match.assumption).not.toBeNull();
  });
});
