import { describe, expect, it } from "vitest";
import { WattprintError } from "../../src/errors.js";
import {
  sectionMarkers,
  setFrontMatterEntry,
  setMarkedSection,
} from "../../src/report/front-matter.js";

const BLOCK = ["co2_eq_emissions:", "  emissions: 12.5", '  source: "wattprint"'];

// A model card shaped like the Hub's: indentless lists, nested maps, comments, quoting.
const CARD = [
  "---",
  "# metadata, see the Hub docs",
  "license: apache-2.0",
  "language:",
  "- en",
  "- fr",
  "tags:",
  "  - generated_from_trainer",
  "model-index:",
  "- name: tiny-bert",
  "  results:",
  "  - task:",
  "      type: text-classification",
  "widget:",
  '  - text: "I: love: colons"',
  "description: |",
  "  co2_eq_emissions: this line is text inside a block scalar",
  "",
  "  and a paragraph after a blank line",
  "---",
  "",
  "# tiny-bert",
  "",
  "Some text with --- inside and a trailing space ",
  "",
].join("\n");

function expectBadInput(run: () => unknown, pattern: RegExp): void {
  let error: unknown;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(WattprintError);
  expect((error as WattprintError).code).toBe("BAD_INPUT");
  expect((error as WattprintError).message).toMatch(pattern);
}

describe("setFrontMatterEntry", () => {
  it("inserts the entry before the closing --- and leaves every other byte alone", () => {
    const result = setFrontMatterEntry(CARD, "co2_eq_emissions", BLOCK);
    const closing = CARD.indexOf("\n---\n", 4) + 1;
    const expected = CARD.slice(0, closing) + BLOCK.join("\n") + "\n" + CARD.slice(closing);
    expect(result).toBe(expected);
  });

  it("replaces an existing entry with all its nested lines, keeping comments and keys around it", () => {
    const card = [
      "---",
      "license: mit",
      "co2_eq_emissions:",
      "  emissions: 999",
      "  # an indented comment inside the old entry",
      "  source: old",
      "",
      "# a top-level comment that is not part of the entry",
      "pipeline_tag: fill-mask",
      "---",
      "body",
    ].join("\n");
    const result = setFrontMatterEntry(card, "co2_eq_emissions", BLOCK);
    expect(result).toBe(
      [
        "---",
        "license: mit",
        ...BLOCK,
        "",
        "# a top-level comment that is not part of the entry",
        "pipeline_tag: fill-mask",
        "---",
        "body",
      ].join("\n"),
    );
  });

  it("replaces a quoted key and a one-line value", () => {
    const card = '---\n"co2_eq_emissions": 5\nlicense: mit\n---\n';
    expect(setFrontMatterEntry(card, "co2_eq_emissions", BLOCK)).toBe(
      `---\n${BLOCK.join("\n")}\nlicense: mit\n---\n`,
    );
  });

  it("does not mistake text inside a block scalar for the key", () => {
    const result = setFrontMatterEntry(CARD, "co2_eq_emissions", BLOCK);
    expect(result).toContain("  co2_eq_emissions: this line is text inside a block scalar\n");
    expect(result.match(/^co2_eq_emissions:/gm)).toHaveLength(1);
  });

  it("keeps CRLF line endings and writes its own lines with CRLF", () => {
    const crlf = CARD.replace(/\n/g, "\r\n");
    const result = setFrontMatterEntry(crlf, "co2_eq_emissions", BLOCK);
    expect(result).toBe(
      setFrontMatterEntry(CARD, "co2_eq_emissions", BLOCK).replace(/\n/g, "\r\n"),
    );
    expect(/[^\r]\n/.test(result)).toBe(false);
  });

  it("keeps a byte-order mark", () => {
    const result = setFrontMatterEntry(`\uFEFF${CARD}`, "co2_eq_emissions", BLOCK);
    expect(result.startsWith("\uFEFF---\n")).toBe(true);
    expect(result.slice(1)).toBe(setFrontMatterEntry(CARD, "co2_eq_emissions", BLOCK));
  });

  it("adds front matter above a body that has none, and to an empty file", () => {
    const body = "# My model\n\nIt classifies things.\n";
    expect(setFrontMatterEntry(body, "co2_eq_emissions", BLOCK)).toBe(
      `---\n${BLOCK.join("\n")}\n---\n\n${body}`,
    );
    expect(setFrontMatterEntry("", "co2_eq_emissions", BLOCK)).toBe(
      `---\n${BLOCK.join("\n")}\n---\n`,
    );
  });

  it("replaces the empty mapping {} that the Hub's template leaves", () => {
    const template =
      "---\n# For reference on model card metadata, see the spec\n{}\n---\n\n# Model Card\n";
    expect(setFrontMatterEntry(template, "co2_eq_emissions", BLOCK)).toBe(
      `---\n# For reference on model card metadata, see the spec\n${BLOCK.join("\n")}\n---\n\n# Model Card\n`,
    );
  });

  it("accepts an empty front matter and a ... terminator", () => {
    expect(setFrontMatterEntry("---\n---\nx\n", "k", ["k: 1"])).toBe("---\nk: 1\n---\nx\n");
    expect(setFrontMatterEntry("---\na: 1\n...\nx\n", "k", ["k: 1"])).toBe(
      "---\na: 1\nk: 1\n...\nx\n",
    );
  });

  it("is idempotent", () => {
    const once = setFrontMatterEntry(CARD, "co2_eq_emissions", BLOCK);
    expect(setFrontMatterEntry(once, "co2_eq_emissions", BLOCK)).toBe(once);
  });

  it.each([
    ["---\nlicense: mit\n\n# Title\n", /never closed/],
    ["---\nlicense: mit\n\tbad: tab\n---\n", /tabs/],
    [
      "---\nlicense: mit\njust some words\n---\n",
      /line 3: "just some words" is not a "key: value" entry/,
    ],
    ["---\nlicense: mit\nlicense: apache-2.0\n---\n", /key "license" appears twice/],
    ["---\n  indented: first\n---\n", /is not under any key/],
    ["---\n{}\nlicense: mit\n---\n", /empty mapping/],
    ["---\nkey:value\n---\n", /not a "key: value" entry/],
  ])("refuses malformed front matter %j", (text, pattern) => {
    expectBadInput(
      () => setFrontMatterEntry(text, "co2_eq_emissions", BLOCK, "README.md"),
      pattern,
    );
  });
});

describe("setMarkedSection", () => {
  const heading = { pattern: /^environmental impact$/i, line: "## Environmental impact" };
  const { start, end } = sectionMarkers("environmental-impact");

  it("appends the section under its heading when the text has none", () => {
    expect(setMarkedSection("# Card\n\nText.", "environmental-impact", ["a", "b"], heading)).toBe(
      `# Card\n\nText.\n\n## Environmental impact\n\n${start}\na\nb\n${end}\n`,
    );
    expect(setMarkedSection("", "environmental-impact", ["a"], heading)).toBe(
      `## Environmental impact\n\n${start}\na\n${end}\n`,
    );
  });

  it("goes under an existing heading and keeps the text already there", () => {
    const card =
      "# Card\n\n## Environmental Impact\n\nCarbon emissions can be estimated using the calculator.\n\n## Citation\n";
    expect(
      setMarkedSection(card, "environmental-impact", ["- **Carbon emitted:** 1 g"], heading),
    ).toBe(
      `# Card\n\n## Environmental Impact\n\n${start}\n- **Carbon emitted:** 1 g\n${end}\n\nCarbon emissions can be estimated using the calculator.\n\n## Citation\n`,
    );
  });

  it("ignores a heading inside a code fence", () => {
    const card = "# Card\n\n```md\n## Environmental impact\n```\n";
    const result = setMarkedSection(card, "environmental-impact", ["x"], heading);
    expect(result.startsWith(card)).toBe(true);
    expect(result.slice(card.length)).toBe(`\n## Environmental impact\n\n${start}\nx\n${end}\n`);
  });

  it("replaces only what is between the markers, and is idempotent", () => {
    const card = `intro\n${start}\nold line 1\nold line 2\n${end}\noutro\n`;
    const result = setMarkedSection(card, "environmental-impact", ["new"], heading);
    expect(result).toBe(`intro\n${start}\nnew\n${end}\noutro\n`);
    expect(setMarkedSection(result, "environmental-impact", ["new"], heading)).toBe(result);
  });

  it("uses the file's CRLF endings", () => {
    const card = "# Card\r\n\r\nText.\r\n";
    const result = setMarkedSection(card, "environmental-impact", ["a"], heading);
    expect(result).toBe(
      `# Card\r\n\r\nText.\r\n\r\n## Environmental impact\r\n\r\n${start}\r\na\r\n${end}\r\n`,
    );
  });

  it.each([
    [`${start}\nno end\n`],
    [`${end}\n${start}\n`],
    [`${start}\n${end}\n${start}\n${end}\n`],
  ])("refuses unbalanced markers %j", (text) => {
    expectBadInput(() => setMarkedSection(text, "environmental-impact", ["x"], heading), /marker/);
  });
});
