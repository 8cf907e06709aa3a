import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WattprintError } from "../../src/errors.js";
import { sectionMarkers } from "../../src/report/front-matter.js";
import {
  co2EqEmissions,
  co2MetadataLines,
  renderModelCard,
  updateModelCardFile,
  updateModelCardText,
  yamlNumber,
} from "../../src/report/model-card.js";
import { buildReportModel, type ReportOptions } from "../../src/report/report-model.js";
import type { RunRecord } from "../../src/record/run-record.js";
import { makeRunRecord } from "../fixtures/store/record-factory.js";

/**
 * A strict reader for the YAML subset the model card uses: the front matter between the
 * first two --- lines, top-level `key:` entries, and under co2_eq_emissions two-space
 * indented `field: value` lines whose value is a JSON-style double-quoted string or a
 * plain decimal number. Anything else under the block fails the test.
 */
function readCo2Block(text: string): Record<string, string | number> {
  const lines = text.split(/\r?\n/);
  if (lines[0] !== "---") throw new Error("no front matter");
  const close = lines.indexOf("---", 1);
  if (close === -1) throw new Error("front matter not closed");
  const start = lines.indexOf("co2_eq_emissions:");
  if (start === -1 || start > close) throw new Error("no co2_eq_emissions key at top level");
  const fields: Record<string, string | number> = {};
  for (let i = start + 1; i < close; i++) {
    const line = lines[i] as string;
    if (!line.startsWith(" ")) break;
    const match = /^ {2}([a-z_]+): (.+)$/.exec(line);
    if (match === null) throw new Error(`not a field line: ${line}`);
    const [, key, raw] = match as unknown as [string, string, string];
    if (key in fields) throw new Error(`duplicate field ${key}`);
    if (raw.startsWith('"')) fields[key] = JSON.parse(raw) as string;
    else if (/^-?\d+(\.\d+)?$/.test(raw)) fields[key] = Number(raw);
    else throw new Error(`value of ${key} is neither a quoted string nor a plain number: ${raw}`);
  }
  return fields;
}

/** js-yaml, present through eslint's @eslint/eslintrc; null when it is not installed. */
async function loadJsYaml(): Promise<{ load: (text: string) => unknown } | null> {
  const name = "js-yaml";
  try {
    return (await import(name)) as { load: (text: string) => unknown };
  } catch {
    return null;
  }
}

function frontMatterText(text: string): string {
  const lines = text.split(/\r?\n/);
  return lines.slice(1, lines.indexOf("---", 1)).join("\n");
}

const model = (record: Partial<RunRecord> = {}, options: ReportOptions = {}) =>
  buildReportModel(
    {
      kind: "run",
      origin: "test",
      run: makeRunRecord({
        co2eG: 1234.5678,
        machine: {
          ...makeRunRecord().machine,
          gpus: [
            { index: 0, name: "NVIDIA A100-SXM4-80GB" },
            { index: 1, name: "NVIDIA A100-SXM4-80GB" },
          ],
        },
        sources: [
          {
            component: "gpu",
            method: "counter",
            source: "nvml:total-energy",
            label: "GPU 0",
            attribution: "whole device",
            machineEnergyJ: 3000,
            attributedEnergyJ: 3000,
            notes: [],
          },
        ],
        ...record,
      }),
      samples: null,
      samplesNote: "file",
    },
    { generatedAt: new Date("2025-05-01T00:00:00Z"), ...options },
  );

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "wattprint-model-card-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("co2EqEmissions", () => {
  it("takes the operational emissions in grams and the Hub's field names", () => {
    const metadata = co2EqEmissions(model({}, { trainingType: "fine-tuning" }));
    expect(metadata.emissions).toBeCloseTo(1234.57, 2);
    expect(metadata.training_type).toBe("fine-tuning");
    expect(metadata.geographical_location).toBe("France (FR)");
    expect(metadata.hardware_used).toBe(
      "2 × NVIDIA A100-SXM4-80GB, Test CPU 9000 (8 logical CPUs)",
    );
    expect(metadata.source).toContain("counter nvml:total-energy");
    expect(metadata.source).toContain("56 gCO2e/kWh");
  });

  it("leaves out what is not known instead of inventing it", () => {
    const metadata = co2EqEmissions(model());
    expect("training_type" in metadata).toBe(false);
  });

  it("refuses to write a card for unknown emissions", () => {
    expect(() => co2EqEmissions(model({ co2eG: null }))).toThrow(WattprintError);
  });
});

describe("YAML output", () => {
  it("writes numbers without exponents (YAML 1.1 readers take 1e-7 for a string)", () => {
    expect(yamlNumber(1.5e-7)).toBe("0.00000015");
    expect(Number(yamlNumber(1.5e-7))).toBeCloseTo(1.5e-7, 15);
    expect(yamlNumber(232380)).toBe("232380");
    expect(yamlNumber(3e21)).toBe("3000000000000000000000");
    expect(yamlNumber(0.25)).toBe("0.25");
  });

  it("prints a model card whose front matter parses back to the metadata", async () => {
    const report = model(
      { co2eG: 2.5e-7 },
      { trainingType: "pre-training", location: 'Quebec, "QC": Canada' },
    );
    const text = renderModelCard(report);
    const parsed = readCo2Block(text);
    expect(parsed).toEqual({ ...co2EqEmissions(report) });
    expect(parsed.emissions).toBeCloseTo(2.5e-7, 15);
    expect(parsed.geographical_location).toBe('Quebec, "QC": Canada');
    expect(text).toContain("\n## Environmental impact\n");
    const yaml = await loadJsYaml();
    if (yaml !== null) {
      expect(yaml.load(frontMatterText(text))).toEqual({
        co2_eq_emissions: { ...co2EqEmissions(report) },
      });
    }
  });

  it("escapes control characters and quotes in strings", async () => {
    const lines = co2MetadataLines({ emissions: 1, source: 'line\nbreak "quoted" \\ tab\t' });
    const text = `---\n${lines.join("\n")}\n---\n`;
    expect(readCo2Block(text).source).toBe('line\nbreak "quoted" \\ tab\t');
    const yaml = await loadJsYaml();
    if (yaml !== null) {
      expect(yaml.load(frontMatterText(text))).toEqual({
        co2_eq_emissions: { emissions: 1, source: 'line\nbreak "quoted" \\ tab\t' },
      });
    }
  });
});

const HUB_CARD = [
  "---",
  "license: apache-2.0",
  "base_model: bert-base-uncased",
  "tags:",
  "- generated_from_trainer",
  "metrics:",
  "- accuracy",
  "model-index:",
  "- name: tiny-bert",
  "  results: []",
  "---",
  "",
  "# tiny-bert",
  "",
  "This model is a fine-tuned version of bert-base-uncased.",
  "",
  "## Environmental Impact",
  "",
  "Carbon emissions can be estimated using the Machine Learning Impact calculator.",
  "",
  "## Citation",
  "",
  "TBD",
  "",
].join("\n");

describe("updateModelCardText / updateModelCardFile", () => {
  it("writes the metadata and the section, and keeps every other byte", async () => {
    const report = model({}, { trainingType: "fine-tuning" });
    const updated = updateModelCardText(HUB_CARD, report);
    const metadata = readCo2Block(updated);
    expect(metadata).toEqual({ ...co2EqEmissions(report) });
    // Taking our block and our marked section out gives back the original text.
    const { start, end } = sectionMarkers("environmental-impact");
    const withoutBlock = updated.replace(
      `${co2MetadataLines(co2EqEmissions(report)).join("\n")}\n`,
      "",
    );
    const withoutSection = withoutBlock.replace(
      new RegExp(`\\n${start}\\n[\\s\\S]*?${end}\\n`),
      "",
    );
    expect(withoutSection).toBe(HUB_CARD);
    const yaml = await loadJsYaml();
    if (yaml !== null) {
      const parsed = yaml.load(frontMatterText(updated)) as Record<string, unknown>;
      expect(parsed.license).toBe("apache-2.0");
      expect(parsed.tags).toEqual(["generated_from_trainer"]);
      expect(parsed["model-index"]).toEqual([{ name: "tiny-bert", results: [] }]);
      expect(parsed.co2_eq_emissions).toEqual({ ...co2EqEmissions(report) });
    }
  });

  it("updates a README in place, and a second run changes nothing", () => {
    const path = join(dir, "README.md");
    writeFileSync(path, HUB_CARD);
    expect(updateModelCardFile(path, model())).toBe(true);
    const first = readFileSync(path, "utf8");
    expect(readCo2Block(first).emissions).toBeCloseTo(1234.57, 2);
    expect(updateModelCardFile(path, model())).toBe(false);
    expect(readFileSync(path, "utf8")).toBe(first);
    // A new measurement replaces the old figures instead of adding a second block.
    updateModelCardFile(path, model({ co2eG: 42 }));
    const second = readFileSync(path, "utf8");
    expect(readCo2Block(second).emissions).toBe(42);
    expect(second.match(/co2_eq_emissions:/g)).toHaveLength(1);
    expect(second.match(/wattprint:environmental-impact:start/g)).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(["README.md"]);
  });

  it("never touches a README whose front matter is malformed", () => {
    const path = join(dir, "README.md");
    const broken = "---\nlicense: mit\nthis is not yaml\n---\n\n# Card\n";
    writeFileSync(path, broken);
    const before = statSync(path).mtimeMs;
    let error: unknown;
    try {
      updateModelCardFile(path, model());
    } catch (caught) {
      error = caught;
    }
    expect((error as WattprintError).code).toBe("BAD_INPUT");
    expect((error as WattprintError).message).toContain(path);
    expect(readFileSync(path, "utf8")).toBe(broken);
    expect(statSync(path).mtimeMs).toBe(before);
    expect(readdirSync(dir)).toEqual(["README.md"]);
  });

  it("says so when the README is missing, and creates nothing", () => {
    const path = join(dir, "README.md");
    expect(() => updateModelCardFile(path, model())).toThrow(/no such model card/);
    expect(existsSync(path)).toBe(false);
  });

  it("updates the target of a symlinked README and keeps the link", () => {
    const target = join(dir, "card.md");
    const link = join(dir, "README.md");
    writeFileSync(target, "# Card\n");
    symlinkSync(target, link);
    updateModelCardFile(link, model());
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readCo2Block(readFileSync(target, "utf8")).emissions).toBeCloseTo(1234.57, 2);
  });
});
