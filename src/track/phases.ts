import type { EnergyBreakdownJ, PhaseRecord } from "../record/run-record.js";
import type { ComponentJ } from "./attribution.js";

interface Phase {
  name: string;
  startS: number;
  endS: number | null;
  energyJ: ComponentJ;
  co2eG: number | null;
  metrics: Record<string, number> | null;
}

/**
 * Named spans of a run ("epoch 3", "eval"). Phases may nest or overlap; each gets the
 * attributed energy of the time it covers, assuming power is even within one interval.
 * Times are seconds since the run started (monotonic).
 */
export class PhaseTimeline {
  private readonly phases: Phase[] = [];
  readonly warnings: string[] = [];

  start(name: string, atS: number): void {
    if (this.open(name) !== undefined) {
      this.warnings.push(`phase "${name}" started again before it ended; the first one was closed`);
      this.end(name, atS);
    }
    this.phases.push({
      name,
      startS: atS,
      endS: null,
      energyJ: { cpu: null, gpu: null, ram: null },
      co2eG: null,
      metrics: null,
    });
  }

  end(name: string, atS: number, metrics?: Record<string, number>): void {
    const phase = this.open(name);
    if (phase === undefined) {
      this.warnings.push(`phase "${name}" ended but was never started; ignored`);
      return;
    }
    phase.endS = Math.max(phase.startS, atS);
    if (metrics !== undefined) phase.metrics = { ...(phase.metrics ?? {}), ...metrics };
  }

  /** Names of the phases open at some point in [fromS, toS]. */
  activeBetween(fromS: number, toS: number): string[] {
    return this.phases.filter((p) => overlapS(p, fromS, toS) > 0).map((p) => p.name);
  }

  /**
   * Shares the attributed energy of the interval [fromS, toS], and the emissions booked
   * for it, among the phases covering it.
   */
  allocate(fromS: number, toS: number, energyJ: ComponentJ, co2eG: number | null): void {
    const spanS = toS - fromS;
    if (!(spanS > 0)) return;
    for (const phase of this.phases) {
      const fraction = overlapS(phase, fromS, toS) / spanS;
      if (fraction <= 0) continue;
      for (const component of ["cpu", "gpu", "ram"] as const) {
        const value = energyJ[component];
        if (value === null) continue;
        phase.energyJ[component] = (phase.energyJ[component] ?? 0) + value * fraction;
      }
      if (co2eG !== null) phase.co2eG = (phase.co2eG ?? 0) + co2eG * fraction;
    }
  }

  /** Re-shares emissions after they were re-booked (a time series that arrived late). */
  reallocateCo2(intervals: readonly { fromS: number; toS: number; co2eG: number | null }[]): void {
    for (const phase of this.phases) phase.co2eG = null;
    for (const { fromS, toS, co2eG } of intervals) {
      const spanS = toS - fromS;
      if (!(spanS > 0) || co2eG === null) continue;
      for (const phase of this.phases) {
        const fraction = overlapS(phase, fromS, toS) / spanS;
        if (fraction > 0) phase.co2eG = (phase.co2eG ?? 0) + co2eG * fraction;
      }
    }
  }

  /** Closes every phase still open (at the end of a run), with a warning naming them. */
  closeAll(atS: number): void {
    const open = this.phases.filter((p) => p.endS === null);
    if (open.length === 0) return;
    for (const phase of open) phase.endS = Math.max(phase.startS, atS);
    this.warnings.push(
      `phase${open.length > 1 ? "s" : ""} ${open.map((p) => `"${p.name}"`).join(", ")} never ended; closed at the end of the run`,
    );
  }

  records(toIso: (atS: number) => string): PhaseRecord[] {
    return this.phases.map((phase) => {
      const energyJ = breakdown(phase.energyJ);
      return {
        name: phase.name,
        startedAt: toIso(phase.startS),
        endedAt: phase.endS === null ? null : toIso(phase.endS),
        energyJ,
        co2eG: energyJ.total === null ? null : phase.co2eG,
        ...(phase.metrics === null ? {} : { metrics: { ...phase.metrics } }),
      };
    });
  }

  private open(name: string): Phase | undefined {
    for (let i = this.phases.length - 1; i >= 0; i--) {
      const phase = this.phases[i];
      if (phase !== undefined && phase.name === name && phase.endS === null) return phase;
    }
    return undefined;
  }
}

function overlapS(phase: Phase, fromS: number, toS: number): number {
  const endS = phase.endS ?? Number.POSITIVE_INFINITY;
  return Math.max(0, Math.min(endS, toS) - Math.max(phase.startS, fromS));
}

/** Component energies plus their total; the total is null only when nothing was measured. */
export function breakdown(energyJ: ComponentJ): EnergyBreakdownJ {
  const parts = [energyJ.cpu, energyJ.gpu, energyJ.ram].filter((v): v is number => v !== null);
  return {
    total: parts.length === 0 ? null : parts.reduce((a, b) => a + b, 0),
    cpu: energyJ.cpu,
    gpu: energyJ.gpu,
    ram: energyJ.ram,
  };
}
