/**
 * Makes an energy label for one model: check the model against the task, run the
 * protocol under the tracker, rate the figure against the task's reference table, and
 * produce the certificate and the badge.
 */
import { basename, extname, join } from "node:path";
import type { Environment } from "../config/settings.js";
import { renderLabelBadge } from "./badge.js";
import { buildLabelCertificate, type LabelCertificate } from "./certificate.js";
import { readLabelModel } from "./model-file.js";
import { labelProtocol, runLabelProtocol, type RepeatMeasurement } from "./protocol.js";
import { DEFAULT_LABEL_DATA_DIR, loadLabelReference } from "./reference-table.js";
import { labelSoftwareVersions } from "./software-versions.js";
import { loadTaskQueries, resolveLabelTask, type TaskQueryOptions } from "./tasks.js";

/** Options of {@link labelModel}. */
export interface LabelModelOptions {
  /** Path of the ONNX model file. */
  modelPath: string;
  /** Task name ("mnist-classification", "digits-classification"). */
  task: string;
  /** Queries per repeat; default the protocol's (10,000). */
  queriesPerRepeat?: number;
  /** Measured repeats; default the protocol's (5). */
  repeats?: number;
  /** Warm-up queries; default the protocol's (200). */
  warmupQueries?: number;
  /** Settings the tracker reads (sensor roots); default process.env. */
  env?: Environment;
  /** Directory of the reference tables; default the package's data/label/. */
  referenceDir?: string;
  /** Where the task's data sets are; default the installed ones. */
  taskData?: TaskQueryOptions;
  /** Called as each repeat ends. */
  onRepeat?: (measurement: RepeatMeasurement) => void;
}

/** A label: the certificate and the badge drawn from it. */
export interface EnergyLabel {
  certificate: LabelCertificate;
  /** Standalone SVG document. */
  badgeSvg: string;
}

/**
 * Measures and rates one model. Every input is checked before the measurement starts.
 * @throws WattprintError USAGE (task, counts), NOT_FOUND (model, reference table,
 *   onnxruntime-node), BAD_INPUT (not ONNX, input does not fit the task), SENSOR.
 */
export async function labelModel(options: LabelModelOptions): Promise<EnergyLabel> {
  const task = resolveLabelTask(options.task);
  const protocol = labelProtocol(task, {
    queriesPerRepeat: options.queriesPerRepeat,
    repeats: options.repeats,
    warmupQueries: options.warmupQueries,
  });
  const reference = loadLabelReference(task.name, options.referenceDir ?? DEFAULT_LABEL_DATA_DIR);
  const model = readLabelModel(options.modelPath, task);
  const queries = loadTaskQueries(task, protocol.queriesPerRepeat, options.taskData);
  const measurement = await runLabelProtocol({
    modelBytes: model.bytes,
    queries: queries.samples,
    protocol,
    env: options.env,
    runLabel: `wattprint label ${model.fileName} (${task.name})`,
    onRepeat: options.onRepeat,
  });
  const certificate = buildLabelCertificate({
    task,
    model,
    measurement,
    reference,
    software: labelSoftwareVersions(),
  });
  const referenceHardware = reference.conditions.hardware;
  const badgeSvg = renderLabelBadge({
    task: task.name,
    rating: certificate.rating,
    energyWhPer1kQueries: certificate.energyWhPer1kQueries,
    protocolName: protocol.name,
    referenceHardware: `${referenceHardware.cpuModel} ×${referenceHardware.cpuCount}`,
  });
  return { certificate, badgeSvg };
}

/** Where a label's files go: `<dir>/<model name without .onnx>.<task>.label.{svg,json}`. */
export function labelFilePaths(
  outDir: string,
  modelPath: string,
  task: string,
): { badgePath: string; certificatePath: string } {
  const name = basename(modelPath, extname(modelPath) === ".onnx" ? ".onnx" : "");
  const stem = join(outDir, `${name}.${task}.label`);
  return { badgePath: `${stem}.svg`, certificatePath: `${stem}.json` };
}
