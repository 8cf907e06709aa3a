import { WattprintError } from "../errors.js";

const DURATION_UNITS_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600 };

/** Parses "1s", "500ms", "2m", "1.5h" or a bare number of seconds. */
export function parseDurationS(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|min|h)?\s*$/.exec(text);
  const unit = match?.[2] ?? "s";
  const factor = DURATION_UNITS_S[unit];
  if (!match || match[1] === undefined || factor === undefined) {
    throw new WattprintError("USAGE", `invalid ${flag} "${text}"`, {
      hint: `give a duration such as 1s, 500ms or 2m`,
    });
  }
  return Number(match[1]) * factor;
}

/** Parses a plain positive number (PUE, intensity). */
export function parseNumber(text: string, flag: string, hint: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new WattprintError("USAGE", `invalid ${flag} "${text}": not a number`, { hint });
  }
  return value;
}

/** Parses "now" or an ISO 8601 time with an explicit offset into epoch ms. */
export function parseTimeMs(text: string, flag: string): number {
  if (text.trim().toLowerCase() === "now") return Date.now();
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(text.trim());
  const ms = Date.parse(text);
  if (!hasOffset || Number.isNaN(ms)) {
    throw new WattprintError("USAGE", `invalid ${flag} "${text}"`, {
      hint: "give an ISO 8601 time with an offset, for example 2022-07-01T12:00:00Z, or now",
    });
  }
  return ms;
}
