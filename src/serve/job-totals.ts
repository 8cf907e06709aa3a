/**
 * How one job's energy is added up from the tracker runs that joined it (pure functions).
 *
 * Each tracker reports cumulative energy per device of its host. Several trackers on one
 * host (one per rank) all read the same devices, so a device is counted once per
 * (host, device):
 * - machine energy of a device = the largest cumulative value any tracker reported for it
 *   (they read the same counter; the one that ran longest saw most of it);
 * - attributed energy of a device = the sum of what each tracker attributed to its own
 *   processes, capped at the device's machine energy (ranks track disjoint process trees;
 *   a tracker that could not tell processes apart attributes the whole device, and the cap
 *   stops that from counting the device twice).
 * The job's duration runs from the first tracker's start to the last one's end. Its CO2e
 * is the trackers' CO2e scaled by (job energy / Σ trackers' energy), so the same dedup
 * applies to emissions, each tracker keeping its own region and intensity.
 */
import type { Component } from "../sensors/sensor.js";
import type { DeviceState, MemberState } from "../store/server-store.js";

/** One device of one host, counted once. */
export interface DeviceTotal {
  host: string;
  device: string;
  component: Component;
  source: string;
  label: string;
  /** Largest cumulative machine energy reported for the device, joules. */
  machineEnergyJ: number | null;
  /** Σ attributed over the trackers, capped at `machineEnergyJ`, joules. */
  attributedEnergyJ: number | null;
  /** How many tracker runs reported the device. */
  reportedBy: number;
  /** Newest power reading of the device, watts (null when none or stale). */
  powerW: number | null;
  lastMs: number;
}

export interface ComponentEnergyJ {
  cpu: number | null;
  gpu: number | null;
  ram: number | null;
}

export interface NodeTotal {
  host: string;
  trackers: number;
  energyJ: number | null;
  machineEnergyJ: number | null;
  lastSeenMs: number;
}

/** A job's totals over its tracker runs. */
export interface JobTotals {
  jobKey: string;
  status: "running" | "completed" | "failed" | "interrupted";
  startedMs: number;
  /** Last end, null while any tracker runs. */
  endedMs: number | null;
  /** First start to last end (or to `nowMs` while running), seconds. */
  durationS: number;
  /** Attributed energy with devices counted once, joules; null when none was measured. */
  energyJ: number | null;
  /** Machine energy over distinct (host, device), joules. */
  machineEnergyJ: number | null;
  energyByComponentJ: ComponentEnergyJ;
  machineEnergyByComponentJ: ComponentEnergyJ;
  co2eG: number | null;
  /** Current machine power of the job's devices, watts (readings within {@link POWER_FRESH_MS}); null when finished. */
  powerW: number | null;
  nodes: { expected: number | null; reporting: number; hosts: NodeTotal[] };
  devices: DeviceTotal[];
  trackers: number;
  commands: string[][];
  regions: string[];
  lastSeenMs: number;
  warnings: string[];
}

/** A tracker not heard from for this long while "running" is reported as silent. */
export const SILENT_AFTER_MS = 5 * 60_000;
/** Power readings older than this do not count as current. */
export const POWER_FRESH_MS = 2 * 60_000;

const COMPONENTS: readonly Component[] = ["cpu", "gpu", "ram"];

function add(a: number | null, b: number | null): number | null {
  if (b === null) return a;
  return (a ?? 0) + b;
}

/** Devices counted once per (host, device), by the rule in this module's header. */
export function dedupeDevices(devices: readonly DeviceState[], nowMs: number): DeviceTotal[] {
  const byKey = new Map<string, DeviceTotal & { attributedSum: number | null }>();
  for (const device of devices) {
    const key = `${device.host}\u0000${device.device}`;
    const total = byKey.get(key);
    if (total === undefined) {
      byKey.set(key, {
        host: device.host,
        device: device.device,
        component: device.component,
        source: device.source,
        label: device.label,
        machineEnergyJ: device.machineEnergyJ,
        attributedEnergyJ: null,
        attributedSum: device.attributedEnergyJ,
        reportedBy: 1,
        powerW: nowMs - device.tMs <= POWER_FRESH_MS ? device.powerW : null,
        lastMs: device.tMs,
      });
      continue;
    }
    total.reportedBy += 1;
    if (device.machineEnergyJ !== null) {
      total.machineEnergyJ = Math.max(total.machineEnergyJ ?? 0, device.machineEnergyJ);
    }
    total.attributedSum = add(total.attributedSum, device.attributedEnergyJ);
    if (device.tMs > total.lastMs) {
      total.lastMs = device.tMs;
      total.powerW = nowMs - device.tMs <= POWER_FRESH_MS ? device.powerW : null;
    }
  }
  return [...byKey.values()]
    .map(({ attributedSum, ...total }) => ({
      ...total,
      attributedEnergyJ:
        attributedSum === null
          ? null
          : total.machineEnergyJ === null
            ? attributedSum
            : Math.min(attributedSum, total.machineEnergyJ),
    }))
    .sort((a, b) => a.host.localeCompare(b.host) || a.device.localeCompare(b.device));
}

function jobStatus(members: readonly MemberState[]): JobTotals["status"] {
  if (members.some((m) => m.status === "running")) return "running";
  if (members.some((m) => m.status === "failed")) return "failed";
  if (members.some((m) => m.status === "interrupted")) return "interrupted";
  return "completed";
}

/**
 * The totals of one job from its tracker runs and their newest device readings.
 * `expectedNodes` is the largest node count any tracker announced (null when none did).
 */
export function computeJobTotals(
  jobKey: string,
  members: readonly MemberState[],
  devices: readonly DeviceState[],
  expectedNodes: number | null,
  nowMs: number,
): JobTotals {
  const deviceTotals = dedupeDevices(devices, nowMs);
  const status = jobStatus(members);
  const startedMs = Math.min(...members.map((m) => m.startedMs));
  const endedMs =
    status === "running" ? null : Math.max(...members.map((m) => m.endedMs ?? m.lastSeenMs));
  const energyByComponentJ: ComponentEnergyJ = { cpu: null, gpu: null, ram: null };
  const machineEnergyByComponentJ: ComponentEnergyJ = { cpu: null, gpu: null, ram: null };
  for (const device of deviceTotals) {
    energyByComponentJ[device.component] = add(
      energyByComponentJ[device.component],
      device.attributedEnergyJ,
    );
    machineEnergyByComponentJ[device.component] = add(
      machineEnergyByComponentJ[device.component],
      device.machineEnergyJ,
    );
  }
  const sumComponents = (energy: ComponentEnergyJ) =>
    COMPONENTS.reduce<number | null>((sum, c) => add(sum, energy[c]), null);
  const memberEnergyJ = members.reduce<number | null>((sum, m) => add(sum, m.energyJ), null);
  const memberMachineJ = members.reduce<number | null>(
    (sum, m) => add(sum, m.machineEnergyJ),
    null,
  );
  const memberCo2eG = members.reduce<number | null>((sum, m) => add(sum, m.co2eG), null);
  // Trackers that sent no device readings (a pushed run without sources) count by their totals.
  const withDevices = new Set(devices.map((d) => d.runId));
  const withoutDevices = members.filter((m) => !withDevices.has(m.runId));
  const energyJ = add(
    sumComponents(energyByComponentJ),
    withoutDevices.reduce<number | null>((sum, m) => add(sum, m.energyJ), null),
  );
  const machineEnergyJ = add(
    sumComponents(machineEnergyByComponentJ),
    withoutDevices.reduce<number | null>((sum, m) => add(sum, m.machineEnergyJ), null),
  );
  let co2eG = memberCo2eG;
  if (co2eG !== null && energyJ !== null && memberEnergyJ !== null && memberEnergyJ > 0) {
    co2eG *= Math.min(1, energyJ / memberEnergyJ);
  }
  const hosts = new Map<string, NodeTotal>();
  for (const member of members) {
    const node = hosts.get(member.host) ?? {
      host: member.host,
      trackers: 0,
      energyJ: null,
      machineEnergyJ: null,
      lastSeenMs: 0,
    };
    node.trackers += 1;
    node.lastSeenMs = Math.max(node.lastSeenMs, member.lastSeenMs);
    hosts.set(member.host, node);
  }
  for (const device of deviceTotals) {
    const node = hosts.get(device.host);
    if (node === undefined) continue;
    node.energyJ = add(node.energyJ, device.attributedEnergyJ);
    node.machineEnergyJ = add(node.machineEnergyJ, device.machineEnergyJ);
  }
  for (const member of withoutDevices) {
    const node = hosts.get(member.host);
    if (node === undefined) continue;
    node.energyJ = add(node.energyJ, member.energyJ);
    node.machineEnergyJ = add(node.machineEnergyJ, member.machineEnergyJ);
  }
  const warnings: string[] = [];
  for (const member of members) {
    if (member.status === "running" && nowMs - member.lastSeenMs > SILENT_AFTER_MS) {
      warnings.push(
        `tracker ${member.runId.slice(0, 8)} on ${member.host} has not reported since ${new Date(member.lastSeenMs).toISOString()}; its figures stop there`,
      );
    }
  }
  const reporting = hosts.size;
  if (expectedNodes !== null && reporting < expectedNodes) {
    warnings.push(`${reporting} of ${expectedNodes} expected nodes report`);
  }
  if (
    memberMachineJ !== null &&
    machineEnergyJ !== null &&
    memberMachineJ > machineEnergyJ * 1.001
  ) {
    warnings.push(
      "several trackers read the same devices; each device is counted once (largest reading)",
    );
  }
  const livePower = deviceTotals.reduce<number | null>((sum, d) => add(sum, d.powerW), null);
  return {
    jobKey,
    status,
    startedMs,
    endedMs,
    durationS: Math.max(0, ((endedMs ?? nowMs) - startedMs) / 1000),
    energyJ,
    machineEnergyJ,
    energyByComponentJ,
    machineEnergyByComponentJ,
    co2eG,
    powerW: status === "running" ? livePower : null,
    nodes: { expected: expectedNodes, reporting, hosts: [...hosts.values()] },
    devices: deviceTotals,
    trackers: members.length,
    commands: dedupeCommands(members.map((m) => m.command)),
    regions: [...new Set(members.map((m) => m.region))],
    lastSeenMs: Math.max(...members.map((m) => m.lastSeenMs)),
    warnings,
  };
}

function dedupeCommands(commands: string[][]): string[][] {
  const seen = new Map<string, string[]>();
  for (const command of commands) seen.set(JSON.stringify(command), command);
  return [...seen.values()].slice(0, 5);
}
