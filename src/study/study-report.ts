/**
 * A study's HTML report: one self-contained file like the run report (inline CSS and SVG,
 * no script, font or request; a Content-Security-Policy forbids any) with the finding, the
 * comparison table, the two trade-off charts, training energy epoch by epoch, each
 * variant's notes, and how everything was measured.
 */
import { CHART_COLORS, escapeXml, renderLineChart, type LineSeries } from "../report/svg-chart.js";
import { formatQuality } from "./format.js";
import { comparisonRows } from "./render-table.js";
import { renderStudyChart } from "./study-chart.js";
import type { StudyResult } from "./study-result.js";

const SERIES_COLORS = [
  CHART_COLORS.cpu,
  CHART_COLORS.gpu,
  CHART_COLORS.ram,
  CHART_COLORS.embodied,
  CHART_COLORS.operational,
  CHART_COLORS.intensity,
  CHART_COLORS.machine,
];

/** The report as a complete HTML document. */
export function renderStudyHtml(result: StudyResult): string {
  const sections = [
    section(
      "finding",
      "Finding",
      `<p class="finding">${escapeXml(result.finding.text)}</p>${statusNote(result)}`,
    ),
    section("comparison", "Comparison", comparisonTable(result)),
    section(
      "trade-off",
      "Trade-off",
      result.variants.length === 0
        ? note("No variant was measured.")
        : `<figure>${renderStudyChart(result, "training")}</figure>\n<figure>${renderStudyChart(result, "inference")}</figure>` +
            note(
              "Filled points are on the Pareto front: no other variant has better quality for less energy.",
            ),
    ),
    section("epochs", "Training energy, epoch by epoch", epochChart(result)),
    section("variants", "Variants", variantList(result)),
    section("method", "How this was measured", methodList(result)),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="wattprint ${escapeXml(result.wattprintVersion)}">
<title>${escapeXml(`wattprint study ${result.study}: ${result.title}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeXml(result.title)}</h1>
<p class="meta">wattprint study ${escapeXml(result.study)}, started ${escapeXml(result.startedAt)}${result.durationS === null ? "" : `, ${result.durationS.toFixed(1)} s`}; <code>${escapeXml(result.settings.command)}</code></p>
</header>
<main>
${sections.join("\n")}
</main>
</body>
</html>
`;
}

function statusNote(result: StudyResult): string {
  if (result.status === "complete") return "";
  return `<p class="warning">The study ${result.status === "failed" ? `failed (${escapeXml(result.error ?? "unknown error")})` : "did not finish"}; the figures below are the variants measured before that.</p>`;
}

function comparisonTable(result: StudyResult): string {
  if (result.variants.length === 0) return note("No variant was measured.");
  const [header, ...rows] = comparisonRows(result) as [string[], ...string[][]];
  const head = `<thead><tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr></thead>`;
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeXml(cell)}</td>`).join("")}</tr>`)
    .join("");
  return (
    `<table data-table="comparison">${head}<tbody>${body}</tbody></table>` +
    note(
      `Quality: ${result.quality.metrics.map((m) => `${m.key} = ${m.label} (${m.better} is better)`).join("; ")}. ` +
        `Tolerance: ${result.quality.tolerance}. Δ is the change in energy against the baseline (−40% = 40% less). ` +
        `Inference: ${result.variants[0]?.inference.unit ?? "one inference"}, batch 64, J per 1,000. CPU s and CPU ms per 1,000: this process's CPU time, which other load on the machine does not change (the energy's share of the machine's power can). Pareto: T on the quality/training-energy front, I on the quality/inference-energy front.`,
    )
  );
}

function epochChart(result: StudyResult): string {
  const series: LineSeries[] = result.variants.map((v, index) => {
    let total = 0;
    let known = true;
    const points = v.training.epochEnergyJ.map((energyJ, epoch) => {
      if (energyJ === null) known = false;
      total += energyJ ?? 0;
      return { x: epoch + 1, y: known ? total : null };
    });
    return {
      id: v.name,
      label: v.name,
      color: SERIES_COLORS[index % SERIES_COLORS.length] as string,
      dashed: index >= SERIES_COLORS.length,
      points: [{ x: 0, y: 0 }, ...points],
    };
  });
  if (!series.some((s) => s.points.some((p) => p.x > 0 && p.y !== null)))
    return note("No epoch energy was measured.");
  return (
    `<figure>${renderLineChart({ id: "epoch-energy", title: "Cumulative training energy", xLabel: "epoch", yLabel: "J", series })}</figure>` +
    note("A line that ends early is a variant whose training stopped early.")
  );
}

function variantList(result: StudyResult): string {
  const items = result.variants.map((v) => {
    const lines = [
      `<strong>${escapeXml(v.name)}</strong> (${escapeXml(v.technique)}): ${escapeXml(v.description)}.`,
      `${v.params.toLocaleString("en-US")} parameters; ${result.quality.metrics.map((m) => `${escapeXml(m.label)} ${formatQuality(v.quality[m.key] ?? null, m.percent ?? false)}`).join(", ")}.`,
      `Training energy: ${escapeXml(v.training.includes)}; ${v.training.epochsRun} of ${v.training.epochsPlanned} epochs${v.training.stopReason ? ` (${escapeXml(v.training.stopReason)})` : ""}; ${v.training.cpuS.toFixed(1)} CPU seconds.`,
      `Inference: ${v.inference.energyJPer1kRange === null ? "energy unknown" : `windows from ${v.inference.energyJPer1kRange[0].toPrecision(3)} to ${v.inference.energyJPer1kRange[1].toPrecision(3)} J per 1,000`} over ${v.inference.rounds} round${v.inference.rounds === 1 ? "" : "s"}, ${v.inference.inferencesMeasured.toLocaleString("en-US")} inferences measured; p50 latency ${v.inference.latencyMsP50.batch1.toFixed(3)} ms at batch 1, ${v.inference.latencyMsP50.batch64.toFixed(2)} ms at batch 64.`,
    ];
    if (v.toleranceNote) lines.push(`Outside the tolerance: ${escapeXml(v.toleranceNote)}.`);
    for (const extra of v.notes) lines.push(escapeXml(extra));
    return `<li>${lines.join("<br>")}</li>`;
  });
  const skipped = result.skipped.map(
    (s) => `<li><strong>${escapeXml(s.name)}</strong>: skipped (${escapeXml(s.reason)})</li>`,
  );
  return `<ul class="variants">${[...items, ...skipped].join("")}</ul>`;
}

function methodList(result: StudyResult): string {
  const rows: [string, string][] = [
    [
      "Data",
      `${result.dataset.name}: ${result.dataset.source}; values ${result.dataset.scaling}; ${result.dataset.trainSamples} training, ${result.dataset.validationSamples} validation, ${result.dataset.testSamples} test samples`,
    ],
    ["Quality", result.quality.method],
    ["Tolerance", result.quality.tolerance],
    ["Energy", `${result.measurement.energySource || "unknown"}; ${result.measurement.note}`],
    [
      "Settings",
      `seed ${result.settings.seed}, up to ${result.settings.epochs} epochs, batch ${result.settings.batchSize}${result.settings.quick ? ", quick mode" : ""}; TF.js backend ${result.runtime.backend ?? "unknown"}`,
    ],
    ["Reproduce", result.settings.command],
  ];
  if (result.overhead !== null) {
    rows.push([
      "Shared cost",
      `${result.overhead.description}: ${result.overhead.energyJ === null ? "energy unknown" : `${result.overhead.energyJ.toPrecision(3)} J`} in ${result.overhead.durationS.toFixed(1)} s (in no variant's figures)`,
    ]);
  }
  const table = `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`).join("")}</tbody></table>`;
  const warnings =
    result.warnings.length === 0
      ? ""
      : `<h3>Warnings</h3><ul class="warnings">${result.warnings.map((w) => `<li>${escapeXml(w)}</li>`).join("")}</ul>`;
  return table + warnings;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}">\n<h2>${escapeXml(title)}</h2>\n${body}\n</section>`;
}

function note(text: string): string {
  return `<p class="note">${escapeXml(text)}</p>`;
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1a1a1a; background: #fafafa; line-height: 1.45; }
header, main { max-width: 1080px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 0 0 10px; }
h3 { font-size: 1rem; margin: 18px 0 6px; }
.meta { color: #555; font-size: 0.85rem; }
section { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 16px 18px; margin: 16px 0; }
figure { margin: 0 0 10px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; margin: 6px 0; }
th, td { text-align: right; border-bottom: 1px solid #eee; padding: 4px 6px; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
table.kv th { width: 150px; color: #444; font-weight: 600; text-align: left; }
table.kv td { text-align: left; }
.finding { font-size: 1.05rem; font-weight: 600; }
.warning { color: #8a3b00; }
.note { color: #444; font-size: 0.9rem; }
ul.variants li { margin-bottom: 10px; font-size: 0.9rem; }
ul.warnings { margin: 4px 0; padding-left: 20px; font-size: 0.88rem; }
code { font-size: 0.85rem; }
@media print { body { background: #fff; } section { break-inside: avoid; border: none; } }
`;
