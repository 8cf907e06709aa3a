/**
 * What the CPU is and how many logical CPUs this machine sees, from /proc/cpuinfo (x86
 * "model name"; arm64 "CPU implementer"/"CPU part", which carry no model name), with
 * Node's `os.cpus()` as the fallback where that file is missing (macOS, Windows, no /proc).
 */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";

/** The CPU as the operating system shows it. */
export interface CpuInfo {
  /** "AMD EPYC 7763 64-Core Processor", "ARM Neoverse-N1", "unknown CPU" when nothing names it. */
  modelName: string;
  /** Logical CPUs visible to this machine (a VM: its vCPUs). */
  logicalCpus: number;
  /** Distinct "physical id" values; 1 when the file does not list any. */
  sockets: number;
  /** "Intel", "AMD", "ARM", "Ampere", ...; "unknown" when not stated. */
  vendor: string;
  /** x86: true with the "hypervisor" CPU flag, false without; null where flags do not tell (arm64, fallback). */
  virtualized: boolean | null;
  /** Where the figures came from: the cpuinfo file, or Node's os module because the file was missing or empty. */
  source: "cpuinfo" | "os";
}

/** What the fallback provides when /proc/cpuinfo cannot be read. */
export interface CpuSummary {
  modelName: string;
  logicalCpus: number;
}

const X86_VENDORS: Readonly<Record<string, string>> = {
  GenuineIntel: "Intel",
  AuthenticAMD: "AMD",
  HygonGenuine: "Hygon",
  CentaurHauls: "Centaur",
};

/** Arm "CPU implementer" codes (as the Linux kernel and util-linux lscpu list them). */
const ARM_IMPLEMENTERS: Readonly<Record<string, string>> = {
  "0x41": "ARM",
  "0x42": "Broadcom",
  "0x43": "Cavium",
  "0x46": "Fujitsu",
  "0x48": "HiSilicon",
  "0x4e": "NVIDIA",
  "0x50": "APM",
  "0x51": "Qualcomm",
  "0x61": "Apple",
  "0xc0": "Ampere",
};

/** Arm "CPU part" codes per implementer. */
const ARM_PARTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "0x41": {
    "0xd03": "Cortex-A53",
    "0xd04": "Cortex-A35",
    "0xd05": "Cortex-A55",
    "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72",
    "0xd09": "Cortex-A73",
    "0xd0a": "Cortex-A75",
    "0xd0b": "Cortex-A76",
    "0xd0c": "Neoverse-N1",
    "0xd0d": "Cortex-A77",
    "0xd40": "Neoverse-V1",
    "0xd41": "Cortex-A78",
    "0xd44": "Cortex-X1",
    "0xd49": "Neoverse-N2",
    "0xd4f": "Neoverse-V2",
  },
  "0x43": { "0x0af": "ThunderX2" },
  "0x46": { "0x001": "A64FX" },
  "0x48": { "0xd01": "Kunpeng-920" },
  "0xc0": { "0xac3": "AmpereOne" },
};

/**
 * Reads `<procRoot>/cpuinfo`. Default procRoot: "/proc". When the file is missing, empty or
 * lists no processor, `fallback` supplies the model and count (default: Node's `os.cpus()`).
 */
export function readCpuInfo(
  procRoot = "/proc",
  fallback: () => CpuSummary = readOsCpuSummary,
): CpuInfo {
  let text: string | null = null;
  try {
    text = readFileSync(join(procRoot, "cpuinfo"), "utf8");
  } catch {
    text = null;
  }
  const parsed = text === null ? null : parseCpuInfo(text);
  if (parsed !== null) return parsed;
  const summary = fallback();
  return {
    modelName: summary.modelName.trim() === "" ? "unknown CPU" : summary.modelName.trim(),
    logicalCpus: Math.max(1, summary.logicalCpus),
    sockets: 1,
    vendor: vendorFromName(summary.modelName),
    virtualized: null,
    source: "os",
  };
}

/**
 * Parses the text of /proc/cpuinfo; null when it lists no processor. Logical CPUs are the
 * "processor : N" blocks; on arm64 the model is named from the most common
 * implementer/part pair ("ARM Neoverse-N1").
 */
export function parseCpuInfo(text: string): CpuInfo | null {
  const blocks = text
    .split(/\r?\n\s*\r?\n/)
    .map(parseBlock)
    .filter((block) => block.size > 0);
  const processors = blocks.filter((block) => /^\d+$/.test(block.get("processor") ?? ""));
  if (processors.length === 0) return null;

  const first = (key: string): string | undefined => {
    for (const block of blocks) {
      const value = block.get(key);
      if (value !== undefined && value !== "") return value;
    }
    return undefined;
  };

  const physicalIds = new Set(
    processors.map((block) => block.get("physical id")).filter((id) => id !== undefined),
  );
  const flags = first("flags");
  const vendorId = first("vendor_id");
  const arm = armName(processors);
  // 32-bit ARM kernels print a generic "ARMv7 Processor rev 4 (v7l)" as the model name (or
  // in "Processor", capital P); the implementer/part pair names the core better.
  const modelNameField = first("model name");
  const modelName =
    (modelNameField !== undefined && !(arm !== null && /^ARMv\d/i.test(modelNameField))
      ? modelNameField
      : undefined) ??
    arm?.name ??
    modelNameField ??
    first("Processor") ??
    first("cpu") ??
    first("Hardware");
  return {
    modelName: modelName ?? "unknown CPU",
    logicalCpus: processors.length,
    sockets: Math.max(1, physicalIds.size),
    vendor:
      (vendorId === undefined ? undefined : (X86_VENDORS[vendorId] ?? vendorId)) ??
      arm?.vendor ??
      vendorFromName(modelName ?? ""),
    virtualized: flags === undefined ? null : flags.split(/\s+/).includes("hypervisor"),
    source: "cpuinfo",
  };
}

function parseBlock(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    if (!fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  return fields;
}

function armName(
  processors: readonly Map<string, string>[],
): { name: string; vendor: string } | null {
  const counts = new Map<string, number>();
  for (const block of processors) {
    const implementer = block.get("CPU implementer")?.toLowerCase();
    const part = block.get("CPU part")?.toLowerCase();
    if (implementer === undefined || part === undefined) continue;
    const key = `${implementer} ${part}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let best: string | null = null;
  for (const [key, count] of counts) {
    if (best === null || count > (counts.get(best) ?? 0)) best = key;
  }
  if (best === null) return null;
  const [implementer = "", part = ""] = best.split(" ");
  const vendor = ARM_IMPLEMENTERS[implementer] ?? `Arm implementer ${implementer}`;
  const partName = ARM_PARTS[implementer]?.[part] ?? `part ${part}`;
  return { name: `${vendor} ${partName}`, vendor };
}

function vendorFromName(modelName: string): string {
  if (/\bintel\b/i.test(modelName)) return "Intel";
  if (/\bamd\b|\bepyc\b|\bryzen\b/i.test(modelName)) return "AMD";
  if (/\bapple\b/i.test(modelName)) return "Apple";
  if (/\bampere\b/i.test(modelName)) return "Ampere";
  return "unknown";
}

/** The model and count Node reports; availableParallelism() stands in when os.cpus() is empty. */
function readOsCpuSummary(): CpuSummary {
  const list = cpus();
  return {
    modelName: list[0]?.model ?? "",
    logicalCpus: list.length > 0 ? list.length : availableParallelism(),
  };
}
