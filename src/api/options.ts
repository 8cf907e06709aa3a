import type { TimelineSample } from "../record/run-record.js";
import {
  settingsFromEnvironment,
  type Environment,
  type EnvironmentSettings,
} from "../config/settings.js";
import { RunStore } from "../store/run-store.js";
import { defaultStorePath } from "../store/default-path.js";
import type { RunSink } from "../track/sampler.js";
import { prepareRun, type RunSetup } from "../track/setup.js";
import { WattprintError } from "../errors.js";

/** Options shared by every way of tracking. */
export interface TrackOptions {
  /** ISO country (FR), subdivision (US-CA) or cloud region (aws:us-east-1); default the world average, with a warning. */
  region?: string;
  /** Data-centre PUE; default the cloud region's published PUE, else 1.0. */
  pue?: number;
  /** Seconds between samples; default 1. */
  intervalS?: number;
  /** Save the run in the run store: true (default) for the default store, a path for another, false for none. */
  store?: boolean | string;
  /** Where settings are read from; default process.env. */
  env?: Environment;
  /** Called after every sample with the interval's power. */
  onSample?: (sample: TimelineSample) => void;
}

export interface ResolvedTrackOptions {
  settings: EnvironmentSettings;
  intervalS: number;
  store: RunStore | null;
  setup: RunSetup;
}

export const MIN_INTERVAL_S = 0.05;

/** Checks a sampling interval in seconds. */
export function validateIntervalS(intervalS: number): number {
  if (!Number.isFinite(intervalS) || intervalS < MIN_INTERVAL_S || intervalS > 3600) {
    throw new WattprintError("USAGE", `invalid interval ${String(intervalS)} s`, {
      hint: "give a sampling interval from 0.05 s to 1 h, for example --interval 1s or 500ms",
    });
  }
  return intervalS;
}

/** Normalises options once: defaults, validation, sensors, carbon context, store. */
export async function resolveTrackOptions(options: TrackOptions): Promise<ResolvedTrackOptions> {
  const settings = settingsFromEnvironment(options.env ?? process.env);
  const intervalS = validateIntervalS(options.intervalS ?? 1);
  let pue = options.pue;
  if (pue === undefined && settings.pue !== undefined) pue = Number(settings.pue);
  const setup = await prepareRun(
    { region: options.region ?? settings.region, pue },
    {
      powercapRoot: settings.powercapRoot,
      hwmonRoot: settings.hwmonRoot,
      nvml: settings.nvml,
      cudaVisibleDevices: settings.cudaVisibleDevices,
      cudaDeviceOrder: settings.cudaDeviceOrder,
    },
    settings.procRoot,
  );
  const storeOption = options.store ?? true;
  const store =
    storeOption === false
      ? null
      : RunStore.open(
          typeof storeOption === "string" ? storeOption : defaultStorePath(settings.home),
        );
  return { settings, intervalS, store, setup };
}

/** The run store as a sink for a sampler running in this process. */
export function storeSink(store: RunStore | null): RunSink | null {
  if (store === null) return null;
  return {
    begin: (record) => store.beginRun(record, process.pid),
    progress: (record, sample) => store.saveProgress(record, sample),
    finish: (record) => store.finishRun(record),
  };
}
