/**
 * The CPU power model, the fallback when no CPU energy counter is readable:
 * `powerW = TDP × curve(machine CPU utilisation)`, with the TDP from the CPU table
 * (exact model, family default or generic default) scaled to the logical CPUs this
 * machine sees. Always available; every assumption is in the channel notes.
 * Method: docs/power-models/cpu.md.
 */
import { WattprintError } from "../errors.js";
import { matchCpu, type CpuEntry, type CpuMatch } from "../hardware/cpu-table.js";
import {
  TEADS_CPU_POWER_CURVE,
  powerAtUtilization,
  validatePowerCurve,
  withIdleFraction,
  type PowerCurve,
} from "./power-curve.js";
import type { Availability, ChannelInfo, ChannelReading, SampleContext, Sensor } from "./sensor.js";

/** Options of {@link createCpuModelSensor}. */
export interface CpuModelOptions {
  /** The CPU model string ("model name" of /proc/cpuinfo, or `os.cpus()[0].model`). */
  cpuModel: string;
  /** Logical CPUs visible to this machine (a VM: its vCPUs); a whole number ≥ 1. */
  logicalCpus: number;
  /** Sockets from /proc/cpuinfo; only used on bare metal. Default: inferred from the counts. */
  sockets?: number;
  /**
   * true in a VM, false on bare metal, null/omitted when unknown (see `CpuInfo.virtualized`).
   * Bare metal counts whole packages; otherwise the package TDP is scaled by visible threads.
   */
  virtualized?: boolean | null;
  /**
   * Idle power as a fraction of TDP (0 ≤ f < the curve's full-load fraction). Default: the
   * curve's own idle point (0.12 for the Teads curve). The curve is re-anchored, see
   * `withIdleFraction`.
   */
  idleFraction?: number;
  /** Load curve; default {@link TEADS_CPU_POWER_CURVE}. */
  curve?: PowerCurve;
  /** CPU table to search; default the shipped data/hardware/cpus.csv. */
  table?: readonly CpuEntry[];
}

/** The one channel this sensor reads. */
export const CPU_MODEL_CHANNEL_ID = "cpu-model";

/**
 * Creates the CPU model sensor: name "cpu-model", one channel "cpu-model" (component cpu,
 * method model, source "tdp-model:<label>") reading the mean power over each interval.
 * The first read, with no utilisation yet, returns a null value with error "first sample".
 * @throws WattprintError `BAD_INPUT` for a bad `logicalCpus`, `sockets`, `idleFraction` or `curve`.
 */
export function createCpuModelSensor(options: CpuModelOptions): Sensor {
  const baseCurve = options.curve ?? TEADS_CPU_POWER_CURVE;
  validatePowerCurve(baseCurve);
  const curve =
    options.idleFraction === undefined
      ? baseCurve
      : withIdleFraction(baseCurve, options.idleFraction);
  if (!Number.isInteger(options.logicalCpus) || options.logicalCpus < 1) {
    throw new WattprintError(
      "BAD_INPUT",
      `the CPU model needs the number of logical CPUs as a whole number ≥ 1, got ${options.logicalCpus}`,
    );
  }
  const match = matchCpu(options.cpuModel, {
    logicalCpus: options.logicalCpus,
    ...(options.sockets === undefined ? {} : { sockets: options.sockets }),
    virtualized: options.virtualized ?? null,
    ...(options.table === undefined ? {} : { table: options.table }),
  });
  const channel = describeChannel(options, match, curve);

  return {
    name: "cpu-model",
    components: ["cpu"],
    async probe(): Promise<Availability> {
      return { available: true, channels: [channel], notes: [...(channel.notes ?? [])] };
    },
    async read(context: SampleContext): Promise<ChannelReading[]> {
      const utilization = context.machineCpuUtilization;
      if (utilization === null) {
        return [{ channelId: CPU_MODEL_CHANNEL_ID, value: null, error: "first sample" }];
      }
      if (!Number.isFinite(utilization)) {
        return [
          {
            channelId: CPU_MODEL_CHANNEL_ID,
            value: null,
            error: `CPU utilisation is not a number: ${utilization}`,
          },
        ];
      }
      return [
        {
          channelId: CPU_MODEL_CHANNEL_ID,
          value: { kind: "mean-power", powerW: powerAtUtilization(match.tdpW, utilization, curve) },
        },
      ];
    },
  };
}

function describeChannel(
  options: CpuModelOptions,
  match: CpuMatch,
  curve: PowerCurve,
): ChannelInfo {
  const idlePowerW = powerAtUtilization(match.tdpW, 0, curve);
  const fullPowerW = powerAtUtilization(match.tdpW, 1, curve);
  const points = curve.points
    .map((point) => `${percent(point.utilization)}% load → ${percent(point.fractionOfTdp)}% of TDP`)
    .join(", ");
  const notes = [
    `TDP ${watts(match.tdpW)} W (${match.match} match): ${match.tdpSource}`,
    `load curve ${curve.name}: ${points}, linear in between; source: ${curve.source}`,
    `power = TDP × curve(whole-machine CPU utilisation): ${watts(idlePowerW)} W idle, ${watts(fullPowerW)} W at full load`,
  ];
  if (match.assumption !== null) notes.push(`Assumption: ${match.assumption}`);
  return {
    id: CPU_MODEL_CHANNEL_ID,
    component: "cpu",
    method: "model",
    source: `tdp-model:${match.label}`,
    label: `CPU model (${options.cpuModel.trim() === "" ? "unknown CPU" : options.cpuModel.trim()})`,
    idlePowerW,
    notes,
  };
}

function percent(fraction: number): string {
  return Number((fraction * 100).toPrecision(3)).toString();
}

function watts(powerW: number): string {
  return Number(powerW.toPrecision(3)).toString();
}
