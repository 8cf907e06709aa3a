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

/** Options for the live intensity providers: keys and URLs from the environment, cache under WATTPRINT_HOME. */
export interface ProviderSettings {
  baseUrl?: string;
  apiKey?: string;
  username?: string;
  password?: string;
  cacheDir: string;
}

/** Environment prefix of each provider name and alias. */
const PROVIDER_ENV_PREFIX: Readonly<Record<string, string>> = {
  electricitymaps: "ELECTRICITYMAPS",
  "electricity-maps": "ELECTRICITYMAPS",
  watttime: "WATTTIME",
  "uk-carbon-intensity": "UK_CARBON_INTENSITY",
  uk: "UK_CARBON_INTENSITY",
  carbonintensity: "UK_CARBON_INTENSITY",
  "carbon-aware-sdk": "CARBON_AWARE_SDK",
  "carbon-aware": "CARBON_AWARE_SDK",
};

/**
 * Keys and endpoints of live providers (opt-in): WATTPRINT_ELECTRICITYMAPS_TOKEN,
 * WATTPRINT_WATTTIME_USERNAME / _PASSWORD, WATTPRINT_CARBON_AWARE_SDK_URL, and
 * WATTPRINT_<P>_URL (P = ELECTRICITYMAPS, WATTTIME, UK_CARBON_INTENSITY, CARBON_AWARE_SDK)
 * to point any of them elsewhere (a proxy, or a test server). The response cache lives in
 * $WATTPRINT_HOME/cache.
 */
export function providerSettingsFromEnvironment(
  provider: string,
  env: Environment,
): ProviderSettings {
  const value = (name: string) => {
    const text = env[name];
    return text === undefined || text.trim() === "" ? undefined : text.trim();
  };
  const settings: ProviderSettings = { cacheDir: join(settingsFromEnvironment(env).home, "cache") };
  const prefix = PROVIDER_ENV_PREFIX[provider.trim().toLowerCase()];
  if (prefix === undefined) return settings;
  const baseUrl = value(`WATTPRINT_${prefix}_URL`);
  if (baseUrl !== undefined) settings.baseUrl = baseUrl;
  const apiKey = value(`WATTPRINT_${prefix}_TOKEN`);
  if (apiKey !== undefined) settings.apiKey = apiKey;
  const username = value(`WATTPRINT_${prefix}_USERNAME`);
  if (username !== undefined) settings.username = username;
  const password = value(`WATTPRINT_${prefix}_PASSWORD`);
  if (password !== undefined) settings.password = password;
  return settings;
}
