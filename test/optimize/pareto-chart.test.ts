import { describe, expect, it } from "vitest";
import { renderParetoHtml, renderParetoSvg } from "../../src/optimize/pareto-chart.js";

const variants = [
  { name: "baseline", accuracy: 0.98, energyJPer1kInferences: 10, sizeBytes: 1000, pareto: true },
  { name: "int8", accuracy: 0.975, energyJPer1kInferences: 11, sizeBytes: 250, pareto: false },
  {
    name: "prune-units-50%",
    accuracy: 0.97,
    energyJPer1kInferences: 4,
    sizeBytes: 400,
    pareto: true,
    recommended: true,
  },
  { name: "broken", accuracy: 0.5, energyJPer1kInferences: null, sizeBytes: 10, pareto: false },
];

describe("Pareto chart", () => {
  it("draws the front as a line through its variants and marks every measured variant", () => {
    const svg = renderParetoSvg(variants);
    expect(svg).toMatch(/^<svg [^>]*data-chart="pareto"/);
    expect(svg).toMatch(/data-series="pareto-front" data-points="2"/);
    // A cross is four points (two strokes): 2 on the front, 1 dominated; the unmeasured one is left out.
    expect(svg).toMatch(/data-series="front-variants" data-points="8"/);
    expect(svg).toMatch(/data-series="other-variants" data-points="4"/);
    expect(svg).not.toMatch(/NaN|Infinity/);
    // The front line goes from the less accurate (lower energy) to the more accurate variant.
    const line =
      /data-series="pareto-front"[^]*?<path d="M([\d.]+) ([\d.]+) L([\d.]+) ([\d.]+)"/.exec(svg);
    expect(line).not.toBeNull();
    const [x1, y1, x2, y2] = (line as RegExpExecArray).slice(1).map(Number) as [
      number,
      number,
      number,
      number,
    ];
    expect(x1).toBeLessThan(x2);
    expect(y1).toBeGreaterThan(y2); // SVG y grows downwards: 4 J is lower on the chart than 10 J
  });

  it("writes an HTML page with the chart and a row per variant", () => {
    const html = renderParetoHtml(variants, { notes: ["Energy: modelled <CPU>."] });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("<svg");
    expect(html).toContain("prune-units-50% (recommended)");
    expect(html.match(/<tr[ >]/g)).toHaveLength(5);
    expect(html).toContain("unknown");
    expect(html).toContain("Energy: modelled &lt;CPU&gt;.");
  });
});
