import { join } from "node:path";
import { parseArgs } from "node:util";
import { WattprintError, isWattprintError } from "../../errors.js";
import type { CliIo } from "../io.js";
import { parseNumber } from "../parse-values.js";
// Types only: the study library (TensorFlow.js) is imported when the command runs.
import type { StudyOptions } from "../../study/study-definition.js";

export const STUDY_NAMES_HELP = "transformer, gan, vae";

export const STUDY_HELP = `Usage: wattprint study transformer|gan|vae [options]

Runs a measured case study on the UCI 8×8 digits (shipped): trains a baseline and efficient
variants with the green-training callbacks, measures quality, training energy and
inference energy per 1,000 samples with wattprint's tracker, and writes the comparison
table, the Pareto charts (quality against training and inference energy) and an HTML
report. Same seed, same settings → same quality figures. Method and results: docs/case-studies.md.

Studies:
  transformer   encoder classifier: softmax vs linear attention, shared weights, distilled student
  gan           conditional GAN: lighter generator, fewer discriminator steps, early stopping on KID
  vae           VAE: smaller latent, narrower nets, half the data, early stopping on validation ELBO

Options:
  --epochs <n>               training epochs (early stopping may end sooner); default per study
  --seed <n>                 seed of splits, weights, batches and noise (default 1)
  --quick                    a tiny configuration that runs in seconds (a smoke test, not results)
  --variants <a,b>           only these variants (the baseline always runs)
  --out <dir>                where results.json, report.html and the charts go
                             (default ./wattprint-study-<name>)
  --energy-seconds <s>       seconds of inference per energy figure (default 3)
  --region <code>            grid region for CO2e (FR, US-CA, aws:us-east-1)
  --backend auto|wasm|cpu    TF.js backend (default auto: wasm, else cpu)
  --json                     print the results as JSON
  -q, --quiet                no progress lines on stderr
  -h, --help                 this help

Exit status: 0 when the study ran (whatever it found); 2 for bad input; 73 when --out
cannot be written. When a variant fails the others still run; when the baseline fails,
what was measured is kept in <out>/results.json.`;

const OPTIONS = {
  epochs: { type: "string" },
  seed: { type: "string" },
  quick: { type: "boolean" },
  variants: { type: "string" },
  out: { type: "string" },
  "energy-seconds": { type: "string" },
  region: { type: "string" },
  backend: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

/** `wattprint study`: parse, run the study library, render, exit code. */
export async function studyCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (values.help) {
    io.stdout(`${STUDY_HELP}\n`);
    return 0;
  }
  const [name, ...extra] = positionals;
  if (name === undefined) {
    throw new WattprintError("USAGE", "no study named", {
      hint: `give one of: ${STUDY_NAMES_HELP} (wattprint study --help)`,
    });
  }
  if (extra.length > 0) {
    throw new WattprintError("USAGE", `unexpected argument "${extra[0]}"`, {
      hint: "run one study at a time: wattprint study transformer|gan|vae",
    });
  }
  const { isStudyName, runStudy } = await import("../../study/run-study.js");
  if (!isStudyName(name)) {
    throw new WattprintError("USAGE", `unknown study "${name}"`, {
      hint: `choose one of: ${STUDY_NAMES_HELP}`,
    });
  }
  const outDir = values.out ?? `wattprint-study-${name}`;
  const options: StudyOptions = {
    epochs: optionalWhole(values.epochs, "--epochs", 1),
    seed: optionalWhole(values.seed, "--seed", 0),
    quick: values.quick ?? false,
    variants:
      values.variants === undefined
        ? undefined
        : values.variants
            .split(",")
            .map((v) => v.trim())
            .filter((v) => v !== ""),
    outDir,
    energyMinDurationS:
      values["energy-seconds"] === undefined
        ? undefined
        : parseNumber(
            values["energy-seconds"],
            "--energy-seconds",
            "give seconds, for example --energy-seconds 3",
          ),
    region: values.region,
    backend: parseBackend(values.backend),
    env: io.env,
    command: ["wattprint", "study", ...argv].join(" "),
    log: values.quiet ? undefined : (line) => io.stderr(`wattprint study: ${line}\n`),
  };
  let result;
  try {
    result = await runStudy(name, options);
  } catch (error) {
    // A bug stays a bug (main reports it); a study that failed on its input says where its partial results are.
    if (!isWattprintError(error) || error.code === "USAGE" || error.code === "OUTPUT_UNWRITABLE")
      throw error;
    throw new WattprintError(error.code, `the ${name} study failed: ${error.message}`, {
      hint: `${error.hint ?? "check the input"}; what was measured before the failure is in ${join(outDir, "results.json")}`,
      cause: error,
    });
  }
  const { renderStudyText } = await import("../../study/render-table.js");
  io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderStudyText(result));
  return 0;
}

function optionalWhole(value: string | undefined, flag: string, least: number): number | undefined {
  if (value === undefined) return undefined;
  const number = parseNumber(value, flag, `give a whole number of at least ${least}`);
  if (!Number.isInteger(number) || number < least) {
    throw new WattprintError("USAGE", `invalid ${flag} "${value}"`, {
      hint: `give a whole number of at least ${least}`,
    });
  }
  return number;
}

function parseBackend(value: string | undefined): StudyOptions["backend"] {
  const backend = value ?? "auto";
  if (backend !== "auto" && backend !== "wasm" && backend !== "cpu") {
    throw new WattprintError("USAGE", `invalid --backend "${backend}"`, {
      hint: "use auto, wasm or cpu",
    });
  }
  return backend;
}
