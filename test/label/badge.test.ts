import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  RATING_COLOURS,
  formatWhPer1kQueries,
  ratingStars,
  renderLabelBadge,
  type BadgeContent,
} from "../../src/label/badge.js";
import type { LabelRating } from "../../src/label/rating.js";

const hasPython = spawnSync("python3", ["-c", "import xml.etree.ElementTree"]).status === 0;

// Python's XML parser (a separate, strict implementation) reads the badge back.
const PARSE_SCRIPT = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
ns = "{http://www.w3.org/2000/svg}"
print(json.dumps({
  "tag": root.tag,
  "width": root.get("width"),
  "height": root.get("height"),
  "title": root.find(ns + "title").text,
  "desc": root.find(ns + "desc").text,
  "texts": [t.text for t in root.iter(ns + "text")],
  "fills": [r.get("fill") for r in root.iter(ns + "rect")],
}))
`;

interface ParsedSvg {
  tag: string;
  width: string;
  height: string;
  title: string;
  desc: string;
  texts: string[];
  fills: (string | null)[];
}

function parseSvg(svg: string): ParsedSvg {
  const result = spawnSync("python3", ["-c", PARSE_SCRIPT], { input: svg });
  if (result.status !== 0) throw new Error(`not well-formed XML: ${result.stderr.toString()}`);
  return JSON.parse(result.stdout.toString()) as ParsedSvg;
}

/** Reads "13.9 µWh" back as Wh. */
function readFigure(text: string): number {
  const match = /([\d.]+) (µWh|mWh|Wh) \/ 1k queries/.exec(text);
  if (!match) throw new Error(`no figure in "${text}"`);
  const factor = { µWh: 1e-6, mWh: 1e-3, Wh: 1 }[match[2] as "µWh" | "mWh" | "Wh"];
  return Number(match[1]) * factor;
}

const content = (rating: LabelRating, energyWhPer1kQueries: number): BadgeContent => ({
  task: "mnist-classification",
  rating,
  energyWhPer1kQueries,
  protocolName: "wattprint-label/1",
  referenceHardware: "AMD EPYC ×2",
});

describe.skipIf(!hasPython)(
  `badge SVG${hasPython ? "" : " (skipped: python3 is not installed to parse the XML)"}`,
  () => {
    it.each([
      [5, 3.21e-6],
      [4, 4.56e-5],
      [3, 0.0123],
      [2, 0.5],
      [1, 12.5],
    ] as const)("is well-formed SVG with rating %i and its figure", (rating, energyWh) => {
      const parsed = parseSvg(renderLabelBadge(content(rating, energyWh)));
      expect(parsed.tag).toBe("{http://www.w3.org/2000/svg}svg");
      expect(Number(parsed.width)).toBeGreaterThan(100);
      expect(Number(parsed.height)).toBeGreaterThan(0);
      const right = parsed.texts[1] ?? "";
      expect(right.startsWith(`${rating}/5 `)).toBe(true);
      expect([...right].filter((c) => c === "★")).toHaveLength(rating);
      // Three significant figures: the figure read back is within 0.5% of the certificate's.
      expect(readFigure(right) / energyWh).toBeCloseTo(1, 2);
      expect(parsed.texts[0]).toContain("mnist-classification");
      expect(parsed.title).toContain(`rating ${rating} of 5`);
      expect(parsed.desc).toContain("wattprint-label/1");
      expect(parsed.fills).toContain(RATING_COLOURS[rating]);
    });

    it("stays well-formed with markup characters in the text", () => {
      const svg = renderLabelBadge({ ...content(3, 1e-4), task: `a&b<"c">'d'` });
      const parsed = parseSvg(svg);
      expect(parsed.texts[0]).toBe(`energy · a&b<"c">'d'`);
      expect(parsed.title).toContain(`a&b<"c">'d'`);
    });
  },
);

describe("badge helpers", () => {
  it("gives each rating its own colour", () => {
    expect(new Set(Object.values(RATING_COLOURS)).size).toBe(5);
  });

  it("picks the unit so the number stays readable", () => {
    expect(formatWhPer1kQueries(2.5)).toBe("2.5 Wh");
    expect(formatWhPer1kQueries(0.0123456)).toBe("12.3 mWh");
    expect(formatWhPer1kQueries(0.000001234)).toBe("1.23 µWh");
    expect(formatWhPer1kQueries(0.001)).toBe("1 mWh");
  });

  it("draws filled then empty stars", () => {
    expect(ratingStars(2)).toBe("★★☆☆☆");
    expect(ratingStars(5)).toBe("★★★★★");
  });
});
