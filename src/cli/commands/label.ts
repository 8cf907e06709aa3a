import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { parseNumber } from "../parse-values.js";
import { WattprintError, describeError } from "../../errors.js";
import { formatWhPer1kQueries, ratingStars } from "../../label/badge.js";
import type { LabelCertificate } from "../../label/certificate.js";
import { labelFilePaths, labelModel } from "../../label/label-model.js";
import {
  DEFAULT_QUERIES_PER_REPEAT,
  DEFAULT_REPEATS,
  DEFAULT_WARMUP_QUERIES,
  LABEL_PROTOCOL_NAME,
} from "../../label/protocol.js";
import { LABEL_TASK_NAMES } from "../../label/tasks.js";
import { assertWritable, writeFileAtomic } from "../../report/write-file.js";
import { formatDuration } from "../../units/energy.js";

export const LABEL_HELP = `Usage: wattprint label --model <model.onnx> --task <task> [options]

Measures a model's inference energy on a fixed protocol (${LABEL_PROTOCOL_NAME}: warm-up, then
repeats of queries at batch 1 on onnxruntime's CPU provider, 1 thread), gives the energy per
1,000 queries (median over repeats, with the spread), rates it 1 to 5 against the task's
reference models (5 = the most efficient fifth), and writes an SVG badge and a JSON
certificate holding the conditions. Ratings are comparable only on the reference hardware
and protocol; see docs/label.md.

Options:
  --model <file.onnx>   the model: ONNX, one float32 input, batch first
  --task <task>         ${LABEL_TASK_NAMES.join(" | ")}
  --queries <n>         queries per repeat (default ${DEFAULT_QUERIES_PER_REPEAT})
  --repeats <n>         measured repeats (default ${DEFAULT_REPEATS})
  --warmup <n>          unmeasured warm-up queries (default ${DEFAULT_WARMUP_QUERIES})
  --out-dir <dir>       where the badge and certificate go (default: the current directory),
                        as <model>.<task>.label.svg and .label.json
  --json                print the certificate as JSON instead of the summary
  -h, --help            this help`;

/** `wattprint label`. Returns the exit code. */
export async function labelCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      task: { type: "string" },
      queries: { type: "string" },
      repeats: { type: "string" },
      warmup: { type: "string" },
      "out-dir": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${LABEL_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    throw new WattprintError("USAGE", `unexpected argument "${positionals[0]}"`, {
      hint: "give the model with --model and the task with --task",
    });
  }
  if (values.model === undefined) {
    throw new WattprintError("USAGE", "label needs --model <file.onnx>", {
      hint: "for example: wattprint label --model model.onnx --task mnist-classification",
    });
  }
  if (values.task === undefined) {
    throw new WattprintError("USAGE", "label needs --task", {
      hint: `tasks are ${LABEL_TASK_NAMES.join(", ")}`,
    });
  }
  const count = (text: string | undefined, flag: string) =>
    text === undefined ? undefined : parseNumber(text, flag, "give a whole number");
  const outDir = values["out-dir"] ?? ".";
  const paths = labelFilePaths(outDir, values.model, values.task);
  // Checked before measuring; created only once there is something to write.
  checkOutDir(outDir);
  if (existsSync(outDir)) {
    assertWritable(paths.badgePath, "the badge");
    assertWritable(paths.certificatePath, "the certificate");
  }

  const label = await labelModel({
    modelPath: values.model,
    task: values.task,
    queriesPerRepeat: count(values.queries, "--queries"),
    repeats: count(values.repeats, "--repeats"),
    warmupQueries: count(values.warmup, "--warmup"),
    env: io.env,
    onRepeat: io.stderrIsTTY
      ? (repeat) =>
          io.stderr(
            `wattprint label: repeat ${repeat.repeat}: ${formatWhPer1kQueries(repeat.energyWhPer1kQueries)} per 1,000 queries (${formatDuration(repeat.durationS)})\n`,
          )
      : undefined,
  });
  const certificateText = `${JSON.stringify(label.certificate, null, 2)}\n`;
  createOutDir(outDir);
  writeFileAtomic(paths.badgePath, label.badgeSvg);
  writeFileAtomic(paths.certificatePath, certificateText);
  if (values.json) {
    io.stdout(certificateText);
    io.stderr(`wattprint: wrote ${paths.badgePath} and ${paths.certificatePath}\n`);
  } else {
    io.stdout(renderLabelSummary(label.certificate, paths));
  }
  return 0;
}

/** The human-readable summary of a label. */
export function renderLabelSummary(
  certificate: LabelCertificate,
  paths: { badgePath: string; certificatePath: string },
): string {
  const line = (name: string, text: string) => `  ${name.padEnd(13)}${text}`;
  const { protocol, energySpread, scale, conditions } = certificate;
  const range =
    energySpread.relativeRange === null
      ? ""
      : `, range ${Number((energySpread.relativeRange * 100).toPrecision(2))}%`;
  const hardware = conditions.hardware;
  const bins = scale.boundariesWhPer1kQueries
    .map((upper, index) => `${5 - index} if ≤ ${formatWhPer1kQueries(upper)}`)
    .join(", ");
  const lines = [
    `wattprint label: ${certificate.model.fileName} on ${certificate.task.name} (${protocol.name})`,
    line(
      "energy",
      `${formatWhPer1kQueries(certificate.energyWhPer1kQueries)} per 1,000 queries (median of ${protocol.repeats} × ${protocol.queriesPerRepeat} queries; ${formatWhPer1kQueries(energySpread.minWhPer1kQueries)} to ${formatWhPer1kQueries(energySpread.maxWhPer1kQueries)}${range})`,
    ),
    line(
      "rating",
      `${certificate.rating} of 5 ${ratingStars(certificate.rating)} against ${scale.referenceModels} reference models (${bins}, else 1)`,
    ),
    line(
      "measured by",
      conditions.energy.sources
        .map((source) => `${source.component}: ${source.method} (${source.source})`)
        .join("; "),
    ),
    line(
      "hardware",
      `${hardware.cpuModel} ×${hardware.cpuCount}${hardware.gpus.length > 0 ? `, ${hardware.gpus.map((gpu) => gpu.name).join(", ")}` : ""}`,
    ),
    line("model", `sha256 ${certificate.model.sha256}`),
    line("badge", paths.badgePath),
    line("certificate", paths.certificatePath),
    ...certificate.warnings.map((warning) => `  warning: ${warning}`),
  ];
  return `${lines.join("\n")}\n`;
}

function checkOutDir(outDir: string): void {
  const fail = (reason: string) =>
    new WattprintError("OUTPUT_UNWRITABLE", `cannot write to --out-dir ${outDir}: ${reason}`, {
      hint: "give a directory you can write to for the badge and the certificate",
    });
  let existing = resolve(outDir);
  while (!existsSync(existing)) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) {
    throw fail(
      existing === resolve(outDir) ? "it is not a directory" : `${existing} is not a directory`,
    );
  }
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    throw fail(`permission denied in ${existing}`);
  }
}

function createOutDir(outDir: string): void {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    throw new WattprintError(
      "OUTPUT_UNWRITABLE",
      `cannot create --out-dir ${outDir}: ${describeError(error)}`,
      {
        hint: "choose a directory you can write to",
      },
    );
  }
}
