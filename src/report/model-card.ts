/**
 * Hugging Face model-card output: the `co2_eq_emissions` metadata block (emissions in
 * grams, source, training_type, geographical_location, hardware_used; see
 * https://huggingface.co/docs/hub/model-cards-co2) and an "Environmental impact" section,
 * printed, or written into an existing README.md in place (front matter and one marked
 * section edited, every other byte kept, the file replaced atomically).
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { WattprintError, describeError } from "../errors.js";
import { formatCo2e, formatDuration, formatEnergy, trimNumber } from "../units/energy.js";
import { setFrontMatterEntry, setMarkedSection } from "./front-matter.js";
import { carbonStatement } from "./markdown.js";
import type { ReportModel } from "./report-model.js";
import { assertWritable, writeFileAtomic } from "./write-file.js";

/** The `co2_eq_emissions` fields, as the Hub documents them. Absent fields are unknown. */
export interface Co2EqEmissions {
  /** Operational emissions of training, grams CO2e. */
  emissions: number;
  /** Where the figure comes from ("wattprint 0.1.0, measured: …"). */
  source: string;
  training_type?: "pre-training" | "fine-tuning";
  geographical_location?: string;
  hardware_used?: string;
}

/** Top-level front-matter key of the metadata. */
export const CO2_METADATA_KEY = "co2_eq_emissions";
/** Id of the body section wattprint owns (between `<!-- wattprint:environmental-impact:… -->`). */
export const IMPACT_SECTION_ID = "environmental-impact";

/**
 * The metadata of a report: operational emissions in grams (the Hub's unit), the source
 * naming wattprint and how the energy was obtained, and the other fields when known.
 * @throws WattprintError `BAD_INPUT` when the operational emissions are unknown.
 */
export function co2EqEmissions(model: ReportModel): Co2EqEmissions {
  if (model.operational.co2eG === null) {
    throw new WattprintError(
      "BAD_INPUT",
      `cannot write co2_eq_emissions: the emissions of ${model.title} are unknown (${model.operational.reason ?? "no CO2e"})`,
      { hint: "report on a run or an estimate that has a CO2e figure" },
    );
  }
  const how =
    model.kind === "run"
      ? `measured (${[...new Set(model.sources.map((s) => `${s.method} ${s.source}`))].join(", ") || "no source recorded"})`
      : "estimated";
  const metadata: Co2EqEmissions = {
    emissions: Number(model.operational.co2eG.toPrecision(6)),
    source: `${model.producedBy ?? model.generator}, ${how}; intensity ${model.intensity.intensityGPerKWh === null ? "unknown" : `${trimNumber(model.intensity.intensityGPerKWh)} gCO2e/kWh`} (${model.intensity.source ?? "source not stated"}), PUE ${model.pue.value === null ? "unknown" : trimNumber(model.pue.value)}`,
  };
  if (model.trainingType !== null) metadata.training_type = model.trainingType;
  if (model.location !== null) metadata.geographical_location = model.location;
  if (model.hardware.length > 0) metadata.hardware_used = model.hardware.join(", ");
  return metadata;
}

/**
 * The metadata as YAML lines (no terminators): `co2_eq_emissions:` and one indented
 * `field: value` line per known field. Strings are double-quoted with JSON escapes (valid
 * YAML double-quoted scalars); the number is plain.
 */
export function co2MetadataLines(metadata: Co2EqEmissions): string[] {
  const lines = [`${CO2_METADATA_KEY}:`];
  for (const [field, value] of Object.entries(metadata)) {
    if (value === undefined) continue;
    lines.push(
      `  ${field}: ${typeof value === "number" ? yamlNumber(value) : JSON.stringify(value)}`,
    );
  }
  return lines;
}

/** The "Environmental impact" section body (without its heading), as Markdown lines. */
export function environmentalImpactLines(model: ReportModel): string[] {
  const metadata = model.operational.co2eG === null ? null : co2EqEmissions(model);
  const items: [string, string][] = [
    [
      "Carbon emitted",
      model.operational.co2eG === null
        ? `unknown (${model.operational.reason ?? ""})`
        : `${formatCo2e(model.operational.co2eG)} (operational)`,
    ],
    [
      "Embodied emissions",
      model.embodied.co2eG === null
        ? `not included (${model.embodied.reason ?? "unknown"})`
        : formatCo2e(model.embodied.co2eG),
    ],
    ["Energy", `${formatEnergy(model.energy.totalJ)} (${model.energy.basis})`],
    ["Hardware type", model.hardware.length === 0 ? "unknown" : model.hardware.join(", ")],
    [
      "Hours used",
      model.durationS === null ? "see the assumptions" : formatDuration(model.durationS),
    ],
    ["Compute region", model.location ?? "unknown"],
    [
      "Carbon intensity",
      model.intensity.intensityGPerKWh === null
        ? "unknown"
        : `${trimNumber(model.intensity.intensityGPerKWh)} gCO2e/kWh (${model.intensity.source ?? "source not stated"})`,
    ],
    [
      "PUE",
      model.pue.value === null
        ? "unknown"
        : `${trimNumber(model.pue.value)} (${model.pue.source ?? "source not stated"})`,
    ],
    ["Training type", model.trainingType ?? "not stated"],
  ];
  const lines = items.map(([name, value]) => `- **${name}:** ${value.replace(/\r?\n/g, " ")}`);
  lines.push("", carbonStatement(model));
  if (metadata !== null) lines.push("", `Source: ${metadata.source}.`);
  return lines;
}

/** What `--format model-card` prints: the front-matter block, then the section. */
export function renderModelCard(model: ReportModel): string {
  const yaml = ["---", ...co2MetadataLines(co2EqEmissions(model)), "---"];
  return [...yaml, "", "## Environmental impact", "", ...environmentalImpactLines(model), ""].join(
    "\n",
  );
}

/**
 * `text` with its `co2_eq_emissions` entry set and the wattprint "Environmental impact"
 * section set (under an existing "Environmental impact" heading, or appended), everything
 * else unchanged.
 * @throws WattprintError `BAD_INPUT` for malformed front matter or section markers.
 */
export function updateModelCardText(
  text: string,
  model: ReportModel,
  fileLabel = "the model card",
): string {
  const withMetadata = setFrontMatterEntry(
    text,
    CO2_METADATA_KEY,
    co2MetadataLines(co2EqEmissions(model)),
    fileLabel,
  );
  return setMarkedSection(
    withMetadata,
    IMPACT_SECTION_ID,
    environmentalImpactLines(model),
    { pattern: /^environmental impact$/i, line: "## Environmental impact" },
    fileLabel,
  );
}

/**
 * Updates the model card at `path` in place: reads it, edits it with
 * {@link updateModelCardText}, and replaces it atomically (a temporary file renamed over
 * the real file; a symlink's target is the file replaced). Returns false when nothing
 * changed (the file is then not written).
 * @throws WattprintError `NOT_FOUND` when the file is missing, `BAD_INPUT` when it cannot
 *   be read or its front matter is malformed (the file is left untouched),
 *   `OUTPUT_UNWRITABLE` when it cannot be replaced.
 */
export function updateModelCardFile(path: string, model: ReportModel): boolean {
  if (!existsSync(path)) {
    throw new WattprintError("NOT_FOUND", `no such model card: ${path}`, {
      hint: "create it first (an empty README.md will do) or print the block with --format model-card",
    });
  }
  const target = realpathSync(path);
  let text: string;
  try {
    text = readFileSync(target, "utf8");
  } catch (error) {
    throw new WattprintError("BAD_INPUT", `cannot read ${path}: ${describeError(error)}`, {
      hint: "check that it is a readable file",
      cause: error,
    });
  }
  const updated = updateModelCardText(text, model, path);
  if (updated === text) return false;
  assertWritable(target, "--update");
  writeFileAtomic(target, updated);
  return true;
}

/**
 * A plain decimal, never an exponent: YAML 1.1 readers (PyYAML, which the Hub's tooling
 * uses) read `1e-7` as a string, not a number.
 */
export function yamlNumber(value: number): string {
  const plain = String(value);
  if (!/e/i.test(plain)) return plain;
  if (Math.abs(value) >= 1) return BigInt(Math.round(value)).toString();
  const digits = Math.min(100, Math.ceil(-Math.log10(Math.abs(value))) + 6);
  return value.toFixed(digits).replace(/0+$/, "").replace(/\.$/, ".0");
}
