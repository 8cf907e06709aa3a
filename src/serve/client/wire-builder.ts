/**
 * Turns what a tracker has (the running RunRecord and each TimelineSample, or a finished
 * run from the local store) into the ingestion wire format: cumulative energy per device
 * from the record's sources, the run's cumulative totals, and mean power per device since
 * the previous sample.
 */
import type {
  PowerBreakdownW,
  RunRecord,
  SourceRecord,
  TimelineSample,
} from "../../record/run-record.js";
import { J_PER_KWH } from "../../units/energy.js";
import type {
  RunKind,
  WireDevice,
  WireFinal,
  WireRunHeader,
  WireSample,
} from "../ingest-schema.js";
import { INGEST_LIMITS } from "../ingest-schema.js";

/** A final record larger than this (bytes of JSON) is sent without its full record. */
export const MAX_FINAL_RECORD_BYTES = 512 * 1024;

const cut = (text: string, max: number) => (text.length > max ? text.slice(0, max) : text);

/** The id of a device on its host: component, source and label ("cpu|rapl:package-0|package-0"). */
export function deviceId(source: Pick<SourceRecord, "component" | "source" | "label">): string {
  return cut(`${source.component}|${source.source}|${source.label}`, 300);
}

/** The run's header for the server. `job` null: the run is its own job. */
export function runHeader(
  record: RunRecord,
  options: { kind: RunKind; job: string | null; expectedNodes: number | null },
): WireRunHeader {
  return {
    id: record.id,
    kind: options.kind,
    job: options.job,
    expectedNodes: options.expectedNodes,
    host: cut(record.machine.hostname || "unknown-host", 255),
    command: record.command.slice(0, INGEST_LIMITS.maxCommandArgs).map((arg) => cut(arg, 4096)),
    startedAt: record.startedAt,
    region: cut(record.region, 64),
    zone: cut(record.intensitySource.zone, 64),
    pue: record.pue,
    trackerVersion: cut(record.trackerVersion, 64),
  };
}

const finite = (value: number | null | undefined): number | null =>
  value === null || value === undefined || !Number.isFinite(value) || value < 0 ? null : value;

function power(breakdown: PowerBreakdownW): WireSample["powerW"] {
  return { cpu: finite(breakdown.cpu), gpu: finite(breakdown.gpu), ram: finite(breakdown.ram) };
}

/**
 * Builds wire samples from a live tracker, keeping each device's previous reading to give
 * its mean power over the interval.
 */
export class WireSampleBuilder {
  private readonly previous = new Map<string, { energyJ: number; tMs: number }>();

  /** The wire sample for `sample`, with `record` as it stands after it (cumulative totals). */
  build(record: RunRecord, sample: TimelineSample): WireSample {
    const tMs = Date.parse(sample.t);
    return {
      seq: sample.seq,
      t: sample.t,
      elapsedS: Math.max(0, sample.elapsedS),
      energyJ: finite(record.energyJ.total),
      machineEnergyJ: finite(record.machineEnergyJ.total),
      co2eG: finite(record.co2eG),
      powerW: power(sample.attributedPowerW),
      machinePowerW: power(sample.machinePowerW),
      intensityGPerKWh: finite(sample.intensityGPerKWh),
      phases: sample.phases.slice(0, INGEST_LIMITS.maxPhases).map((p) => cut(p, 128)),
      devices: this.devices(record.sources, tMs),
    };
  }

  /** The record's sources as wire devices, with power since the previous call. */
  devices(sources: readonly SourceRecord[], tMs: number): WireDevice[] {
    return sources.slice(0, INGEST_LIMITS.maxDevicesPerSample).map((source) => {
      const id = deviceId(source);
      const machineEnergyJ = finite(source.machineEnergyJ);
      let powerW: number | null = null;
      const before = this.previous.get(id);
      if (
        machineEnergyJ !== null &&
        before !== undefined &&
        tMs > before.tMs &&
        machineEnergyJ >= before.energyJ
      ) {
        powerW = (machineEnergyJ - before.energyJ) / ((tMs - before.tMs) / 1000);
      }
      if (machineEnergyJ !== null) this.previous.set(id, { energyJ: machineEnergyJ, tMs });
      return {
        id,
        component: source.component,
        method: source.method,
        source: cut(source.source, 256) || "unknown",
        label: cut(source.label, 256) || "unknown",
        machineEnergyJ,
        attributedEnergyJ: finite(source.attributedEnergyJ),
        powerW,
      };
    });
  }
}

/** How a finished run ends on the server; the full record goes along unless it is very large. */
export function finalOf(record: RunRecord, fallbackEndedAt: string): WireFinal {
  const status = record.status === "running" ? "interrupted" : record.status;
  const json = JSON.stringify(record);
  return {
    status,
    endedAt: record.endedAt ?? fallbackEndedAt,
    exitCode: record.exitCode,
    energyJ: finite(record.energyJ.total),
    machineEnergyJ: finite(record.machineEnergyJ.total),
    co2eG: finite(record.co2eG),
    record:
      Buffer.byteLength(json) <= MAX_FINAL_RECORD_BYTES
        ? (JSON.parse(json) as Record<string, unknown>)
        : null,
  };
}

/**
 * Wire samples of a run saved in the local store (for `wattprint push`): cumulative totals
 * rebuilt from the timeline (power × interval; CO2e with each interval's intensity and the
 * run's PUE), per-device totals on the last sample only (the store keeps them per run).
 */
export function samplesFromTimeline(
  record: RunRecord,
  timeline: readonly TimelineSample[],
): WireSample[] {
  let energyJ: number | null = null;
  let machineEnergyJ: number | null = null;
  let co2eG: number | null = null;
  const sum = (p: PowerBreakdownW) => {
    const parts = [p.cpu, p.gpu, p.ram].filter(
      (v): v is number => v !== null && Number.isFinite(v),
    );
    return parts.length === 0 ? null : parts.reduce((a, b) => a + b, 0);
  };
  const builder = new WireSampleBuilder();
  return timeline.map((sample, index) => {
    const attributedW = sum(sample.attributedPowerW);
    const machineW = sum(sample.machinePowerW);
    if (attributedW !== null) {
      const intervalJ = attributedW * sample.intervalS;
      energyJ = (energyJ ?? 0) + intervalJ;
      co2eG = (co2eG ?? 0) + (intervalJ / J_PER_KWH) * sample.intensityGPerKWh * record.pue;
    }
    if (machineW !== null) machineEnergyJ = (machineEnergyJ ?? 0) + machineW * sample.intervalS;
    const last = index === timeline.length - 1;
    return {
      seq: sample.seq,
      t: sample.t,
      elapsedS: Math.max(0, sample.elapsedS),
      energyJ: finite(energyJ),
      machineEnergyJ: finite(machineEnergyJ),
      co2eG: finite(co2eG),
      powerW: power(sample.attributedPowerW),
      machinePowerW: power(sample.machinePowerW),
      intensityGPerKWh: finite(sample.intensityGPerKWh),
      phases: sample.phases.slice(0, INGEST_LIMITS.maxPhases).map((p) => cut(p, 128)),
      devices: last ? builder.devices(record.sources, Date.parse(sample.t)) : [],
    };
  });
}
