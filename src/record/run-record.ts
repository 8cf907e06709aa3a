import type { Component, Method } from "../sensors/sensor.js";

/** Version of the run record schema (docs/run-record.md). Bump on breaking changes. */
export const RUN_RECORD_SCHEMA_VERSION = 1;

export type RunStatus = "running" | "completed" | "failed" | "interrupted";

/** Energy per component in joules. A component that was not measured is null (see `unmeasured`). */
export interface EnergyBreakdownJ {
  /** Sum of the measured components; null only when none was measured. */
  total: number | null;
  cpu: number | null;
  gpu: number | null;
  ram: number | null;
}

/** Where one component's figure came from. */
export interface SourceRecord {
  component: Component;
  method: Method;
  /** Provenance label: "rapl:package-0", "nvml:total-energy", "tdp-model:AMD EPYC". */
  source: string;
  /** Channel label: "package-0", "GPU 0 (NVIDIA H100)". */
  label: string;
  /** How the machine's energy on this channel was shared with the tracked tree. */
  attribution: string;
  /** Machine energy read on this channel over the intervals it counted in, joules (null: never read). */
  machineEnergyJ: number | null;
  /** The part of `machineEnergyJ` attributed to the tracked tree, joules. */
  attributedEnergyJ: number | null;
  notes: string[];
}

export interface PhaseRecord {
  name: string;
  startedAt: string;
  /** null while the phase is still open (a run saved mid-way). */
  endedAt: string | null;
  /** Energy attributed to the tracked tree during the phase. */
  energyJ: EnergyBreakdownJ;
  /** CO2e of `energyJ.total` with the run's PUE and intensity, grams. */
  co2eG: number | null;
  /**
   * Metrics the program reported when the phase ended (`val_accuracy`, `loss`), from the
   * marks file's `"metrics"` or `endPhase(name, metrics)`; absent when none were given.
   */
  metrics?: Record<string, number>;
}

/**
 * How the machine's CPU energy splits: attributed to the tree, idle power of the
 * machine (reported apart, attributed to nobody), and the other processes' share.
 * attributedJ + idleJ + otherProcessesJ = machineEnergyJ.cpu.
 */
export interface CpuSplitJ {
  attributedJ: number;
  idleJ: number;
  otherProcessesJ: number;
  /** How idle power was obtained ("model: 40% of 120 W TDP"). */
  idleSource: string;
}

export interface MachineInfo {
  hostname: string;
  os: string;
  cpuModel: string;
  cpuCount: number;
  memoryTotalBytes: number;
  gpus: { index: number; name: string; uuid?: string }[];
}

/** Where the carbon intensity came from. */
export interface IntensitySource {
  /** The region code as resolved: "FR", "US-CA", "aws:us-east-1". */
  region: string;
  /** Grid zone the intensity is for ("FR", "US-CAL-CISO"). */
  zone: string;
  /** "Ember yearly electricity data 2023 (CC BY 4.0)". */
  source: string;
  year: number | null;
  /** "average" (location-based) or "marginal". */
  signal: "average" | "marginal";
  /** True when the region was not given and a default was used. */
  fallback: boolean;
  /**
   * The time series that gave the intensity interval by interval, when one was used (a
   * trace file or a live provider); null when the annual average applied throughout.
   * `coveredEnergyShare`: the share of the run's energy the series covered (the rest was
   * counted at the annual average, with a warning).
   */
  series?: {
    source: string;
    zone: string;
    signal: "average" | "marginal";
    coveredEnergyShare: number | null;
  } | null;
}

/** The record of one tracked run, as saved in the store and written by `--out`. */
export interface RunRecord {
  schemaVersion: number;
  id: string;
  /** The command as given (argv); for library runs, the label given to the tracker. */
  command: string[];
  /** null while running, when the command was killed by a signal, or for library runs. */
  exitCode: number | null;
  /** The signal that ended the command, if one did ("SIGTERM"). */
  signal: string | null;
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  durationS: number;
  /** Energy attributed to the tracked process tree. */
  energyJ: EnergyBreakdownJ;
  /** Energy the whole machine used over the run (on the measured components). */
  machineEnergyJ: EnergyBreakdownJ;
  /** energyJ.total / machineEnergyJ.total, 0..1, null when unknown. */
  shareOfMachine: number | null;
  cpuSplitJ: CpuSplitJ | null;
  /** CPU time the tracked tree used over the run (user + system, all its processes), seconds. */
  cpuTimeS: number;
  /** CO2e of the attributed energy with PUE and intensity, grams. */
  co2eG: number | null;
  /** CO2e of the machine's energy, grams. */
  machineCo2eG: number | null;
  region: string;
  /** The intensity the run's CO2e works out at: energy-weighted over its intervals, gCO2e/kWh. */
  intensityGPerKWh: number;
  intensitySource: IntensitySource;
  pue: number;
  /** Where the PUE came from ("default 1.0 (no data-centre overhead)", "user", "aws published"). */
  pueSource: string;
  sources: SourceRecord[];
  /** Components that could not be measured and why ("gpu: no NVIDIA or AMD GPU found"). */
  unmeasured: { component: Component; reason: string }[];
  phases: PhaseRecord[];
  warnings: string[];
  sampling: { intervalS: number; samples: number; peakTreeProcesses: number };
  machine: MachineInfo;
  /** wattprint version that wrote the record. */
  trackerVersion: string;
}

/** Power per component, watts; null where the component was not measured. */
export interface PowerBreakdownW {
  cpu: number | null;
  gpu: number | null;
  ram: number | null;
}

/**
 * One sampling interval of a run, as stored and plotted: mean power over the interval
 * ending at `t`, for the whole machine and for the tracked tree.
 */
export interface TimelineSample {
  /** Sequence number from 0 within the run. */
  seq: number;
  /** ISO time at the end of the interval. */
  t: string;
  /** Seconds since the run started, at the end of the interval. */
  elapsedS: number;
  intervalS: number;
  machinePowerW: PowerBreakdownW;
  attributedPowerW: PowerBreakdownW;
  /** Mean power per channel id over the interval. */
  channelPowerW: Record<string, number | null>;
  /** Live processes in the tracked tree at `t`. */
  treeProcesses: number;
  /** Share of the machine's busy CPU time used by the tree in this interval, 0..1. */
  treeCpuShare: number | null;
  /** Grid intensity used for the interval, gCO2e/kWh (annual average unless a series covered it). */
  intensityGPerKWh: number;
  /** Phases open during the interval. */
  phases: string[];
}
