import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { parseNumber } from "../parse-values.js";
import { settingsFromEnvironment } from "../../config/settings.js";
import { defaultStorePath } from "../../store/default-path.js";
import { WattprintError, describeError } from "../../errors.js";
import {
  assessLifecycle,
  type LcaInference,
  type LcaResult,
  type LcaTraining,
} from "../../carbon/lca.js";
import { DEFAULT_PUE } from "../../carbon/operational.js";
import { embodiedShare, DEFAULT_HARDWARE_LIFETIME_YEARS } from "../../carbon/sci.js";
import { resolveRegion } from "../../grid/regions.js";
import { describeInput, loadReportInput, type ReportInput } from "../../report/load-input.js";
import { assertWritable, writeFileAtomic } from "../../report/write-file.js";
import { formatCo2e, formatEnergy, J_PER_KWH, J_PER_WH, trimNumber } from "../../units/energy.js";

export const LCA_HELP = `Usage: wattprint lca --training <run-id | run.json | estimate.json>
                     --requests-per-day <n> --deployment-days <n>
                     (--energy-per-request-wh <x> | --inference <run | file> --inference-requests <n>)
                     [options]

Lifecycle emissions of a model: training + inference over the deployment + embodied
hardware, the footprint per request, and the day inference overtakes training.

Options:
  --config <file.json>           read any of the inputs below from a JSON file (camelCase
                                 names: training, requestsPerDay, deploymentDays, …);
                                 flags override it
  --training <ref>               the training run (id or run.json) or estimate.json
  --requests-per-day <n>         inference requests served per day
  --deployment-days <n>          how long the model serves, days
  --energy-per-request-wh <x>    IT energy of one request, Wh
  --inference <ref>              a measured inference run or an inference estimate…
  --inference-requests <n>       …and how many requests it served (an estimate's
                                 own request count is used when not given)
  --region <code>                serving region (intensity and cloud PUE)
  --intensity <g>                serving grid intensity, gCO2e/kWh (instead of --region)
  --pue <x>                      serving data-centre PUE (default: the cloud region's, else
                                 the inference run's, else 1.0)
  --embodied-kg <n>              embodied emissions of the serving hardware (TE, kgCO2e)
  --resource-share <f>           share of it reserved for the model, 0..1 (default 1)
  --training-embodied-kg <n>     embodied emissions of the training hardware (kgCO2e),
                                 amortised over the training run's duration
  --training-resource-share <f>  share of it the training reserved (default 1)
  --hardware-lifetime-years <n>  expected hardware lifespan (default ${DEFAULT_HARDWARE_LIFETIME_YEARS})
  --start <YYYY-MM-DD>           deployment start, to date the crossover
  --json                         print the inputs and the result as JSON
  --out <file>                   write the output to a file instead of stdout
  -h, --help                     this help`;

/** Inputs of `wattprint lca`, from the config file and flags (flags win). */
export interface LcaCliInputs {
  training?: string;
  requestsPerDay?: number;
  deploymentDays?: number;
  energyPerRequestWh?: number;
  inference?: string;
  inferenceRequests?: number;
  region?: string;
  intensity?: number;
  pue?: number;
  embodiedKg?: number;
  resourceShare?: number;
  trainingEmbodiedKg?: number;
  trainingResourceShare?: number;
  hardwareLifetimeYears?: number;
  start?: string;
}

const STRING_KEYS = ["training", "inference", "region", "start"] as const;
const NUMBER_KEYS = [
  "requestsPerDay",
  "deploymentDays",
  "energyPerRequestWh",
  "inferenceRequests",
  "intensity",
  "pue",
  "embodiedKg",
  "resourceShare",
  "trainingEmbodiedKg",
  "trainingResourceShare",
  "hardwareLifetimeYears",
] as const;

const FLAG_OF: Record<string, string> = {
  training: "training",
  inference: "inference",
  region: "region",
  start: "start",
  requestsPerDay: "requests-per-day",
  deploymentDays: "deployment-days",
  energyPerRequestWh: "energy-per-request-wh",
  inferenceRequests: "inference-requests",
  intensity: "intensity",
  pue: "pue",
  embodiedKg: "embodied-kg",
  resourceShare: "resource-share",
  trainingEmbodiedKg: "training-embodied-kg",
  trainingResourceShare: "training-resource-share",
  hardwareLifetimeYears: "hardware-lifetime-years",
};

/** `wattprint lca`. Returns the exit code. */
export async function lcaCli(argv: string[], io: CliIo): Promise<number> {
  const flagOptions = Object.fromEntries(
    Object.values(FLAG_OF).map((flag) => [flag, { type: "string" as const }]),
  );
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      ...flagOptions,
      config: { type: "string" },
      json: { type: "boolean" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${LCA_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    throw new WattprintError("USAGE", `unexpected argument "${positionals[0]}"`, {
      hint: "give the training run with --training",
    });
  }
  const flags = values as Record<string, string | boolean | undefined>;
  const inputs: LcaCliInputs = typeof flags.config === "string" ? readLcaConfig(flags.config) : {};
  for (const key of STRING_KEYS) {
    const value = flags[FLAG_OF[key] as string];
    if (typeof value === "string") inputs[key] = value;
  }
  for (const key of NUMBER_KEYS) {
    const flag = FLAG_OF[key] as string;
    const value = flags[flag];
    if (typeof value === "string") inputs[key] = parseNumber(value, `--${flag}`, "give a number");
  }
  if (typeof flags.out === "string") assertWritable(flags.out, "--out");

  const storePath = defaultStorePath(settingsFromEnvironment(io.env).home);
  const { training, inference } = resolveLcaInputs(inputs, (reference) =>
    loadReportInput(reference, { storePath }),
  );
  const result = assessLifecycle(training, inference);
  const text = flags.json
    ? `${JSON.stringify({ lcaSchemaVersion: 1, inputs, result }, null, 2)}\n`
    : renderLca(result);
  if (typeof flags.out === "string") {
    writeFileAtomic(flags.out, text);
    io.stderr(`wattprint: wrote the lifecycle assessment to ${flags.out}\n`);
  } else {
    io.stdout(text);
  }
  return 0;
}

/**
 * Reads an lca config file: a JSON object with the camelCase names of {@link LcaCliInputs}.
 * File references in it (training, inference) are relative to the config file.
 * @throws WattprintError `NOT_FOUND` / `BAD_INPUT` with the file and the key at fault.
 */
export function readLcaConfig(path: string): LcaCliInputs {
  if (!existsSync(path)) {
    throw new WattprintError("NOT_FOUND", `no such config file: ${path}`, {
      hint: 'give the path of a JSON file such as {"training": "run.json", "requestsPerDay": 10000}',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new WattprintError("BAD_INPUT", `cannot read config ${path}: ${describeError(error)}`, {
      hint: "the config is a JSON object; see wattprint lca --help",
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WattprintError("BAD_INPUT", `config ${path} is not a JSON object`, {
      hint: "see wattprint lca --help for the keys",
    });
  }
  const inputs: LcaCliInputs = {};
  const known = new Set<string>([...STRING_KEYS, ...NUMBER_KEYS]);
  for (const [key, item] of Object.entries(value)) {
    if (!known.has(key)) {
      throw new WattprintError("BAD_INPUT", `config ${path}: unknown key "${key}"`, {
        hint: `known keys: ${[...known].join(", ")}`,
      });
    }
    if ((STRING_KEYS as readonly string[]).includes(key)) {
      if (typeof item !== "string") {
        throw new WattprintError("BAD_INPUT", `config ${path}: "${key}" must be a string`, {
          hint: "see wattprint lca --help",
        });
      }
      const isReference = key === "training" || key === "inference";
      const relative = join(dirname(path), item);
      inputs[key as (typeof STRING_KEYS)[number]] =
        isReference && !isAbsolute(item) && existsSync(relative) ? relative : item;
    } else {
      if (typeof item !== "number" || !Number.isFinite(item)) {
        throw new WattprintError("BAD_INPUT", `config ${path}: "${key}" must be a number`, {
          hint: "see wattprint lca --help",
        });
      }
      inputs[key as (typeof NUMBER_KEYS)[number]] = item;
    }
  }
  return inputs;
}

/**
 * Turns the inputs into the lifecycle model's training and inference sides: loads the
 * runs or estimates, resolves the serving region, picks intensity and PUE with their
 * sources. `load` reads a run id or file (the CLI passes {@link loadReportInput}).
 * @throws WattprintError `USAGE` for missing or contradictory inputs, `BAD_INPUT` for
 *   inputs without emissions.
 */
export function resolveLcaInputs(
  inputs: LcaCliInputs,
  load: (reference: string) => ReportInput,
): { training: LcaTraining; inference: LcaInference } {
  const need = (key: keyof LcaCliInputs) =>
    new WattprintError("USAGE", `lca needs --${FLAG_OF[key]}`, {
      hint: "see wattprint lca --help",
    });
  if (inputs.training === undefined) throw need("training");
  if (inputs.requestsPerDay === undefined) throw need("requestsPerDay");
  if (inputs.deploymentDays === undefined) throw need("deploymentDays");
  const lifetimeYears = inputs.hardwareLifetimeYears ?? DEFAULT_HARDWARE_LIFETIME_YEARS;
  for (const [key, value] of [
    ["resourceShare", inputs.resourceShare],
    ["trainingResourceShare", inputs.trainingResourceShare],
  ] as const) {
    if (value !== undefined && (value <= 0 || value > 1)) {
      throw new WattprintError("USAGE", `invalid --${FLAG_OF[key]} ${value}`, {
        hint: "give the share of the hardware reserved, between 0 (excluded) and 1",
      });
    }
  }

  const trainingInput = load(inputs.training);
  const training = trainingSide(trainingInput, inputs, lifetimeYears);

  const hasEnergy = inputs.energyPerRequestWh !== undefined;
  const hasRun = inputs.inference !== undefined;
  if (hasEnergy && hasRun) {
    throw new WattprintError("USAGE", "give --energy-per-request-wh or --inference, not both", {
      hint: "one source for the energy of a request",
    });
  }
  let energyPerRequestJ: number;
  let energyPerRequestSource: string;
  let inferenceInput: ReportInput | null = null;
  if (inputs.energyPerRequestWh !== undefined) {
    if (inputs.energyPerRequestWh < 0) {
      throw new WattprintError("USAGE", "--energy-per-request-wh cannot be negative", {
        hint: "give the energy of one request in Wh, e.g. 0.3",
      });
    }
    energyPerRequestJ = inputs.energyPerRequestWh * J_PER_WH;
    energyPerRequestSource = `user: ${trimNumber(inputs.energyPerRequestWh)} Wh per request`;
  } else if (inputs.inference !== undefined) {
    inferenceInput = load(inputs.inference);
    // An inference estimate says how many requests it covers; a run cannot.
    const requests =
      inputs.inferenceRequests ??
      (inferenceInput.kind === "estimate" ? inferenceInput.estimate.requests : null);
    if (requests === null || requests === undefined) {
      throw new WattprintError("USAGE", "--inference needs --inference-requests", {
        hint: "how many requests the inference run served",
      });
    }
    if (requests <= 0) {
      throw new WattprintError("USAGE", "--inference-requests must be greater than 0", {
        hint: "how many requests the inference run or estimate served",
      });
    }
    // IT energy: the serving PUE is applied once, by the assessment.
    let energyJ: number;
    let note = "";
    if (inferenceInput.kind === "run") {
      energyJ = inferenceInput.run.energyJ.total as number;
    } else if (inferenceInput.estimate.itEnergyKWh !== null) {
      energyJ = inferenceInput.estimate.itEnergyKWh * J_PER_KWH;
      note = ", IT energy before PUE";
    } else {
      energyJ = inferenceInput.estimate.energyKWh * J_PER_KWH;
      note = ", as the estimate states it (PUE included or not: it does not say)";
    }
    energyPerRequestJ = energyJ / requests;
    energyPerRequestSource = `${describeInput(inferenceInput)}: ${formatEnergy(energyJ)} / ${trimNumber(requests)} requests${note}`;
  } else if (inputs.inferenceRequests !== undefined) {
    throw new WattprintError("USAGE", "--inference-requests needs --inference", {
      hint: "give the inference run or estimate the requests belong to",
    });
  } else {
    throw new WattprintError(
      "USAGE",
      "lca needs the energy of a request: --energy-per-request-wh, or --inference with --inference-requests",
      { hint: "for example: --energy-per-request-wh 0.3" },
    );
  }

  const serving = servingIntensity(inputs, inferenceInput, trainingInput);
  const inference: LcaInference = {
    requestsPerDay: inputs.requestsPerDay,
    deploymentDays: inputs.deploymentDays,
    energyPerRequestJ,
    energyPerRequestSource,
    ...serving,
    hardware:
      inputs.embodiedKg === undefined
        ? null
        : {
            totalEmbodiedKg: inputs.embodiedKg,
            lifetimeYears,
            resourceShare: inputs.resourceShare ?? 1,
            source: "user (--embodied-kg)",
          },
  };
  if (inputs.start !== undefined) inference.startDate = inputs.start;
  // An inference estimate carries the embodied share of the requests it covers.
  if (
    inference.hardware === null &&
    inferenceInput?.kind === "estimate" &&
    inferenceInput.estimate.embodiedCo2eKg !== null &&
    inferenceInput.estimate.requests !== null &&
    inferenceInput.estimate.requests > 0
  ) {
    const estimate = inferenceInput.estimate;
    inference.embodiedPerRequest = {
      co2eG: ((estimate.embodiedCo2eKg as number) * 1000) / (estimate.requests as number),
      source: `${describeInput(inferenceInput)}: embodiedCo2eKg / ${trimNumber(estimate.requests as number)} requests`,
    };
  }
  return { training, inference };
}

function trainingSide(
  input: ReportInput,
  inputs: LcaCliInputs,
  lifetimeYears: number,
): LcaTraining {
  const label = describeInput(input);
  const hardware =
    inputs.trainingEmbodiedKg === undefined
      ? null
      : {
          totalEmbodiedKg: inputs.trainingEmbodiedKg,
          lifetimeYears,
          resourceShare: inputs.trainingResourceShare ?? 1,
          source: "user (--training-embodied-kg)",
        };
  if (input.kind === "run") {
    if (input.run.co2eG === null) {
      throw new WattprintError("BAD_INPUT", `the training ${label} has no CO2e`, {
        hint: "use a run tracked with a region, or an estimate",
      });
    }
    if (hardware === null) {
      return {
        label,
        operationalCo2eG: input.run.co2eG,
        embodiedCo2eG: null,
        embodiedNote: "not given (--training-embodied-kg)",
      };
    }
    const share = embodiedShare(hardware, input.run.durationS);
    return {
      label,
      operationalCo2eG: input.run.co2eG,
      embodiedCo2eG: share.embodiedCo2eG,
      embodiedNote: `TE ${trimNumber(hardware.totalEmbodiedKg)} kg × ${share.timeShare.toExponential(3)} of its life × ${trimNumber(share.resourceShare)}`,
    };
  }
  const estimate = input.estimate;
  if (estimate.co2eKg === null) {
    throw new WattprintError("BAD_INPUT", `the training ${label} has no CO2e (co2eKg is null)`, {
      hint: "estimate again with a region or an intensity",
    });
  }
  if (estimate.embodiedCo2eKg !== null) {
    if (hardware !== null) {
      throw new WattprintError("USAGE", "the training estimate already holds embodied emissions", {
        hint: "drop --training-embodied-kg",
      });
    }
    return {
      label,
      operationalCo2eG: estimate.co2eKg * 1000,
      embodiedCo2eG: estimate.embodiedCo2eKg * 1000,
      embodiedNote: "from the estimate (embodiedCo2eKg)",
    };
  }
  if (hardware !== null && estimate.deviceHours !== null) {
    const share = embodiedShare(hardware, estimate.deviceHours * 3600);
    return {
      label,
      operationalCo2eG: estimate.co2eKg * 1000,
      embodiedCo2eG: share.embodiedCo2eG,
      embodiedNote: `TE ${trimNumber(hardware.totalEmbodiedKg)} kg per device × ${trimNumber(estimate.deviceHours)} device-hours of a ${trimNumber(lifetimeYears)}-year life`,
    };
  }
  return {
    label,
    operationalCo2eG: estimate.co2eKg * 1000,
    embodiedCo2eG: null,
    embodiedNote:
      hardware === null
        ? "not in the estimate"
        : "the estimate has no device-hours to amortise over",
  };
}

function servingIntensity(
  inputs: LcaCliInputs,
  inferenceInput: ReportInput | null,
  trainingInput: ReportInput,
): Pick<LcaInference, "intensityGPerKWh" | "intensitySource" | "pue" | "pueSource"> {
  if (inputs.region !== undefined && inputs.intensity !== undefined) {
    throw new WattprintError("USAGE", "give --region or --intensity, not both", {
      hint: "--region looks the intensity up; --intensity gives it directly",
    });
  }
  if (inputs.pue !== undefined && inputs.pue < 1) {
    throw new WattprintError("USAGE", `invalid --pue ${inputs.pue}: below 1`, {
      hint: "PUE is facility energy / IT energy, at least 1",
    });
  }
  const userPue = inputs.pue === undefined ? null : { pue: inputs.pue, pueSource: "user (--pue)" };
  const defaultPue = {
    pue: DEFAULT_PUE,
    pueSource: `default ${DEFAULT_PUE} (no data-centre overhead counted)`,
  };
  if (inputs.intensity !== undefined) {
    if (inputs.intensity < 0) {
      throw new WattprintError("USAGE", "--intensity cannot be negative", {
        hint: "gCO2e/kWh, e.g. 350",
      });
    }
    return {
      intensityGPerKWh: inputs.intensity,
      intensitySource: "user (--intensity)",
      ...(userPue ?? defaultPue),
    };
  }
  if (inputs.region !== undefined) {
    const region = resolveRegion(inputs.region);
    const regionPue =
      region.pue === undefined
        ? null
        : { pue: region.pue, pueSource: region.pueSource ?? "cloud region" };
    return {
      intensityGPerKWh: region.intensityGPerKWh,
      intensitySource: `${region.code}: ${region.source}${region.fallback ? ` (fallback: ${region.fallbackReason ?? ""})` : ""}`,
      ...(userPue ?? regionPue ?? defaultPue),
    };
  }
  for (const [input, role] of [
    [inferenceInput, "the inference input"],
    [trainingInput, "the training input (no serving region given)"],
  ] as const) {
    if (input?.kind === "run") {
      return {
        intensityGPerKWh: input.run.intensityGPerKWh,
        intensitySource: `${role}: ${input.run.region}, ${input.run.intensitySource.source}`,
        ...(userPue ?? { pue: input.run.pue, pueSource: `${role}: ${input.run.pueSource}` }),
      };
    }
    if (input?.kind === "estimate" && input.estimate.intensityGPerKWh !== null) {
      const estimate = input.estimate;
      const pue =
        userPue ??
        (estimate.pue !== null && estimate.itEnergyKWh !== null
          ? { pue: estimate.pue, pueSource: `${role}: the estimate's PUE` }
          : defaultPue);
      return {
        intensityGPerKWh: estimate.intensityGPerKWh as number,
        intensitySource: `${role}: ${estimate.region ?? "the estimate's intensity"}`,
        ...pue,
      };
    }
  }
  throw new WattprintError("USAGE", "lca needs the serving grid: --region or --intensity", {
    hint: "for example: --region FR or --intensity 350",
  });
}

/** The human-readable lifecycle assessment. */
export function renderLca(result: LcaResult): string {
  const lines: string[] = [];
  const label = (name: string) => `  ${name.padEnd(22)}`;
  const { training, inference, lifecycle, crossover } = result;
  lines.push(`wattprint lca: ${training.label}`);
  lines.push(
    `${label("training")}${formatCo2e(training.totalCo2eG)}  (operational ${formatCo2e(training.operationalCo2eG)}; embodied ${training.embodiedCo2eG === null ? `not included: ${training.embodiedNote}` : `${formatCo2e(training.embodiedCo2eG)}, ${training.embodiedNote}`})`,
  );
  lines.push(
    `${label("inference")}${formatCo2e(inference.totalCo2eG)} over ${trimNumber(inference.deploymentDays)} days (${trimNumber(inference.requestsPerDay)} requests/day, ${trimNumber(inference.requests)} requests, ${formatEnergy(inference.energyJ)})`,
  );
  lines.push(`${label("  operational")}${formatCo2e(inference.operationalCo2eG)}`);
  lines.push(
    `${label("  embodied")}${inference.embodiedCo2eG === null ? "not included (no --embodied-kg)" : `${formatCo2e(inference.embodiedCo2eG)} (${inference.embodiedSource ?? "source not stated"})`}`,
  );
  lines.push(
    `${label("lifecycle total")}${formatCo2e(lifecycle.totalCo2eG)}${lifecycle.complete ? "" : "  (lower bound: leaves out " + lifecycle.excluded.join("; ") + ")"}`,
  );
  lines.push(
    `${label("per request")}${formatCo2e(lifecycle.perRequestCo2eG)} (training amortised over every request); inference alone ${formatCo2e(inference.perRequestCo2eG)}`,
  );
  if (lifecycle.trainingShare !== null) {
    lines.push(
      `${label("training share")}${trimNumber(lifecycle.trainingShare * 100)}% of the lifecycle`,
    );
  }
  lines.push(
    `${label("crossover")}${
      crossover.day === null
        ? `never: ${crossover.reason ?? ""}`
        : `inference overtakes training on day ${crossover.day}${crossover.date === null ? "" : ` (${crossover.date})`}, after ${trimNumber(crossover.afterDays ?? 0)} days${crossover.withinDeployment ? "" : " — after the deployment ends"}`
    }`,
  );
  lines.push("  inputs:");
  lines.push(
    `${label("  energy per request")}${formatEnergy(inference.energyPerRequestJ)} (${inference.energyPerRequestSource})`,
  );
  lines.push(
    `${label("  intensity")}${trimNumber(inference.intensityGPerKWh)} gCO2e/kWh (${inference.intensitySource})`,
  );
  lines.push(`${label("  PUE")}${trimNumber(inference.pue)} (${inference.pueSource})`);
  if (inference.embodied !== null) {
    const share = inference.embodied;
    lines.push(
      `${label("  serving hardware")}TE ${trimNumber(share.totalEmbodiedG / 1000)} kg × ${trimNumber(share.timeShare)} of its life × ${trimNumber(share.resourceShare)} reserved (${share.source})`,
    );
  }
  return `${lines.join("\n")}\n`;
}
