/**
 * Runs an ONNX model in onnxruntime-node on the CPU execution provider. onnxruntime-node is
 * imported lazily, inside {@link createOnnxRunner}, so nothing that `wattprint track` loads
 * pays for it.
 */
import { WattprintError, describeError } from "../../errors.js";

/** Options for {@link createOnnxRunner}. */
export interface OnnxRunnerOptions {
  /** Threads for intra-op parallelism. Default: onnxruntime's own default (one per physical core). */
  intraOpThreads?: number;
}

/** A loaded ONNX model with one float32 input (batch first) and one float32 output. */
export interface OnnxRunner {
  /** Name of the graph input. */
  inputName: string;
  /** Runs `batch` samples (`input.length` must be `batch` × the per-sample size) and returns the flat output, batch first. */
  run(input: Float32Array, batch: number): Promise<Float32Array>;
  /** Releases the session; `run` must not be called afterwards. */
  close(): Promise<void>;
}

type OnnxRuntime = typeof import("onnxruntime-node");

/**
 * Loads ONNX model bytes into an onnxruntime-node `InferenceSession` (CPU provider, all graph
 * optimizations, sequential execution).
 *
 * @throws WattprintError("NOT_FOUND") when onnxruntime-node cannot be loaded,
 *   WattprintError("BAD_INPUT") when the model is rejected or has no float32 tensor input,
 *   or (from `run`) when the input does not fit the model.
 */
export async function createOnnxRunner(
  bytes: Uint8Array,
  options: OnnxRunnerOptions = {},
): Promise<OnnxRunner> {
  const threads = options.intraOpThreads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) {
    throw new WattprintError(
      "BAD_INPUT",
      `intraOpThreads must be a positive integer, got ${threads}`,
    );
  }
  const ort = await loadOnnxRuntime();
  let session: Awaited<ReturnType<OnnxRuntime["InferenceSession"]["create"]>>;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
    });
  } catch (error) {
    throw new WattprintError("BAD_INPUT", `onnxruntime rejected the model: ${firstLine(error)}`, {
      cause: error,
    });
  }

  const inputMetadata = session.inputMetadata[0];
  const outputName = session.outputNames[0];
  if (
    inputMetadata === undefined ||
    !inputMetadata.isTensor ||
    inputMetadata.type !== "float32" ||
    outputName === undefined
  ) {
    await session.release();
    throw new WattprintError(
      "BAD_INPUT",
      "the ONNX model must have a float32 tensor input and an output",
    );
  }
  const inputName = inputMetadata.name;
  // Fixed per-sample dimensions when the model declares them; otherwise the input is fed flat per sample.
  const sampleDims = inputMetadata.shape.slice(1);
  const staticSampleDims = sampleDims.every((dim): dim is number => typeof dim === "number")
    ? sampleDims
    : null;
  const sampleSize = staticSampleDims?.reduce((product, dim) => product * dim, 1) ?? null;

  return {
    inputName,
    async run(input: Float32Array, batch: number): Promise<Float32Array> {
      if (!Number.isInteger(batch) || batch < 1)
        throw new WattprintError("BAD_INPUT", `batch must be a positive integer, got ${batch}`);
      const expected = sampleSize === null ? null : sampleSize * batch;
      if ((expected !== null && input.length !== expected) || input.length % batch !== 0) {
        throw new WattprintError(
          "BAD_INPUT",
          `ONNX input has ${input.length} values; a batch of ${batch} needs ${expected ?? `a multiple of ${batch}`}`,
        );
      }
      const dims =
        staticSampleDims === null ? [batch, input.length / batch] : [batch, ...staticSampleDims];
      let results: Awaited<ReturnType<typeof session.run>>;
      try {
        results = await session.run({ [inputName]: new ort.Tensor("float32", input, dims) });
      } catch (error) {
        throw new WattprintError(
          "BAD_INPUT",
          `onnxruntime could not run the model: ${firstLine(error)}`,
          { cause: error },
        );
      }
      const output = results[outputName];
      if (output === undefined || !(output.data instanceof Float32Array)) {
        throw new WattprintError(
          "BAD_INPUT",
          `the ONNX model's output ${outputName} is not a float32 tensor`,
        );
      }
      return output.data;
    },
    async close(): Promise<void> {
      await session.release();
    },
  };
}

async function loadOnnxRuntime(): Promise<OnnxRuntime> {
  try {
    return await import("onnxruntime-node");
  } catch (error) {
    throw new WattprintError(
      "NOT_FOUND",
      `onnxruntime-node could not be loaded: ${firstLine(error)}`,
      {
        hint: "install onnxruntime-node 1.30 (its CPU binaries ship in the npm package; the install script may be skipped)",
        cause: error,
      },
    );
  }
}

function firstLine(error: unknown): string {
  return describeError(error).split("\n")[0] ?? "";
}
