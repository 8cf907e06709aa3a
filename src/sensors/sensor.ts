/**
 * The one interface every power source implements. A sensor reports what it can read
 * (counters or power) with provenance; it never integrates energy over time and never
 * knows about runs. The tracker turns readings into energy.
 */

/** The hardware component a channel measures. */
export type Component = "cpu" | "gpu" | "ram";

/**
 * How a figure was obtained:
 * - `counter`: a cumulative hardware energy counter (RAPL, NVML total energy, hwmon energy).
 * - `power-integration`: instantaneous power readings integrated over time by the tracker.
 * - `model`: a documented model (for example TDP × load curve), never a silent constant.
 */
export type Method = "counter" | "power-integration" | "model";

/** One thing a sensor can read, fixed for the life of a sensor after `probe()`. */
export interface ChannelInfo {
  /** Unique within a run, stable across samples: "rapl:intel-rapl:0", "nvml:0", "cpu-model". */
  id: string;
  component: Component;
  method: Method;
  /** Provenance label shown to users: "rapl:package-0", "nvml:total-energy", "tdp-model:AMD EPYC 7B13". */
  source: string;
  /** Short human label: "package-0", "GPU 0 (NVIDIA H100 80GB HBM3)". */
  label: string;
  /** For accelerators: which device this is. */
  device?: { index: number; uuid?: string; name?: string };
  /** For model channels: the idle part of its power, so the tracker can report idle apart. */
  idlePowerW?: number;
  /** Assumptions a user should know about (shown with the source in the run record). */
  notes?: string[];
}

/** Whether a sensor can be used here; when not, why not and the safe fix. */
export type Availability =
  | { available: true; channels: ChannelInfo[]; notes: string[] }
  | { available: false; reason: string; fix?: string };

/**
 * A value read from one channel at one instant.
 * - `energy`: a cumulative counter in joules that wraps back to 0 after `wrapJ` (null: no
 *   known wrap, so a decrease is treated as a reset and reported).
 * - `power`: instantaneous power; the tracker integrates it (trapezoid).
 * - `mean-power`: the average power over the interval since the previous read (models);
 *   the tracker multiplies it by the interval.
 */
export type ChannelValue =
  | { kind: "energy"; energyJ: number; wrapJ: number | null }
  | { kind: "power"; powerW: number }
  | { kind: "mean-power"; powerW: number };

/** A process using a device, with its share of the device when the driver tells it. */
export interface DeviceProcess {
  pid: number;
  /** 0..1 share of the device's use (for example SM utilisation), or null when unknown. */
  share: number | null;
}

export interface ChannelReading {
  channelId: string;
  /** null when this channel could not be read this time; `error` says why. */
  value: ChannelValue | null;
  error?: string;
  /**
   * GPUs: the processes using the device now. `undefined` means the sensor cannot tell,
   * so the whole device is attributed to the tracked run with a note.
   */
  processes?: DeviceProcess[];
}

/** What model sensors need to know about the interval that just ended. */
export interface SampleContext {
  /** Seconds since the previous read; null on the first read. */
  intervalS: number | null;
  /** Whole-machine CPU utilisation over the interval (0..1), null on the first read. */
  machineCpuUtilization: number | null;
  /** Memory in use on the machine (MemTotal − MemAvailable), bytes. */
  machineMemoryUsedBytes: number;
}

export interface Sensor {
  /** "rapl", "nvml", "nvidia-smi", "amd-hwmon", "cpu-model", "ram-model". */
  readonly name: string;
  /** The components this sensor can measure. */
  readonly components: readonly Component[];
  /** Finds the channels; never throws for expected absence (returns a reason instead). */
  probe(): Promise<Availability>;
  /** Reads every channel found by `probe()`. Must not throw for one bad channel. */
  read(context: SampleContext): Promise<ChannelReading[]>;
  /** Releases handles (NVML shutdown). */
  close?(): Promise<void> | void;
}
