import type { ChannelInfo, ChannelValue } from "../sensors/sensor.js";
import { counterDeltaJ } from "./counter-delta.js";

/** The last good read of a channel. */
interface GoodRead {
  timeS: number;
  value: ChannelValue;
}

/**
 * Turns successive reads of one channel into energy per interval. Energy is always taken
 * between the last good read and the current one, so a failed read is bridged by the
 * next good one (counters lose nothing; power is interpolated linearly over the gap).
 */
export class ChannelIntegrator {
  readonly channel: ChannelInfo;
  /** Energy read on this channel since the start, joules; null until a first interval. */
  totalJ: number | null = null;
  goodReads = 0;
  failedReads = 0;
  lastError: string | null = null;
  /** Events worth a warning (wraps, resets), collected by the tracker. */
  readonly events: string[] = [];
  private last: GoodRead | null = null;
  private lastReadTimeS: number | null = null;

  constructor(channel: ChannelInfo) {
    this.channel = channel;
  }

  /**
   * Feeds one read taken at `timeS` (monotonic seconds). Returns the energy of the span
   * since the previous good read, or null when there is none yet or this read failed.
   */
  add(timeS: number, value: ChannelValue | null, error?: string): number | null {
    const previousReadS = this.lastReadTimeS;
    this.lastReadTimeS = timeS;
    if (value?.kind === "mean-power" && isFiniteValue(value)) {
      // A mean power covers exactly the interval since the previous read, good or not.
      this.goodReads += 1;
      this.last = { timeS, value };
      if (previousReadS === null) return null;
      const energyJ = value.powerW * Math.max(0, timeS - previousReadS);
      this.totalJ = (this.totalJ ?? 0) + energyJ;
      return energyJ;
    }
    if (value === null && this.goodReads === 0 && this.channel.method === "model") {
      // A model has nothing to say before its first interval; that is not a failure.
      return null;
    }
    if (value === null || !isFiniteValue(value)) {
      this.failedReads += 1;
      this.lastError = error ?? "no value";
      return null;
    }
    this.goodReads += 1;
    const previous = this.last;
    this.last = { timeS, value };
    if (previous === null) return null;
    const spanS = Math.max(0, timeS - previous.timeS);
    const energyJ = this.energyBetween(previous, { timeS, value }, spanS);
    if (energyJ === null) return null;
    this.totalJ = (this.totalJ ?? 0) + energyJ;
    return energyJ;
  }

  private energyBetween(previous: GoodRead, current: GoodRead, spanS: number): number | null {
    const { value } = current;
    if (value.kind === "energy") {
      if (previous.value.kind !== "energy") return null;
      const delta = counterDeltaJ(previous.value.energyJ, value.energyJ, value.wrapJ);
      if (delta.wrapped) this.events.push(`${this.channel.source}: counter wrapped around`);
      if (delta.reset) {
        this.events.push(
          `${this.channel.source}: counter went backwards with no known wrap point (reset?); counted from the reset`,
        );
      }
      return delta.deltaJ;
    }
    const previousW = previous.value.kind === "power" ? previous.value.powerW : value.powerW;
    return ((previousW + value.powerW) / 2) * spanS;
  }
}

function isFiniteValue(value: ChannelValue): boolean {
  const n = value.kind === "energy" ? value.energyJ : value.powerW;
  return Number.isFinite(n) && n >= 0;
}
