/**
 * AMD GPU power and energy read from the amdgpu driver's hwmon directories
 * (`/sys/class/hwmon/hwmonN` whose `name` is `amdgpu`). Per device the best attribute
 * available is used: `energy1_input` (cumulative µJ), else `power1_average` (µW, averaged
 * by the GPU firmware), else `power1_input` (µW, current power). See docs/sensors/amd-gpu.md.
 */
import { basename, join } from "node:path";

import { UJ_PER_J } from "../units/energy.js";
import type { Availability, ChannelInfo, ChannelReading, Sensor } from "./sensor.js";
import {
  listDirectory,
  pathExists,
  readSysfsInteger,
  readSysfsText,
  resolvePath,
} from "./sysfs.js";

/** Where the kernel publishes hwmon devices. The CLI passes `WATTPRINT_HWMON_ROOT` instead when set. */
export const DEFAULT_HWMON_ROOT = "/sys/class/hwmon";

/** Microwatts in one watt (hwmon power attributes are in µW). */
export const UW_PER_W = 1_000_000;

export interface AmdGpuSensorOptions {
  /** hwmon root. Default {@link DEFAULT_HWMON_ROOT}. */
  root?: string;
}

/** The hwmon attributes read, best first. */
export type AmdGpuAttribute = "energy1_input" | "power1_average" | "power1_input";

const ATTRIBUTES_BEST_FIRST: readonly AmdGpuAttribute[] = [
  "energy1_input",
  "power1_average",
  "power1_input",
];

/** One amdgpu hwmon directory as found on disk. */
export interface AmdGpuDevice {
  /** hwmon directory name: "hwmon3". */
  hwmon: string;
  /** hwmon directory. */
  path: string;
  /** PCI address from the `device` link ("0000:03:00.0"); null when there is no such link. */
  pciAddress: string | null;
}

const PCI_ADDRESS_PATTERN = /^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

function hwmonNumber(name: string): number {
  const match = /(\d+)$/.exec(name);
  return match === null ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

/**
 * Finds the amdgpu hwmon directories under `root`, in device order: by PCI address where
 * the `device` link resolves to one, then the others in hwmon order. Null when `root`
 * cannot be listed.
 */
export function discoverAmdGpus(root: string = DEFAULT_HWMON_ROOT): AmdGpuDevice[] | null {
  const entries = listDirectory(root);
  if (entries === null) return null;
  const devices: AmdGpuDevice[] = [];
  for (const entry of entries) {
    const path = join(root, entry);
    const name = readSysfsText(join(path, "name"));
    if (!name.ok || name.text !== "amdgpu") continue;
    const target = resolvePath(join(path, "device"));
    const candidate = target === null ? null : basename(target);
    const pciAddress =
      candidate !== null && PCI_ADDRESS_PATTERN.test(candidate) ? candidate.toLowerCase() : null;
    devices.push({ hwmon: entry, path, pciAddress });
  }
  return devices.sort((a, b) => {
    if (a.pciAddress !== null && b.pciAddress !== null) {
      return a.pciAddress < b.pciAddress ? -1 : a.pciAddress > b.pciAddress ? 1 : 0;
    }
    if (a.pciAddress !== null) return -1;
    if (b.pciAddress !== null) return 1;
    return hwmonNumber(a.hwmon) - hwmonNumber(b.hwmon);
  });
}

interface ChosenDevice {
  device: AmdGpuDevice;
  attribute: AmdGpuAttribute;
  info: ChannelInfo;
}

const WHOLE_DEVICE_NOTE =
  "whole device attributed: amdgpu hwmon does not say which processes use the GPU";

function attributeNotes(attribute: AmdGpuAttribute): string[] {
  switch (attribute) {
    case "energy1_input":
      return ["energy1_input has no documented wrap: a decrease is treated as a counter reset"];
    case "power1_average":
      return [
        "power1_average is averaged by the GPU firmware; the tracker integrates it over time",
      ];
    case "power1_input":
      return ["power1_input is the current power; the tracker integrates it over time"];
  }
}

/**
 * Creates the AMD GPU sensor (name "amd-hwmon", component gpu): one channel per amdgpu
 * hwmon device, a counter for `energy1_input` or a power reading for `power1_average` /
 * `power1_input`. `processes` is left undefined, so the tracker attributes the whole device.
 */
export function createAmdGpuSensor(options: AmdGpuSensorOptions = {}): Sensor {
  const root = options.root ?? DEFAULT_HWMON_ROOT;
  let chosen: ChosenDevice[] = [];

  const probe = async (): Promise<Availability> => {
    chosen = [];
    const devices = discoverAmdGpus(root);
    if (devices === null) {
      return { available: false, reason: `no hwmon tree at ${root}` };
    }
    if (devices.length === 0) {
      return {
        available: false,
        reason: `no amdgpu hwmon device under ${root} (no AMD GPU, or the amdgpu driver is not loaded)`,
      };
    }
    const notes: string[] = [];
    devices.forEach((device, index) => {
      const where = device.pciAddress ?? device.hwmon;
      const failures: string[] = [];
      for (const attribute of ATTRIBUTES_BEST_FIRST) {
        const path = join(device.path, attribute);
        if (!pathExists(path)) continue;
        const value = readSysfsInteger(path);
        if (!value.ok) {
          failures.push(value.message);
          continue;
        }
        const counter = attribute === "energy1_input";
        chosen.push({
          device,
          attribute,
          info: {
            id: `amd-hwmon:${index}`,
            component: "gpu",
            method: counter ? "counter" : "power-integration",
            source: `amd-hwmon:${attribute}`,
            label: `GPU ${index} (amdgpu ${where})`,
            device: { index, name: `amdgpu ${where}` },
            notes: [WHOLE_DEVICE_NOTE, ...attributeNotes(attribute), ...failures],
          },
        });
        return;
      }
      const why = failures.length > 0 ? failures.join("; ") : "no energy1_input or power1_* file";
      notes.push(`GPU ${index} (amdgpu ${where}) skipped: ${why}`);
    });
    if (chosen.length === 0) {
      return {
        available: false,
        reason: `no amdgpu device under ${root} reports power or energy: ${notes.join("; ")}`,
      };
    }
    if (devices.some((device) => device.pciAddress === null)) {
      notes.push(
        "some amdgpu hwmon directories have no device link; they are ordered by hwmon number",
      );
    }
    return { available: true, channels: chosen.map((device) => device.info), notes };
  };

  const read = async (): Promise<ChannelReading[]> =>
    chosen.map(({ device, attribute, info }): ChannelReading => {
      const value = readSysfsInteger(join(device.path, attribute));
      if (!value.ok) return { channelId: info.id, value: null, error: value.message };
      if (attribute === "energy1_input") {
        return {
          channelId: info.id,
          value: { kind: "energy", energyJ: value.value / UJ_PER_J, wrapJ: null },
        };
      }
      return { channelId: info.id, value: { kind: "power", powerW: value.value / UW_PER_W } };
    });

  return { name: "amd-hwmon", components: ["gpu"], probe, read };
}
