/**
 * Embodied (manufacturing) emissions of the hardware a job uses, amortised over the
 * hardware's lifetime: each device-hour carries (device kg + its share of the host server's
 * kg) / lifetime hours. Reported apart from operational emissions. Method and sources:
 * docs/estimate.md, data/SOURCES.md.
 */
import type { Accelerator } from "../hardware/accelerators.js";
import { assumption, USER_SOURCE, type Assumption } from "./assumptions.js";

/**
 * Default service life of an accelerator server, years: the 4 years over which
 * Morrison et al. 2025 (ICLR) amortise their H100 nodes.
 */
export const DEFAULT_LIFETIME_YEARS = 4;

/** Where {@link DEFAULT_LIFETIME_YEARS} comes from. */
export const DEFAULT_LIFETIME_SOURCE =
  "default: 4-year service life, as amortised by Morrison et al. 2025 (ICLR), Holistically Evaluating the Environmental Impact of Creating Language Models";

/** Hours in a (365-day) year. */
export const HOURS_PER_YEAR = 8760;

/** Embodied emissions of one job, with the figures that made them. */
export interface EmbodiedEstimate {
  /** Amortised manufacturing emissions of the job, kgCO2e. */
  embodiedCo2eKg: number;
  /** The device's own manufacturing emissions, kgCO2e. */
  deviceKg: number;
  /** The device's share of its host server's manufacturing emissions, kgCO2e. */
  hostShareKg: number;
  lifetimeYears: number;
  /** Amortised emissions per device-hour, kgCO2e/h. */
  kgPerDeviceHour: number;
  /** True when the device figure is another device's (`same-as`) or counted in the host. */
  proxy: boolean;
  assumptions: Assumption[];
}

/** Options of {@link estimateEmbodied}. */
export interface EmbodiedOptions {
  /** Service life of the hardware, years; default {@link DEFAULT_LIFETIME_YEARS}. */
  lifetimeYears?: number;
}

/**
 * Amortised embodied emissions, kgCO2e: `deviceHours × perDeviceKg / (lifetimeYears × 8760)`.
 * Assumes the hardware is in use all its life; idle years would raise each hour's share.
 */
export function amortizedEmbodiedKg(
  deviceHours: number,
  perDeviceKg: number,
  lifetimeYears: number,
): number {
  return (deviceHours * perDeviceKg) / (lifetimeYears * HOURS_PER_YEAR);
}

/** The embodied emissions of `deviceHours` on `accelerator`. */
export function estimateEmbodied(
  accelerator: Accelerator,
  deviceHours: number,
  options: EmbodiedOptions = {},
): EmbodiedEstimate {
  const lifetimeYears = options.lifetimeYears ?? DEFAULT_LIFETIME_YEARS;
  const hostShareKg = accelerator.hostEmbodiedKg / accelerator.devicesPerHost;
  const perDeviceKg = accelerator.embodiedDeviceKg + hostShareKg;
  const embodiedCo2eKg = amortizedEmbodiedKg(deviceHours, perDeviceKg, lifetimeYears);
  const proxy = accelerator.embodiedBasis !== "published";
  const deviceSource =
    accelerator.embodiedBasis === "same-as"
      ? `proxy (same as ${accelerator.embodiedSameAs ?? "another device"}): ${accelerator.embodiedSource}`
      : accelerator.embodiedSource;
  return {
    embodiedCo2eKg,
    deviceKg: accelerator.embodiedDeviceKg,
    hostShareKg,
    lifetimeYears,
    kgPerDeviceHour: perDeviceKg / (lifetimeYears * HOURS_PER_YEAR),
    proxy,
    assumptions: [
      assumption("embodiedDeviceKg", accelerator.embodiedDeviceKg, "kgCO2e", deviceSource),
      assumption(
        "embodiedHostShareKg",
        hostShareKg,
        "kgCO2e",
        `${accelerator.hostEmbodiedKg} kg per host / ${accelerator.devicesPerHost} devices: ${accelerator.hostSource}`,
      ),
      assumption(
        "lifetimeYears",
        lifetimeYears,
        "years",
        options.lifetimeYears === undefined ? DEFAULT_LIFETIME_SOURCE : USER_SOURCE,
      ),
    ],
  };
}
