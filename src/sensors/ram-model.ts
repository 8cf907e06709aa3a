/**
 * The RAM power model, the fallback when no DRAM energy counter is readable:
 * `powerW = wattsPerGB × memory in use / 10^9 bytes`. Always available.
 * Method: docs/power-models/ram.md.
 */
import { WattprintError } from "../errors.js";
import type { Availability, ChannelInfo, ChannelReading, SampleContext, Sensor } from "./sensor.js";

/**
 * Power drawn per gigabyte (10^9 bytes) of memory, watts: 0.3725 W/GB, the figure of the
 * Green Algorithms calculator (Lannelongue, Grealey & Inouye, Advanced Science 2021;
 * data/referenceValues.csv "memoryPower" in calculator versions 1.0–2.2), which cites an
 * ACM paper (doi:10.1145/3076113.3076117) and a Tom's Hardware DDR4 system review.
 */
export const RAM_POWER_W_PER_GB = 0.3725;

/** Bytes in one GB as this model counts it (SI gigabyte). */
export const BYTES_PER_GB = 1e9;

/** Options of {@link createRamModelSensor}. */
export interface RamModelOptions {
  /** Watts per GB (10^9 bytes) of memory in use, > 0. Default {@link RAM_POWER_W_PER_GB}. */
  wattsPerGB?: number;
}

/** The one channel this sensor reads. */
export const RAM_MODEL_CHANNEL_ID = "ram-model";

/**
 * Creates the RAM model sensor: name "ram-model", one channel "ram-model" (component ram,
 * method model) whose reading is `wattsPerGB × machineMemoryUsedBytes / 1e9` as mean power.
 * The tracker shares it with the tracked tree by resident-memory share.
 * @throws WattprintError `BAD_INPUT` when `wattsPerGB` is not a number above 0.
 */
export function createRamModelSensor(options: RamModelOptions = {}): Sensor {
  const wattsPerGB = options.wattsPerGB ?? RAM_POWER_W_PER_GB;
  if (!Number.isFinite(wattsPerGB) || wattsPerGB <= 0) {
    throw new WattprintError(
      "BAD_INPUT",
      `RAM power per GB must be a number above 0, got ${wattsPerGB}`,
    );
  }
  const fromDefault = options.wattsPerGB === undefined;
  const channel: ChannelInfo = {
    id: RAM_MODEL_CHANNEL_ID,
    component: "ram",
    method: "model",
    source: `ram-model:${wattsPerGB} W/GB`,
    label: "RAM model",
    notes: [
      `power = ${wattsPerGB} W per GB (10^9 bytes) of memory in use on the machine (MemTotal − MemAvailable)`,
      fromDefault
        ? "0.3725 W/GB is the Green Algorithms figure (Lannelongue et al., Advanced Science 2021)"
        : `${wattsPerGB} W/GB was given by the user`,
      "DRAM power depends mostly on installed capacity and access rate, not on bytes in use: a rough model",
    ],
  };

  return {
    name: "ram-model",
    components: ["ram"],
    async probe(): Promise<Availability> {
      return { available: true, channels: [channel], notes: [...(channel.notes ?? [])] };
    },
    async read(context: SampleContext): Promise<ChannelReading[]> {
      const usedBytes = context.machineMemoryUsedBytes;
      if (!Number.isFinite(usedBytes) || usedBytes < 0) {
        return [
          {
            channelId: RAM_MODEL_CHANNEL_ID,
            value: null,
            error: `memory in use is not a byte count: ${usedBytes}`,
          },
        ];
      }
      return [
        {
          channelId: RAM_MODEL_CHANNEL_ID,
          value: { kind: "mean-power", powerW: (wattsPerGB * usedBytes) / BYTES_PER_GB },
        },
      ];
    },
  };
}
