/**
 * Rule "idle-hardware": GPUs that sat idle or far below their TDP during a phase, and a CPU
 * whose cores the run mostly left unused; what releasing or right-sizing them would save.
 * Formulas and thresholds: docs/advise.md, "Idle or underused hardware".
 */
import { findAccelerator, listAccelerators, type Accelerator } from "../hardware/accelerators.js";
import type { RunRecord, SourceRecord, TimelineSample } from "../record/run-record.js";
import { formatDuration, formatPower, trimNumber } from "../units/energy.js";
import { commandLine } from "./command-line.js";
import {
  energySaving,
  notEnoughData,
  nothingFound,
  orderedRange,
  withFindings,
} from "./outcome.js";
import {
  channelPower,
  gpuChannels,
  segmentTimeline,
  type GpuChannel,
  type TimelineSegment,
} from "./timeline-segments.js";
import {
  RULE_TITLES,
  type Confidence,
  type Evidence,
  type Finding,
  type RuleContext,
  type RuleOutcome,
} from "./types.js";

const TITLE = RULE_TITLES["idle-hardware"];

/** A GPU sample below this share of TDP counts as idle. */
export const GPU_IDLE_SHARE = 0.2;
/** A phase whose busy GPU samples average below this share of TDP is underused. */
export const GPU_UNDERUSED_SHARE = 0.4;
/** Shortest idle stretch (consecutive idle samples) that counts, seconds. */
export const MIN_IDLE_STRETCH_S = 60;
/** Shortest busy time in a phase for the underused check, seconds. */
export const MIN_UNDERUSED_S = 300;
/** A finding must save at least this share of the run's attributed energy. */
export const MIN_SAVING_SHARE = 0.01;
/** Mean CPU utilisation of the run's cores below which the CPU is underused. */
export const CPU_LOW_UTILISATION = 0.25;
/** Utilisation a right-sized machine would run at: central, low-saving and high-saving cases. */
export const CPU_TARGET_UTILISATION = { central: 0.5, low: 0.25, high: 1 } as const;
/** Shortest run for the CPU check, seconds. */
export const MIN_CPU_RUN_S = 300;

/** One GPU of the run with its TDP and how much of it the run is charged for. */
interface GpuDevice extends GpuChannel {
  name: string;
  tdpW: number;
  tdpSource: string;
  accelerator: Accelerator | null;
  /** Share of the device's energy attributed to the run, 0..1. */
  attributedShare: number;
  attributedShareSource: string;
  /** Static power estimate: lowest draw in the run, capped at GPU_IDLE_SHARE × TDP. */
  floorW: number;
  method: string | null;
}

/** Runs the rule. */
export function checkIdleHardware(context: RuleContext): RuleOutcome {
  const { run, samples } = context;
  const findings: Finding[] = [];
  const missing: string[] = [];
  const notes: string[] = [];
  const runEnergyJ = run.energyJ.total;
  const minEnergyJ = runEnergyJ === null ? 0 : MIN_SAVING_SHARE * runEnergyJ;

  const hasGpu =
    run.machine.gpus.length > 0 ||
    run.energyJ.gpu !== null ||
    run.sources.some((source) => source.component === "gpu");
  if ((samples === null || samples.length === 0) && !hasGpu) {
    notes.push("no GPU in the run");
  } else if (samples === null || samples.length === 0) {
    missing.push(
      `the run's timeline (per-interval power) for the GPU check: ${context.samplesNote ?? "no samples"}`,
    );
  } else {
    const channels = gpuChannels(samples);
    if (channels.length === 0) notes.push("no GPU power in the timeline");
    const segments = segmentTimeline(run, samples);
    for (const channel of channels) {
      const device = describeDevice(run, samples, channel, context.options.gpuTdpW);
      if ("missing" in device) {
        missing.push(device.missing);
        continue;
      }
      for (const segment of segments) {
        const idle = idleFinding(context, device, segment, minEnergyJ);
        if (idle !== null) findings.push(idle);
        const underused = underusedFinding(context, device, segment, minEnergyJ);
        if (underused !== null) findings.push(underused);
      }
    }
  }

  const cpu = cpuFinding(context, minEnergyJ);
  if (typeof cpu === "string") notes.push(cpu);
  else if ("missing" in cpu) missing.push(cpu.missing);
  else findings.push(cpu);

  if (findings.length > 0) {
    const outcome = withFindings(
      "idle-hardware",
      TITLE,
      `${findings.length} stretch${findings.length === 1 ? "" : "es"} of idle or underused hardware`,
      findings,
    );
    return { ...outcome, missing };
  }
  if (missing.length > 0) {
    return notEnoughData(
      "idle-hardware",
      TITLE,
      missing,
      "report on the run id (the store keeps the timeline) and give --gpu-tdp for GPUs the hardware table does not know",
    );
  }
  return nothingFound(
    "idle-hardware",
    TITLE,
    `no idle or underused hardware${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`,
  );
}

/** Finds the device's name, TDP, attribution and static power, or what is missing. */
function describeDevice(
  run: RunRecord,
  samples: readonly TimelineSample[],
  channel: GpuChannel,
  gpuTdpW: number | null,
): GpuDevice | { missing: string } {
  const source = run.sources.find(
    (item) => item.component === "gpu" && new RegExp(`^GPU ${channel.index}\\b`).test(item.label),
  );
  const name =
    run.machine.gpus.find((gpu) => gpu.index === channel.index)?.name ??
    /\((.*)\)$/.exec(source?.label ?? "")?.[1] ??
    `GPU ${channel.index}`;
  const accelerator = findGpu(name);
  let tdpW: number;
  let tdpSource: string;
  if (gpuTdpW !== null) {
    tdpW = gpuTdpW;
    tdpSource = "given by the user (--gpu-tdp)";
  } else if (accelerator?.tdpW !== null && accelerator?.tdpW !== undefined) {
    tdpW = accelerator.tdpW;
    tdpSource = `${accelerator.id}: ${accelerator.tdpSource} (data/hardware/accelerators.csv)`;
  } else {
    return {
      missing: `the TDP of GPU ${channel.index} (${name}): not in data/hardware/accelerators.csv`,
    };
  }
  const share = attributedShare(source);
  let lowestW = Infinity;
  for (const sample of samples) {
    const powerW = channelPower(sample, channel.channelId);
    if (powerW !== null) lowestW = Math.min(lowestW, powerW);
  }
  return {
    ...channel,
    name,
    tdpW,
    tdpSource,
    accelerator,
    attributedShare: share.value,
    attributedShareSource: share.source,
    floorW: Math.min(lowestW, GPU_IDLE_SHARE * tdpW),
    method: source?.method ?? null,
  };
}

/**
 * The accelerator row for a device name as drivers report it ("NVIDIA H100 80GB HBM3",
 * "Tesla T4"): the name as given, then without the vendor's prefix.
 */
export function findGpu(name: string): Accelerator | null {
  const found = findAccelerator(name);
  if (found !== null) return found;
  const stripped = name.replace(/^\s*(NVIDIA|AMD|ATI)\s+/i, "");
  return stripped === name ? null : findAccelerator(stripped);
}

function attributedShare(source: SourceRecord | undefined): { value: number; source: string } {
  const machineJ = source?.machineEnergyJ ?? null;
  const attributedJ = source?.attributedEnergyJ ?? null;
  if (source !== undefined && machineJ !== null && attributedJ !== null && machineJ > 0) {
    return {
      value: Math.min(1, attributedJ / machineJ),
      source: `run record: ${source.label} attributed/machine energy (${source.attribution})`,
    };
  }
  return { value: 1, source: "assumed 1: the run record gives no attribution for this GPU" };
}

interface Interval {
  powerW: number;
  intervalS: number;
}

function deviceIntervals(segment: TimelineSegment, channelId: string): (Interval | null)[] {
  return segment.samples.map((sample) => {
    const powerW = channelPower(sample, channelId);
    return powerW === null || !(sample.intervalS > 0)
      ? null
      : { powerW, intervalS: sample.intervalS };
  });
}

/** Splits a segment's intervals into idle stretches (long enough) and the rest. */
function splitIdle(intervals: readonly (Interval | null)[], idleBelowW: number) {
  const stretches: Interval[][] = [];
  const busy: Interval[] = [];
  let current: Interval[] = [];
  const close = () => {
    const lengthS = current.reduce((sum, item) => sum + item.intervalS, 0);
    if (lengthS >= MIN_IDLE_STRETCH_S) stretches.push(current);
    else busy.push(...current);
    current = [];
  };
  for (const interval of intervals) {
    if (interval === null) {
      close();
    } else if (interval.powerW < idleBelowW) {
      current.push(interval);
    } else {
      close();
      busy.push(interval);
    }
  }
  close();
  return { idle: stretches.flat(), stretches: stretches.length, busy };
}

const totalS = (items: readonly Interval[]) => items.reduce((sum, item) => sum + item.intervalS, 0);
const totalJ = (items: readonly Interval[]) =>
  items.reduce((sum, item) => sum + item.powerW * item.intervalS, 0);

function idleFinding(
  context: RuleContext,
  device: GpuDevice,
  segment: TimelineSegment,
  minEnergyJ: number,
): Finding | null {
  const intervals = deviceIntervals(segment, device.channelId);
  const { idle, stretches } = splitIdle(intervals, GPU_IDLE_SHARE * device.tdpW);
  const idleS = totalS(idle);
  if (idleS < MIN_IDLE_STRETCH_S) return null;
  const idleJ = totalJ(idle);
  const share = device.attributedShare;
  const central = idleJ * share;
  if (central < minEnergyJ || central <= 0) return null;
  const aboveFloorJ = Math.max(0, idleJ - device.floorW * idleS) * share;
  const meanW = idleJ / idleS;
  const evidence: Evidence[] = [
    ...deviceEvidence(device),
    item(`idle time in ${segment.label}`, idleS, "s", `samples (${device.channelId})`),
    item(
      `idle stretches (≥ ${MIN_IDLE_STRETCH_S} s below ${GPU_IDLE_SHARE * 100}% of TDP)`,
      stretches,
      "",
      "samples",
    ),
    item("mean power while idle", meanW, "W", `samples (${device.channelId})`),
    item("mean power while idle / TDP", meanW / device.tdpW, "ratio", "computed"),
    item("device energy while idle", idleJ, "J", `samples (${device.channelId})`),
  ];
  return {
    rule: "idle-hardware",
    title: `GPU ${device.index} (${device.name}) sat idle for ${formatDuration(idleS)} in ${segment.label}: release it or overlap that work with GPU work`,
    evidence,
    saving: energySaving(
      context.run,
      orderedRange(central, aboveFloorJ, central),
      "this run",
      `central and high: the device's energy over its idle stretches × the run's share of it (${trimNumber(share)}), saved when the GPU is released for them (the work moved to a CPU node or overlapped with GPU work); low: only the draw above the device's static power (${formatPower(device.floorW)}: its lowest draw in the run, at most ${GPU_IDLE_SHARE * 100}% of TDP), the case where the released GPU stays powered and unused`,
    ),
    ...gpuConfidence(device),
    command: commandLine([
      "wattprint",
      "report",
      context.options.runReference,
      "--format",
      "html",
      "--out",
      "report.html",
    ]),
    notes: [
      `An interval counts as idle below ${formatPower(GPU_IDLE_SHARE * device.tdpW)} (${GPU_IDLE_SHARE * 100}% of TDP); only stretches of at least ${MIN_IDLE_STRETCH_S} s count.`,
      "The report's power chart shows the idle stretches; typical causes: data loading or preprocessing, evaluation on the CPU, checkpointing, waiting for other ranks.",
    ],
  };
}

function underusedFinding(
  context: RuleContext,
  device: GpuDevice,
  segment: TimelineSegment,
  minEnergyJ: number,
): Finding | null {
  const intervals = deviceIntervals(segment, device.channelId);
  const { busy } = splitIdle(intervals, GPU_IDLE_SHARE * device.tdpW);
  const busyS = totalS(busy);
  if (busyS < MIN_UNDERUSED_S) return null;
  const meanW = totalJ(busy) / busyS;
  if (meanW >= GPU_UNDERUSED_SHARE * device.tdpW) return null;
  const peakW = busy.reduce((peak, interval) => Math.max(peak, interval.powerW), 0);
  const current = device.accelerator;
  if (current === null) return null;
  // Smaller cards of the same vendor whose TDP still covers the phase's peak draw.
  const candidates = listAccelerators()
    .filter(
      (row) =>
        row.kind === "gpu" &&
        row.vendor === current.vendor &&
        row.tdpW !== null &&
        row.tdpW < device.tdpW &&
        row.tdpW >= peakW,
    )
    .sort((a, b) => (a.tdpW ?? 0) - (b.tdpW ?? 0));
  const smallest = candidates[0];
  const largest = candidates[candidates.length - 1];
  if (smallest === undefined || largest === undefined) return null;
  const share = device.attributedShare;
  const savingFor = (row: Accelerator) =>
    device.floorW * (1 - (row.tdpW ?? device.tdpW) / device.tdpW) * busyS * share;
  const central = savingFor(smallest);
  if (central < minEnergyJ || central <= 0) return null;
  return {
    rule: "idle-hardware",
    title: `GPU ${device.index} (${device.name}) ran at ${Math.round((100 * meanW) / device.tdpW)}% of its TDP in ${segment.label}: a smaller card such as ${smallest.id} would do`,
    evidence: [
      ...deviceEvidence(device),
      item(`busy time in ${segment.label}`, busyS, "s", `samples (${device.channelId})`),
      item("mean power while busy", meanW, "W", `samples (${device.channelId})`),
      item("mean power while busy / TDP", meanW / device.tdpW, "ratio", "computed"),
      item("peak power in the phase", peakW, "W", `samples (${device.channelId})`),
      item(
        "smaller cards whose TDP covers the peak",
        candidates.map((row) => `${row.id} (${row.tdpW} W)`).join(", "),
        "",
        "data/hardware/accelerators.csv",
      ),
    ],
    saving: energySaving(
      context.run,
      orderedRange(central, savingFor(largest), central),
      "this run",
      `static power × (1 − TDP of the smaller card / ${trimNumber(device.tdpW)} W) × busy time × the run's share (${trimNumber(share)}): the same work on a card whose static power is smaller in proportion to its TDP; central and high: ${smallest.id} (${smallest.tdpW} W), low: ${largest.id} (${largest.tdpW} W); static power ${formatPower(device.floorW)} (the device's lowest draw in the run, at most ${GPU_IDLE_SHARE * 100}% of TDP)`,
    ),
    confidence: "low",
    confidenceReason:
      "assumes static power in proportion to TDP and that the smaller card has the memory and throughput to run the phase as fast",
    command: commandLine([
      "wattprint",
      "track",
      "--out",
      `run-${smallest.id}.json`,
      "--",
      ...context.run.command,
    ]),
    notes: [
      `Run the same command on a ${smallest.name} and compare its energy and duration with this run.`,
      "A card far below its TDP is often waiting on data, memory or the CPU; a larger batch may use it better instead.",
    ],
  };
}

function cpuFinding(
  context: RuleContext,
  minEnergyJ: number,
): Finding | string | { missing: string } {
  const { run } = context;
  const split = run.cpuSplitJ;
  if (split === null || run.machineEnergyJ.cpu === null) {
    return { missing: "the CPU's idle energy (cpuSplitJ): the CPU was not measured" };
  }
  const cores = run.machine.cpuCount;
  if (!(cores > 0) || !(run.durationS > 0))
    return { missing: "the machine's CPU count and the run's duration" };
  if (run.durationS < MIN_CPU_RUN_S) return `run shorter than ${MIN_CPU_RUN_S} s: CPU not judged`;
  const busyCores = run.cpuTimeS / run.durationS;
  const utilisation = busyCores / cores;
  if (utilisation >= CPU_LOW_UTILISATION) {
    return `CPU utilisation ${trimNumber(utilisation * 100)}% of ${cores} cores`;
  }
  const coresAt = (target: number) => Math.min(cores, Math.max(1, Math.ceil(busyCores / target)));
  const savingAt = (target: number) => split.idleJ * (1 - coresAt(target) / cores);
  const central = savingAt(CPU_TARGET_UTILISATION.central);
  if (central <= 0 || central < minEnergyJ) {
    return `CPU utilisation ${trimNumber(utilisation * 100)}%, but right-sizing would save too little`;
  }
  const wanted = coresAt(CPU_TARGET_UTILISATION.central);
  const cpuSource = run.sources.find((source) => source.component === "cpu");
  const confidence: Confidence = cpuSource?.method === "counter" ? "medium" : "low";
  const notes = [
    "The saving is machine energy: idle power is attributed to no process, so the run's own figure does not include it.",
  ];
  if (run.machine.gpus.length > 0) {
    notes.push(
      "On a GPU node the cores come with the GPUs: ask for fewer cores where the scheduler shares the node.",
    );
  }
  if (split.otherProcessesJ > split.attributedJ) {
    notes.push(
      "Other processes used more CPU than this run: the machine is shared, so size it for all of them.",
    );
  }
  return {
    rule: "idle-hardware",
    title: `The run kept ${trimNumber(busyCores)} of ${cores} cores busy on average (${trimNumber(utilisation * 100)}%): ${wanted} core${wanted === 1 ? "" : "s"} would do`,
    evidence: [
      item("CPU time of the run", run.cpuTimeS, "s", "run record: cpuTimeS"),
      item("duration", run.durationS, "s", "run record: durationS"),
      item("logical CPUs", cores, "", "run record: machine.cpuCount"),
      item("mean CPU utilisation", utilisation, "ratio", "cpuTimeS / (durationS × cpuCount)"),
      item(
        "machine's idle CPU energy",
        split.idleJ,
        "J",
        `run record: cpuSplitJ (${split.idleSource})`,
      ),
    ],
    saving: energySaving(
      run,
      orderedRange(
        central,
        savingAt(CPU_TARGET_UTILISATION.low),
        savingAt(CPU_TARGET_UTILISATION.high),
      ),
      "this run (machine energy)",
      `idle CPU energy × (1 − cores needed / ${cores}), idle power taken in proportion to the cores; cores needed = ⌈busy cores / target utilisation⌉: central ${CPU_TARGET_UTILISATION.central * 100}% (${wanted} cores), low ${CPU_TARGET_UTILISATION.low * 100}% (${coresAt(CPU_TARGET_UTILISATION.low)}), high ${CPU_TARGET_UTILISATION.high * 100}% (${coresAt(CPU_TARGET_UTILISATION.high)})`,
    ),
    confidence,
    confidenceReason:
      confidence === "medium"
        ? "CPU energy from RAPL counters; idle power in proportion to cores is a model"
        : "CPU energy from a power model, and idle power in proportion to cores is a model",
    command: commandLine([
      "wattprint",
      "track",
      "--",
      "taskset",
      "-c",
      wanted === 1 ? "0" : `0-${wanted - 1}`,
      ...run.command,
    ]),
    notes: [
      `Check that ${wanted} core${wanted === 1 ? "" : "s"} keep the run as fast (taskset pins it), then ask for a machine or allocation of that size.`,
      ...notes,
    ],
  };
}

function deviceEvidence(device: GpuDevice): Evidence[] {
  return [
    item("TDP", device.tdpW, "W", device.tdpSource),
    item(
      "run's share of the device",
      device.attributedShare,
      "ratio",
      device.attributedShareSource,
    ),
  ];
}

function gpuConfidence(device: GpuDevice): { confidence: Confidence; confidenceReason: string } {
  if (device.method === "counter") {
    return { confidence: "high", confidenceReason: "GPU energy from the driver's energy counter" };
  }
  if (device.method === "power-integration") {
    return {
      confidence: "medium",
      confidenceReason: "GPU energy integrated from power readings sampled by the tracker",
    };
  }
  return {
    confidence: "low",
    confidenceReason: "the run record does not say how the GPU's energy was measured",
  };
}

function item(
  label: string,
  value: number | string | null,
  unit: string,
  source: string,
): Evidence {
  return { label, value, unit, source };
}
