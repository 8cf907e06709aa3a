import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { WattprintError } from "../../errors.js";
import { listAccelerators } from "../../hardware/accelerators.js";
import type { Assumption } from "../../estimate/assumptions.js";
import { compareInference, compareTraining, type ComparisonRow } from "../../estimate/compare.js";
import {
  estimateInference,
  type InferenceEstimate,
  type InferenceInput,
  type InferencePrecision,
} from "../../estimate/inference.js";
import {
  estimateTraining,
  type TrainingEstimate,
  type TrainingInput,
  type TrainingMethod,
} from "../../estimate/training.js";

export const ESTIMATE_HELP = `Usage: wattprint estimate training --hardware <name> --device-hours <h> [options]
       wattprint estimate training --hardware <name> --params <n> --tokens <n> [options]
       wattprint estimate inference --hardware <name> --params <n> --output-tokens <n> --requests <n> [options]
       wattprint estimate hardware [--json]

Estimates energy, operational CO2e and embodied CO2e before running, and says which
assumptions drove the result. Numbers accept exponents and suffixes: 1.72e6, 70e9, 70B, 2T.
Method, constants and validation: docs/estimate.md.

Training:
  --hardware <name>        A100-80GB, H100-SXM, TPU-v4, ... (wattprint estimate hardware)
  --device-hours <h>       GPU- or TPU-chip-hours of the job, or:
  --params <n>             total parameters       with --tokens <n>: training tokens
  --active-params <n>      parameters active per token (mixture-of-experts)
  --mfu <0..1>             model FLOPs utilisation (default 0.4)
  --fine-tune full|peft    fine-tuning: full (6·N·D) or LoRA/adapters (4·N·D)
  --pretrain-tokens <n>    with --fine-tune: compare with training from scratch on <n>
  --devices <n>            devices used at once, for wall-clock time

Inference:
  --hardware <name>        serving hardware
  --params <n>             total parameters; --active-params <n> for mixture-of-experts
  --output-tokens <n>      output tokens per request
  --requests <n>           requests served
  --batch <n>              concurrent sequences per server (default 64)
  --precision <p>          bf16 (default), fp16, fp8

Both:
  --region <code>          grid region (FR, US-CA, aws:us-east-1); default world average
  --intensity <g/kWh>      grid intensity instead of a region
  --pue <n>                data-centre PUE (default: the cloud region's, else 1.56)
  --power-w <W>            average power per device (default: measured average, else TDP)
  --lifetime-years <n>     hardware life for embodied carbon (default 4)
  --compare-hardware <a,b> the same job on other hardware, side by side
  --compare-regions <a,b>  the same job in other regions, side by side
  --json                   print the estimate as JSON
  -h, --help               this help`;

const SHARED_OPTIONS = {
  hardware: { type: "string" },
  params: { type: "string" },
  "active-params": { type: "string" },
  region: { type: "string" },
  intensity: { type: "string" },
  pue: { type: "string" },
  "power-w": { type: "string" },
  "lifetime-years": { type: "string" },
  "compare-hardware": { type: "string", multiple: true },
  "compare-regions": { type: "string", multiple: true },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const TRAINING_OPTIONS = {
  ...SHARED_OPTIONS,
  "device-hours": { type: "string" },
  tokens: { type: "string" },
  mfu: { type: "string" },
  "fine-tune": { type: "string" },
  "pretrain-tokens": { type: "string" },
  devices: { type: "string" },
} as const;

const INFERENCE_OPTIONS = {
  ...SHARED_OPTIONS,
  "output-tokens": { type: "string" },
  requests: { type: "string" },
  batch: { type: "string" },
  precision: { type: "string" },
} as const;

export async function estimateCli(argv: string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined || subcommand === "-h" || subcommand === "--help") {
    io.stdout(`${ESTIMATE_HELP}\n`);
    return subcommand === undefined ? 2 : 0;
  }
  switch (subcommand) {
    case "training":
      return trainingCli(rest, io);
    case "inference":
      return inferenceCli(rest, io);
    case "hardware":
      return hardwareCli(rest, io);
    default:
      throw new WattprintError("USAGE", `unknown estimate "${subcommand}"`, {
        hint: "use wattprint estimate training, inference or hardware; see wattprint estimate --help",
      });
  }
}

function trainingCli(argv: string[], io: CliIo): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: TRAINING_OPTIONS,
  });
  if (values.help) {
    io.stdout(`${ESTIMATE_HELP}\n`);
    return 0;
  }
  const method = optionalChoice(values["fine-tune"], "--fine-tune", ["full", "peft"] as const);
  if (values["pretrain-tokens"] !== undefined && method === undefined) {
    throw new WattprintError("USAGE", "--pretrain-tokens needs --fine-tune", {
      hint: "it compares a fine-tuning run with training the model from scratch",
    });
  }
  const input: TrainingInput = {
    hardware: requireHardware(values.hardware),
    deviceHours: optionalQuantity(values["device-hours"], "--device-hours"),
    params: optionalQuantity(values.params, "--params"),
    tokens: optionalQuantity(values.tokens, "--tokens"),
    activeParams: optionalQuantity(values["active-params"], "--active-params"),
    devices: optionalQuantity(values.devices, "--devices"),
    mfu: optionalQuantity(values.mfu, "--mfu"),
    method: method satisfies TrainingMethod | undefined,
    ...sharedInput(values),
  };
  const estimate = estimateTraining(input);
  const comparison = wantsComparison(values)
    ? compareTraining(input, {
        hardware: listValues(values["compare-hardware"]),
        regions: listValues(values["compare-regions"]),
        pretrainTokens: optionalQuantity(values["pretrain-tokens"], "--pretrain-tokens"),
      })
    : null;
  io.stdout(
    values.json
      ? `${JSON.stringify(comparison === null ? estimate : { ...estimate, comparison }, null, 2)}\n`
      : renderTraining(estimate, comparison),
  );
  return 0;
}

function inferenceCli(argv: string[], io: CliIo): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: INFERENCE_OPTIONS,
  });
  if (values.help) {
    io.stdout(`${ESTIMATE_HELP}\n`);
    return 0;
  }
  const hardware = requireHardware(values.hardware);
  const input: InferenceInput = {
    hardware,
    params: requireQuantity(
      values.params,
      "--params",
      "give the model's total parameters, for example --params 8e9",
    ),
    activeParams: optionalQuantity(values["active-params"], "--active-params"),
    outputTokens: requireQuantity(
      values["output-tokens"],
      "--output-tokens",
      "give the output tokens per request, for example --output-tokens 500",
    ),
    requests: requireQuantity(
      values.requests,
      "--requests",
      "give the number of requests, for example --requests 1e6",
    ),
    batch: optionalQuantity(values.batch, "--batch"),
    precision: optionalChoice(values.precision, "--precision", [
      "bf16",
      "fp16",
      "fp8",
    ] as const) satisfies InferencePrecision | undefined,
    ...sharedInput(values),
  };
  const estimate = estimateInference(input);
  const comparison = wantsComparison(values)
    ? compareInference(input, {
        hardware: listValues(values["compare-hardware"]),
        regions: listValues(values["compare-regions"]),
      })
    : null;
  io.stdout(
    values.json
      ? `${JSON.stringify(comparison === null ? estimate : { ...estimate, comparison }, null, 2)}\n`
      : renderInference(estimate, comparison),
  );
  return 0;
}

function hardwareCli(argv: string[], io: CliIo): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    io.stdout(`${ESTIMATE_HELP}\n`);
    return 0;
  }
  const rows = listAccelerators();
  if (values.json) {
    io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const table = [
    ["id", "TDP W", "train W", "peak TFLOP/s", "memory GB", "embodied kg", "name"],
    ...rows.map((row) => [
      row.id,
      row.tdpW === null ? "unknown" : String(row.tdpW),
      row.trainingPowerW === null ? "-" : String(row.trainingPowerW),
      `${row.peakDenseTflops} ${row.peakPrecision}`,
      row.memoryGB === null ? "-" : String(row.memoryGB),
      `${formatNumber(row.embodiedDeviceKg + row.hostEmbodiedKg / row.devicesPerHost)}${row.embodiedBasis === "published" ? "" : "*"}`,
      row.name,
    ]),
  ];
  io.stdout(
    `${renderColumns(table)}\n  train W: measured average under training load where published (else TDP is used)\n  embodied kg: device + its share of the host server; * = another device's figure stands in\n  sources: data/SOURCES.md; aliases: wattprint estimate hardware --json\n`,
  );
  return 0;
}

// ---- input ------------------------------------------------------------------------------

type SharedValues = {
  region?: string;
  intensity?: string;
  pue?: string;
  "power-w"?: string;
  "lifetime-years"?: string;
  "compare-hardware"?: string[];
  "compare-regions"?: string[];
};

function sharedInput(values: SharedValues): Omit<TrainingInput, "hardware"> {
  return {
    region: values.region,
    intensityGPerKWh: optionalNumber(values.intensity, "--intensity"),
    pue: optionalNumber(values.pue, "--pue"),
    powerW: optionalQuantity(values["power-w"], "--power-w"),
    lifetimeYears: optionalQuantity(values["lifetime-years"], "--lifetime-years"),
  };
}

function wantsComparison(values: SharedValues & { "pretrain-tokens"?: string }): boolean {
  return (
    values["compare-hardware"] !== undefined ||
    values["compare-regions"] !== undefined ||
    values["pretrain-tokens"] !== undefined
  );
}

function listValues(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const items = values.flatMap((value) => value.split(",")).map((item) => item.trim());
  if (items.some((item) => item === "")) {
    throw new WattprintError("USAGE", "an empty name in a --compare list", {
      hint: "separate names with commas, for example --compare-regions FR,US,PL",
    });
  }
  return items;
}

function requireHardware(value: string | undefined): string {
  if (value === undefined || value.trim() === "") {
    throw new WattprintError("USAGE", "missing --hardware", {
      hint: "name the accelerator, for example --hardware H100-SXM (list: wattprint estimate hardware)",
    });
  }
  return value;
}

function optionalChoice<T extends string>(
  value: string | undefined,
  flag: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  const match = allowed.find((candidate) => candidate === value.trim().toLowerCase());
  if (match === undefined) {
    throw new WattprintError("USAGE", `invalid ${flag} "${value}"`, {
      hint: `use one of ${allowed.join(", ")}`,
    });
  }
  return match;
}

const SUFFIXES: Readonly<Record<string, number>> = {
  k: 1e3,
  K: 1e3,
  M: 1e6,
  B: 1e9,
  b: 1e9,
  G: 1e9,
  T: 1e12,
  t: 1e12,
};

/** "1.72e6", "70e9", "70B", "2T", "500k" → a number; anything else is a usage error. */
function parseQuantity(text: string, flag: string): number {
  const trimmed = text.trim().replace(/_/g, "");
  const plain = Number(trimmed);
  if (trimmed !== "" && Number.isFinite(plain)) return plain;
  const match = /^(-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*([kKMBbGTt])$/.exec(trimmed);
  const factor = SUFFIXES[match?.[2] ?? ""];
  if (match?.[1] === undefined || factor === undefined) {
    throw new WattprintError("USAGE", `invalid ${flag} "${text}": not a number`, {
      hint: "give a number such as 70e9, 1.72e6, 70B or 2T",
    });
  }
  return Number(match[1]) * factor;
}

function optionalQuantity(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : parseQuantity(text, flag);
}

function optionalNumber(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new WattprintError("USAGE", `invalid ${flag} "${text}": not a number`, {
      hint:
        flag === "--pue" ? "PUE is a number such as 1.1" : "give gCO2e/kWh as a number such as 385",
    });
  }
  return value;
}

function requireQuantity(text: string | undefined, flag: string, hint: string): number {
  if (text === undefined) throw new WattprintError("USAGE", `missing ${flag}`, { hint });
  return parseQuantity(text, flag);
}

// ---- output -----------------------------------------------------------------------------

function renderTraining(estimate: TrainingEstimate, comparison: ComparisonRow[] | null): string {
  const methodLabel =
    estimate.method === "pretrain"
      ? "training"
      : estimate.method === "full"
        ? "full fine-tuning"
        : "parameter-efficient fine-tuning";
  const lines: string[][] = [];
  if (estimate.flops !== null) lines.push(["FLOPs", `${formatNumber(estimate.flops)} FLOP`]);
  lines.push(["device-hours", `${formatNumber(estimate.deviceHours)} h`]);
  if (estimate.wallClockHours !== null && estimate.devices !== null) {
    lines.push([
      "wall-clock",
      `${formatNumber(estimate.wallClockHours)} h (${formatNumber(estimate.wallClockHours / 24)} days) on ${estimate.devices} devices`,
    ]);
  }
  lines.push(["power per device", `${formatNumber(estimate.powerWPerDevice)} W`]);
  lines.push([
    "energy",
    `${formatEnergyKWh(estimate.energyKWh)} (${formatEnergyKWh(estimate.itEnergyKWh)} IT × PUE ${formatNumber(estimate.pue)})`,
  ]);
  lines.push([
    "grid intensity",
    `${formatNumber(estimate.intensityGPerKWh)} gCO2e/kWh${estimate.region === null ? "" : ` (${estimate.region})`}`,
  ]);
  lines.push(["operational CO2e", formatMassKg(estimate.co2eKg)]);
  lines.push([
    "embodied CO2e",
    `${formatMassKg(estimate.embodiedCo2eKg)} (hardware manufacturing over ${formatNumber(estimate.embodied.lifetimeYears)} years; not in operational)`,
  ]);
  lines.push(["total CO2e", formatMassKg(estimate.totalCo2eKg)]);
  return renderReport(
    `wattprint estimate: ${methodLabel} on ${estimate.hardware.id} (${estimate.hardware.name})`,
    lines,
    estimate.assumptions,
    estimate.warnings,
    comparison,
  );
}

function renderInference(estimate: InferenceEstimate, comparison: ComparisonRow[] | null): string {
  const lines: string[][] = [
    [
      "energy per output token",
      `${formatNumber(estimate.energyPerOutputTokenJ)} J (accelerators, before PUE)`,
    ],
    [
      "per request",
      `${formatEnergyKWh(estimate.perRequest.energyWh / 1000)}  ${formatMassKg(estimate.perRequest.co2eG / 1000)} CO2e`,
    ],
    [
      "per 1,000 requests",
      `${formatEnergyKWh(estimate.per1000Requests.energyKWh)}  ${formatMassKg(estimate.per1000Requests.co2eKg)} CO2e`,
    ],
    [
      `total (${formatNumber(estimate.requests)} requests)`,
      `${formatEnergyKWh(estimate.energyKWh)} (${formatEnergyKWh(estimate.acceleratorEnergyKWh)} accelerators × PUE ${formatNumber(estimate.pue)})`,
    ],
    [
      "grid intensity",
      `${formatNumber(estimate.intensityGPerKWh)} gCO2e/kWh${estimate.region === null ? "" : ` (${estimate.region})`}`,
    ],
    ["operational CO2e", formatMassKg(estimate.co2eKg)],
    ["device-hours", `${formatNumber(estimate.deviceHours)} h`],
    [
      "embodied CO2e",
      `${formatMassKg(estimate.embodiedCo2eKg)} (hardware manufacturing over ${formatNumber(estimate.embodied.lifetimeYears)} years; not in operational)`,
    ],
    ["total CO2e", formatMassKg(estimate.totalCo2eKg)],
  ];
  if (estimate.minDevicesForWeights !== null) {
    lines.push(["devices for the weights", `at least ${estimate.minDevicesForWeights}`]);
  }
  return renderReport(
    `wattprint estimate: inference on ${estimate.hardware.id} (${estimate.hardware.name})`,
    lines,
    estimate.assumptions,
    estimate.warnings,
    comparison,
  );
}

function renderReport(
  title: string,
  figures: string[][],
  assumptions: Assumption[],
  warnings: string[],
  comparison: ComparisonRow[] | null,
): string {
  const out = [title, "", indent(renderColumns(figures)), "", "Assumptions"];
  out.push(
    indent(
      renderColumns(
        assumptions.map((entry) => [
          entry.name,
          `${formatValue(entry.value)}${entry.unit === "" ? "" : ` ${entry.unit}`}`,
          entry.source,
        ]),
      ),
    ),
  );
  if (warnings.length > 0) {
    out.push("", "Warnings", ...warnings.map((warning) => `  - ${warning}`));
  }
  if (comparison !== null) {
    out.push("", "Comparison (lowest total CO2e marked <)");
    out.push(
      indent(
        renderColumns([
          [
            "variant",
            "hardware",
            "region",
            "device-h",
            "energy",
            "CO2e",
            "embodied",
            "total",
            "vs base",
          ],
          ...comparison.map((row) =>
            row.unavailable !== null
              ? [
                  row.label,
                  row.hardware,
                  "-",
                  "-",
                  "-",
                  "-",
                  "-",
                  "-",
                  `unavailable: ${row.unavailable}`,
                ]
              : [
                  row.label,
                  row.hardware,
                  row.region ?? `${formatNumber(row.intensityGPerKWh ?? 0)} g/kWh`,
                  formatNumber(row.deviceHours ?? 0),
                  formatEnergyKWh(row.energyKWh ?? 0),
                  formatMassKg(row.co2eKg ?? 0),
                  formatMassKg(row.embodiedCo2eKg ?? 0),
                  formatMassKg(row.totalCo2eKg ?? 0),
                  `${row.ratioToBase === null ? "-" : `${formatNumber(row.ratioToBase)}x`}${row.lowest ? " <" : ""}`,
                ],
          ),
        ]),
      ),
    );
  }
  return `${out.join("\n")}\n`;
}

function renderColumns(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

function formatValue(value: number | string | null): string {
  if (value === null) return "unknown";
  return typeof value === "number" ? formatNumber(value) : value;
}

/** Three significant figures (whole counts below 1e7 exactly); exponent form from 1e7 and below 1e-3. */
function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "unknown";
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e7) return value.toLocaleString("en-US");
  if (abs >= 1e7 || abs < 1e-3) {
    return value
      .toExponential(2)
      .replace(/\.?0+e/, "e")
      .replace("e+", "e");
  }
  const rounded = Number(value.toPrecision(3));
  return abs >= 1000 ? rounded.toLocaleString("en-US") : String(rounded);
}

function formatEnergyKWh(energyKWh: number): string {
  const abs = Math.abs(energyKWh);
  if (abs < 1) return `${formatNumber(energyKWh * 1000)} Wh`;
  if (abs < 1000) return `${formatNumber(energyKWh)} kWh`;
  if (abs < 1e6) return `${formatNumber(energyKWh / 1000)} MWh`;
  return `${formatNumber(energyKWh / 1e6)} GWh`;
}

function formatMassKg(massKg: number): string {
  const abs = Math.abs(massKg);
  if (abs < 1) return `${formatNumber(massKg * 1000)} g`;
  if (abs < 1000) return `${formatNumber(massKg)} kg`;
  if (abs < 1e6) return `${formatNumber(massKg / 1000)} t`;
  return `${formatNumber(massKg / 1e6)} kt`;
}
