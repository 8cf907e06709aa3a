/**
 * The Markdown report, for pull requests and papers: the same figures as the HTML report
 * as tables, and a "carbon statement" paragraph of the kind papers print, with every
 * figure's source.
 */
import type { AdviceReport } from "../advise/types.js";
import type { TimelineSample } from "../record/run-record.js";
import {
  formatCo2e,
  formatDuration,
  formatEnergy,
  formatPower,
  trimNumber,
} from "../units/energy.js";
import type { ReportModel } from "./report-model.js";

const COMPONENTS = ["cpu", "gpu", "ram"] as const;

const METHOD_WORDS: Record<string, string> = {
  counter: "hardware energy counters",
  "power-integration": "integrated power readings",
  model: "power models",
};

/**
 * One paragraph stating what the work used and emitted, where, on what, and from which
 * sources, in the style of the compute statements papers print. Unknown figures are said
 * to be unknown, never given as 0.
 */
export function carbonStatement(model: ReportModel): string {
  const sentences: string[] = [];
  const where = model.location === null ? "" : ` in ${model.location}`;
  const on = model.hardware.length === 0 ? "" : ` on ${model.hardware.join(" and ")}`;
  if (model.kind === "run") {
    const methods = describeMethods(model);
    sentences.push(
      `This run used ${formatEnergy(model.energy.totalJ)} of electricity over ${formatDuration(model.durationS ?? 0)}${on}${where}, ${methods}.`,
    );
  } else {
    const deviceHours = model.assumptions.find((a) => /device.?hours/i.test(a.name));
    const hours =
      typeof deviceHours?.value === "number"
        ? ` over ${trimNumber(deviceHours.value)} device-hours`
        : "";
    sentences.push(
      `This work is estimated to use ${formatEnergy(model.energy.totalJ)} of electricity${hours}${on}${where}; the assumptions behind the estimate are listed with their sources.`,
    );
  }
  const intensity = model.intensity;
  if (intensity.intensityGPerKWh !== null) {
    const year = intensity.year === null ? "" : `, ${intensity.year}`;
    const fallback = intensity.fallback === true ? ", a fallback figure" : "";
    const pue =
      model.pue.value === null
        ? ""
        : ` and a data-centre PUE of ${trimNumber(model.pue.value)} (${model.pue.source ?? "source not stated"})`;
    sentences.push(
      `With a location-based grid carbon intensity of ${trimNumber(intensity.intensityGPerKWh)} gCO2e/kWh (${intensity.source ?? "source not stated"}${year}${fallback})${pue}, the operational emissions are ${formatCo2e(model.operational.co2eG)}.`,
    );
  } else {
    sentences.push(
      model.operational.co2eG === null
        ? `The operational emissions are unknown: ${model.operational.reason ?? "no intensity was given"}.`
        : `The operational emissions are ${formatCo2e(model.operational.co2eG)}.`,
    );
  }
  if (model.embodied.co2eG !== null) {
    sentences.push(
      `The share of the hardware's embodied (manufacturing) emissions adds ${formatCo2e(model.embodied.co2eG)} (${model.embodied.source ?? "source not stated"}), for a total of ${formatCo2e(model.totalCo2eG)}.`,
    );
  } else {
    sentences.push("Embodied emissions of the hardware are not included.");
  }
  const made =
    model.producedBy !== null && model.producedBy !== model.generator
      ? `${model.kind === "run" ? "Measured" : "Estimated"} with ${model.producedBy}; reported with ${model.generator}.`
      : `${model.kind === "run" ? "Measured" : "Estimated"} and reported with ${model.generator}.`;
  sentences.push(made);
  return sentences.join(" ");
}

/** Options of {@link renderMarkdownReport}. */
export interface MarkdownReportOptions {
  /** Findings of `adviseRun` for the run: adds an "Advice" section. Default none. */
  advice?: AdviceReport | null;
}

/** The Markdown report. `samples` adds mean and peak power per component when given. */
export function renderMarkdownReport(
  model: ReportModel,
  samples: readonly TimelineSample[] | null,
  options: MarkdownReportOptions = {},
): string {
  const out: string[] = [];
  out.push(`# Energy and carbon report: ${model.title}`, "");
  out.push(`Generated ${model.generatedAt} by ${model.generator} from ${model.origin}.`, "");
  out.push("## Summary", "");
  const rows: string[][] = [];
  if (model.kind === "run") {
    rows.push(["status", `${model.status ?? "unknown"}, ${formatDuration(model.durationS ?? 0)}`]);
  }
  rows.push(["energy", `${formatEnergy(model.energy.totalJ)} (${model.energy.basis})`]);
  const parts = model.energy.byComponentJ;
  if (parts !== null) {
    for (const component of COMPONENTS) {
      rows.push([
        `energy, ${component}`,
        parts[component] === null ? "not measured" : formatEnergy(parts[component]),
      ]);
    }
  }
  if (model.energy.machineTotalJ !== null) {
    rows.push(["whole machine", formatEnergy(model.energy.machineTotalJ)]);
  }
  rows.push(["operational CO2e", orReason(model.operational.co2eG, model.operational.reason)]);
  rows.push(["embodied CO2e", orReason(model.embodied.co2eG, model.embodied.reason)]);
  rows.push([
    "total CO2e",
    model.totalCo2eG === null ? "unknown (a part is unknown)" : formatCo2e(model.totalCo2eG),
  ]);
  rows.push([
    "carbon intensity",
    model.intensity.intensityGPerKWh === null
      ? "unknown"
      : `${trimNumber(model.intensity.intensityGPerKWh)} gCO2e/kWh (${model.intensity.source ?? "source not stated"})`,
  ]);
  rows.push([
    "PUE",
    model.pue.value === null
      ? "unknown"
      : `${trimNumber(model.pue.value)} (${model.pue.source ?? "source not stated"})`,
  ]);
  if (model.location !== null) rows.push(["location", model.location]);
  if (model.hardware.length > 0) rows.push(["hardware", model.hardware.join("; ")]);
  out.push(...mdTable(["", "value"], rows), "");

  if (samples !== null && samples.length > 0) {
    out.push("## Power", "");
    const stats = COMPONENTS.map((component) => {
      const values = samples
        .map((s) => s.attributedPowerW[component])
        .filter((v): v is number => v !== null);
      if (values.length === 0) return [component, "not measured", "not measured"];
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      return [component, formatPower(mean), formatPower(Math.max(...values))];
    });
    out.push(`${samples.length} samples; power attributed to the tracked processes.`, "");
    out.push(...mdTable(["component", "mean", "peak"], stats), "");
  } else if (model.kind === "run") {
    out.push(
      "## Power",
      "",
      `No power timeline: ${model.timeline.note ?? "no samples were recorded"}.`,
      "",
    );
  }

  if (model.phases.length > 0) {
    out.push("## Energy by phase", "");
    out.push(
      ...mdTable(
        ["phase", "energy", "cpu", "gpu", "ram", "CO2e"],
        model.phases.map((p) => [
          p.name,
          formatEnergy(p.energyJ.total),
          formatEnergy(p.energyJ.cpu),
          formatEnergy(p.energyJ.gpu),
          formatEnergy(p.energyJ.ram),
          formatCo2e(p.co2eG),
        ]),
      ),
      "",
    );
  }

  if (model.sci !== null) {
    const sci = model.sci;
    out.push("## Software Carbon Intensity (ISO/IEC 21031:2024)", "");
    out.push(
      ...mdTable(
        ["term", "value"],
        [
          [
            "SCI = (O + M) / R",
            sci.sciGPerUnit === null
              ? "unknown"
              : `${formatCo2e(sci.sciGPerUnit)} per ${sci.functionalUnit}`,
          ],
          [
            "O / R",
            sci.operationalGPerUnit === null
              ? "unknown"
              : `${formatCo2e(sci.operationalGPerUnit)} per ${sci.functionalUnit}`,
          ],
          [
            "M / R",
            sci.embodiedGPerUnit === null
              ? "unknown"
              : `${formatCo2e(sci.embodiedGPerUnit)} per ${sci.functionalUnit}`,
          ],
          ["R", `${trimNumber(sci.functionalUnits)} ${sci.functionalUnit}s`],
        ],
      ),
      "",
    );
    for (const missing of sci.missing) out.push(`- ${missing}`);
    if (sci.missing.length > 0) out.push("");
  }

  out.push("## Everyday equivalents", "");
  out.push(
    ...mdTable(
      ["amount", "equivalent", "computed as", "source"],
      model.equivalents.map((e) => [
        e.value === null ? `unknown (${e.reason ?? ""})` : trimNumber(e.value),
        e.label,
        `${e.basis === "energy" ? "energy" : "operational CO2e"} ÷ ${e.factor}`,
        `[${e.source}](${e.url}), ${e.year}`,
      ]),
    ),
    "",
  );

  if (options.advice) out.push(...adviceLines(options.advice));

  out.push("## Carbon statement", "", carbonStatement(model), "");

  out.push("## Assumptions and sources", "");
  out.push(
    ...mdTable(
      ["name", "value", "unit", "source"],
      model.assumptions.map((a) => [
        a.name,
        a.value === null
          ? "unknown"
          : typeof a.value === "number"
            ? trimNumber(a.value)
            : String(a.value),
        a.unit ?? "",
        a.source ?? "not stated",
      ]),
    ),
    "",
  );
  if (model.unmeasured.length > 0) {
    out.push("Not measured:", "");
    for (const item of model.unmeasured) out.push(`- ${item.component}: ${item.reason}`);
    out.push("");
  }
  if (model.warnings.length > 0) {
    out.push("Warnings:", "");
    for (const warning of model.warnings) out.push(`- ${warning}`);
    out.push("");
  }
  return `${out.join("\n").replace(/\n+$/, "")}\n`;
}

function adviceLines(advice: AdviceReport): string[] {
  const lines = ["## Advice", ""];
  if (advice.findings.length === 0) {
    lines.push("No rule found anything worth changing.", "");
  } else {
    lines.push(
      ...mdTable(
        ["#", "recommendation", "CO2e saved", "range", "confidence", "check"],
        advice.findings.map((finding, index) => [
          String(index + 1),
          finding.title,
          `${formatCo2e(finding.saving.co2eG)} (${finding.saving.basis})`,
          `${formatCo2e(finding.saving.low.co2eG)} to ${formatCo2e(finding.saving.high.co2eG)}`,
          finding.confidence,
          `\`${finding.command}\``,
        ]),
      ),
      "",
    );
  }
  for (const rule of advice.rules.filter((item) => item.status === "not-enough-data")) {
    lines.push(`- ${rule.title}: not enough data (${rule.missing.join("; ")})`);
  }
  if (lines[lines.length - 1] !== "") lines.push("");
  return lines;
}

function describeMethods(model: ReportModel): string {
  if (model.sources.length === 0) return "with no measurement source recorded";
  const byMethod = new Map<string, string[]>();
  for (const source of model.sources) {
    const list = byMethod.get(source.method) ?? [];
    if (!list.includes(source.source)) list.push(source.source);
    byMethod.set(source.method, list);
  }
  const parts = [...byMethod].map(
    ([method, names]) => `${METHOD_WORDS[method] ?? method} (${names.join(", ")})`,
  );
  return `as read from ${parts.join(" and ")}`;
}

function orReason(co2eG: number | null, reason: string | null): string {
  return co2eG === null ? `unknown: ${reason ?? "not given"}` : formatCo2e(co2eG);
}

/** A GitHub-flavoured Markdown table; cells are escaped (pipes, line breaks). */
export function mdTable(header: string[], rows: string[][]): string[] {
  const cell = (text: string) =>
    text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
  return [
    `| ${header.map(cell).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ];
}
