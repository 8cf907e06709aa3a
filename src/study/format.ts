/** How the studies show their figures in text, tables and the report. */

/** "97.21%" for a share, else 4 significant digits; "—" for null. */
export function formatQuality(value: number | null, percent: boolean): string {
  if (value === null || !Number.isFinite(value)) return "—";
  return percent ? `${(value * 100).toFixed(2)}%` : Number(value.toPrecision(4)).toString();
}

/** Joules to 3 significant digits; "unknown" for null. */
export function formatJoules(value: number | null): string {
  return value === null ? "unknown" : Number(value.toPrecision(3)).toString();
}

/** The change in energy a saving means: a 40% saving is "−40%", 10% more energy "+10%"; "—" for null. */
export function formatEnergyChange(savingPct: number | null): string {
  if (savingPct === null) return "—";
  return `${savingPct >= 0 ? "−" : "+"}${Math.abs(savingPct).toFixed(0)}%`;
}
