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
import { wattprintVersion } from "../version.js";
import type { IntensitySeries } from "../grid/series.js";
import type { ProviderOptions } from "../grid/providers/provider.js";
import type { UploadResult } from "../serve/client/uploader.js";

/** Where to stream a run as it goes (`wattprint track --server`); see docs/serve.md. */
export interface ServerStreamOptions {
  /** The server's base URL ("http://127.0.0.1:8787"). */
  url: string;
  /** An ingest token of the project (the project comes from the token). */
  token: string;
  /** Job key joining trackers of one job on many nodes; default from the launcher's environment (Slurm, torchrun, Open MPI, Kubernetes). */
  job?: string;
  /** Nodes the job should have; default from the launcher's environment or WATTPRINT_JOB_NODES. */
  expectedNodes?: number;
  /** Seconds between uploads; default 15. */
  uploadIntervalS?: number;
  /** How long the end of the run waits for the last upload, seconds; default 30. */
  flushTimeoutS?: number;
  /** Told once per kind of upload problem (unreachable server, refused token). */
  onWarning?: (message: string) => void;
  /** "agent" for a whole-host measurement (`wattprint agent`); default "track". */
  kind?: "track" | "agent";
}

/** Options shared by every way of tracking. */
export interface TrackOptions {
  /** ISO country (FR), subdivision (US-CA) or cloud region (aws:us-east-1); default the world average, with a warning. */
  region?: string;
  /** Data-centre PUE; default the cloud region's published PUE, else 1.0. */
  pue?: number;
  /**
   * An hourly (or finer) carbon-intensity series to use interval by interval instead of
   * the annual average (from `loadIntensityFile`); intervals it does not cover fall back to
   * the annual average, and the run says how much energy did.
   */
  intensitySeries?: IntensitySeries;
  /**
   * A live provider asked, when the run ends, for the intensity over the run
   * (electricitymaps, watttime, uk-carbon-intensity, carbon-aware-sdk); on failure the
   * annual average stands, with the provider's error in `warnings`.
   */
  intensityProvider?: { name: string; options: ProviderOptions; zone?: string };
  /** Seconds between samples; default 1. */
  intervalS?: number;
  /** Save the run in the run store: true (default) for the default store, a path for another, false for none. */
  store?: boolean | string;
  /** Where settings are read from; default process.env. */
  env?: Environment;
  /** Called after every sample with the interval's power. */
  onSample?: (sample: TimelineSample) => void;
  /** Also stream the run to a wattprint server (the local store stays the spool, so it is required). */
  server?: ServerStreamOptions;
}

export interface ResolvedTrackOptions {
  settings: EnvironmentSettings;
  intervalS: number;
  store: RunStore | null;
  setup: RunSetup;
  /** Where the sampler writes: the store, wrapped to stream to the server when one is given. */
  sink: RunSink | null;
  /** Waits for the last upload to the server (null without a server); call after the run ended. */
  finishUpload: () => Promise<UploadResult | null>;
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
  if (options.intensitySeries) {
    setup.carbon.series = options.intensitySeries;
    if (options.intensitySeries.signal === "marginal") {
      setup.plan.warnings.push(
        `the intensity series is a marginal signal (${options.intensitySeries.source}): the CO2e is consequential, not the location-based (average) accounting figure; intervals outside it use the annual average`,
      );
    }
    setup.plan.warnings.push(
      ...options.intensitySeries.warnings.map((w) => `intensity series: ${w}`),
    );
  }
  const provider = options.intensityProvider;
  if (provider) {
    if (options.intensitySeries) {
      throw new WattprintError(
        "USAGE",
        "an intensity file and a live intensity source cannot be used together",
        {
          hint: "pick one: --intensity-file or --intensity-source",
        },
      );
    }
    // Built now so a missing key or URL fails before the command runs; loaded only when asked.
    const { createProvider } = await import("../grid/providers/registry.js");
    createProvider(provider.name, provider.options);
    const region = setup.carbon.region;
    setup.carbon.seriesForRun = async (fromMs, toMs) => {
      const { getIntensitySeries } = await import("../grid/intensity.js");
      const result = await getIntensitySeries(region, fromMs, toMs, {
        source: provider.name,
        providerOptions: provider.options,
        zone: provider.zone,
      });
      const warnings = result.warnings.map((w) => `intensity source ${provider.name}: ${w}`);
      return { series: result.origin === "provider" ? result.series : null, warnings };
    };
  }
  // Checked before the store opens, so a bad --job or --no-store leaves nothing open.
  let job: { key: string | null; expectedNodes: number | null } = {
    key: null,
    expectedNodes: null,
  };
  if (options.server !== undefined) {
    if (options.store === false) {
      throw new WattprintError("USAGE", "streaming to a server needs the local run store", {
        hint: "drop --no-store: the local store is the spool that keeps the run when the server cannot be reached",
      });
    }
    // An agent measures its host, not a job: it never joins the launcher's job.
    if (options.server.kind !== "agent") {
      const { detectJob } = await import("../serve/client/job-key.js");
      job = detectJob(options.env ?? process.env, {
        job: options.server.job,
        expectedNodes: options.server.expectedNodes,
      });
    }
  }
  const storeOption = options.store ?? true;
  const store =
    storeOption === false
      ? null
      : RunStore.open(
          typeof storeOption === "string" ? storeOption : defaultStorePath(settings.home),
        );
  if (options.server === undefined) {
    return {
      settings,
      intervalS,
      store,
      setup,
      sink: storeSink(store),
      finishUpload: async () => null,
    };
  }
  if (store === null) throw new Error("unreachable: the store is open when a server is given");
  const server = options.server;
  const { createRemoteSink } = await import("../serve/client/remote-sink.js");
  let remote;
  try {
    remote = createRemoteSink(storeSink(store) as RunSink, {
      url: server.url,
      token: server.token,
      uploadIntervalS: server.uploadIntervalS,
      onWarning: server.onWarning,
      kind: server.kind ?? "track",
      job: job.key,
      expectedNodes: job.expectedNodes,
    });
  } catch (error) {
    store.close();
    throw new WattprintError("USAGE", (error as Error).message, {
      hint: "give the server's base URL, for example --server http://127.0.0.1:8787",
    });
  }
  const flushMs = (server.flushTimeoutS ?? 30) * 1000;
  return {
    settings,
    intervalS,
    store,
    setup,
    sink: remote,
    finishUpload: () => remote.drain(flushMs),
  };
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

/** The parts of a command run that come straight from resolved track options. */
export function commandRunBase(
  resolved: ResolvedTrackOptions,
  options: TrackOptions & {
    forwardSigint?: boolean;
    stdio?: "inherit" | "ignore" | "pipe";
    cwd?: string;
  },
) {
  return {
    setup: resolved.setup,
    intervalS: resolved.intervalS,
    sink: resolved.sink,
    env: options.env ?? process.env,
    procRoot: resolved.settings.procRoot,
    trackerVersion: wattprintVersion(),
    forwardSigint: options.forwardSigint ?? !process.stdin.isTTY,
    stdio: options.stdio,
    cwd: options.cwd,
  };
}
