/**
 * Measures the energy of pieces of work done in this process (an epoch, a thousand
 * inferences) as phases of a wattprint {@link Tracker}. Each phase is cut by a sample at
 * its start and its end (the meter waits for both), so it gets the energy of its own
 * time; on a machine without energy counters that energy is the tracker's CPU/RAM model
 * applied to the CPU time the process used, and `describeSource()` says so.
 *
 * Give the meter a tracker with a long sampling interval (60 s, {@link meterTracker}):
 * a periodic sample that happens to be running when a phase starts or ends makes the
 * tracker skip that boundary, and the phase then shares an interval with its neighbours.
 */
import type { TrackOptions } from "../api/options.js";
import { Tracker } from "../api/track.js";
import type { RunRecord } from "../record/run-record.js";

/** Energy of one measured piece of work. */
export interface MeasuredEnergy {
  /** Energy attributed to this process over the piece, joules; null when nothing could be measured. */
  energyJ: number | null;
  /** CPU part of `energyJ`, joules. */
  cpuEnergyJ: number | null;
  /** CO2e of `energyJ` with the tracker's region and PUE, grams. */
  co2eG: number | null;
  durationS: number;
}

/** The tracker skips boundary samples closer than 50 ms to the previous sample. */
const MIN_GAP_MS = 60;
const SAMPLE_WAIT_LIMIT_MS = 3000;

/** A tracker for a meter: samples at phase boundaries, a periodic sample only every 60 s; not saved. */
export function meterTracker(options: TrackOptions & { label?: string } = {}): Tracker {
  return new Tracker({ store: false, intervalS: 60, ...options });
}

/** Phases are named uniquely in the process, so meters sharing a tracker never mix them up. */
let phaseCount = 0;

export class EnergyMeter {
  constructor(readonly tracker: Tracker) {}

  /** Runs `body` as one phase and returns its result with the phase's energy. */
  async measure<T>(
    name: string,
    body: () => T | Promise<T>,
  ): Promise<{ result: T; energy: MeasuredEnergy }> {
    const handle = await this.begin(name);
    let result: T;
    try {
      result = await body();
    } catch (error) {
      await handle.end();
      throw error;
    }
    return { result, energy: await handle.end() };
  }

  /** Starts a phase (after a short settle); `end()` closes it and waits for its energy. */
  async begin(name: string): Promise<{ end: () => Promise<MeasuredEnergy> }> {
    const phaseName = `${name} #${++phaseCount}`;
    await sleep(MIN_GAP_MS);
    const startSamples = this.tracker.snapshot().sampling.samples;
    const endPhase = this.tracker.phase(phaseName);
    // The boundary sample reads its sensors asynchronously: let it finish before the work runs.
    await this.waitForSample(startSamples, 500);
    const startedMs = performance.now();
    return {
      end: async () => {
        const durationS = (performance.now() - startedMs) / 1000;
        // Too short a phase gets no boundary sample; idle padding adds no attributed energy.
        if (durationS * 1000 < MIN_GAP_MS) await sleep(MIN_GAP_MS - durationS * 1000);
        const samplesBefore = this.tracker.snapshot().sampling.samples;
        endPhase();
        const record = await this.waitForSample(samplesBefore, SAMPLE_WAIT_LIMIT_MS);
        const phase = record.phases.findLast((p) => p.name === phaseName);
        return {
          energyJ: phase?.energyJ.total ?? null,
          cpuEnergyJ: phase?.energyJ.cpu ?? null,
          co2eG: phase?.co2eG ?? null,
          durationS,
        };
      },
    };
  }

  /** How the energy was obtained: "cpu: model (tdp-model:…); ram: model (…)". */
  describeSource(): string {
    return describeEnergySource(this.tracker.snapshot());
  }

  private async waitForSample(samplesBefore: number, limitMs: number): Promise<RunRecord> {
    const deadline = performance.now() + limitMs;
    for (;;) {
      const record = this.tracker.snapshot();
      if (record.sampling.samples > samplesBefore || performance.now() > deadline) return record;
      await sleep(2);
    }
  }
}

/** The sources of a run's energy, one per component, as one line. */
export function describeEnergySource(record: RunRecord): string {
  const parts = record.sources.map(
    (source) => `${source.component}: ${source.method} (${source.source})`,
  );
  return parts.length > 0 ? parts.join("; ") : "no energy source";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
