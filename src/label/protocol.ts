/**
 * The label's fixed inference protocol and its measurement: load the model in
 * onnxruntime-node (CPU execution provider, 1 intra-op thread), answer `warmupQueries`
 * queries unmeasured, then `repeats` times answer `queriesPerRepeat` queries at batch 1,
 * one after another, each repeat a phase of the in-process tracker. Energy per 1,000
 * queries is the median over repeats. Method: docs/label.md.
 */
import { Tracker } from "../api/track.js";
import type { Environment } from "../config/settings.js";
import { WattprintError } from "../errors.js";
import type { EnergyBreakdownJ, RunRecord } from "../record/run-record.js";
import { J_PER_WH } from "../units/energy.js";
import { createOnnxRunner, type OnnxRunner } from "../optimize/onnx/session.js";
import type { LabelTask } from "./tasks.js";

/** Name and version of the protocol; bumped whenever a step or a default changes. */
export const LABEL_PROTOCOL_NAME = "wattprint-label/1";
/** Queries answered before measuring (JIT, caches, allocator), default. */
export const DEFAULT_WARMUP_QUERIES = 200;
/** Queries per measured repeat, default (the size of the MNIST test set). */
export const DEFAULT_QUERIES_PER_REPEAT = 10_000;
/** Measured repeats, default. */
export const DEFAULT_REPEATS = 5;
/** Seconds between the tracker's samples during the protocol. */
export const LABEL_SAMPLING_INTERVAL_S = 0.1;
/** onnxruntime intra-op threads: one, so the figure does not depend on the core count. */
export const LABEL_INTRA_OP_THREADS = 1;
/** Components whose energy the label counts. */
export const LABEL_COUNTED_COMPONENTS = ["cpu", "ram"] as const;

/** The protocol a label was measured with; everything needed to run it again. */
export interface LabelProtocol {
  name: string;
  task: string;
  warmupQueries: number;
  queriesPerRepeat: number;
  repeats: number;
  batchSize: 1;
  runtime: "onnxruntime-node";
  executionProvider: "cpu";
  intraOpThreads: number;
  /** Queries are answered one after another, each awaited before the next is sent. */
  concurrency: 1;
  samplingIntervalS: number;
  querySelection: string;
  /** What energy is counted, in words. */
  energyCounted: string;
  /** How repeats become the figure. */
  aggregate: string;
}

/** Flags a user may change; everything else is fixed by the protocol. */
export interface ProtocolOverrides {
  warmupQueries?: number;
  queriesPerRepeat?: number;
  repeats?: number;
}

/**
 * The protocol for `task`, with the defaults unless overridden.
 * @throws WattprintError("USAGE") for a count that is not a whole number in range.
 */
export function labelProtocol(task: LabelTask, overrides: ProtocolOverrides = {}): LabelProtocol {
  const count = (value: number | undefined, fallback: number, flag: string, min: number) => {
    const resolved = value ?? fallback;
    if (!Number.isInteger(resolved) || resolved < min || resolved > 10_000_000) {
      throw new WattprintError("USAGE", `invalid ${flag} ${resolved}`, {
        hint: `give a whole number from ${min} to 10,000,000`,
      });
    }
    return resolved;
  };
  return {
    name: LABEL_PROTOCOL_NAME,
    task: task.name,
    warmupQueries: count(overrides.warmupQueries, DEFAULT_WARMUP_QUERIES, "--warmup", 0),
    queriesPerRepeat: count(overrides.queriesPerRepeat, DEFAULT_QUERIES_PER_REPEAT, "--queries", 1),
    repeats: count(overrides.repeats, DEFAULT_REPEATS, "--repeats", 1),
    batchSize: 1,
    runtime: "onnxruntime-node",
    executionProvider: "cpu",
    intraOpThreads: LABEL_INTRA_OP_THREADS,
    concurrency: 1,
    samplingIntervalS: LABEL_SAMPLING_INTERVAL_S,
    querySelection: task.querySelection,
    energyCounted:
      "energy attributed by wattprint's tracker to the labelling process during each repeat: CPU + RAM (the components the CPU execution provider uses); GPU energy, when a GPU is measured, is recorded but not counted",
    aggregate:
      "per repeat: energy × 1,000 / queries per repeat; the figure is the median over repeats, with the minimum and maximum as its spread",
  };
}

/** One measured repeat. */
export interface RepeatMeasurement {
  /** 1-based. */
  repeat: number;
  queries: number;
  durationS: number;
  /** The phase's attributed energy per component, joules. */
  energyJ: EnergyBreakdownJ;
  /** CPU + RAM (whichever were measured), joules. */
  countedEnergyJ: number;
  energyWhPer1kQueries: number;
}

/** What the protocol measured. */
export interface ProtocolMeasurement {
  protocol: LabelProtocol;
  repeats: RepeatMeasurement[];
  /** Median over repeats, Wh per 1,000 queries. */
  energyWhPer1kQueries: number;
  minWhPer1kQueries: number;
  maxWhPer1kQueries: number;
  /** (max − min) / median; null when the median is 0. */
  relativeRange: number | null;
  /** The components counted (measured ones of {@link LABEL_COUNTED_COMPONENTS}). */
  countedComponents: string[];
  /** The tracker's run record (sources, machine, warnings, phases). */
  run: RunRecord;
  /** Things a reader of the figure should know (short repeats, uncounted GPU energy). */
  warnings: string[];
}

/** Options of {@link runLabelProtocol}. */
export interface RunProtocolOptions {
  /** The ONNX model's bytes. */
  modelBytes: Uint8Array;
  /** Distinct query samples, used in order and cycled. */
  queries: readonly Float32Array[];
  protocol: LabelProtocol;
  /** Settings the tracker reads (sensor roots, region); default process.env. */
  env?: Environment;
  /** Label of the tracked run. */
  runLabel?: string;
  /** Called as each repeat ends (progress display). */
  onRepeat?: (measurement: RepeatMeasurement) => void;
}

/**
 * Runs the protocol on one model and measures it with the in-process {@link Tracker}
 * (no run is saved in the store).
 * @throws WattprintError BAD_INPUT when the model does not take the queries, SENSOR when
 *   no CPU energy could be measured, NOT_FOUND when onnxruntime-node is missing.
 */
export async function runLabelProtocol(options: RunProtocolOptions): Promise<ProtocolMeasurement> {
  const { protocol, queries } = options;
  if (queries.length === 0) {
    throw new WattprintError("BAD_INPUT", "the task has no query samples", {
      hint: "check the task's data set",
    });
  }
  const runner = await createOnnxRunner(options.modelBytes, {
    intraOpThreads: protocol.intraOpThreads,
  });
  try {
    await answerFirstQuery(runner, queries[0] as Float32Array);
    const tracker = new Tracker({
      store: false,
      intervalS: protocol.samplingIntervalS,
      env: options.env ?? process.env,
      label: options.runLabel ?? `wattprint label (${protocol.name})`,
    });
    await tracker.start();
    let run: RunRecord;
    const durations: number[] = [];
    try {
      let next = 1;
      const answer = async (count: number) => {
        for (let index = 0; index < count; index++) {
          await runner.run(queries[next % queries.length] as Float32Array, 1);
          next++;
        }
      };
      const endWarmup = tracker.phase("warm-up");
      await answer(Math.max(0, protocol.warmupQueries - 1));
      endWarmup();
      for (let repeat = 1; repeat <= protocol.repeats; repeat++) {
        // Every repeat sends the same query sequence.
        next = 0;
        const startedMs = performance.now();
        const end = tracker.phase(repeatPhaseName(repeat));
        await answer(protocol.queriesPerRepeat);
        end();
        durations.push((performance.now() - startedMs) / 1000);
      }
      run = await tracker.stop();
    } catch (error) {
      await tracker.stop({ status: "failed" }).catch(() => undefined);
      throw error;
    }
    return summarise(run, protocol, durations, options.onRepeat);
  } finally {
    await runner.close();
  }
}

/** The tracker phase of repeat `repeat` (1-based). */
export function repeatPhaseName(repeat: number): string {
  return `repeat ${repeat}`;
}

/** The median of `values` (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function answerFirstQuery(runner: OnnxRunner, query: Float32Array): Promise<void> {
  try {
    await runner.run(query, 1);
  } catch (error) {
    if (error instanceof WattprintError && error.code === "BAD_INPUT") {
      throw new WattprintError(
        "BAD_INPUT",
        `the model cannot answer the task's queries: ${error.message}`,
        {
          hint: `the task sends ${query.length} float32 values per query at batch 1`,
          cause: error,
        },
      );
    }
    throw error;
  }
}

function summarise(
  run: RunRecord,
  protocol: LabelProtocol,
  durations: number[],
  onRepeat: ((measurement: RepeatMeasurement) => void) | undefined,
): ProtocolMeasurement {
  const warnings: string[] = [];
  const counted = new Set<string>();
  const repeats = durations.map((durationS, index): RepeatMeasurement => {
    const repeat = index + 1;
    const phase = run.phases.find((item) => item.name === repeatPhaseName(repeat));
    if (phase === undefined || phase.energyJ.cpu === null) {
      throw new WattprintError("SENSOR", `no CPU energy was measured during repeat ${repeat}`, {
        hint: "run wattprint doctor to see what can be measured here",
      });
    }
    counted.add("cpu");
    if (phase.energyJ.ram !== null) counted.add("ram");
    const countedEnergyJ = phase.energyJ.cpu + (phase.energyJ.ram ?? 0);
    const measurement: RepeatMeasurement = {
      repeat,
      queries: protocol.queriesPerRepeat,
      durationS,
      energyJ: phase.energyJ,
      countedEnergyJ,
      energyWhPer1kQueries: (countedEnergyJ * 1000) / protocol.queriesPerRepeat / J_PER_WH,
    };
    onRepeat?.(measurement);
    return measurement;
  });
  const figures = repeats.map((item) => item.energyWhPer1kQueries);
  const middle = median(figures);
  const shortest = Math.min(...durations);
  if (shortest < 10 * protocol.samplingIntervalS) {
    warnings.push(
      `the shortest repeat lasted ${shortest.toPrecision(2)} s, under ${10 * protocol.samplingIntervalS} s (10 sampling intervals): CPU time is counted in 10 ms ticks, so each repeat's figure is coarse; use more --queries for a steadier label`,
    );
  }
  if (!counted.has("ram")) warnings.push("RAM energy was not measured: the figure counts CPU only");
  const gpuJ = repeats.reduce((sum, item) => sum + (item.energyJ.gpu ?? 0), 0);
  if (repeats.some((item) => item.energyJ.gpu !== null)) {
    warnings.push(
      `GPU energy attributed during the repeats (${gpuJ.toPrecision(3)} J in all) is recorded per repeat but not counted: the protocol runs on the CPU execution provider`,
    );
  }
  return {
    protocol,
    repeats,
    energyWhPer1kQueries: middle,
    minWhPer1kQueries: Math.min(...figures),
    maxWhPer1kQueries: Math.max(...figures),
    relativeRange: middle > 0 ? (Math.max(...figures) - Math.min(...figures)) / middle : null,
    countedComponents: LABEL_COUNTED_COMPONENTS.filter((component) => counted.has(component)),
    run,
    warnings,
  };
}
