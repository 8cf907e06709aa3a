/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script, no font, no
 * request; a Content-Security-Policy forbids any) that opens offline and shows power over
 * time per component, energy by phase, carbon intensity over time, operational against
 * embodied emissions, the SCI score when asked, everyday equivalents, and every
 * assumption and source behind the figures.
 */
import type { AdviceReport } from "../advise/types.js";
import type { TimelineSample } from "../record/run-record.js";
import {
  formatCo2e,
  formatDuration,
  formatEnergy,
  joulesToWh,
  trimNumber,
} from "../units/energy.js";
import { carbonStatement } from "./markdown.js";
import type { ReportModel } from "./report-model.js";
import {
  CHART_COLORS,
  escapeXml,
  renderBarChart,
  renderLineChart,
  type Bar,
  type LineSeries,
} from "./svg-chart.js";

/** Most points drawn per series; longer timelines are averaged into this many buckets. */
export const DEFAULT_MAX_CHART_POINTS = 1500;

/** Options of {@link renderHtmlReport}. */
export interface HtmlReportOptions {
  /** Default {@link DEFAULT_MAX_CHART_POINTS}. */
  maxPointsPerSeries?: number;
  /** Findings of `adviseRun` for the run: adds an "Advice" section. Default none. */
  advice?: AdviceReport | null;
}

const COMPONENTS = ["cpu", "gpu", "ram"] as const;

/**
 * The report as a complete HTML document.
 * @param samples the run's timeline (from the store); null or empty when there is none,
 *   which the report says instead of drawing an empty chart.
 */
export function renderHtmlReport(
  model: ReportModel,
  samples: readonly TimelineSample[] | null,
  options: HtmlReportOptions = {},
): string {
  const maxPoints = options.maxPointsPerSeries ?? DEFAULT_MAX_CHART_POINTS;
  const sections = [
    summarySection(model),
    powerSection(model, samples, maxPoints),
    phaseSection(model),
    intensitySection(model),
    operationalEmbodiedSection(model),
    sciSection(model),
    equivalentsSection(model),
    ...(options.advice ? [adviceSection(options.advice)] : []),
    statementSection(model),
    assumptionsSection(model),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${escapeXml(model.generator)}">
<title>${escapeXml(`wattprint report: ${model.title}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Energy and carbon report</h1>
<p class="subtitle">${escapeXml(model.title)}</p>
<p class="meta">Generated ${escapeXml(model.generatedAt)} by ${escapeXml(model.generator)} from ${escapeXml(model.origin)}${model.producedBy === null ? "" : `; ${model.kind === "run" ? "measured" : "estimated"} by ${escapeXml(model.producedBy)}`}.</p>
</header>
<main>
${sections.join("\n")}
</main>
</body>
</html>
`;
}

function summarySection(model: ReportModel): string {
  const rows: [string, string][] = [];
  if (model.kind === "run") {
    rows.push(["Status", `${model.status ?? "unknown"}, ${formatDuration(model.durationS ?? 0)}`]);
    rows.push(["Started", model.startedAt ?? "unknown"]);
  }
  rows.push(["Energy", `${formatEnergy(model.energy.totalJ)} (${model.energy.basis})`]);
  const parts = model.energy.byComponentJ;
  if (parts !== null) {
    rows.push([
      "By component",
      COMPONENTS.map(
        (c) => `${c.toUpperCase()} ${parts[c] === null ? "not measured" : formatEnergy(parts[c])}`,
      ).join(" · "),
    ]);
  }
  if (model.energy.machineTotalJ !== null) {
    rows.push([
      "Whole machine",
      `${formatEnergy(model.energy.machineTotalJ)}${model.energy.shareOfMachine === null ? "" : ` (this run: ${trimNumber(model.energy.shareOfMachine * 100)}%)`}`,
    ]);
  }
  rows.push(["Operational CO2e", co2eOrReason(model.operational.co2eG, model.operational.reason)]);
  rows.push(["Embodied CO2e", co2eOrReason(model.embodied.co2eG, model.embodied.reason)]);
  rows.push([
    "Total CO2e",
    model.totalCo2eG === null
      ? "unknown (a part is unknown, see above)"
      : formatCo2e(model.totalCo2eG),
  ]);
  rows.push([
    "Carbon intensity",
    model.intensity.intensityGPerKWh === null
      ? "unknown"
      : `${trimNumber(model.intensity.intensityGPerKWh)} gCO2e/kWh${model.location === null ? "" : `, ${model.location}`} (${model.intensity.source ?? "source unknown"})`,
  ]);
  rows.push([
    "PUE",
    model.pue.value === null
      ? "unknown"
      : `${trimNumber(model.pue.value)} (${model.pue.source ?? "source unknown"})`,
  ]);
  if (model.hardware.length > 0) rows.push(["Hardware", model.hardware.join("; ")]);
  return section("summary", "Summary", table(["", ""], rows, { headless: true }));
}

function powerSection(
  model: ReportModel,
  samples: readonly TimelineSample[] | null,
  maxPoints: number,
): string {
  if (model.kind === "estimate") {
    return section("power", "Power over time", note("An estimate has no measured timeline."));
  }
  if (samples === null || samples.length === 0) {
    return section(
      "power",
      "Power over time",
      note(`No power timeline: ${model.timeline.note ?? "no samples were recorded"}.`),
    );
  }
  const buckets = bucketSamples(samples, maxPoints);
  const lastElapsed = samples[samples.length - 1]?.elapsedS ?? 0;
  const time = timeScale(lastElapsed);
  const series: LineSeries[] = COMPONENTS.map((component) => ({
    id: component,
    label: `${component.toUpperCase()} (this run)`,
    color: CHART_COLORS[component],
    points: buckets.map((bucket) => ({
      x: bucket.elapsedS / time.divisor,
      y: bucket.attributed[component],
    })),
  }));
  series.push({
    id: "machine",
    label: "whole machine",
    color: CHART_COLORS.machine,
    dashed: true,
    points: buckets.map((bucket) => ({
      x: bucket.elapsedS / time.divisor,
      y: bucket.machineTotal,
    })),
  });
  const drawn = series.filter((line) => line.points.some((point) => point.y !== null));
  if (drawn.length === 0) {
    return section("power", "Power over time", note("No power value was recorded in any sample."));
  }
  const chart = renderLineChart({
    id: "power",
    title: "Mean power per sampling interval",
    xLabel: `time since start (${time.unit})`,
    yLabel: "power (W)",
    series,
  });
  const averaged =
    buckets.length < samples.length
      ? ` Each point averages ${Math.ceil(samples.length / maxPoints)} consecutive samples (time-weighted).`
      : "";
  const missing = model.unmeasured.map((item) => `${item.component.toUpperCase()}: ${item.reason}`);
  return section(
    "power",
    "Power over time",
    `<figure>${chart}<figcaption>${samples.length} samples.${averaged} Lines: power attributed to the tracked processes per component; dashed: the whole machine on the measured components.${missing.length > 0 ? ` Not measured: ${escapeXml(missing.join("; "))}.` : ""}</figcaption></figure>`,
  );
}

function phaseSection(model: ReportModel): string {
  if (model.phases.length === 0) {
    return section(
      "phases",
      "Energy by phase",
      note(
        model.kind === "run"
          ? "No phases were marked in this run (see the marks file in docs/run-record.md)."
          : "An estimate has no phases.",
      ),
    );
  }
  const bars: Bar[] = model.phases.map((phase) => ({
    label: phase.name,
    segments: COMPONENTS.flatMap((component) => {
      const energyJ = phase.energyJ[component];
      return energyJ === null
        ? []
        : [
            {
              id: component,
              label: component.toUpperCase(),
              value: joulesToWh(energyJ),
              color: CHART_COLORS[component],
            },
          ];
    }),
  }));
  const chart = renderBarChart({
    id: "phases",
    title: "Energy attributed to each phase",
    unit: "Wh",
    bars,
    formatValue: (wh) => formatEnergy(wh * 3600),
  });
  const rows = model.phases.map((phase) => [
    phase.name,
    phase.startedAt,
    phase.endedAt ?? "still open",
    formatEnergy(phase.energyJ.total),
    formatCo2e(phase.co2eG),
  ]);
  return section(
    "phases",
    "Energy by phase",
    `<figure>${chart}<figcaption>Nested phases each count their own time, so phases can add up to more than the run.</figcaption></figure>` +
      table(["phase", "started", "ended", "energy", "CO2e"], rows),
  );
}

function intensitySection(model: ReportModel): string {
  const intensity = model.intensity;
  if (intensity.series !== null && intensity.series.length > 0) {
    const originMs =
      model.startedAt !== null ? Date.parse(model.startedAt) : (intensity.series[0]?.startMs ?? 0);
    const lastMs = intensity.series[intensity.series.length - 1]?.endMs ?? originMs;
    const time = timeScale((lastMs - originMs) / 1000);
    const points: { x: number; y: number | null }[] = [];
    let previousEnd: number | null = null;
    for (const point of intensity.series) {
      // Sampling jitter is not a gap; a hole of more than a second is.
      if (previousEnd !== null && point.startMs - previousEnd > 1000)
        points.push({ x: (previousEnd - originMs) / 1000 / time.divisor, y: null });
      points.push({
        x: (point.startMs - originMs) / 1000 / time.divisor,
        y: point.intensityGPerKWh,
      });
      points.push({ x: (point.endMs - originMs) / 1000 / time.divisor, y: point.intensityGPerKWh });
      previousEnd = point.endMs;
    }
    const chart = renderLineChart({
      id: "intensity",
      title: "Grid carbon intensity",
      xLabel: `time since ${model.startedAt !== null ? "the run started" : "the first value"} (${time.unit})`,
      yLabel: "gCO2e/kWh",
      series: [
        {
          id: "intensity",
          label: `intensity (${intensity.seriesSource ?? "series"})`,
          color: CHART_COLORS.intensity,
          points,
        },
      ],
    });
    return section(
      "intensity",
      "Carbon intensity over time",
      `<figure>${chart}<figcaption>Source: ${escapeXml(intensity.seriesSource ?? "unknown")}. Gaps in the data are left blank.</figcaption></figure>`,
    );
  }
  if (intensity.intensityGPerKWh === null) {
    return section(
      "intensity",
      "Carbon intensity over time",
      note("The carbon intensity is unknown."),
    );
  }
  const label = `${trimNumber(intensity.intensityGPerKWh)} gCO2e/kWh, ${intensity.source ?? "source unknown"}${intensity.year === null ? "" : ` (${intensity.year})`}`;
  const explanation = `No time-resolved intensity is known for this ${model.kind}: one ${intensity.signal ?? "average"} figure applies to all of it${intensity.fallback === true ? " (a fallback: no region was given or a coarser figure stood in)" : ""}.`;
  if (model.kind !== "run" || model.durationS === null) {
    return section("intensity", "Carbon intensity over time", note(`${explanation} ${label}.`));
  }
  const time = timeScale(model.durationS);
  const end = Math.max(model.durationS, 1e-9) / time.divisor;
  const chart = renderLineChart({
    id: "intensity",
    title: "Grid carbon intensity (constant)",
    xLabel: `time since start (${time.unit})`,
    yLabel: "gCO2e/kWh",
    series: [
      {
        id: "intensity",
        label: `constant: ${label}`,
        color: CHART_COLORS.intensity,
        dashed: true,
        points: [
          { x: 0, y: intensity.intensityGPerKWh },
          { x: end, y: intensity.intensityGPerKWh },
        ],
      },
    ],
  });
  return section(
    "intensity",
    "Carbon intensity over time",
    `<figure>${chart}<figcaption>${escapeXml(explanation)} Zone ${escapeXml(intensity.zone ?? "unknown")}, region ${escapeXml(intensity.region ?? "unknown")}.</figcaption></figure>`,
  );
}

function operationalEmbodiedSection(model: ReportModel): string {
  const bars: Bar[] = [];
  if (model.operational.co2eG !== null) {
    bars.push({
      label: "operational",
      segments: [
        {
          id: "operational",
          label: "operational (energy × PUE × intensity)",
          value: model.operational.co2eG,
          color: CHART_COLORS.operational,
        },
      ],
    });
  }
  if (model.embodied.co2eG !== null) {
    bars.push({
      label: "embodied",
      segments: [
        {
          id: "embodied",
          label: "embodied (hardware manufacture, amortised)",
          value: model.embodied.co2eG,
          color: CHART_COLORS.embodied,
        },
      ],
    });
  }
  const notes: string[] = [];
  if (model.operational.co2eG === null)
    notes.push(`Operational emissions unknown: ${model.operational.reason ?? ""}.`);
  if (model.embodied.co2eG === null)
    notes.push(`Embodied emissions unknown: ${model.embodied.reason ?? ""}.`);
  const share = model.embodied.share;
  if (share !== null) {
    notes.push(
      `Embodied share M = TE × (TiR / EL) × (RR / ToR) = ${trimNumber(share.totalEmbodiedG / 1000)} kg × ${share.timeShare.toExponential(3)} × ${trimNumber(share.resourceShare)} (${share.source}).`,
    );
  }
  const chart =
    bars.length === 0
      ? ""
      : `<figure>${renderBarChart({ id: "operational-embodied", title: "Operational and embodied emissions", unit: "g CO2e", bars, formatValue: (g) => formatCo2e(g) })}</figure>`;
  return section(
    "operational-embodied",
    "Operational and embodied emissions",
    chart + notes.map((text) => note(text)).join(""),
  );
}

function sciSection(model: ReportModel): string {
  const sci = model.sci;
  if (sci === null) return "";
  const unit = sci.functionalUnit;
  const rows: [string, string][] = [
    [
      "SCI = (O + M) / R",
      sci.sciGPerUnit === null ? "unknown" : `${formatCo2e(sci.sciGPerUnit)} per ${unit}`,
    ],
    [
      "O / R (operational)",
      sci.operationalGPerUnit === null
        ? "unknown"
        : `${formatCo2e(sci.operationalGPerUnit)} per ${unit}`,
    ],
    [
      "M / R (embodied)",
      sci.embodiedGPerUnit === null ? "unknown" : `${formatCo2e(sci.embodiedGPerUnit)} per ${unit}`,
    ],
    ["R", `${trimNumber(sci.functionalUnits)} ${unit}s`],
    ["O from", sci.operationalSource ?? sci.operationalMethod],
  ];
  if (sci.energyKWh !== null) rows.push(["E (PUE included)", `${trimNumber(sci.energyKWh)} kWh`]);
  return section(
    "sci",
    "Software Carbon Intensity (ISO/IEC 21031:2024)",
    table(["", ""], rows, { headless: true }) + sci.missing.map((text) => note(text)).join(""),
  );
}

function equivalentsSection(model: ReportModel): string {
  const rows = model.equivalents.map((item) => [
    item.value === null ? `unknown (${item.reason ?? ""})` : trimNumber(item.value),
    item.label,
    `${item.basis === "energy" ? "energy" : "operational CO2e"} ÷ ${item.factor}`,
    `<a href="${escapeXml(item.url)}">${escapeXml(item.source)}</a>, ${item.year}`,
  ]);
  return section(
    "equivalents",
    "Everyday equivalents",
    table(["amount", "equivalent", "computed as", "source"], rows, { rawColumns: [3] }),
  );
}

function adviceSection(advice: AdviceReport): string {
  const range = (central: number | null, low: number | null, high: number | null) =>
    central === null
      ? "unknown"
      : low === null || high === null || (low === central && high === central)
        ? formatCo2e(central)
        : `${formatCo2e(central)} (${formatCo2e(low)} to ${formatCo2e(high)})`;
  const rows = advice.findings.map((finding, index) => [
    String(index + 1),
    finding.title,
    `${range(finding.saving.co2eG, finding.saving.low.co2eG, finding.saving.high.co2eG)}, ${finding.saving.basis}`,
    finding.saving.energyJ === null || finding.saving.energyJ === 0
      ? "—"
      : formatEnergy(finding.saving.energyJ),
    finding.confidence,
    `<code>${escapeXml(finding.command)}</code>`,
  ]);
  const body =
    rows.length === 0
      ? note("No rule found anything worth changing.")
      : table(["#", "recommendation", "CO2e saved", "energy saved", "confidence", "check"], rows, {
          rawColumns: [5],
        });
  const unchecked = advice.rules.filter((rule) => rule.status === "not-enough-data");
  const missing =
    unchecked.length === 0
      ? ""
      : `<ul class="warnings">${unchecked.map((rule) => `<li>${escapeXml(`${rule.title}: not enough data (${rule.missing.join("; ")})`)}</li>`).join("")}</ul>`;
  return section(
    "advice",
    "Advice",
    body +
      missing +
      note(
        "Ranked by CO2e saved; evidence, ranges and their derivation: wattprint advise <run> (docs/advise.md).",
      ),
  );
}

function statementSection(model: ReportModel): string {
  return section(
    "statement",
    "Carbon statement",
    `<p class="statement">${escapeXml(carbonStatement(model))}</p>`,
  );
}

function assumptionsSection(model: ReportModel): string {
  const parts: string[] = [];
  parts.push(
    "<h3>Assumptions and inputs</h3>" +
      table(
        ["name", "value", "unit", "source"],
        model.assumptions.map((a) => [
          a.name,
          a.value === null
            ? "unknown"
            : String(typeof a.value === "number" ? trimNumber(a.value) : a.value),
          a.unit ?? "",
          a.source ?? "not stated",
        ]),
      ),
  );
  if (model.sources.length > 0) {
    parts.push(
      "<h3>Measurement sources</h3>" +
        table(
          [
            "component",
            "method",
            "source",
            "channel",
            "attribution",
            "machine energy",
            "attributed energy",
            "notes",
          ],
          model.sources.map((s) => [
            s.component,
            s.method,
            s.source,
            s.label,
            s.attribution,
            formatEnergy(s.machineEnergyJ),
            formatEnergy(s.attributedEnergyJ),
            s.notes.join("; "),
          ]),
        ),
    );
  }
  if (model.unmeasured.length > 0) {
    parts.push(
      "<h3>Not measured</h3>" +
        table(
          ["component", "reason"],
          model.unmeasured.map((u) => [u.component, u.reason]),
        ),
    );
  }
  const intensity = model.intensity;
  parts.push(
    "<h3>Carbon intensity source</h3>" +
      table(
        ["", ""],
        [
          [
            "intensity",
            intensity.intensityGPerKWh === null
              ? "unknown"
              : `${trimNumber(intensity.intensityGPerKWh)} gCO2e/kWh`,
          ],
          ["region", intensity.region ?? "unknown"],
          ["zone", intensity.zone ?? "unknown"],
          ["source", intensity.source ?? "unknown"],
          ["year", intensity.year === null ? "unknown" : String(intensity.year)],
          ["signal", intensity.signal ?? "unknown"],
          ["fallback", intensity.fallback === null ? "unknown" : String(intensity.fallback)],
          ["time series", intensity.seriesSource ?? "none: one figure for all of it"],
          ["PUE", model.pue.value === null ? "unknown" : trimNumber(model.pue.value)],
          ["PUE source", model.pue.source ?? "unknown"],
        ],
        { headless: true },
      ),
  );
  parts.push(
    "<h3>Warnings</h3>" +
      (model.warnings.length === 0
        ? note("None.")
        : `<ul class="warnings">${model.warnings.map((w) => `<li>${escapeXml(w)}</li>`).join("")}</ul>`),
  );
  return section("assumptions", "Assumptions and sources", parts.join("\n"));
}

interface Bucket {
  elapsedS: number;
  attributed: Record<(typeof COMPONENTS)[number], number | null>;
  machineTotal: number | null;
}

/**
 * Groups consecutive samples into at most `maxBuckets` buckets, each with the
 * interval-weighted mean power per component (null where no sample of the bucket knows it),
 * so long timelines keep their energy while the chart stays small.
 */
export function bucketSamples(samples: readonly TimelineSample[], maxBuckets: number): Bucket[] {
  const size = Math.max(1, Math.ceil(samples.length / Math.max(1, maxBuckets)));
  const buckets: Bucket[] = [];
  for (let start = 0; start < samples.length; start += size) {
    const group = samples.slice(start, start + size);
    const mean = (pick: (sample: TimelineSample) => number | null): number | null => {
      let weighted = 0;
      let weight = 0;
      for (const sample of group) {
        const value = pick(sample);
        if (value === null) continue;
        const w = sample.intervalS > 0 ? sample.intervalS : 1;
        weighted += value * w;
        weight += w;
      }
      return weight === 0 ? null : weighted / weight;
    };
    const machineTotal = (sample: TimelineSample): number | null => {
      const known = COMPONENTS.map((c) => sample.machinePowerW[c]).filter(
        (v): v is number => v !== null,
      );
      return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
    };
    buckets.push({
      elapsedS: group[group.length - 1]?.elapsedS ?? 0,
      attributed: {
        cpu: mean((s) => s.attributedPowerW.cpu),
        gpu: mean((s) => s.attributedPowerW.gpu),
        ram: mean((s) => s.attributedPowerW.ram),
      },
      machineTotal: mean(machineTotal),
    });
  }
  return buckets;
}

function timeScale(maxS: number): { divisor: number; unit: string } {
  if (maxS >= 3 * 3600) return { divisor: 3600, unit: "h" };
  if (maxS >= 180) return { divisor: 60, unit: "min" };
  return { divisor: 1, unit: "s" };
}

function co2eOrReason(co2eG: number | null, reason: string | null): string {
  return co2eG === null ? `unknown: ${reason ?? "not given"}` : formatCo2e(co2eG);
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}">\n<h2>${escapeXml(title)}</h2>\n${body}\n</section>`;
}

function note(text: string): string {
  return `<p class="note">${escapeXml(text)}</p>`;
}

function table(
  header: string[],
  rows: string[][],
  options: { headless?: boolean; rawColumns?: number[] } = {},
): string {
  const raw = new Set(options.rawColumns ?? []);
  const head = options.headless
    ? ""
    : `<thead><tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr></thead>`;
  const body = rows
    .map(
      (row) =>
        `<tr>${row
          .map((cell, index) =>
            options.headless && index === 0
              ? `<th scope="row">${escapeXml(cell)}</th>`
              : `<td>${raw.has(index) ? cell : escapeXml(cell)}</td>`,
          )
          .join("")}</tr>`,
    )
    .join("");
  return `<table${options.headless ? ' class="kv"' : ""}>${head}<tbody>${body}</tbody></table>`;
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1a1a1a; background: #fafafa; line-height: 1.45; }
header, main { max-width: 980px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 0 0 10px; }
h3 { font-size: 1rem; margin: 18px 0 6px; }
.subtitle { font-size: 1.05rem; margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
.meta { color: #555; font-size: 0.85rem; }
section { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 16px 18px; margin: 16px 0; }
figure { margin: 0; overflow-x: auto; }
figcaption { color: #555; font-size: 0.85rem; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; margin: 6px 0; }
th, td { text-align: left; border-bottom: 1px solid #eee; padding: 4px 8px; vertical-align: top; }
table.kv th { width: 190px; color: #444; font-weight: 600; }
.note { color: #444; font-size: 0.9rem; }
.statement { font-style: italic; }
ul.warnings { margin: 4px 0; padding-left: 20px; font-size: 0.88rem; }
@media print { body { background: #fff; } section { break-inside: avoid; border: none; } }
`;
