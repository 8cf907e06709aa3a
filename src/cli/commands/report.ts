import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { parseNumber } from "../parse-values.js";
import { settingsFromEnvironment } from "../../config/settings.js";
import { defaultStorePath } from "../../store/default-path.js";
import { WattprintError } from "../../errors.js";
import { parseFunctionalUnit, type EmbodiedHardware } from "../../carbon/sci.js";
import { loadReportInput } from "../../report/load-input.js";
import { buildReportModel, type ReportOptions } from "../../report/report-model.js";
import { renderHtmlReport } from "../../report/html.js";
import { adviseRun } from "../../advise/advise.js";
import { renderMarkdownReport } from "../../report/markdown.js";
import { renderModelCard, updateModelCardFile } from "../../report/model-card.js";
import { assertWritable, writeFileAtomic } from "../../report/write-file.js";

export const REPORT_HELP = `Usage: wattprint report <run-id | run.json | estimate.json> [options]

Reports on a stored run (its id or a unique prefix), a run record file or an estimate file.

Options:
  --format <f>            html, md, json or model-card (default: from --out's extension,
                          else md)
  --out <file>            write the report to a file (whole or not at all) instead of stdout
  --update <README.md>    write co2_eq_emissions into the model card's front matter and an
                          "Environmental impact" section into its text, in place
  --functional-unit <u>   request, token, sample or epoch: add the SCI score per unit
  --units <n>             how many functional units the work served (with --functional-unit)
  --embodied-kg <n>       embodied emissions of the hardware (TE, kgCO2e), amortised over
                          the run's time (or the estimate's device-hours)
  --lifetime-years <n>    expected hardware lifespan for the amortisation (default 4)
  --resource-share <f>    share of the hardware reserved for the work, 0..1 (default 1)
  --training-type <t>     pre-training or fine-tuning (model card)
  --location <text>       where the work ran, in words (default: the region's name)
  -h, --help              this help`;

const FORMATS = ["html", "md", "json", "model-card"] as const;
type Format = (typeof FORMATS)[number];

const EXTENSION_FORMATS: Record<string, Format> = {
  ".html": "html",
  ".htm": "html",
  ".md": "md",
  ".markdown": "md",
  ".json": "json",
};

/** `wattprint report`: parse, load, build the model, render, write. Returns the exit code. */
export async function reportCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      format: { type: "string" },
      out: { type: "string" },
      update: { type: "string" },
      "functional-unit": { type: "string" },
      units: { type: "string" },
      "embodied-kg": { type: "string" },
      "lifetime-years": { type: "string" },
      "resource-share": { type: "string" },
      "training-type": { type: "string" },
      location: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${REPORT_HELP}\n`);
    return 0;
  }
  const [reference, ...extra] = positionals;
  if (reference === undefined) {
    throw new WattprintError("USAGE", "report needs a run id, a run.json or an estimate.json", {
      hint: "for example: wattprint report 1f2e3d4c --format html --out report.html",
    });
  }
  if (extra.length > 0) {
    throw new WattprintError("USAGE", `unexpected argument "${extra[0]}"`, {
      hint: "give one run id or file",
    });
  }
  const format = resolveFormat(values.format, values.out, values.update);
  const options = reportOptions(values);
  if (values.out !== undefined) assertWritable(values.out, "--out");

  const storePath = defaultStorePath(settingsFromEnvironment(io.env).home);
  const input = loadReportInput(reference, { storePath });
  const model = buildReportModel(input, options);
  const samples = input.kind === "run" ? input.samples : null;
  // The HTML and Markdown reports carry the advice for a run (docs/advise.md).
  const advice =
    input.kind === "run" && (format === "html" || format === "md")
      ? await adviseRun(
          {
            run: input.run,
            samples: input.samples,
            samplesNote: input.samplesNote,
            origin: input.origin,
          },
          { runReference: reference },
        )
      : null;

  if (values.update !== undefined) {
    const changed = updateModelCardFile(values.update, model);
    io.stderr(
      changed
        ? `wattprint: updated ${values.update} (co2_eq_emissions and "Environmental impact")\n`
        : `wattprint: ${values.update} is already up to date\n`,
    );
    if (values.out === undefined) return 0;
  }
  const text =
    format === "html"
      ? renderHtmlReport(model, samples, { advice })
      : format === "md"
        ? renderMarkdownReport(model, samples, { advice })
        : format === "json"
          ? `${JSON.stringify(model, null, 2)}\n`
          : renderModelCard(model);
  if (values.out !== undefined) {
    writeFileAtomic(values.out, text);
    io.stderr(`wattprint: wrote the ${format} report to ${values.out}\n`);
  } else {
    io.stdout(text);
  }
  return 0;
}

function resolveFormat(
  format: string | undefined,
  out: string | undefined,
  update: string | undefined,
): Format {
  if (format !== undefined) {
    const known = FORMATS.find((candidate) => candidate === format.trim().toLowerCase());
    if (known === undefined) {
      throw new WattprintError("USAGE", `unknown --format "${format}"`, {
        hint: `use one of ${FORMATS.join(", ")}`,
      });
    }
    if (update !== undefined && known !== "model-card") {
      throw new WattprintError("USAGE", `--update writes a model card, not --format ${known}`, {
        hint: "drop --format, or use --format model-card",
      });
    }
    return known;
  }
  if (update !== undefined) return "model-card";
  if (out !== undefined) {
    const extension = /\.[^./\\]+$/.exec(out)?.[0]?.toLowerCase();
    const inferred = extension === undefined ? undefined : EXTENSION_FORMATS[extension];
    if (inferred !== undefined) return inferred;
  }
  return "md";
}

function reportOptions(values: {
  "functional-unit"?: string;
  units?: string;
  "embodied-kg"?: string;
  "lifetime-years"?: string;
  "resource-share"?: string;
  "training-type"?: string;
  location?: string;
}): ReportOptions {
  const options: ReportOptions = {};
  const unit = values["functional-unit"];
  if ((unit === undefined) !== (values.units === undefined)) {
    throw new WattprintError("USAGE", "--functional-unit and --units go together", {
      hint: "for example: --functional-unit request --units 10000",
    });
  }
  if (unit !== undefined && values.units !== undefined) {
    const count = positive(values.units, "--units", "how many units the work served, e.g. 10000");
    options.functionalUnit = { unit: parseFunctionalUnit(unit), count };
  }
  const embodiedKg = values["embodied-kg"];
  if (embodiedKg === undefined) {
    for (const flag of ["lifetime-years", "resource-share"] as const) {
      if (values[flag] !== undefined) {
        throw new WattprintError("USAGE", `--${flag} needs --embodied-kg`, {
          hint: "give the hardware's embodied emissions with --embodied-kg (kgCO2e)",
        });
      }
    }
  } else {
    const hardware: EmbodiedHardware = {
      totalEmbodiedKg: nonNegative(embodiedKg, "--embodied-kg"),
      source: "user (--embodied-kg)",
    };
    if (values["lifetime-years"] !== undefined) {
      hardware.lifetimeYears = positive(
        values["lifetime-years"],
        "--lifetime-years",
        "years, e.g. 4",
      );
    }
    if (values["resource-share"] !== undefined) {
      const share = positive(values["resource-share"], "--resource-share", "a share such as 0.25");
      if (share > 1) {
        throw new WattprintError(
          "USAGE",
          `invalid --resource-share "${values["resource-share"]}": above 1`,
          {
            hint: "give the share of the hardware reserved, between 0 and 1",
          },
        );
      }
      hardware.resourceShare = share;
    }
    options.embodied = hardware;
  }
  const trainingType = values["training-type"];
  if (trainingType !== undefined) {
    if (trainingType !== "pre-training" && trainingType !== "fine-tuning") {
      throw new WattprintError("USAGE", `invalid --training-type "${trainingType}"`, {
        hint: "use pre-training or fine-tuning",
      });
    }
    options.trainingType = trainingType;
  }
  if (values.location !== undefined && values.location.trim() !== "") {
    options.location = values.location.trim();
  }
  return options;
}

function positive(text: string, flag: string, hint: string): number {
  const value = parseNumber(text, flag, hint);
  if (value <= 0) {
    throw new WattprintError("USAGE", `invalid ${flag} "${text}": must be greater than 0`, {
      hint,
    });
  }
  return value;
}

function nonNegative(text: string, flag: string): number {
  const value = parseNumber(text, flag, "kgCO2e, e.g. 1200");
  if (value < 0) {
    throw new WattprintError("USAGE", `invalid ${flag} "${text}": cannot be negative`, {
      hint: "kgCO2e, e.g. 1200",
    });
  }
  return value;
}
