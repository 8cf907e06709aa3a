import { describe, expect, it } from "vitest";
import { adviseRun } from "../../src/advise/advise.js";
import { renderHtmlReport } from "../../src/report/html.js";
import type { ReportInput } from "../../src/report/load-input.js";
import { renderMarkdownReport } from "../../src/report/markdown.js";
import { buildReportModel } from "../../src/report/report-model.js";
import { formatCo2e } from "../../src/units/energy.js";
import { recordRun } from "./fixtures.js";

// The "Advice" section of the HTML and Markdown reports, fed by adviseRun.
describe("Advice section of the report", () => {
  const { run, samples } = recordRun({
    startedAt: "2022-06-16T03:00:00.000Z",
    region: "US-CAL-CISO",
    pue: 1.6,
    phases: [
      { name: "load<data>", durationS: 900, gpuW: 70, cpuW: 120 },
      { name: "train", durationS: 1800, gpuW: 600, cpuW: 120 },
    ],
  });
  const input: ReportInput = { kind: "run", origin: "test", run, samples, samplesNote: null };
  const model = buildReportModel(input);

  it("lists the findings in rank order, escaped, with the rules that lacked data", async () => {
    const advice = await adviseRun({ run, samples });
    const html = renderHtmlReport(model, samples, { advice });
    const section = /<section id="advice">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? "";
    expect(section).toContain("<h2>Advice</h2>");
    const rows = section.match(/<tr><td>\d+<\/td>/g) ?? [];
    expect(rows).toHaveLength(advice.findings.length);
    const first = advice.findings[0];
    expect(section).toContain(formatCo2e(first?.saving.co2eG ?? null));
    expect(section).toContain("phase &quot;load&lt;data&gt;&quot;");
    expect(section).not.toContain("load<data>");
    expect(section).toMatch(/Serving: a compressed model: not enough data/);
    expect(html.indexOf('id="advice"')).toBeLessThan(html.indexOf('id="statement"'));
  });

  it("says so when nothing is worth changing, and is absent without advice", async () => {
    const advice = await adviseRun({ run, samples });
    const none = renderHtmlReport(model, samples, { advice: { ...advice, findings: [] } });
    expect(none).toContain("No rule found anything worth changing.");
    expect(renderHtmlReport(model, samples)).not.toContain('id="advice"');
  });

  it("adds a Markdown table", async () => {
    const advice = await adviseRun({ run, samples });
    const markdown = renderMarkdownReport(model, samples, { advice });
    const section = markdown.slice(
      markdown.indexOf("## Advice"),
      markdown.indexOf("## Carbon statement"),
    );
    expect(section).toMatch(
      /\| # \| recommendation \| CO2e saved \| range \| confidence \| check \|/,
    );
    expect(section.split("\n").filter((line) => /^\| \d+ \|/.test(line))).toHaveLength(
      advice.findings.length,
    );
    expect(section).toMatch(/- Serving: a compressed model: not enough data/);
    expect(renderMarkdownReport(model, samples)).not.toContain("## Advice");
  });
});
