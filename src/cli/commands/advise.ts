import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { parseNumber } from "../parse-values.js";
import { parseSpanMs, parsePowerW } from "./schedule.js";
import { WattprintError } from "../../errors.js";
import { settingsFromEnvironment } from "../../config/settings.js";
import { defaultStorePath } from "../../store/default-path.js";
import { describeInput, loadReportInput } from "../../report/load-input.js";
import { adviseRun } from "../../advise/advise.js";
import { loadOptimizeResult } from "../../advise/optimize-result.js";
import type {
  AdviceReport,
  AdviseOptions,
  Evidence,
  Finding,
  RuleOutcome,
} from "../../advise/types.js";
import { formatCo2e, formatDuration, formatEnergy, trimNumber } from "../../units/energy.js";

export const ADVISE_HELP = `Usage: wattprint advise <run-id | run.json> [options]

Checks a run against wattprint's rules and prints what to change, ranked by the CO2e
each change would save, with the evidence from the run, a range and the command that
applies or checks it. A rule without the data it needs says what is missing.
Rules and formulas: docs/advise.md.

Options:
  --deadline <t>          time from the run's start by which it must be done (default 24h)
  --regions <a,b,...>     regions the job may run in: US-CA, FR, aws:us-west-2
  --intensity-file <f>    hourly intensities for the run's region (default: shipped data)
  --optimize-result <f>   output of \`wattprint optimize --json\`: what serving the
                          recommended variant would save
  --inferences <n>        scale the serving saving to n inferences (default per 1,000)
  --metric <name>         the validation metric for early stopping (default val_loss,
                          else the first val_* the phases report)
  --mode min|max          whether the metric improves downwards or upwards (default: from
                          its name; losses and errors go down)
  --patience <n>          epochs without improvement before stopping (default 3)
  --min-delta <x>         smallest change that counts as an improvement (default 0)
  --efficient-pue <x>     the PUE of an efficient data centre (default 1.1)
  --gpu-tdp <W>           TDP of the run's GPUs when the hardware table lacks them
  --json                  machine-readable output (docs/advise.md)
  -h, --help              this help`;

/** `wattprint advise`: load the run, run the rules, print them ranked. Returns the exit code. */
export async function adviseCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      deadline: { type: "string" },
      regions: { type: "string", multiple: true },
      "intensity-file": { type: "string" },
      "optimize-result": { type: "string" },
      inferences: { type: "string" },
      metric: { type: "string" },
      mode: { type: "string" },
      patience: { type: "string" },
      "min-delta": { type: "string" },
      "efficient-pue": { type: "string" },
      "gpu-tdp": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${ADVISE_HELP}\n`);
    return 0;
  }
  const [reference, ...extra] = positionals;
  if (reference === undefined) {
    throw new WattprintError("USAGE", "advise needs a run id or a run.json", {
      hint: "for example: wattprint advise 1f2e3d4c (wattprint runs lists the ids)",
    });
  }
  if (extra.length > 0) {
    throw new WattprintError("USAGE", `unexpected argument "${extra[0]}"`, {
      hint: "give one run id or file",
    });
  }
  const options: AdviseOptions = { runReference: reference };
  if (values.deadline !== undefined)
    options.deadlineS = parseSpanMs(values.deadline, "--deadline") / 1000;
  if (values.regions !== undefined) {
    options.regions = values.regions
      .flatMap((entry) => entry.split(","))
      .map((entry) => entry.trim());
  }
  if (values["intensity-file"] !== undefined) options.intensityFile = values["intensity-file"];
  if (values.inferences !== undefined) {
    options.inferences = parseNumber(
      values.inferences,
      "--inferences",
      "a number of inferences, such as 1e6",
    );
  }
  if (values.metric !== undefined) options.metric = values.metric.trim();
  if (values.mode !== undefined) {
    const mode = values.mode.trim().toLowerCase();
    if (mode !== "min" && mode !== "max") {
      throw new WattprintError("USAGE", `invalid --mode "${values.mode}"`, {
        hint: "use min (losses, errors) or max (accuracies)",
      });
    }
    options.metricMode = mode;
  }
  if (values.patience !== undefined) {
    options.patience = parseNumber(
      values.patience,
      "--patience",
      "a whole number of epochs, such as 3",
    );
  }
  if (values["min-delta"] !== undefined) {
    options.minDelta = parseNumber(values["min-delta"], "--min-delta", "a change such as 0.001");
  }
  if (values["efficient-pue"] !== undefined) {
    options.efficientPue = parseNumber(
      values["efficient-pue"],
      "--efficient-pue",
      "a PUE such as 1.1",
    );
  }
  if (values["gpu-tdp"] !== undefined) options.gpuTdpW = parsePowerW(values["gpu-tdp"]);

  const storePath = defaultStorePath(settingsFromEnvironment(io.env).home);
  const input = loadReportInput(reference, { storePath });
  if (input.kind !== "run") {
    throw new WattprintError(
      "USAGE",
      `${input.origin} is an estimate: advise reads a tracked run`,
      {
        hint: "give a run id from `wattprint runs` or a run record (wattprint track --out run.json)",
      },
    );
  }
  if (values["optimize-result"] !== undefined) {
    options.optimizeResult = loadOptimizeResult(values["optimize-result"]);
  }
  const report = await adviseRun(
    {
      run: input.run,
      samples: input.samples,
      samplesNote: input.samplesNote,
      origin: input.origin,
    },
    options,
  );
  io.stdout(
    values.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : renderAdvice(report, describeInput(input)),
  );
  return 0;
}

/** The text output: ranked findings, then one line per rule. */
export function renderAdvice(report: AdviceReport, title: string): string {
  const out: string[] = [];
  const count = report.findings.length;
  out.push(
    `Advice for ${title}: ${count === 0 ? "nothing to change" : `${count} finding${count === 1 ? "" : "s"}, ranked by CO2e saved`}`,
    "",
  );
  report.findings.forEach((finding, index) => out.push(...renderFinding(finding, index + 1), ""));
  out.push("Rules:");
  const width = Math.max(...report.rules.map((rule) => rule.rule.length));
  for (const rule of report.rules) out.push(...renderRule(rule, width));
  return `${out.join("\n")}\n`;
}

function renderFinding(finding: Finding, rank: number): string[] {
  const saving = finding.saving;
  const lines = [`${rank}. ${finding.title}`];
  lines.push(
    `   saves ${savingText(saving.co2eG, saving.low.co2eG, saving.high.co2eG, formatCo2e)}` +
      (saving.energyJ !== null && saving.energyJ !== 0
        ? ` and ${savingText(saving.energyJ, saving.low.energyJ, saving.high.energyJ, formatEnergy)}`
        : "") +
      ` (${saving.basis})`,
  );
  lines.push(`   confidence ${finding.confidence}: ${finding.confidenceReason}`);
  for (const item of finding.evidence) {
    lines.push(`   - ${item.label}: ${evidenceValue(item)} [${item.source}]`);
  }
  lines.push(`   how: ${saving.derivation}`);
  for (const note of finding.notes) lines.push(`   note: ${note}`);
  lines.push(`   check: ${finding.command}`);
  return lines;
}

function evidenceValue(item: Evidence): string {
  const value = item.value;
  if (value === null) return "unknown";
  if (typeof value === "string") return value;
  if (item.unit === "J") return formatEnergy(value);
  if (item.unit === "g") return formatCo2e(value);
  if (item.unit === "s" && value >= 60) return formatDuration(value);
  if (item.unit === "ratio") return trimNumber(value);
  return `${trimNumber(value)}${item.unit === "" ? "" : ` ${item.unit}`}`;
}

function savingText(
  central: number | null,
  low: number | null,
  high: number | null,
  format: (value: number | null) => string,
): string {
  if (central === null) return "unknown";
  const shown = (value: number) => (value === 0 ? "0" : format(value));
  if (low === null || high === null || (low === central && high === central)) return shown(central);
  return `${shown(central)} (range ${shown(low)} to ${shown(high)})`;
}

function renderRule(rule: RuleOutcome, width: number): string[] {
  const status = rule.status === "not-enough-data" ? "not enough data" : rule.status;
  const lines = [
    `  ${rule.rule.padEnd(width)}  ${status}: ${rule.status === "not-enough-data" ? rule.missing.join("; ") : rule.summary}`,
  ];
  if (rule.status === "not-enough-data" && rule.hint !== null)
    lines.push(`  ${"".padEnd(width)}  hint: ${rule.hint}`);
  if (rule.status !== "not-enough-data" && rule.missing.length > 0) {
    lines.push(`  ${"".padEnd(width)}  not checked: ${rule.missing.join("; ")}`);
  }
  return lines;
}
