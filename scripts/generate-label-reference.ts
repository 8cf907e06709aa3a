/**
 * Measures the reference models of the energy label (src/label/reference-family.ts) with the
 * label protocol on this machine and writes data/label/reference-<task>.csv and
 * reference-<task>.conditions.json, the tables `wattprint label` rates against.
 *
 *   npx tsx scripts/generate-label-reference.ts [--task T]… [--queries N] [--repeats R]
 *       [--warmup W] [--out DIR] [--models-dir DIR]
 *
 * Defaults: every task, the protocol's defaults (the shipped tables use them), --out data/label.
 * --models-dir also keeps each reference model's ONNX file there (<model_id>.onnx), so that
 * anyone can label them and compare. Each model goes through the same code as
 * `wattprint label`: written to a file, read back and hashed, checked against the task, and
 * measured by runLabelProtocol under the in-process tracker (settings from the environment:
 * WATTPRINT_POWERCAP_ROOT, … as for `wattprint track`). Run it on an otherwise idle machine:
 * other processes' CPU use changes the modelled CPU power the labelling process is charged.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { energySourcesOf, hardwareOf } from "../src/label/certificate.js";
import { readLabelModel } from "../src/label/model-file.js";
import { labelProtocol, runLabelProtocol, type LabelProtocol } from "../src/label/protocol.js";
import { exportReferenceModel, referenceModels } from "../src/label/reference-family.js";
import {
  formatReferenceCsv,
  referencePaths,
  type LabelEnergySource,
  type LabelHardware,
  type ReferenceConditions,
  type ReferenceRow,
} from "../src/label/reference-table.js";
import { ratingBoundaries } from "../src/label/rating.js";
import { labelSoftwareVersions } from "../src/label/software-versions.js";
import { LABEL_TASK_NAMES, loadTaskQueries, resolveLabelTask } from "../src/label/tasks.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

interface Arguments {
  tasks: string[];
  queriesPerRepeat?: number;
  repeats?: number;
  warmupQueries?: number;
  outDir: string;
  modelsDir?: string;
}

function parseArguments(argv: string[]): Arguments {
  const parsed: Arguments = { tasks: [], outDir: join(ROOT, "data/label") };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    const value = () => {
      const next = argv[(index += 1)];
      if (next === undefined) throw new Error(`${argument} needs a value`);
      return next;
    };
    if (argument === "--task") parsed.tasks.push(value());
    else if (argument === "--queries") parsed.queriesPerRepeat = Number(value());
    else if (argument === "--repeats") parsed.repeats = Number(value());
    else if (argument === "--warmup") parsed.warmupQueries = Number(value());
    else if (argument === "--out") parsed.outDir = resolve(value());
    else if (argument === "--models-dir") parsed.modelsDir = resolve(value());
    else throw new Error(`unknown argument ${argument ?? ""}`);
  }
  if (parsed.tasks.length === 0) parsed.tasks = [...LABEL_TASK_NAMES];
  return parsed;
}

async function generateTask(taskName: string, args: Arguments, scratch: string): Promise<void> {
  const task = resolveLabelTask(taskName);
  const protocol: LabelProtocol = labelProtocol(task, args);
  const queries = loadTaskQueries(task, protocol.queriesPerRepeat).samples;
  const models = referenceModels(task);
  const rows: ReferenceRow[] = [];
  const warnings = new Set<string>();
  let measuredAt: string | null = null;
  let hardware: LabelHardware | null = null;
  let energySources: LabelEnergySource[] | null = null;
  for (const [index, reference] of models.entries()) {
    const bytes = exportReferenceModel(reference);
    const path = join(args.modelsDir ?? scratch, `${reference.id}.onnx`);
    writeFileSync(path, bytes);
    const model = readLabelModel(path, task);
    const measurement = await runLabelProtocol({
      modelBytes: model.bytes,
      queries,
      protocol,
      runLabel: `generate-label-reference ${reference.id}`,
    });
    if (args.modelsDir === undefined) rmSync(path);
    const run = measurement.run;
    measuredAt ??= run.startedAt;
    hardware ??= hardwareOf(run);
    const sources = energySourcesOf(run, measurement.countedComponents);
    energySources ??= sources;
    if (JSON.stringify(sources) !== JSON.stringify(energySources)) {
      warnings.add(`${reference.id}: its energy sources differ from the first model's`);
    }
    for (const warning of [...run.warnings, ...measurement.warnings]) warnings.add(warning);
    rows.push({
      modelId: reference.id,
      architecture: reference.architecture,
      precision: reference.precision,
      weightsSeed: reference.seed,
      parameters: reference.parameters,
      fileBytes: model.sizeBytes,
      sha256: model.sha256,
      energyWhPer1kQueries: measurement.energyWhPer1kQueries,
      minWhPer1kQueries: measurement.minWhPer1kQueries,
      maxWhPer1kQueries: measurement.maxWhPer1kQueries,
    });
    process.stderr.write(
      `${task.name} ${index + 1}/${models.length} ${reference.id}: ${measurement.energyWhPer1kQueries.toPrecision(3)} Wh per 1,000 queries (${measurement.minWhPer1kQueries.toPrecision(3)}–${measurement.maxWhPer1kQueries.toPrecision(3)})\n`,
    );
  }
  if (measuredAt === null || hardware === null || energySources === null) {
    throw new Error(`no reference model measured for ${task.name}`);
  }
  const conditions: ReferenceConditions = {
    task: task.name,
    measuredAt,
    generator: "scripts/generate-label-reference.ts",
    protocol,
    hardware,
    energySources,
    software: labelSoftwareVersions(),
    warnings: [...warnings],
  };
  const paths = referencePaths(task.name, args.outDir);
  writeFileSync(paths.csvPath, formatReferenceCsv(rows));
  writeFileSync(paths.conditionsPath, `${JSON.stringify(conditions, null, 2)}\n`);
  const boundaries = ratingBoundaries(rows.map((row) => row.energyWhPer1kQueries));
  process.stderr.write(
    `${task.name}: wrote ${paths.csvPath}; boundaries ${boundaries.map((b) => b.toPrecision(3)).join(", ")} Wh per 1,000 queries\n`,
  );
}

async function main(argv: string[]): Promise<void> {
  const args = parseArguments(argv);
  mkdirSync(args.outDir, { recursive: true });
  if (args.modelsDir !== undefined) mkdirSync(args.modelsDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), "wattprint-label-reference-"));
  try {
    for (const task of args.tasks) await generateTask(task, args, scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
