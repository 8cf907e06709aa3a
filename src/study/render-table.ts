/** A study's comparison as plain text (the CLI's output, the bench's tables) and as Markdown. */
import { formatEnergyChange, formatJoules, formatQuality } from "./format.js";
import type { StudyResult, StudyVariantResult } from "./study-result.js";

/** The comparison table's rows: a header, then one row per variant. */
export function comparisonRows(result: StudyResult): string[][] {
  const metrics = result.quality.metrics;
  const header = [
    "variant",
    "params",
    ...metrics.map((m) => m.key),
    "epochs",
    "train s",
    "train CPU s",
    "train J",
    "Δ train",
    "J/1k inf",
    "Δ inf",
    "CPU ms/1k",
    "in tol.",
    "Pareto",
  ];
  const rows = result.variants.map((v) => [
    v.name,
    String(v.params),
    ...metrics.map((m) => formatQuality(v.quality[m.key] ?? null, m.percent ?? false)),
    `${v.training.epochsRun}/${v.training.epochsPlanned}`,
    v.training.durationS.toFixed(1),
    v.training.cpuS.toFixed(1),
    formatJoules(v.training.energyJ),
    formatEnergyChange(v.trainingSavingPct),
    formatJoules(v.inference.energyJPer1k),
    formatEnergyChange(v.inferenceSavingPct),
    v.inference.cpuSPer1k === null ? "—" : (v.inference.cpuSPer1k * 1000).toPrecision(3),
    v === result.variants[0] ? "—" : v.withinTolerance ? "yes" : "no",
    paretoMarks(v),
  ]);
  return [header, ...rows];
}

/** The result as aligned plain text: title, table, legend, finding, files. */
export function renderStudyText(result: StudyResult): string {
  const [header, ...rows] = comparisonRows(result) as [string[], ...string[][]];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const out: string[] = [];
  out.push(`wattprint study ${result.study}: ${result.title}`);
  out.push(
    `data: ${result.dataset.name}, ${result.dataset.trainSamples} training / ${result.dataset.validationSamples} validation / ${result.dataset.testSamples} test samples; seed ${result.settings.seed}, up to ${result.settings.epochs} epochs${result.settings.quick ? " (quick)" : ""}; TF.js ${result.runtime.backend ?? "?"}`,
  );
  out.push("");
  out.push(line(header));
  for (const row of rows) out.push(line(row));
  out.push("");
  out.push(
    `quality: ${result.quality.metrics.map((m) => `${m.key} = ${m.label} (${m.better} is better)`).join("; ")}`,
  );
  out.push(`tolerance: ${result.quality.tolerance}`);
  out.push(
    `Δ: change in energy against the baseline (−40% = 40% less); Pareto: T on the quality/training-energy front, I on the quality/inference-energy front`,
  );
  out.push(
    `inference: ${result.variants[0]?.inference.unit ?? "one inference"}, batch 64, median of ${result.measurement.inferenceRounds} measurement${result.measurement.inferenceRounds === 1 ? "" : "s"}; CPU s and CPU ms: this process's CPU time (not changed by other load on the machine)`,
  );
  out.push(`energy: ${result.measurement.energySource || "unknown"}`);
  if (result.overhead !== null) {
    out.push(
      `shared cost, in no variant: ${result.overhead.description}, ${formatJoules(result.overhead.energyJ)} J in ${result.overhead.durationS.toFixed(1)} s`,
    );
  }
  for (const v of result.variants)
    if (v.training.stopReason) out.push(`${v.name}: ${v.training.stopReason}`);
  for (const skipped of result.skipped) out.push(`skipped ${skipped.name}: ${skipped.reason}`);
  for (const warning of result.warnings) out.push(`warning: ${warning}`);
  out.push("");
  out.push(`finding: ${result.finding.text}`);
  if (result.durationS !== null) out.push(`the study took ${result.durationS.toFixed(1)} s`);
  if (result.files.results !== null)
    out.push(`results: ${result.files.results}; report: ${result.files.report}`);
  return `${out.join("\n")}\n`;
}

/** The comparison table as Markdown (for docs). */
export function renderStudyMarkdownTable(result: StudyResult): string {
  const [header, ...rows] = comparisonRows(result) as [string[], ...string[][]];
  const escape = (cell: string) => cell.replace(/\|/g, "\\|");
  const lines = [
    `| ${header.map(escape).join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ];
  for (const row of rows) lines.push(`| ${row.map(escape).join(" | ")} |`);
  return `${lines.join("\n")}\n`;
}

function paretoMarks(v: StudyVariantResult): string {
  return `${v.paretoTraining ? "T" : ""}${v.paretoInference ? "I" : ""}` || "·";
}
