/**
 * Reads the output of `wattprint optimize --json` for the serving rule: its variants with
 * measured energy per 1,000 inferences and accuracy, which one is the baseline and which
 * one optimize recommends. Only the fields the rule needs are checked; the rest is kept.
 */
import { readFileSync } from "node:fs";
import { WattprintError, describeError } from "../errors.js";

/** One model variant measured by `wattprint optimize`. */
export interface OptimizeVariant {
  name: string;
  /** Accuracy on the evaluation set, in the file's unit (0..1 or percent); null when absent. */
  accuracy: number | null;
  sizeBytes: number | null;
  /** Measured energy per 1,000 inferences, J; null when it was not measured. */
  energyJPer1kInferences: number | null;
  /** On the accuracy/energy Pareto front; null when the file does not say. */
  pareto: boolean | null;
}

/** The parts of an optimize result the serving rule uses. */
export interface OptimizeResult {
  /** Where it was read: "file optimize.json". */
  origin: string;
  variants: OptimizeVariant[];
  /** Name of the unmodified model the others are compared with. */
  baseline: string;
  /** Name of the variant optimize recommends; null when it recommends none. */
  recommended: string | null;
}

const HINT = "give the file written by `wattprint optimize … --json > optimize.json`";

/** Reads and checks an optimize result file. @throws WattprintError `NOT_FOUND`, `BAD_INPUT`. */
export function loadOptimizeResult(path: string): OptimizeResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new WattprintError(
      missing ? "NOT_FOUND" : "BAD_INPUT",
      missing ? `no such file: ${path}` : `cannot read ${path}: ${describeError(error)}`,
      { hint: HINT, cause: error },
    );
  }
  return parseOptimizeResult(text, `file ${path}`);
}

/**
 * Checks an optimize result: `variants` is a non-empty array of objects with a `name` and a
 * number or null `energyJPer1kInferences`; `recommended` is a variant name, an object with
 * one, or null. The baseline is the variant marked `baseline: true` or `kind: "baseline"`,
 * else the one named "baseline", else the first.
 * @throws WattprintError `BAD_INPUT` naming the first field that does not fit.
 */
export function parseOptimizeResult(text: string, origin: string): OptimizeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw bad(`${origin} is not valid JSON: ${describeError(error)}`);
  }
  if (!isObject(value)) throw bad(`${origin} is not a JSON object`);
  if (!Array.isArray(value.variants) || value.variants.length === 0) {
    throw bad(`${origin}: field variants must be a non-empty array`);
  }
  const marked: string[] = [];
  const variants = value.variants.map((item: unknown, index: number): OptimizeVariant => {
    const where = `${origin}: variants[${index}]`;
    if (!isObject(item)) throw bad(`${where} must be an object`);
    if (typeof item.name !== "string" || item.name.trim() === "") {
      throw bad(`${where}.name must be a non-empty string`);
    }
    if (item.baseline === true || item.kind === "baseline") marked.push(item.name);
    return {
      name: item.name,
      accuracy: numberOrNull(item.accuracy, `${where}.accuracy`),
      sizeBytes: numberOrNull(item.sizeBytes, `${where}.sizeBytes`),
      energyJPer1kInferences: numberOrNull(
        item.energyJPer1kInferences,
        `${where}.energyJPer1kInferences`,
      ),
      pareto: typeof item.pareto === "boolean" ? item.pareto : null,
    };
  });
  const names = new Set(variants.map((variant) => variant.name));
  if (names.size !== variants.length) throw bad(`${origin}: two variants have the same name`);
  const recommendedValue = value.recommended;
  let recommended: string | null = null;
  if (typeof recommendedValue === "string") recommended = recommendedValue;
  else if (isObject(recommendedValue) && typeof recommendedValue.name === "string")
    recommended = recommendedValue.name;
  else if (recommendedValue !== null && recommendedValue !== undefined)
    throw bad(`${origin}: field recommended must be a variant name, an object with one, or null`);
  if (recommended !== null && !names.has(recommended)) {
    throw bad(`${origin}: the recommended variant "${recommended}" is not among the variants`);
  }
  const first = variants[0] as OptimizeVariant;
  const baseline =
    marked[0] ?? variants.find((variant) => variant.name === "baseline")?.name ?? first.name;
  return { origin, variants, baseline, recommended };
}

function numberOrNull(value: unknown, where: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw bad(`${where} must be a number ≥ 0 or null (found ${JSON.stringify(value)})`);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function bad(message: string): WattprintError {
  return new WattprintError("BAD_INPUT", message, { hint: HINT });
}
