/**
 * Measures a model variant the same way whatever runs it (TF.js or onnxruntime): after a
 * warm-up, accuracy on the test split, median latency at batch 1 and batch 64, and energy
 * per 1,000 inferences from the tracker: batch-64 inference over a few windows, each long
 * enough for the tracker's resolution, the median window reported with the spread (other
 * work on the machine moves a modelled figure, so one window can be off).
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { DataSplit } from "./datasets.js";
import type { EnergyMeter } from "./energy-meter.js";
import { modelInputShape, modelOutputSize } from "./models.js";
import { percentile } from "./stats.js";

/** Anything that maps a batch of samples to a batch of class scores. */
export interface Predictor {
  /** Values per input sample. */
  readonly features: number;
  /** Scores per output sample (classes). */
  readonly classes: number;
  /** `input` holds `batch` samples row after row; returns `batch` × `classes` scores. */
  predict(input: Float32Array, batch: number): Promise<Float32Array>;
  close?(): Promise<void>;
}

/** A TF.js model as a {@link Predictor} (through `model.predict`, as an application would call it). */
export function tfjsPredictor(model: tfl.LayersModel): Predictor {
  const inputShape = modelInputShape(model);
  return {
    features: inputShape.reduce((product, dim) => product * dim, 1),
    classes: modelOutputSize(model),
    async predict(input, batch) {
      const output = tf.tidy(
        () => model.predict(tf.tensor(input, [batch, ...inputShape])) as tf.Tensor,
      );
      const values = (await output.data()) as Float32Array;
      output.dispose();
      return values;
    },
  };
}

export interface MeasureOptions {
  /** Measures energy; without one, energy is null. */
  meter?: EnergyMeter | null;
  /** Least seconds of inference for the energy figure, all windows together; default 3. */
  energyMinDurationS?: number;
  /** Windows the energy is measured in; the figure is their median; default 3. */
  energyWindows?: number;
  /** Batch size of the energy measurement; default 64. */
  energyBatchSize?: number;
  /** Seconds spent timing each latency (batch 1, batch 64); default 1. */
  latencyDurationS?: number;
  /** Seconds of untimed inference first (JIT, caches, allocator); default 0.3. */
  warmupS?: number;
  /** Phase name in the tracker; default "inference". */
  name?: string;
}

/** What one variant measured. */
export interface InferenceMeasurement {
  /** Share of the test samples classified right, 0..1. */
  accuracy: number;
  /** Median wall time of one call, milliseconds. */
  latencyMsP50: { batch1: number; batch64: number };
  /** Energy per 1,000 inferences at batch `energyBatchSize`, joules: the median of the windows; null when not measured. */
  energyJPer1kInferences: number | null;
  /** Lowest and highest window, joules per 1,000 inferences (the spread of the measurement). */
  energyJPer1kRange: [number, number] | null;
  co2eGPer1kInferences: number | null;
  /** CPU time of this process per 1,000 inferences (all its threads), seconds: median of the windows. */
  cpuSPer1kInferences: number | null;
  /** Inferences the energy figure was measured over, all windows together. */
  inferencesMeasured: number;
  energyBatchSize: number;
  energyDurationS: number;
}

/** Measures `predictor` on `test` (see the module comment). */
export async function measurePredictor(
  predictor: Predictor,
  test: DataSplit,
  options: MeasureOptions = {},
): Promise<InferenceMeasurement> {
  const warmupEnd = performance.now() + (options.warmupS ?? 0.3) * 1000;
  for (let offset = 0; performance.now() < warmupEnd; offset += 64) {
    await predictor.predict(batchFrom(test, offset % test.count, 64), 64);
    await predictor.predict(batchFrom(test, offset % test.count, 1), 1);
  }
  const accuracy = await predictorAccuracy(predictor, test);
  const latencyDurationS = options.latencyDurationS ?? 1;
  const batch1 = await medianLatencyMs(predictor, test, 1, latencyDurationS);
  const batch64 = await medianLatencyMs(predictor, test, 64, latencyDurationS);
  const batchSize = options.energyBatchSize ?? 64;
  const windows = Math.max(1, Math.round(options.energyWindows ?? 3));
  const windowMs = ((options.energyMinDurationS ?? 3) * 1000) / windows;
  const perWindow: { energyJ: number | null; co2eG: number | null; cpuS: number }[] = [];
  let inferences = 0;
  let energyDurationS = 0;
  if (options.meter) {
    for (let w = 0; w < windows; w++) {
      let cpuS = 0;
      const { result: count, energy } = await options.meter.measure(
        `${options.name ?? "inference"}`,
        async () => {
          let done = 0;
          const started = performance.now();
          const cpuBefore = process.cpuUsage();
          let offset = 0;
          while (performance.now() - started < windowMs) {
            await predictor.predict(batchFrom(test, offset, batchSize), batchSize);
            done += batchSize;
            offset = (offset + batchSize) % test.count;
          }
          const cpu = process.cpuUsage(cpuBefore);
          cpuS = (cpu.user + cpu.system) / 1e6;
          return done;
        },
      );
      inferences += count;
      energyDurationS += energy.durationS;
      perWindow.push({
        energyJ: energy.energyJ === null ? null : (energy.energyJ / count) * 1000,
        co2eG: energy.co2eG === null ? null : (energy.co2eG / count) * 1000,
        cpuS: (cpuS / count) * 1000,
      });
    }
  }
  const energies = perWindow.flatMap((w) => (w.energyJ === null ? [] : [w.energyJ]));
  const co2s = perWindow.flatMap((w) => (w.co2eG === null ? [] : [w.co2eG]));
  const complete = perWindow.length > 0 && energies.length === perWindow.length;
  return {
    accuracy,
    latencyMsP50: { batch1, batch64 },
    energyJPer1kInferences: complete ? percentile(energies, 50) : null,
    energyJPer1kRange: complete ? [Math.min(...energies), Math.max(...energies)] : null,
    co2eGPer1kInferences:
      complete && co2s.length === perWindow.length ? percentile(co2s, 50) : null,
    cpuSPer1kInferences: percentile(
      perWindow.map((w) => w.cpuS),
      50,
    ),
    inferencesMeasured: inferences,
    energyBatchSize: batchSize,
    energyDurationS,
  };
}

/** Share (0..1) of `data` the predictor classifies right (argmax of its scores). */
export async function predictorAccuracy(
  predictor: Predictor,
  data: DataSplit,
  batchSize = 256,
): Promise<number> {
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const batch = Math.min(batchSize, data.count - start);
    const scores = await predictor.predict(
      data.x.subarray(start * predictor.features, (start + batch) * predictor.features),
      batch,
    );
    for (let i = 0; i < batch; i++) {
      if (argMax(scores, i * predictor.classes, predictor.classes) === data.y[start + i]) correct++;
    }
  }
  return correct / data.count;
}

/** Median milliseconds per call at `batch`, over about `durationS` seconds after a warm-up. */
async function medianLatencyMs(
  predictor: Predictor,
  data: DataSplit,
  batch: number,
  durationS: number,
): Promise<number> {
  for (let i = 0; i < 3; i++) await predictor.predict(batchFrom(data, i * batch, batch), batch);
  const times: number[] = [];
  const started = performance.now();
  let offset = 0;
  while (
    times.length < 5 ||
    (performance.now() - started < durationS * 1000 && times.length < 2000)
  ) {
    const input = batchFrom(data, offset, batch);
    const t0 = performance.now();
    await predictor.predict(input, batch);
    times.push(performance.now() - t0);
    offset = (offset + batch) % data.count;
  }
  return percentile(times, 50) as number;
}

/** `batch` samples starting at `offset`, wrapping around the split. */
function batchFrom(data: DataSplit, offset: number, batch: number): Float32Array {
  const features = data.x.length / data.count;
  if (offset + batch <= data.count)
    return data.x.slice(offset * features, (offset + batch) * features);
  const out = new Float32Array(batch * features);
  for (let i = 0; i < batch; i++) {
    const row = (offset + i) % data.count;
    out.set(data.x.subarray(row * features, (row + 1) * features), i * features);
  }
  return out;
}

function argMax(values: Float32Array, offset: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++)
    if ((values[offset + i] as number) > (values[offset + best] as number)) best = i;
  return best;
}
