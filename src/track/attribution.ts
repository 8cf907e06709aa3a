import type { ChannelInfo, Component, DeviceProcess } from "../sensors/sensor.js";

/** One channel's energy over an interval, as the integrator produced it. */
export interface ChannelInterval {
  info: ChannelInfo;
  /** null: no energy known for this interval (first read or failed read). */
  energyJ: number | null;
  processes?: DeviceProcess[];
}

export interface IntervalInput {
  intervalS: number;
  channels: ChannelInterval[];
  /** CPU seconds the tracked tree used in the interval. */
  treeCpuS: number;
  /** CPU seconds all processes on the machine used in the interval (busy time). */
  machineBusyS: number;
  treeRssBytes: number;
  machineMemoryUsedBytes: number;
  treePids: ReadonlySet<number>;
  /** The CPU's idle power, reported apart and attributed to nobody; null if unknown. */
  cpuIdlePowerW: number | null;
}

export type ComponentJ = Record<Component, number | null>;

export interface IntervalAttribution {
  machineJ: ComponentJ;
  attributedJ: ComponentJ;
  cpuIdleJ: number;
  cpuOtherProcessesJ: number;
  /** The tree's share of the machine's busy CPU time, 0..1. */
  treeCpuShare: number;
  /** The tree's share of the machine's used memory, 0..1. */
  treeMemoryShare: number;
  /** Attributed energy per channel id, and how it was shared. */
  channels: Map<string, { attributedJ: number; attribution: string }>;
}

export const ATTRIBUTION = {
  cpuTime: "CPU-time share of the machine's active CPU energy; idle power reported apart",
  memory: "resident-memory share of the machine's used memory",
  wholeDevice: "whole device (the sensor cannot tell which processes use it)",
  notUsed: "not attributed: no tracked process was using the device",
  utilisation: "tracked processes' share of the device's SM utilisation",
  processCount: "tracked processes' share of the processes on the device (no utilisation data)",
  onlyTracked: "whole device: only tracked processes were using it",
} as const;

/**
 * Splits one interval's machine energy between the tracked tree, idle power and other
 * processes. Machine = attributed + idle + others for the CPU; RAM and GPU have no idle line.
 */
export function attributeInterval(input: IntervalInput): IntervalAttribution {
  const machineJ: ComponentJ = { cpu: null, gpu: null, ram: null };
  const attributedJ: ComponentJ = { cpu: null, gpu: null, ram: null };
  const channels = new Map<string, { attributedJ: number; attribution: string }>();
  const treeCpuShare = clampShare(input.treeCpuS, input.machineBusyS);
  const treeMemoryShare = clampShare(input.treeRssBytes, input.machineMemoryUsedBytes);

  let cpuIdleJ = 0;
  let cpuOtherProcessesJ = 0;
  for (const channel of input.channels) {
    if (channel.energyJ === null) continue;
    const component = channel.info.component;
    machineJ[component] = (machineJ[component] ?? 0) + channel.energyJ;
    let share: { attributedJ: number; attribution: string };
    if (component === "cpu") {
      const idleJ = Math.min(channel.energyJ, idlePowerFor(channel, input) * input.intervalS);
      const activeJ = channel.energyJ - idleJ;
      cpuIdleJ += idleJ;
      cpuOtherProcessesJ += activeJ * (1 - treeCpuShare);
      share = { attributedJ: activeJ * treeCpuShare, attribution: ATTRIBUTION.cpuTime };
    } else if (component === "ram") {
      share = {
        attributedJ: channel.energyJ * treeMemoryShare,
        attribution: ATTRIBUTION.memory,
      };
    } else {
      share = attributeDevice(channel.energyJ, channel.processes, input.treePids);
    }
    attributedJ[component] = (attributedJ[component] ?? 0) + share.attributedJ;
    channels.set(channel.info.id, share);
  }
  return {
    machineJ,
    attributedJ,
    cpuIdleJ,
    cpuOtherProcessesJ,
    treeCpuShare,
    treeMemoryShare,
    channels,
  };
}

/** A CPU channel's idle power: its own (models) or the machine estimate spread over packages. */
function idlePowerFor(channel: ChannelInterval, input: IntervalInput): number {
  if (channel.info.idlePowerW !== undefined) return channel.info.idlePowerW;
  if (input.cpuIdlePowerW === null) return 0;
  const cpuChannels = input.channels.filter(
    (c) => c.info.component === "cpu" && c.info.idlePowerW === undefined,
  ).length;
  return input.cpuIdlePowerW / Math.max(1, cpuChannels);
}

function attributeDevice(
  energyJ: number,
  processes: DeviceProcess[] | undefined,
  treePids: ReadonlySet<number>,
): { attributedJ: number; attribution: string } {
  if (processes === undefined)
    return { attributedJ: energyJ, attribution: ATTRIBUTION.wholeDevice };
  const tracked = processes.filter((p) => treePids.has(p.pid));
  if (tracked.length === 0) return { attributedJ: 0, attribution: ATTRIBUTION.notUsed };
  if (tracked.length === processes.length) {
    return { attributedJ: energyJ, attribution: ATTRIBUTION.onlyTracked };
  }
  const allShares = processes.every((p) => p.share !== null);
  if (allShares) {
    const total = processes.reduce((sum, p) => sum + (p.share ?? 0), 0);
    if (total > 0) {
      const mine = tracked.reduce((sum, p) => sum + (p.share ?? 0), 0);
      return { attributedJ: (energyJ * mine) / total, attribution: ATTRIBUTION.utilisation };
    }
  }
  return {
    attributedJ: (energyJ * tracked.length) / processes.length,
    attribution: ATTRIBUTION.processCount,
  };
}

function clampShare(part: number, whole: number): number {
  if (!(whole > 0) || !(part > 0)) return 0;
  return Math.min(1, part / whole);
}
