/**
 * A study's trade-off chart: quality (x) against training energy or inference energy per
 * 1,000 (y), one labelled point per variant, the Pareto front (as optimize's `paretoFront`
 * marked it) joined by a line. Plain SVG with the report's colours, ticks and escaping, so
 * it opens offline and inside the HTML report.
 */
import { CHART_COLORS, escapeXml, niceTicks } from "../report/svg-chart.js";
import type { StudyResult, StudyVariantResult } from "./study-result.js";

const WIDTH = 760;
const HEIGHT = 340;
const MARGIN = { top: 34, right: 24, bottom: 56, left: 72 };

/** Which energy the chart's y axis shows. */
export type ChartEnergy = "training" | "inference";

/** The chart as an `<svg>` string; variants with an unknown quality or energy are left out and listed in its title. */
export function renderStudyChart(result: StudyResult, energy: ChartEnergy): string {
  const metric = result.quality.primary;
  const scale = metric.percent ? 100 : 1;
  const yOf = (v: StudyVariantResult) =>
    energy === "training" ? v.training.energyJ : v.inference.energyJPer1k;
  const onFront = (v: StudyVariantResult) =>
    energy === "training" ? v.paretoTraining : v.paretoInference;
  const points = result.variants.flatMap((variant) => {
    const x = variant.quality[metric.key];
    const y = yOf(variant);
    return x === null || x === undefined || y === null || !Number.isFinite(x)
      ? []
      : [{ variant, x: x * scale, y }];
  });
  const title =
    energy === "training"
      ? `${metric.label} against training energy`
      : `${metric.label} against inference energy (${result.variants[0]?.inference.unit ?? "per inference"})`;
  const yLabel = energy === "training" ? "training energy (J)" : "J per 1,000 inferences";
  const xLabel = `${metric.label}${metric.percent ? " (%)" : ""} — ${metric.better} is better`;
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  parts.push(
    `<text x="${MARGIN.left}" y="20" font-size="14" font-weight="600">${escapeXml(title)}</text>`,
  );
  if (points.length === 0) {
    parts.push(
      `<text x="${MARGIN.left}" y="${HEIGHT / 2}" font-size="12">no variant has both figures</text>`,
    );
    return svg(energy, title, parts);
  }
  const xsRaw = points.map((p) => p.x);
  const xPad = Math.max(
    (Math.max(...xsRaw) - Math.min(...xsRaw)) * 0.08,
    Math.abs(Math.max(...xsRaw)) * 0.01,
    1e-6,
  );
  const xTicks = niceTicks(Math.min(...xsRaw) - xPad, Math.max(...xsRaw) + xPad, 6);
  const yTicks = niceTicks(0, Math.max(...points.map((p) => p.y)) * 1.1);
  const xMin = xTicks[0] as number;
  const xMax = xTicks[xTicks.length - 1] as number;
  const yMax = (yTicks[yTicks.length - 1] as number) || 1;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => round(MARGIN.left + ((x - xMin) / (xMax - xMin || 1)) * plotW);
  const sy = (y: number) => round(MARGIN.top + plotH - (y / yMax) * plotH);
  for (const tick of yTicks) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${sy(tick)}" y2="${sy(tick)}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${sy(tick) + 4}" text-anchor="end" font-size="11">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  for (const tick of xTicks) {
    parts.push(
      `<line x1="${sx(tick)}" x2="${sx(tick)}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#333"/>`,
      `<text x="${sx(tick)}" y="${MARGIN.top + plotH + 17}" text-anchor="middle" font-size="11">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 36}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>`,
    `<text x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">${escapeXml(yLabel)}</text>`,
  );
  const front = points.filter((p) => onFront(p.variant)).sort((a, b) => a.x - b.x);
  if (front.length > 1) {
    const d = front.map((p, i) => `${i === 0 ? "M" : "L"}${sx(p.x)} ${sy(p.y)}`).join(" ");
    parts.push(
      `<path data-series="pareto-front" d="${d}" fill="none" stroke="${CHART_COLORS.operational}" stroke-width="2" stroke-dasharray="6 4"/>`,
    );
  }
  // Labels go above their point unless that overlaps a label already placed; then below, then further out.
  const placed: { left: number; right: number; y: number }[] = [];
  const labelY = (cx: number, cy: number, anchor: "start" | "end", text: string) => {
    const width = text.length * 6.2;
    const left = anchor === "start" ? cx + 8 : cx - 8 - width;
    for (const y of [cy - 7, cy + 16, cy - 20, cy + 29]) {
      if (!placed.some((l) => left < l.right && l.left < left + width && Math.abs(l.y - y) < 12)) {
        placed.push({ left, right: left + width, y });
        return y;
      }
    }
    return cy - 7;
  };
  for (const p of points) {
    const pareto = onFront(p.variant);
    const color =
      p.variant === result.variants[0]
        ? CHART_COLORS.cpu
        : pareto
          ? CHART_COLORS.gpu
          : CHART_COLORS.machine;
    const cx = sx(p.x);
    const cy = sy(p.y);
    const anchor = cx > MARGIN.left + plotW * 0.75 ? "end" : "start";
    const dx = anchor === "end" ? -8 : 8;
    parts.push(
      `<g class="variant" data-variant="${escapeXml(p.variant.name)}" data-pareto="${pareto}" data-x="${p.x}" data-y="${p.y}">` +
        `<title>${escapeXml(`${p.variant.name}: ${formatTick(p.x)}${metric.percent ? "%" : ""}, ${formatTick(p.y)} ${energy === "training" ? "J" : "J per 1,000"}`)}</title>` +
        `<circle cx="${cx}" cy="${cy}" r="${pareto ? 5 : 4}" fill="${pareto ? color : "#ffffff"}" stroke="${color}" stroke-width="2"/>` +
        `<text x="${cx + dx}" y="${labelY(cx, cy, anchor, p.variant.name)}" text-anchor="${anchor}" font-size="11">${escapeXml(p.variant.name)}</text></g>`,
    );
  }
  const legendY = HEIGHT - 8;
  parts.push(
    `<g class="legend-item"><circle cx="${MARGIN.left + 5}" cy="${legendY - 4}" r="5" fill="${CHART_COLORS.gpu}"/><text x="${MARGIN.left + 14}" y="${legendY}" font-size="11">on the Pareto front</text></g>`,
    `<g class="legend-item"><circle cx="${MARGIN.left + 150}" cy="${legendY - 4}" r="4" fill="#ffffff" stroke="${CHART_COLORS.machine}" stroke-width="2"/><text x="${MARGIN.left + 159}" y="${legendY}" font-size="11">dominated</text></g>`,
    `<g class="legend-item"><circle cx="${MARGIN.left + 250}" cy="${legendY - 4}" r="5" fill="${CHART_COLORS.cpu}"/><text x="${MARGIN.left + 259}" y="${legendY}" font-size="11">baseline</text></g>`,
  );
  return svg(energy, title, parts);
}

function svg(id: string, title: string, parts: string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="pareto-${id}" role="img" aria-label="${escapeXml(title)}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">` +
    parts.join("") +
    `</svg>`
  );
}

function formatTick(value: number): string {
  if (value === 0) return "0";
  return Number(value.toPrecision(3)).toString();
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
