/**
 * Structured pruning: whole units of Dense layers and whole filters of Conv2D layers are
 * removed, with the matching inputs of the layer that consumes them, so the model really
 * has fewer weights and does fewer multiplications. Units are ranked by the L1 norm of
 * their incoming weights (Li et al. 2017, "Pruning Filters for Efficient ConvNets",
 * arXiv:1608.08710) and the smallest are removed. The output layer is never pruned.
 *
 * Supported between a pruned layer and its consumer: MaxPooling2D, AveragePooling2D,
 * Dropout, Activation (channel-wise), and Flatten before a Dense layer.
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { WattprintError } from "../../errors.js";
import { modelArtifacts, modelFromArtifacts } from "../model-io.js";
import { joinWeightData } from "../quantize.js";

/** What structured pruning removed from one layer. */
export interface PrunedLayer {
  layerName: string;
  kind: "units" | "filters";
  before: number;
  after: number;
  /** Indices (in the original layer) of the units or filters kept, ascending. */
  kept: number[];
}

export interface StructuredPruneResult {
  model: tfl.LayersModel;
  layers: PrunedLayer[];
  /** Layers that could not be pruned, with the reason. */
  skipped: { layerName: string; reason: string }[];
}

const PASS_THROUGH = new Set(["MaxPooling2D", "AveragePooling2D", "Dropout", "Activation"]);

interface TopologyLayer {
  class_name: string;
  config: Record<string, unknown> & { name: string };
}

/**
 * A new model with `fraction` (0..1) of the units/filters of every hidden Dense and Conv2D
 * layer removed (at least one kept per layer), weights copied for what is kept. The
 * original model is not changed.
 *
 * @throws WattprintError BAD_INPUT when the model is not a Sequential model.
 */
export async function pruneStructured(
  model: tfl.LayersModel,
  fraction: number,
): Promise<StructuredPruneResult> {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new WattprintError("USAGE", `invalid structured pruning fraction ${fraction}`, {
      hint: "give a fraction from 0 to below 1, for example 0.5",
    });
  }
  const artifacts = await modelArtifacts(model);
  const topology = artifacts.modelTopology as {
    class_name?: string;
    config?: { layers?: TopologyLayer[] };
  };
  const layers = topology.config?.layers;
  if (topology.class_name !== "Sequential" || !Array.isArray(layers)) {
    throw new WattprintError("BAD_INPUT", "structured pruning needs a Sequential model", {
      hint: "save the model as a tf.sequential() stack of layers",
    });
  }
  const weights = readWeights(artifacts);
  const pruned: PrunedLayer[] = [];
  const skipped: { layerName: string; reason: string }[] = [];

  for (let index = 0; index < layers.length; index++) {
    const layer = layers[index] as TopologyLayer;
    const kind =
      layer.class_name === "Dense" ? "units" : layer.class_name === "Conv2D" ? "filters" : null;
    if (kind === null) continue;
    const name = layer.config.name;
    const consumer = findConsumer(layers, index);
    if (consumer === null) continue; // the output layer, or nothing after it
    if ("reason" in consumer) {
      skipped.push({ layerName: name, reason: consumer.reason });
      continue;
    }
    const kernel = weights.get(`${name}/kernel`);
    if (kernel === undefined) {
      skipped.push({ layerName: name, reason: "no kernel weights found" });
      continue;
    }
    const before = kernel.shape[kernel.shape.length - 1] as number;
    const keepCount = Math.max(1, Math.round(before * (1 - fraction)));
    if (keepCount === before) continue;
    const kept = rankUnits(kernel.values, before)
      .slice(0, keepCount)
      .sort((a, b) => a - b);

    sliceLastAxis(kernel, kept);
    const bias = weights.get(`${name}/bias`);
    if (bias !== undefined) sliceLastAxis(bias, kept);
    layer.config[kind] = keepCount;

    const consumerLayer = layers[consumer.index] as TopologyLayer;
    const consumerKernel = weights.get(`${consumerLayer.config.name}/kernel`);
    if (consumerKernel === undefined) throw new Error(`no kernel for ${consumerLayer.config.name}`);
    if (consumerLayer.class_name === "Conv2D") sliceInputChannels(consumerKernel, kept, before);
    else sliceInputRows(consumerKernel, kept, before);
    pruned.push({ layerName: name, kind, before, after: keepCount, kept });
  }

  const newArtifacts: tf.io.ModelArtifacts = {
    ...artifacts,
    modelTopology: topology as unknown as tf.io.ModelArtifacts["modelTopology"],
    ...writeWeights(artifacts.weightSpecs ?? [], weights),
  };
  return { model: await modelFromArtifacts(newArtifacts), layers: pruned, skipped };
}

/** The layer consuming layer `index`'s units, or why there is none that can be rewritten. */
function findConsumer(
  layers: TopologyLayer[],
  index: number,
): { index: number } | { reason: string } | null {
  let flattened = false;
  for (let next = index + 1; next < layers.length; next++) {
    const layer = layers[next] as TopologyLayer;
    if (layer.class_name === "Dense") return { index: next };
    if (layer.class_name === "Conv2D") {
      return flattened
        ? { reason: "a Flatten layer sits between it and a Conv2D layer" }
        : { index: next };
    }
    if (layer.class_name === "Flatten") {
      flattened = true;
      continue;
    }
    if (PASS_THROUGH.has(layer.class_name)) continue;
    return {
      reason: `a ${layer.class_name} layer consumes its output (not supported by structured pruning)`,
    };
  }
  return null;
}

interface WeightValue {
  shape: number[];
  values: Float32Array;
}

/** Units ordered by the L1 norm of their incoming weights, largest first (ties by index). */
function rankUnits(kernel: Float32Array, units: number): number[] {
  const norms = new Float64Array(units);
  for (let i = 0; i < kernel.length; i++)
    norms[i % units] = (norms[i % units] as number) + Math.abs(kernel[i] as number);
  return Array.from({ length: units }, (_, i) => i).sort(
    (a, b) => (norms[b] as number) - (norms[a] as number) || a - b,
  );
}

/** Keeps `kept` entries of the last axis. */
function sliceLastAxis(weight: WeightValue, kept: number[]): void {
  const last = weight.shape[weight.shape.length - 1] as number;
  const outer = weight.values.length / last;
  const values = new Float32Array(outer * kept.length);
  for (let o = 0; o < outer; o++) {
    kept.forEach((unit, k) => {
      values[o * kept.length + k] = weight.values[o * last + unit] as number;
    });
  }
  weight.values = values;
  weight.shape = [...weight.shape.slice(0, -1), kept.length];
}

/** Conv2D kernel [kh, kw, in, out]: keeps `kept` input channels. */
function sliceInputChannels(weight: WeightValue, kept: number[], channels: number): void {
  const [kh, kw, inChannels, out] = weight.shape as [number, number, number, number];
  if (inChannels !== channels)
    throw new Error(`expected ${channels} input channels, found ${inChannels}`);
  const values = new Float32Array(kh * kw * kept.length * out);
  for (let p = 0; p < kh * kw; p++) {
    kept.forEach((channel, k) => {
      for (let o = 0; o < out; o++) {
        values[(p * kept.length + k) * out + o] = weight.values[
          (p * inChannels + channel) * out + o
        ] as number;
      }
    });
  }
  weight.values = values;
  weight.shape = [kh, kw, kept.length, out];
}

/**
 * Dense kernel [in, out]: keeps the input rows fed by the kept units. After a Flatten of
 * NHWC maps the row of (position, channel) is position × channels + channel.
 */
function sliceInputRows(weight: WeightValue, kept: number[], channels: number): void {
  const [rows, out] = weight.shape as [number, number];
  if (rows % channels !== 0)
    throw new Error(`${rows} input rows are not a multiple of ${channels} channels`);
  const positions = rows / channels;
  const values = new Float32Array(positions * kept.length * out);
  for (let p = 0; p < positions; p++) {
    kept.forEach((channel, k) => {
      const from = (p * channels + channel) * out;
      values.set(weight.values.subarray(from, from + out), (p * kept.length + k) * out);
    });
  }
  weight.values = values;
  weight.shape = [positions * kept.length, out];
}

function readWeights(artifacts: tf.io.ModelArtifacts): Map<string, WeightValue> {
  const specs = artifacts.weightSpecs ?? [];
  const decoded = tf.io.decodeWeights(joinWeightData(artifacts.weightData), specs);
  const weights = new Map<string, WeightValue>();
  for (const spec of specs) {
    const tensor = decoded[spec.name] as tf.Tensor;
    weights.set(spec.name, {
      shape: [...spec.shape],
      values: Float32Array.from(tensor.dataSync()),
    });
    tensor.dispose();
  }
  return weights;
}

function writeWeights(
  specs: tf.io.WeightsManifestEntry[],
  weights: Map<string, WeightValue>,
): { weightSpecs: tf.io.WeightsManifestEntry[]; weightData: ArrayBuffer } {
  const newSpecs = specs.map((spec) => ({
    name: spec.name,
    shape: (weights.get(spec.name) as WeightValue).shape,
    dtype: "float32" as const,
  }));
  const total = newSpecs.reduce(
    (sum, spec) => sum + (weights.get(spec.name) as WeightValue).values.length,
    0,
  );
  const data = new Float32Array(total);
  let offset = 0;
  for (const spec of newSpecs) {
    const values = (weights.get(spec.name) as WeightValue).values;
    data.set(values, offset);
    offset += values.length;
  }
  return { weightSpecs: newSpecs, weightData: data.buffer };
}
