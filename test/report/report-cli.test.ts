// `wattprint report` through its command function (src/cli/commands/report.ts), with a real
// run store in a temporary WATTPRINT_HOME and real files.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { reportCli } from "../../src/cli/commands/report.js";
import type { CliIo } from "../../src/cli/io.js";
import { WattprintError, type ErrorCode } from "../../src/errors.js";
import { RunStore } from "../../src/store/run-store.js";
import { makeRunRecord, makeSample } from "../fixtures/store/record-factory.js";

let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "wattprint-report-cli-"));
  home = join(dir, "home");
  const store = RunStore.open(join(home, "runs.sqlite"));
  const record = makeRunRecord({ id: "5eed0001-aaaa", co2eG: 12.5 });
  store.beginRun({ ...record, status: "running" }, process.pid);
  for (let seq = 0; seq < 10; seq++) store.saveProgress(record, makeSample(seq));
  store.finishRun(record);
  store.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: { WATTPRINT_HOME: home },
    stdinIsTTY: false,
    stderrIsTTY: false,
  };
  const code = await reportCli(args, io);
  return { code, stdout, stderr };
}

async function expectError(args: string[], code: ErrorCode, message: RegExp): Promise<void> {
  let error: unknown;
  try {
    await run(args);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(WattprintError);
  expect((error as WattprintError).code).toBe(code);
  expect((error as WattprintError).message).toMatch(message);
}

describe("wattprint report", () => {
  it("prints Markdown for a stored run by default", async () => {
    const { code, stdout } = await run(["5eed"]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      "# Energy and carbon report: run 5eed0001 (python train.py --epochs 3)",
    );
    expect(stdout).toContain("10 samples; power attributed to the tracked processes.");
  });

  it("writes HTML when --out ends in .html, whole, and says where", async () => {
    const out = join(dir, "report.html");
    const { stdout, stderr } = await run(["5eed0001", "--out", out]);
    expect(stdout).toBe("");
    expect(stderr).toContain(`wrote the html report to ${out}`);
    const html = readFileSync(out, "utf8");
    expect(html).toContain('data-chart="power"');
    expect(html.trimEnd().endsWith("</html>")).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["home", "report.html"]);
  });

  it("prints the JSON report with the SCI and the embodied share", async () => {
    const { stdout } = await run([
      "5eed",
      "--format",
      "json",
      "--functional-unit",
      "request",
      "--units",
      "50",
      "--embodied-kg",
      "126144",
      "--lifetime-years",
      "4",
      "--resource-share",
      "0.5",
    ]);
    const json = JSON.parse(stdout);
    expect(json.reportSchemaVersion).toBe(1);
    expect(json.runId).toBe("5eed0001-aaaa");
    // 100 s of a 4-year (126,144,000 s) life × 126,144,000 g × 0.5 = 50 g.
    expect(json.embodied.co2eG).toBeCloseTo(50, 9);
    expect(json.sci.sciGPerUnit).toBeCloseTo((12.5 + 50) / 50, 12);
    expect(json.sci.functionalUnit).toBe("request");
  });

  it("reports on a run.json and an estimate file", async () => {
    const runFile = join(dir, "run.json");
    writeFileSync(runFile, JSON.stringify(makeRunRecord()));
    expect((await run([runFile, "--format", "md"])).stdout).toContain("No power timeline");
    const estimateFile = join(dir, "estimate.json");
    writeFileSync(
      estimateFile,
      JSON.stringify({
        deviceHours: 10,
        energyKWh: 4,
        co2eKg: 1.6,
        embodiedCo2eKg: 0.2,
        assumptions: [],
      }),
    );
    const card = (await run([estimateFile, "--format", "model-card"])).stdout;
    expect(card).toMatch(/^---\nco2_eq_emissions:\n {2}emissions: 1600\n/);
  });

  it("updates a README in place and prints nothing else", async () => {
    const readme = join(dir, "README.md");
    writeFileSync(readme, "---\nlicense: mit\n---\n\n# My model\n");
    const { stdout, stderr } = await run([
      "5eed",
      "--update",
      readme,
      "--training-type",
      "fine-tuning",
    ]);
    expect(stdout).toBe("");
    expect(stderr).toContain(`updated ${readme}`);
    const text = readFileSync(readme, "utf8");
    expect(text.startsWith("---\nlicense: mit\nco2_eq_emissions:\n  emissions: 12.5\n")).toBe(true);
    expect(text).toContain('  training_type: "fine-tuning"\n');
    expect(text).toContain(
      "\n# My model\n\n## Environmental impact\n\n<!-- wattprint:environmental-impact:start -->\n",
    );
    expect(
      (await run(["5eed", "--update", readme, "--training-type", "fine-tuning"])).stderr,
    ).toContain("already up to date");
  });

  it("leaves a README with malformed front matter exactly as it was", async () => {
    const readme = join(dir, "README.md");
    const broken = "---\nlicense: mit\n# never closed\n\n# My model\n";
    writeFileSync(readme, broken);
    await expectError(
      ["5eed", "--update", readme],
      "BAD_INPUT",
      /malformed front matter .*never closed/,
    );
    expect(readFileSync(readme, "utf8")).toBe(broken);
    expect(readdirSync(dir).sort()).toEqual(["README.md", "home"]);
  });

  it.each([
    [[], "USAGE", /needs a run id/],
    [["a", "b"], "USAGE", /unexpected argument "b"/],
    [["5eed", "--format", "pdf"], "USAGE", /unknown --format "pdf"/],
    [
      ["5eed", "--update", "README.md", "--format", "html"],
      "USAGE",
      /--update writes a model card/,
    ],
    [["5eed", "--units", "10"], "USAGE", /--functional-unit and --units go together/],
    [["5eed", "--functional-unit", "user", "--units", "10"], "USAGE", /unknown functional unit/],
    [["5eed", "--functional-unit", "token", "--units", "0"], "USAGE", /must be greater than 0/],
    [["5eed", "--lifetime-years", "4"], "USAGE", /--lifetime-years needs --embodied-kg/],
    [["5eed", "--embodied-kg", "100", "--resource-share", "2"], "USAGE", /above 1/],
    [["5eed", "--training-type", "pretraining"], "USAGE", /--training-type/],
    [["ffff0000"], "NOT_FOUND", /no run with id or prefix "ffff0000"/],
    [["missing/run.json"], "NOT_FOUND", /no such file/],
  ] as [string[], ErrorCode, RegExp][])(
    "refuses %j with one clear error",
    async (args, code, message) => {
      await expectError(args, code, message);
    },
  );

  it("refuses an unwritable --out before doing any work", async () => {
    await expectError(
      ["ffff0000", "--out", join(dir, "no-such-dir", "r.html")],
      "OUTPUT_UNWRITABLE",
      /does not exist/,
    );
    expect(existsSync(join(dir, "no-such-dir"))).toBe(false);
  });

  it("prints its help", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("--functional-unit <u>");
  });
});
