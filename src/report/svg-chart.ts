/**
 * Inline SVG charts for the HTML report: a line chart (power over time, intensity over
 * time) and a horizontal stacked bar chart (energy by phase, operational against
 * embodied). Plain SVG 1.1 with explicit sizes: no script, no font or file to fetch, so
 * the report opens offline. Every series and bar carries `data-*` attributes naming it,
 * so tests (and readers of the source) can find what was drawn.
 */

/** One point of a line; `y: null` breaks the line (unknown, never drawn as 0). */
export interface ChartPoint {
  x: number;
  y: number | null;
}

export interface LineSeries {
  /** Stable id, written as `data-series`. */
  id: string;
  label: string;
  /** CSS colour. */
  color: string;
  dashed?: boolean;
  points: ChartPoint[];
}

export interface LineChartSpec {
  /** Written as `data-chart`. */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Formats an x value for tick labels (default: trimmed number). */
  formatX?: (x: number) => string;
  /** Pixels; default 760 × 300. */
  width?: number;
  height?: number;
}

export interface BarSegment {
  /** Stable id, written as `data-segment`. */
  id: string;
  label: string;
  value: number;
  color: string;
}

export interface Bar {
  label: string;
  segments: BarSegment[];
}

export interface BarChartSpec {
  id: string;
  title: string;
  /** Unit shown on the axis ("Wh", "g CO2e"). */
  unit: string;
  bars: Bar[];
  /** Formats a value for labels (default: trimmed number + unit). */
  formatValue?: (value: number) => string;
  width?: number;
}

/** Colour-blind-safe colours (Okabe & Ito, 2008) by role. */
export const CHART_COLORS = {
  cpu: "#0072B2",
  gpu: "#D55E00",
  ram: "#009E73",
  machine: "#7F7F7F",
  operational: "#E69F00",
  embodied: "#CC79A7",
  intensity: "#56B4E9",
} as const;

const MARGIN = { top: 34, right: 16, bottom: 64, left: 64 };

/** A line chart as an `<svg>` element string. Series without any known point are left out. */
export function renderLineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 300;
  const series = spec.series.filter((line) => line.points.some((point) => point.y !== null));
  const xs = series.flatMap((line) => line.points.map((point) => point.x));
  const ys = series.flatMap((line) =>
    line.points.flatMap((point) => (point.y === null ? [] : [point.y])),
  );
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yTicks = niceTicks(0, Math.max(...ys, 0));
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const xTicks = niceTicks(xMin, xMax, 6);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const xSpan = xMax - xMin || 1;
  const sx = (x: number) => MARGIN.left + ((x - xMin) / xSpan) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - (y / (yMax || 1)) * plotH;
  const formatX = spec.formatX ?? formatTick;

  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(
    `<text x="${MARGIN.left}" y="20" class="chart-title" font-size="14" font-weight="600">${escapeXml(spec.title)}</text>`,
  );
  // Grid and y ticks.
  for (const tick of yTicks) {
    const y = round(sy(tick));
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  for (const tick of xTicks.filter((t) => t >= xMin && t <= xMax)) {
    const x = round(sx(tick));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#333"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 17}" text-anchor="middle" font-size="11">${escapeXml(formatX(tick))}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 34}" text-anchor="middle" font-size="12">${escapeXml(spec.xLabel)}</text>`,
    `<text x="14" y="${MARGIN.top + plotH / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${MARGIN.top + plotH / 2})">${escapeXml(spec.yLabel)}</text>`,
  );
  for (const line of series) {
    const known = line.points.filter((point) => point.y !== null).length;
    parts.push(
      `<g class="series" data-series="${escapeXml(line.id)}" data-points="${known}"><title>${escapeXml(line.label)}</title>` +
        `<path d="${pathData(line.points, sx, sy)}" fill="none" stroke="${line.color}" stroke-width="${line.dashed ? 1.5 : 2}"${line.dashed ? ' stroke-dasharray="6 4"' : ""} stroke-linejoin="round"/></g>`,
    );
  }
  // Legend under the axis label.
  let legendX = MARGIN.left;
  const legendY = height - 12;
  for (const line of series) {
    parts.push(
      `<g class="legend-item"><line x1="${legendX}" x2="${legendX + 18}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ""}/>` +
        `<text x="${legendX + 22}" y="${legendY}" font-size="11">${escapeXml(line.label)}</text></g>`,
    );
    legendX += 30 + line.label.length * 6.2;
  }
  return svg(spec.id, spec.title, width, height, parts);
}

/** A horizontal stacked bar chart as an `<svg>` element string; one row per bar. */
export function renderBarChart(spec: BarChartSpec): string {
  const width = spec.width ?? 760;
  const rowH = 30;
  const labelW = Math.min(260, Math.max(90, ...spec.bars.map((bar) => bar.label.length * 7)));
  const valueW = 110;
  const top = 34;
  const legendH = 26;
  const height = top + spec.bars.length * rowH + legendH + 8;
  const plotW = width - labelW - valueW - MARGIN.right;
  const totals = spec.bars.map((bar) => bar.segments.reduce((sum, s) => sum + s.value, 0));
  const max = Math.max(...totals, 0) || 1;
  const format = spec.formatValue ?? ((value: number) => `${formatTick(value)} ${spec.unit}`);

  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(
    `<text x="8" y="20" class="chart-title" font-size="14" font-weight="600">${escapeXml(spec.title)}</text>`,
  );
  spec.bars.forEach((bar, index) => {
    const y = top + index * rowH;
    const cells: string[] = [];
    let x = labelW;
    for (const segment of bar.segments) {
      const w = (Math.max(0, segment.value) / max) * plotW;
      cells.push(
        `<rect data-segment="${escapeXml(segment.id)}" data-value="${segment.value}" x="${round(x)}" y="${y + 4}" width="${round(w)}" height="${rowH - 10}" fill="${segment.color}"><title>${escapeXml(`${segment.label}: ${format(segment.value)}`)}</title></rect>`,
      );
      x += w;
    }
    parts.push(
      `<g class="bar" data-bar="${escapeXml(bar.label)}">` +
        `<text x="${labelW - 8}" y="${y + rowH / 2 + 4}" text-anchor="end" font-size="12">${escapeXml(truncate(bar.label, 36))}</text>` +
        cells.join("") +
        `<text x="${round(x) + 6}" y="${y + rowH / 2 + 4}" font-size="12">${escapeXml(format(totals[index] ?? 0))}</text></g>`,
    );
  });
  const seen = new Map<string, BarSegment>();
  for (const bar of spec.bars) for (const s of bar.segments) if (!seen.has(s.id)) seen.set(s.id, s);
  let legendX = labelW;
  const legendY = height - 12;
  for (const segment of seen.values()) {
    parts.push(
      `<g class="legend-item"><rect x="${legendX}" y="${legendY - 9}" width="12" height="10" fill="${segment.color}"/>` +
        `<text x="${legendX + 16}" y="${legendY}" font-size="11">${escapeXml(segment.label)}</text></g>`,
    );
    legendX += 28 + segment.label.length * 6.2;
  }
  return svg(spec.id, spec.title, width, height, parts);
}

/**
 * Round tick values from `min` to at least `max`, 1-2-5 steps, about `count` of them.
 * Ticks start at a multiple of the step at or below `min`.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max <= min) max = min + (min === 0 ? 1 : Math.abs(min) * 0.1);
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let value = start; value < max + step * 0.999; value += step) {
    ticks.push(Number(value.toPrecision(12)));
    if (ticks.length > 50) break;
  }
  return ticks;
}

/** Escapes text for XML/HTML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function pathData(
  points: readonly ChartPoint[],
  sx: (x: number) => number,
  sy: (y: number) => number,
): string {
  const commands: string[] = [];
  let drawing = false;
  for (const point of points) {
    if (point.y === null) {
      drawing = false;
      continue;
    }
    commands.push(`${drawing ? "L" : "M"}${round(sx(point.x))} ${round(sy(point.y))}`);
    drawing = true;
  }
  return commands.join(" ");
}

function svg(id: string, title: string, width: number, height: number, parts: string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeXml(id)}" role="img" aria-label="${escapeXml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">` +
    parts.join("") +
    `</svg>`
  );
}

function formatTick(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  return Number(value.toPrecision(3)).toString();
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
