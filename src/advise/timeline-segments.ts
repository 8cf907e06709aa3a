/**
 * The run's timeline cut by phase: each sample goes to the innermost phase open at its
 * middle, so nested phases never count the same interval twice, and samples outside every
 * phase form their own segment. Also the GPU channels of a timeline and their devices.
 */
import type { PhaseRecord, RunRecord, TimelineSample } from "../record/run-record.js";

/** Samples that belong to one phase (its own time, children excluded) or to no phase. */
export interface TimelineSegment {
  /** `phase "eval"`, "outside any phase" or "whole run" (a run without phases). */
  label: string;
  /** The phase's name; null outside phases. */
  phase: string | null;
  samples: TimelineSample[];
}

const MS_PER_S = 1000;

/**
 * Splits `samples` by the run's phases. Open phases (no end yet) count up to the run's end.
 * Segments come in phase order, the one outside phases last; empty ones are left out.
 */
export function segmentTimeline(
  run: RunRecord,
  samples: readonly TimelineSample[],
): TimelineSegment[] {
  const runEndMs = run.endedAt === null ? Infinity : Date.parse(run.endedAt);
  const spans = run.phases
    .map((phase: PhaseRecord, index) => ({
      index,
      name: phase.name,
      startMs: Date.parse(phase.startedAt),
      endMs: phase.endedAt === null ? runEndMs : Date.parse(phase.endedAt),
    }))
    .filter((span) => Number.isFinite(span.startMs) && span.endMs > span.startMs);
  if (spans.length === 0) {
    return samples.length === 0
      ? []
      : [{ label: "whole run", phase: null, samples: [...samples] } satisfies TimelineSegment];
  }
  const byPhase = new Map<number, TimelineSample[]>();
  const outside: TimelineSample[] = [];
  for (const sample of samples) {
    const middleMs = Date.parse(sample.t) - (sample.intervalS * MS_PER_S) / 2;
    let innermost: (typeof spans)[number] | null = null;
    for (const span of spans) {
      if (middleMs < span.startMs || middleMs >= span.endMs) continue;
      if (innermost === null || span.endMs - span.startMs < innermost.endMs - innermost.startMs)
        innermost = span;
    }
    if (innermost === null) outside.push(sample);
    else {
      const list = byPhase.get(innermost.index);
      if (list === undefined) byPhase.set(innermost.index, [sample]);
      else list.push(sample);
    }
  }
  const segments: TimelineSegment[] = spans
    .filter((span) => byPhase.has(span.index))
    .map((span) => ({
      label: `phase "${span.name}"`,
      phase: span.name,
      samples: byPhase.get(span.index) ?? [],
    }));
  if (outside.length > 0)
    segments.push({ label: "outside any phase", phase: null, samples: outside });
  return segments;
}

/** A GPU seen in the timeline: its channel id and device index. */
export interface GpuChannel {
  /** "nvml:0", "nvidia-smi:1", "amd-hwmon:0". */
  channelId: string;
  index: number;
}

const GPU_CHANNEL = /^(nvml|nvidia-smi|amd-hwmon):(\d+)$/;

/** The GPU channels that carry a power value in at least one sample, by device index. */
export function gpuChannels(samples: readonly TimelineSample[]): GpuChannel[] {
  const found = new Map<string, GpuChannel>();
  for (const sample of samples) {
    for (const [channelId, powerW] of Object.entries(sample.channelPowerW)) {
      if (powerW === null || found.has(channelId)) continue;
      const match = GPU_CHANNEL.exec(channelId);
      if (match) found.set(channelId, { channelId, index: Number(match[2]) });
    }
  }
  return [...found.values()].sort((a, b) => a.index - b.index);
}

/** Mean power of one channel over one sample's interval, W; null when it was not read. */
export function channelPower(sample: TimelineSample, channelId: string): number | null {
  const value = sample.channelPowerW[channelId];
  return value === undefined || value === null || !Number.isFinite(value) ? null : value;
}
