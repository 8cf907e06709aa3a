/**
 * The accuracy/energy chart of an optimize run, drawn with the report's line-chart
 * renderer: x = accuracy (%), y = energy per 1,000 inferences (J). The Pareto front is a
 * line through its variants; every variant is marked with a cross (two short strokes), the
 * front's in the front's colour, the others in grey. An HTML page adds a table naming them.
 */
import { CHART_COLORS, escapeXml, renderLineChart, type ChartPoint } from "../report/svg-chart.js";

/** What the chart needs of a variant. */
export interface ChartVariant {
  name: string;
  /** 0..1. */
  accuracy: number;
  energyJPer1kInferences: number | null;
  sizeBytes: number;
  pareto: boolean;
  recommended?: boolean;
}

/** The chart as an `<svg>` string (variants without an energy figure are not drawn). */
export function renderParetoSvg(
  variants: readonly ChartVariant[],
  title = "Accuracy against inference energy",
): string {
  const drawn = variants.filter((v) => v.energyJPer1kInferences !== null);
  const xs = drawn.map((v) => v.accuracy * 100);
  const ys = drawn.map((v) => v.energyJPer1kInferences as number);
  const dx = Math.max((Math.max(...xs) - Math.min(...xs)) * 0.012, 0.01);
  const dy = Math.max(Math.max(...ys, 0) * 0.02, 1e-9);
  const cross = (list: readonly ChartVariant[]): ChartPoint[] =>
    list.flatMap((v) => {
      const x = v.accuracy * 100;
      const y = v.energyJPer1kInferences as number;
      return [
        { x: x - dx, y },
        { x: x + dx, y },
        { x, y: null },
        { x, y: Math.max(0, y - dy) },
        { x, y: y + dy },
        { x, y: null },
      ];
    });
  const front = drawn.filter((v) => v.pareto).sort((a, b) => a.accuracy - b.accuracy);
  return renderLineChart({
    id: "pareto",
    title,
    xLabel: "accuracy on the test set (%)",
    yLabel: "J per 1,000 inferences",
    formatX: (x) => `${Number(x.toFixed(2))}`,
    series: [
      {
        id: "other-variants",
        label: "dominated",
        color: CHART_COLORS.machine,
        points: cross(drawn.filter((v) => !v.pareto)),
      },
      {
        id: "pareto-front",
        label: "Pareto front",
        color: CHART_COLORS.operational,
        points: front.map((v) => ({ x: v.accuracy * 100, y: v.energyJPer1kInferences as number })),
      },
      {
        id: "front-variants",
        label: "on the front",
        color: CHART_COLORS.gpu,
        points: cross(front),
      },
    ],
  });
}

/** A self-contained HTML page: the chart and a table of every variant. */
export function renderParetoHtml(
  variants: readonly ChartVariant[],
  options: { title?: string; notes?: string[] } = {},
): string {
  const title = options.title ?? "wattprint optimize: accuracy against inference energy";
  const rows = variants
    .map(
      (v) =>
        `<tr${v.pareto ? ' class="pareto"' : ""}><td>${escapeXml(v.name)}${v.recommended ? " (recommended)" : ""}</td><td>${(v.accuracy * 100).toFixed(2)}</td>` +
        `<td>${v.energyJPer1kInferences === null ? "unknown" : v.energyJPer1kInferences.toPrecision(3)}</td><td>${v.sizeBytes}</td><td>${v.pareto ? "yes" : ""}</td></tr>`,
    )
    .join("\n");
  const notes = (options.notes ?? [])
    .map((note) => `<p class="note">${escapeXml(note)}</p>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}tr.pareto td{font-weight:600}.note{color:#555;max-width:60rem}</style>
</head><body>
<h1>${escapeXml(title)}</h1>
${renderParetoSvg(variants)}
<table><thead><tr><th>variant</th><th>accuracy (%)</th><th>J per 1,000 inferences</th><th>size (bytes)</th><th>Pareto</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${notes}
</body></html>
`;
}
