import type { SensorPlan } from "../track/sampler.js";
import type { Availability, ChannelInfo, Component, Sensor } from "./sensor.js";
import { createRaplSensor } from "./rapl.js";
import { createAmdGpuSensor } from "./amd-hwmon.js";
import { createNvmlSensor } from "./nvml.js";
import { createNvidiaSmiSensor } from "./nvidia-smi.js";
import { createCpuModelSensor } from "./cpu-model.js";
import { createRamModelSensor } from "./ram-model.js";

/** Where sensors read from; tests point these at fixture trees and fake programs. */
export interface SensorOptions {
  /** Default /sys/class/powercap. */
  powercapRoot?: string;
  /** Default /sys/class/hwmon. */
  hwmonRoot?: string;
  /** false skips NVML (WATTPRINT_NVML=off); nvidia-smi is still tried. */
  nvml?: boolean;
  /** nvidia-smi program; default "nvidia-smi" on PATH. */
  nvidiaSmiCommand?: string;
  cudaVisibleDevices?: string;
  cudaDeviceOrder?: string;
  /** "package+dram" (default) or "psys" for RAPL. */
  raplDomains?: "package+dram" | "psys";
  /** From /proc/cpuinfo. */
  cpuModel: string;
  logicalCpus: number;
  sockets?: number;
  /** From the CPU's hypervisor flag; null when unknown. */
  virtualized?: boolean | null;
}

/** What one sensor said when probed. */
export interface ProbeResult {
  sensor: Sensor;
  availability: Availability;
}

export interface Discovery {
  plan: SensorPlan;
  probes: ProbeResult[];
}

async function probe(sensor: Sensor): Promise<ProbeResult> {
  try {
    return { sensor, availability: await sensor.probe() };
  } catch (error) {
    return {
      sensor,
      availability: { available: false, reason: `probe failed: ${(error as Error).message}` },
    };
  }
}

function channelsOf(result: ProbeResult | undefined, component: Component): ChannelInfo[] {
  if (!result || !result.availability.available) return [];
  return result.availability.channels.filter((c) => c.component === component);
}

function reasonOf(result: ProbeResult | undefined): string {
  if (!result) return "not tried";
  return result.availability.available ? "available" : result.availability.reason;
}

/**
 * Probes every sensor and chooses, per component, the best source: hardware counters
 * first, then power readings, then a labelled model. Every fallback becomes a warning.
 */
export async function discoverSensors(options: SensorOptions): Promise<Discovery> {
  const rapl = createRaplSensor({ root: options.powercapRoot, domains: options.raplDomains });
  const nvml =
    options.nvml === false
      ? null
      : createNvmlSensor({
          cudaVisibleDevices: options.cudaVisibleDevices,
          cudaDeviceOrder: options.cudaDeviceOrder,
        });
  const nvidiaSmi = createNvidiaSmiSensor({
    command: options.nvidiaSmiCommand,
    cudaVisibleDevices: options.cudaVisibleDevices,
    cudaDeviceOrder: options.cudaDeviceOrder,
  });
  const amd = createAmdGpuSensor({ root: options.hwmonRoot });
  const cpuModel = createCpuModelSensor({
    cpuModel: options.cpuModel,
    logicalCpus: options.logicalCpus,
    sockets: options.sockets,
    virtualized: options.virtualized,
  });
  const ramModel = createRamModelSensor();

  const [raplProbe, nvmlProbe, amdProbe, cpuProbe, ramProbe] = await Promise.all([
    probe(rapl),
    nvml ? probe(nvml) : Promise.resolve(undefined),
    probe(amd),
    probe(cpuModel),
    probe(ramModel),
  ]);
  const nvmlUsable = nvmlProbe?.availability.available === true;
  // nvidia-smi only stands in where NVML cannot be used.
  const smiProbe = nvmlUsable ? undefined : await probe(nvidiaSmi);

  const probes = [raplProbe, nvmlProbe, smiProbe, amdProbe, cpuProbe, ramProbe].filter(
    (p): p is ProbeResult => p !== undefined,
  );
  const plan: SensorPlan = {
    sensors: [],
    fallbacks: {},
    cpuIdle: null,
    unmeasured: [],
    warnings: [],
  };
  const use = (result: ProbeResult | undefined, components: Component[]) => {
    if (!result) return;
    const channels = components.flatMap((c) => channelsOf(result, c));
    if (channels.length > 0) plan.sensors.push({ sensor: result.sensor, channels });
  };

  // CPU and RAM: RAPL where readable, else models.
  const cpuModelChannel = channelsOf(cpuProbe, "cpu")[0];
  const raplCpu = channelsOf(raplProbe, "cpu");
  const raplRam = channelsOf(raplProbe, "ram");
  use(raplProbe, [
    ...(raplCpu.length > 0 ? ["cpu" as const] : []),
    ...(raplRam.length > 0 ? ["ram" as const] : []),
  ]);
  if (cpuModelChannel) {
    plan.fallbacks.cpu = { sensor: cpuModel, channel: cpuModelChannel };
    if (cpuModelChannel.idlePowerW !== undefined) {
      plan.cpuIdle = {
        powerW: cpuModelChannel.idlePowerW,
        source: `${cpuModelChannel.source}: power at 0% load`,
      };
    }
  }
  if (raplCpu.length === 0) {
    if (cpuModelChannel) {
      plan.warnings.push(
        `CPU energy is modelled (${cpuModelChannel.source}), not measured: RAPL is not readable (${reasonOf(raplProbe)})`,
      );
      for (const note of cpuModelChannel.notes ?? []) {
        if (/assum/i.test(note)) plan.warnings.push(`CPU model: ${note}`);
      }
    } else {
      plan.unmeasured.push({ component: "cpu", reason: reasonOf(raplProbe) });
    }
  }
  const ramModelChannel = channelsOf(ramProbe, "ram")[0];
  if (ramModelChannel) plan.fallbacks.ram = { sensor: ramModel, channel: ramModelChannel };
  if (raplRam.length === 0) {
    const psys = raplCpu.some((c) => c.source.includes("psys"));
    if (psys) {
      // psys already covers DRAM: a separate RAM figure would count it twice.
      delete plan.fallbacks.ram;
      plan.unmeasured.push({
        component: "ram",
        reason: "included in the RAPL psys (platform) reading",
      });
    } else if (ramModelChannel) {
      plan.warnings.push(
        `RAM energy is modelled (${ramModelChannel.source}), not measured: no RAPL dram domain here`,
      );
    } else {
      plan.unmeasured.push({ component: "ram", reason: reasonOf(ramProbe) });
    }
  }

  // GPUs: NVML, else nvidia-smi; AMD through hwmon.
  use(nvmlUsable ? nvmlProbe : smiProbe, ["gpu"]);
  use(amdProbe, ["gpu"]);
  const smiUsable = smiProbe?.availability.available === true;
  if (!nvmlUsable && smiUsable) {
    plan.warnings.push(
      `NVIDIA GPU power is polled from nvidia-smi because NVML could not be used (${nvml ? reasonOf(nvmlProbe) : "NVML turned off"})`,
    );
  }
  if (plan.sensors.every((s) => s.channels.every((c) => c.component !== "gpu"))) {
    plan.unmeasured.push({
      component: "gpu",
      reason: `no GPU found (NVML: ${nvml ? reasonOf(nvmlProbe) : "turned off"}; nvidia-smi: ${reasonOf(smiProbe)}; AMD: ${reasonOf(amdProbe)})`,
    });
  }
  return { plan, probes };
}
