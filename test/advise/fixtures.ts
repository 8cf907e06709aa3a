// Recorded runs for the advise tests: a RunRecord and its timeline built from phases of
// known power, so a test can compute every expected figure from the same constants.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type {
  PhaseRecord,
  RunRecord,
  SourceRecord,
  TimelineSample,
} from "../../src/record/run-record.js";
import { makeRunRecord } from "../fixtures/store/record-factory.js";
import { REPO_ROOT } from "../helpers/cli.js";

export const J_PER_KWH = 3_600_000;

/** One phase of a recorded run: constant GPU and CPU power for `durationS`. */
export interface PhaseSpec {
  name: string;
  durationS: number;
  /** GPU power, W; null for a run without GPU. */
  gpuW: number | null;
  cpuW: number;
  metrics?: Record<string, number>;
  /** False: the phase is not recorded as a phase (its samples are outside phases). */
  marked?: boolean;
}

export interface RunSpec {
  id?: string;
  startedAt: string;
  phases: PhaseSpec[];
  intervalS?: number;
  region?: string;
  intensityGPerKWh?: number;
  pue?: number;
  pueSource?: string;
  gpuName?: string;
  cpuCount?: number;
  /** Mean share of all cores the run kept busy. */
  cpuUtilisation?: number;
  /** The machine's idle CPU power, W. */
  cpuIdleW?: number;
  command?: string[];
}

export interface RecordedRun {
  run: RunRecord;
  samples: TimelineSample[];
}

export const GPU_CHANNEL = "nvml:0";
export const CPU_CHANNEL = "rapl:intel-rapl:0";

/** Builds the record and timeline of a run made of `spec.phases`, one after the other. */
export function recordRun(spec: RunSpec): RecordedRun {
  const intervalS = spec.intervalS ?? 10;
  const startMs = Date.parse(spec.startedAt);
  const intensity = spec.intensityGPerKWh ?? 250;
  const pue = spec.pue ?? 1.2;
  const gpuName = spec.gpuName ?? "NVIDIA H100 80GB HBM3";
  const hasGpu = spec.phases.some((phase) => phase.gpuW !== null);
  const co2 = (energyJ: number) => (energyJ / J_PER_KWH) * pue * intensity;
  const samples: TimelineSample[] = [];
  const phases: PhaseRecord[] = [];
  let elapsedS = 0;
  let gpuJ = 0;
  let cpuJ = 0;
  for (const phase of spec.phases) {
    const phaseStartMs = startMs + elapsedS * 1000;
    const count = Math.round(phase.durationS / intervalS);
    for (let index = 0; index < count; index += 1) {
      elapsedS += intervalS;
      const channelPowerW: Record<string, number | null> = { [CPU_CHANNEL]: phase.cpuW };
      if (phase.gpuW !== null) channelPowerW[GPU_CHANNEL] = phase.gpuW;
      samples.push({
        seq: samples.length,
        t: new Date(startMs + elapsedS * 1000).toISOString(),
        elapsedS,
        intervalS,
        machinePowerW: { cpu: phase.cpuW, gpu: phase.gpuW, ram: null },
        attributedPowerW: { cpu: phase.cpuW, gpu: phase.gpuW, ram: null },
        channelPowerW,
        treeProcesses: 1,
        treeCpuShare: 1,
        intensityGPerKWh: intensity,
        phases: phase.marked === false ? [] : [phase.name],
      });
    }
    const phaseGpuJ = (phase.gpuW ?? 0) * phase.durationS;
    const phaseCpuJ = phase.cpuW * phase.durationS;
    gpuJ += phaseGpuJ;
    cpuJ += phaseCpuJ;
    if (phase.marked !== false) {
      phases.push({
        name: phase.name,
        startedAt: new Date(phaseStartMs).toISOString(),
        endedAt: new Date(startMs + elapsedS * 1000).toISOString(),
        energyJ: {
          total: phaseGpuJ + phaseCpuJ,
          cpu: phaseCpuJ,
          gpu: phase.gpuW === null ? null : phaseGpuJ,
          ram: null,
        },
        co2eG: co2(phaseGpuJ + phaseCpuJ),
        ...(phase.metrics === undefined ? {} : { metrics: phase.metrics }),
      });
    }
  }
  const durationS = elapsedS;
  const idleJ = (spec.cpuIdleW ?? 40) * durationS;
  const totalJ = gpuJ + cpuJ;
  const sources: SourceRecord[] = [
    {
      component: "cpu",
      method: "counter",
      source: "rapl:package-0",
      label: "package-0",
      attribution: "CPU time share",
      machineEnergyJ: cpuJ + idleJ,
      attributedEnergyJ: cpuJ,
      notes: [],
    },
  ];
  if (hasGpu) {
    sources.push({
      component: "gpu",
      method: "counter",
      source: "nvml:total-energy",
      label: `GPU 0 (${gpuName})`,
      attribution: "whole device (only tracked processes used it)",
      machineEnergyJ: gpuJ,
      attributedEnergyJ: gpuJ,
      notes: [],
    });
  }
  const cpuCount = spec.cpuCount ?? 8;
  const region = spec.region ?? "US-CAL-CISO";
  const base = makeRunRecord();
  const run = makeRunRecord({
    id: spec.id ?? "run-advise-0001",
    command: spec.command ?? ["python", "train.py"],
    startedAt: spec.startedAt,
    endedAt: new Date(startMs + durationS * 1000).toISOString(),
    durationS,
    energyJ: { total: totalJ, cpu: cpuJ, gpu: hasGpu ? gpuJ : null, ram: null },
    machineEnergyJ: {
      total: totalJ + idleJ,
      cpu: cpuJ + idleJ,
      gpu: hasGpu ? gpuJ : null,
      ram: null,
    },
    shareOfMachine: totalJ / (totalJ + idleJ),
    cpuSplitJ: { attributedJ: cpuJ, idleJ, otherProcessesJ: 0, idleSource: "model: 40 W" },
    cpuTimeS: durationS * cpuCount * (spec.cpuUtilisation ?? 0.6),
    co2eG: co2(totalJ),
    machineCo2eG: co2(totalJ + idleJ),
    region,
    intensityGPerKWh: intensity,
    intensitySource: { ...base.intensitySource, region, zone: region },
    pue,
    pueSource: spec.pueSource ?? "user",
    sources,
    unmeasured: hasGpu ? [] : [{ component: "gpu", reason: "no GPU found" }],
    phases,
    sampling: { intervalS, samples: samples.length, peakTreeProcesses: 1 },
    machine: {
      ...base.machine,
      cpuCount,
      gpus: hasGpu ? [{ index: 0, name: gpuName }] : [],
    },
  });
  return { run, samples };
}

/**
 * The shipped hourly series of a zone, read straight from its CSV: [startMs, g/kWh][].
 * Hours without a value are filled linearly between their neighbours (gaps up to 3 h).
 */
export function readHourly(zone: string): [number, number][] {
  const text = readFileSync(join(REPO_ROOT, "data/grid/hourly", `${zone}.csv`), "utf8");
  const known = text
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.split(","))
    .filter(([, value]) => value !== undefined && value.trim() !== "")
    .map(([time, value]): [number, number] => [Date.parse(time as string), Number(value)]);
  const filled: [number, number][] = [];
  known.forEach(([time, value], index) => {
    filled.push([time, value]);
    const next = known[index + 1];
    if (next === undefined || next[0] - time > 4 * 3_600_000) return;
    for (let hour = time + 3_600_000; hour < next[0]; hour += 3_600_000) {
      filled.push([hour, value + ((next[1] - value) * (hour - time)) / (next[0] - time)]);
    }
  });
  return filled;
}

/** Mean intensity over whole hours [startMs, startMs + hours h) of an hourly series. */
export function meanOverHours(series: [number, number][], startMs: number, hours: number): number {
  const byTime = new Map(series);
  let sum = 0;
  for (let hour = 0; hour < hours; hour += 1) {
    const value = byTime.get(startMs + hour * 3_600_000);
    if (value === undefined)
      throw new Error(`no value at ${new Date(startMs + hour * 3_600_000).toISOString()}`);
    sum += value;
  }
  return sum / hours;
}
