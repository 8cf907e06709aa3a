/** ONNX model files for the label tests, built with the label's reference builders. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportModelToOnnx, quantizeOnnxDynamicInt8 } from "../../src/optimize/onnx/export.js";
import {
  buildReferenceSpec,
  type ReferenceArchitecture,
} from "../../src/label/reference-family.js";
import { resolveLabelTask } from "../../src/label/tasks.js";

/** Writes `<dir>/<name>.onnx` for `architecture` on `task`'s input and returns its path. */
export function writeModel(
  dir: string,
  name: string,
  task: string,
  architecture: ReferenceArchitecture,
  precision: "float32" | "int8" = "float32",
  seed = 7,
): string {
  const spec = buildReferenceSpec(resolveLabelTask(task), architecture, seed);
  const bytes = precision === "float32" ? exportModelToOnnx(spec) : quantizeOnnxDynamicInt8(spec);
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, bytes);
  return path;
}

/** The environment of a machine with no hardware counters: CPU and RAM come from the models. */
export function noHardwareEnv(dir: string): Record<string, string> {
  return {
    WATTPRINT_POWERCAP_ROOT: join(dir, "no-powercap"),
    WATTPRINT_HWMON_ROOT: join(dir, "no-hwmon"),
    WATTPRINT_NVML: "off",
    PATH: "/usr/bin:/bin",
    WATTPRINT_HOME: join(dir, ".wattprint"),
  };
}
