/**
 * The model file a label is made for: its bytes, SHA-256 and graph input, checked against
 * the task before anything is measured.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { WattprintError, describeError } from "../errors.js";
import { ONNX_FLOAT, readOnnxInput, valuesPerSample, type OnnxInputInfo } from "./onnx-input.js";
import type { LabelTask } from "./tasks.js";

/** A model file, read and identified. */
export interface LabelModelFile {
  /** The path as given. */
  path: string;
  fileName: string;
  bytes: Uint8Array;
  /** SHA-256 of the file's bytes, lowercase hex. */
  sha256: string;
  sizeBytes: number;
  input: OnnxInputInfo;
}

/** SHA-256 of `bytes`, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Reads an ONNX model file and checks that its input takes the task's queries (a float32
 * tensor, batch first, `task.valuesPerQuery` values per sample).
 * @throws WattprintError NOT_FOUND for a missing file, BAD_INPUT for a directory, a file
 *   that is not ONNX, or an input that does not fit the task.
 */
export function readLabelModel(path: string, task: LabelTask): LabelModelFile {
  if (!existsSync(path)) {
    throw new WattprintError("NOT_FOUND", `no such model file: ${path}`, {
      hint: "give the path of an .onnx file with --model",
    });
  }
  if (statSync(path).isDirectory()) {
    throw new WattprintError("BAD_INPUT", `--model ${path} is a directory`, {
      hint: "give the path of an .onnx file",
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new WattprintError("BAD_INPUT", `cannot read ${path}: ${describeError(error)}`, {
      hint: "check the file's permissions",
      cause: error,
    });
  }
  let input: OnnxInputInfo;
  try {
    input = readOnnxInput(bytes);
  } catch (error) {
    if (error instanceof WattprintError) {
      throw new WattprintError("BAD_INPUT", `${path} is ${error.message}`, { hint: error.hint });
    }
    throw error;
  }
  if (input.elemType !== ONNX_FLOAT) {
    throw new WattprintError(
      "BAD_INPUT",
      `model ${basename(path)}: input "${input.name}" is not a float32 tensor (ONNX type ${input.elemType ?? "none"})`,
      { hint: `task ${task.name} feeds float32 queries of ${task.valuesPerQuery} values` },
    );
  }
  const perSample = valuesPerSample(input);
  if (perSample !== null && perSample !== task.valuesPerQuery) {
    throw new WattprintError(
      "BAD_INPUT",
      `model ${basename(path)} takes ${perSample} values per query (input ${formatShape(input.shape)}), task ${task.name} gives ${task.valuesPerQuery}`,
      {
        hint: `pick the task whose queries the model was made for, or export a model with ${task.valuesPerQuery} inputs (${task.imageShape.join("×")} or flat)`,
      },
    );
  }
  return {
    path,
    fileName: basename(path),
    bytes,
    sha256: sha256Hex(bytes),
    sizeBytes: bytes.byteLength,
    input,
  };
}

/** "[batch, 28, 28, 1]". */
export function formatShape(shape: (number | string)[] | null): string {
  return shape === null ? "without a declared shape" : `[${shape.join(", ")}]`;
}
