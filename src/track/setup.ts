import { hostname, release, totalmem, type } from "node:os";
import type { IntensitySource, MachineInfo } from "../record/run-record.js";
import type { SamplerCarbon, SensorPlan } from "./sampler.js";
import { discoverSensors, type ProbeResult, type SensorOptions } from "../sensors/discover.js";
import { resolveRegion, worldAverageRegion, type ResolvedRegion } from "../grid/regions.js";
import { readCpuInfo } from "../hardware/cpu-info.js";
import { DEFAULT_PUE } from "../carbon/operational.js";
import { WattprintError } from "../errors.js";

export interface CarbonOptions {
  /** ISO country, subdivision (US-CA) or cloud region (aws:us-east-1); default: world average. */
  region?: string;
  /** Data-centre PUE; default the cloud region's published PUE, else 1.0. */
  pue?: number;
}

export interface RunSetup {
  plan: SensorPlan;
  probes: ProbeResult[];
  carbon: SamplerCarbon;
  machine: MachineInfo;
}

/** Checks a PUE given by a user: a finite number from 1 to 5. */
export function validatePue(pue: number): number {
  if (!Number.isFinite(pue) || pue < 1 || pue > 5) {
    throw new WattprintError(
      "USAGE",
      `invalid PUE ${String(pue)}: it must be a number from 1 to 5`,
      {
        hint: "PUE is facility energy / IT energy: 1.1 for an efficient hyperscale data centre, 1.5–1.6 for a typical one",
      },
    );
  }
  return pue;
}

/** Resolves where the run's electricity comes from and how clean it is. */
export function resolveCarbon(options: CarbonOptions): {
  carbon: SamplerCarbon;
  warnings: string[];
} {
  const warnings: string[] = [];
  let resolved: ResolvedRegion;
  if (options.region === undefined) {
    resolved = worldAverageRegion();
    warnings.push(
      `no region given: using the world average grid intensity (${resolved.intensityGPerKWh} gCO2e/kWh, ${resolved.source}); pass --region (FR, US-CA, aws:us-east-1, ...) for your grid`,
    );
  } else {
    resolved = resolveRegion(options.region);
    if (resolved.fallback) {
      warnings.push(
        `region ${resolved.code}: ${resolved.fallbackReason ?? "a coarser figure stands in"}`,
      );
    }
  }
  const intensitySource: IntensitySource = {
    region: resolved.code,
    zone: resolved.zone,
    source: resolved.source,
    year: resolved.year,
    signal: resolved.signal,
    fallback: options.region === undefined || resolved.fallback,
  };
  let pue: number;
  let pueSource: string;
  if (options.pue !== undefined) {
    pue = validatePue(options.pue);
    pueSource = "user";
  } else if (resolved.pue !== undefined) {
    pue = resolved.pue;
    pueSource = resolved.pueSource ?? "cloud provider's published PUE";
  } else {
    pue = DEFAULT_PUE;
    pueSource = "default 1.0: no data-centre overhead counted (pass --pue for a data centre)";
  }
  return {
    carbon: {
      region: resolved.code,
      intensityGPerKWh: resolved.intensityGPerKWh,
      intensitySource,
      pue,
      pueSource,
    },
    warnings,
  };
}

/** Everything a run needs before its first sample: sensors, carbon context, machine. */
export async function prepareRun(
  carbonOptions: CarbonOptions,
  sensorOptions: Omit<SensorOptions, "cpuModel" | "logicalCpus" | "sockets" | "virtualized">,
  procRoot?: string,
): Promise<RunSetup> {
  const { carbon, warnings } = resolveCarbon(carbonOptions);
  const cpu = readCpuInfo(procRoot);
  const { plan, probes } = await discoverSensors({
    ...sensorOptions,
    cpuModel: cpu.modelName,
    logicalCpus: cpu.logicalCpus,
    sockets: cpu.sockets,
    virtualized: cpu.virtualized,
  });
  plan.warnings.push(...warnings);
  const gpus = plan.sensors
    .flatMap((s) => s.channels)
    .filter((c) => c.component === "gpu" && c.device)
    .map((c) => ({
      index: c.device?.index ?? 0,
      name: c.device?.name ?? c.label,
      ...(c.device?.uuid ? { uuid: c.device.uuid } : {}),
    }));
  const machine: MachineInfo = {
    hostname: hostname(),
    os: `${type()} ${release()}`,
    cpuModel: cpu.modelName,
    cpuCount: cpu.logicalCpus,
    memoryTotalBytes: totalmem(),
    gpus,
  };
  return { plan, probes, carbon, machine };
}
