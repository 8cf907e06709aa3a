/**
 * A small schema checker for request bodies: each function reads one field of an unknown
 * value, records "path: what is wrong" when it does not fit, and returns a typed value (or
 * a placeholder, never used once an error was recorded). Written by hand because the
 * server validates thousands of samples per second and takes no dependency for it.
 */

/** Collects what is wrong with a body, up to {@link MAX_REPORTED_ERRORS} lines. */
export class BodyErrors {
  readonly lines: string[] = [];
  private count = 0;

  add(path: string, message: string): void {
    this.count += 1;
    if (this.lines.length < MAX_REPORTED_ERRORS) this.lines.push(`${path}: ${message}`);
  }

  get ok(): boolean {
    return this.count === 0;
  }

  /** All lines, with "… and N more" when some were left out. */
  summary(): string[] {
    const more = this.count - this.lines.length;
    return more > 0 ? [...this.lines, `… and ${more} more`] : [...this.lines];
  }
}

/** Errors reported back to a client; the rest are counted. */
export const MAX_REPORTED_ERRORS = 20;

export type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An object (not an array, not null); `{}` on error. */
export function object(errors: BodyErrors, value: unknown, path: string): Obj {
  if (isObject(value)) return value;
  errors.add(path, "must be an object");
  return {};
}

/** Fields other than `allowed` are errors (a typo must not be silently ignored). */
export function noExtraFields(
  errors: BodyErrors,
  value: Obj,
  allowed: readonly string[],
  path: string,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) errors.add(`${path}.${key}`, "is not a known field");
  }
}

/** A string of 1..maxLength characters matching `pattern` when given. */
export function string(
  errors: BodyErrors,
  value: unknown,
  path: string,
  options: { maxLength: number; pattern?: RegExp; patternText?: string; allowEmpty?: boolean },
): string {
  if (typeof value !== "string") {
    errors.add(path, "must be a string");
    return "";
  }
  if (value.length === 0 && options.allowEmpty !== true) {
    errors.add(path, "must not be empty");
  } else if (value.length > options.maxLength) {
    errors.add(path, `must be at most ${options.maxLength} characters`);
  } else if (options.pattern !== undefined && !options.pattern.test(value)) {
    errors.add(path, `must be ${options.patternText ?? `like ${String(options.pattern)}`}`);
  }
  return value;
}

/** A string or null. */
export function nullableString(
  errors: BodyErrors,
  value: unknown,
  path: string,
  options: { maxLength: number; pattern?: RegExp; patternText?: string },
): string | null {
  if (value === null || value === undefined) return null;
  return string(errors, value, path, options);
}

/** A finite number within [min, max]; `integer` requires a whole number. */
export function number(
  errors: BodyErrors,
  value: unknown,
  path: string,
  options: { min?: number; max?: number; integer?: boolean } = {},
): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    errors.add(path, "must be a finite number");
    return 0;
  }
  if (options.integer === true && !Number.isInteger(value)) {
    errors.add(path, "must be a whole number");
  } else if (options.min !== undefined && value < options.min) {
    errors.add(path, `must be at least ${options.min}`);
  } else if (options.max !== undefined && value > options.max) {
    errors.add(path, `must be at most ${options.max}`);
  }
  return value;
}

/** A number or null (unknown is null, never 0); absent counts as null. */
export function nullableNumber(
  errors: BodyErrors,
  value: unknown,
  path: string,
  options: { min?: number; max?: number; integer?: boolean } = {},
): number | null {
  if (value === null || value === undefined) return null;
  return number(errors, value, path, options);
}

/** One of `choices`. */
export function oneOf<T extends string>(
  errors: BodyErrors,
  value: unknown,
  path: string,
  choices: readonly T[],
): T {
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) {
    return value as T;
  }
  errors.add(path, `must be one of ${choices.join(", ")}`);
  return choices[0] as T;
}

/** An array of at most `maxItems` items. */
export function array(
  errors: BodyErrors,
  value: unknown,
  path: string,
  maxItems: number,
): unknown[] {
  if (!Array.isArray(value)) {
    errors.add(path, "must be a list");
    return [];
  }
  if (value.length > maxItems) {
    errors.add(path, `must have at most ${maxItems} items (split the batch)`);
    return [];
  }
  return value;
}

/** An ISO 8601 date-time with a zone ("2025-03-01T10:00:00.000Z"); returns epoch ms (0 on error). */
export function isoTime(errors: BodyErrors, value: unknown, path: string): number {
  if (typeof value !== "string" || value.length > 40 || !ISO_TIME.test(value)) {
    errors.add(path, "must be an ISO 8601 time with a zone, such as 2025-03-01T10:00:00Z");
    return 0;
  }
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    errors.add(path, "is not a valid time");
    return 0;
  }
  return ms;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** A map of metric name → finite number, at most `maxEntries`. */
export function metrics(
  errors: BodyErrors,
  value: unknown,
  path: string,
  maxEntries: number,
): Record<string, number> {
  const input = object(errors, value, path);
  const entries = Object.entries(input);
  if (entries.length > maxEntries) {
    errors.add(path, `must have at most ${maxEntries} metrics`);
    return {};
  }
  const out: Record<string, number> = {};
  for (const [name, metric] of entries) {
    string(errors, name, `${path} key`, {
      maxLength: 64,
      pattern: METRIC_NAME,
      patternText: "a name of letters, digits, _ . - / (val_accuracy)",
    });
    out[name] = number(errors, metric, `${path}.${name}`);
  }
  return out;
}

/** Metric names: letters, digits and _ . - / ("val_accuracy", "eval/f1"). */
export const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.\-/]{0,63}$/;
