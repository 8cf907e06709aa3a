/**
 * Starts TensorFlow.js for wattprint's optimize tools: the wasm backend (SIMD, no
 * download, no native build) with the pure-JS cpu backend as the fallback. Importing this
 * module loads TensorFlow.js, so only `optimize` code (loaded lazily by the CLI) imports it.
 */
import * as tf from "@tensorflow/tfjs-core";
// Layers registers the gradients of the ops it uses; load it even for raw ops.
import "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { describeError } from "../errors.js";
import { registerWasmTrainingKernels } from "./wasm-kernels.js";

/** A TensorFlow.js backend wattprint can run on. */
export type TfBackendName = "wasm" | "cpu";

/** The backend that runs, and why it is not the one asked for, if it is not. */
export interface TfRuntime {
  backend: TfBackendName;
  /** Fallbacks taken ("the wasm backend could not start: …; the cpu backend runs, slower"). */
  warnings: string[];
}

export interface TensorflowOptions {
  /** "auto" (default): wasm, else cpu with a warning; or force one backend. */
  backend?: TfBackendName | "auto";
  /**
   * Directory (ending in "/") holding the wasm backend's .wasm files; default the
   * `@tensorflow/tfjs-backend-wasm` package's own `dist/`. Only used before wasm first starts.
   */
  wasmPath?: string;
}

/**
 * Selects and initialises the backend (once per choice; cheap after the first call).
 * Production mode is on: TF.js's console notes ("install tfjs-node") never reach a CLI's
 * output. Throws only when no backend at all can start.
 */
export async function initTensorflow(options: TensorflowOptions = {}): Promise<TfRuntime> {
  const wanted = options.backend ?? "auto";
  tf.enableProdMode();
  const warnings: string[] = [];
  if (wanted !== "cpu") {
    if (options.wasmPath !== undefined) setWasmPaths(options.wasmPath);
    const failure = await trySetBackend("wasm");
    if (failure === null) {
      registerWasmTrainingKernels();
      return { backend: "wasm", warnings };
    }
    if (wanted === "wasm") throw new Error(`the wasm backend could not start: ${failure}`);
    warnings.push(
      `the TensorFlow.js wasm backend could not start (${failure}); the cpu backend runs instead, several times slower`,
    );
  }
  const failure = await trySetBackend("cpu");
  if (failure !== null) throw new Error(`no TensorFlow.js backend could start: ${failure}`);
  return { backend: "cpu", warnings };
}

async function trySetBackend(name: TfBackendName): Promise<string | null> {
  try {
    if (tf.getBackend() === name) return null;
  } catch {
    // No backend selected yet.
  }
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend("${name}") returned false`;
    await tf.ready();
    return null;
  } catch (error) {
    return describeError(error).split("\n")[0] ?? "unknown error";
  }
}
