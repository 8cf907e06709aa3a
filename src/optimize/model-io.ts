/**
 * Saves and loads TF.js layers models in a directory: `model.json` (topology and weights
 * manifest) and `weights.bin`, the format `tfjs-node`'s `file://` handler and the TF.js
 * converter write. tfjs-node cannot be installed here, so this is wattprint's own handler.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { WattprintError, describeError } from "../errors.js";
import {
  joinWeightData,
  quantizeModelArtifacts,
  storedBytesPerValue,
  type WeightQuantization,
} from "./quantize.js";

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";

/** What was written, with sizes in bytes. */
export interface SavedModelInfo {
  dir: string;
  modelJsonBytes: number;
  weightsBytes: number;
  /** model.json + weights.bin. */
  totalBytes: number;
}

/** A TF.js IO handler reading and writing `dir/model.json` + `dir/weights.bin`. */
export function fileIoHandler(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts) => {
      writeArtifacts(dir, artifacts);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    load: async () => readArtifacts(dir),
  };
}

/** The model's artifacts as `model.save` produces them (float32 weights), in memory. */
export async function modelArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (captured === null) throw new Error("the model produced no artifacts");
  return captured;
}

/** Saves a model to `dir` (created if needed), its kernels optionally quantized. */
export async function saveModel(
  model: tfl.LayersModel,
  dir: string,
  options: { quantization?: WeightQuantization } = {},
): Promise<SavedModelInfo> {
  let artifacts = await modelArtifacts(model);
  if (options.quantization !== undefined)
    artifacts = quantizeModelArtifacts(artifacts, options.quantization);
  return writeArtifacts(dir, artifacts);
}

/** Builds a model from artifacts held in memory (quantized weights are decoded to float32). */
export async function modelFromArtifacts(
  artifacts: tf.io.ModelArtifacts,
): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts));
}

/**
 * Loads a TF.js layers model from `dir` (a directory holding model.json, or the path of
 * model.json itself).
 *
 * @throws WattprintError NOT_FOUND when there is no model, BAD_INPUT when it cannot be read.
 */
export async function loadModel(dirOrJson: string): Promise<tfl.LayersModel> {
  const dir = dirOrJson.endsWith(".json") ? dirname(dirOrJson) : dirOrJson;
  const artifacts = readArtifacts(dir, dirOrJson.endsWith(".json") ? dirOrJson : undefined);
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw new WattprintError(
      "BAD_INPUT",
      `${join(dir, MODEL_JSON)} is not a usable TF.js layers model: ${firstLine(error)}`,
      {
        hint: "give a directory saved by TF.js (model.save) or wattprint: model.json with a layers-model topology, and its weights file",
        cause: error,
      },
    );
  }
}

/** Size on disk of a saved model directory: model.json plus its weight files, bytes. */
export function savedModelBytes(dir: string): number {
  const json = JSON.parse(readFileSync(join(dir, MODEL_JSON), "utf8")) as tf.io.ModelJSON;
  let total = statSync(join(dir, MODEL_JSON)).size;
  for (const group of json.weightsManifest ?? [])
    for (const path of group.paths) total += statSync(join(dir, path)).size;
  return total;
}

/** The two files a model is saved as: model.json's text and weights.bin's bytes. */
export function artifactsToFiles(artifacts: tf.io.ModelArtifacts): {
  modelJson: string;
  weights: Uint8Array;
} {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new WattprintError("BAD_INPUT", "only layers models (JSON topology) can be saved", {
      hint: "save a tf.LayersModel, not a graph model",
    });
  }
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as tf.io.ModelJSON["modelTopology"],
    format: artifacts.format ?? "layers-model",
    generatedBy: artifacts.generatedBy ?? "TensorFlow.js",
    convertedBy: artifacts.convertedBy ?? "wattprint",
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
    ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
    ...(artifacts.userDefinedMetadata
      ? { userDefinedMetadata: artifacts.userDefinedMetadata }
      : {}),
  };
  return {
    modelJson: JSON.stringify(modelJson),
    weights: new Uint8Array(joinWeightData(artifacts.weightData)),
  };
}

/** Writes artifacts as `dir/model.json` + `dir/weights.bin` (created if needed). */
export function writeArtifacts(dir: string, artifacts: tf.io.ModelArtifacts): SavedModelInfo {
  const { modelJson, weights } = artifactsToFiles(artifacts);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new WattprintError("OUTPUT_UNWRITABLE", `cannot create ${dir}: ${describeError(error)}`, {
      hint: "choose a directory you can write to",
    });
  }
  // Weights first, model.json last: a directory with a model.json is always complete.
  writeBytesAtomic(join(dir, WEIGHTS_BIN), weights);
  writeBytesAtomic(join(dir, MODEL_JSON), Buffer.from(modelJson, "utf8"));
  const modelJsonBytes = Buffer.byteLength(modelJson, "utf8");
  return {
    dir: resolve(dir),
    modelJsonBytes,
    weightsBytes: weights.length,
    totalBytes: modelJsonBytes + weights.length,
  };
}

/** Writes a whole file or nothing: a temporary file renamed into place. */
export function writeBytesAtomic(path: string, content: Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new WattprintError("OUTPUT_UNWRITABLE", `cannot write ${path}: ${describeError(error)}`, {
      hint: "check the path and free disk space",
      cause: error,
    });
  }
}

function readArtifacts(dir: string, jsonPath = join(dir, MODEL_JSON)): tf.io.ModelArtifacts {
  if (!existsSync(jsonPath)) {
    throw new WattprintError("NOT_FOUND", `no model at ${dir}: ${jsonPath} does not exist`, {
      hint: "give --model a directory holding a TF.js layers model (model.json + weights.bin), or train one with --train-baseline mlp|cnn",
    });
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(readFileSync(jsonPath, "utf8")) as tf.io.ModelJSON;
  } catch (error) {
    throw new WattprintError("BAD_INPUT", `${jsonPath} is not valid JSON: ${firstLine(error)}`, {
      hint: "give model.json as TF.js writes it",
    });
  }
  if (
    json === null ||
    typeof json !== "object" ||
    typeof json.modelTopology !== "object" ||
    json.modelTopology === null
  ) {
    throw new WattprintError("BAD_INPUT", `${jsonPath} has no modelTopology`, {
      hint: "give a TF.js layers model (model.json with modelTopology and weightsManifest)",
    });
  }
  const manifest = Array.isArray(json.weightsManifest) ? json.weightsManifest : [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of manifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) {
      throw new WattprintError(
        "BAD_INPUT",
        `${jsonPath}: a weightsManifest entry lacks paths or weights`,
        {
          hint: "give model.json as TF.js writes it",
        },
      );
    }
    specs.push(...group.weights);
    for (const path of group.paths) {
      const weightPath = resolve(dirname(jsonPath), path);
      if (!existsSync(weightPath)) {
        throw new WattprintError(
          "NOT_FOUND",
          `weights file ${weightPath} named in ${jsonPath} does not exist`,
          {
            hint: "copy the weights file(s) next to model.json",
          },
        );
      }
      buffers.push(readFileSync(weightPath));
    }
  }
  const expected = specs.reduce(
    (sum, spec) => sum + spec.shape.reduce((p, d) => p * d, 1) * storedBytesPerValue(spec),
    0,
  );
  const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
  if (total !== expected) {
    throw new WattprintError(
      "BAD_INPUT",
      `the weights of ${jsonPath} hold ${total} bytes; its manifest describes ${expected}`,
      {
        hint: "the weights file does not belong to this model.json, or is truncated",
      },
    );
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const buffer of buffers) {
    weightData.set(buffer, offset);
    offset += buffer.length;
  }
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    trainingConfig: json.trainingConfig,
    userDefinedMetadata: json.userDefinedMetadata,
    weightSpecs: specs,
    weightData: weightData.buffer,
  };
}

function firstLine(error: unknown): string {
  return describeError(error).split("\n")[0] ?? "";
}
