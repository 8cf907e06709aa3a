import { homedir } from "node:os";
import { join } from "node:path";

/** Settings that come from the environment; the only place that reads it. */
export interface EnvironmentSettings {
  /** WATTPRINT_HOME, default ~/.wattprint: where the run store lives. */
  home: string;
  /** WATTPRINT_POWERCAP_ROOT, default /sys/class/powercap. */
  powercapRoot: string;
  /** WATTPRINT_HWMON_ROOT, default /sys/class/hwmon. */
  hwmonRoot: string;
  /** WATTPRINT_PROC_ROOT, default /proc (tests only). */
  procRoot: string;
  /** WATTPRINT_NVML=off turns NVML off. */
  nvml: boolean;
  cudaVisibleDevices: string | undefined;
  cudaDeviceOrder: string | undefined;
  /** WATTPRINT_REGION: default region when no --region is given. */
  region: string | undefined;
  /** WATTPRINT_PUE: default PUE when no --pue is given. */
  pue: string | undefined;
}

export type Environment = Record<string, string | undefined>;

export function settingsFromEnvironment(env: Environment): EnvironmentSettings {
  const nonEmpty = (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value;
  };
  return {
    home: nonEmpty("WATTPRINT_HOME") ?? join(homedir(), ".wattprint"),
    powercapRoot: nonEmpty("WATTPRINT_POWERCAP_ROOT") ?? "/sys/class/powercap",
    hwmonRoot: nonEmpty("WATTPRINT_HWMON_ROOT") ?? "/sys/class/hwmon",
    procRoot: nonEmpty("WATTPRINT_PROC_ROOT") ?? "/proc",
    nvml: !["off", "0", "false", "no"].includes((nonEmpty("WATTPRINT_NVML") ?? "").toLowerCase()),
    cudaVisibleDevices: env.CUDA_VISIBLE_DEVICES,
    cudaDeviceOrder: nonEmpty("CUDA_DEVICE_ORDER"),
    region: nonEmpty("WATTPRINT_REGION"),
    pue: nonEmpty("WATTPRINT_PUE"),
  };
}
