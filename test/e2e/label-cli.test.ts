// `wattprint label` through the built binary: a real ONNX model, the real tracker (CPU and
// RAM from the power models), the badge and certificate on disk, bad input, and
// onnxruntime-node loaded only when a model is actually run.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv, runCli, tempDir } from "../helpers/cli.js";
import { writeModel } from "../label/model-fixtures.js";
import type { LabelCertificate } from "../../src/label/certificate.js";

const QUICK = ["--queries", "200", "--repeats", "2", "--warmup", "5"];

describe("wattprint label", () => {
  const dir = tempDir("wattprint-label-e2e-");
  const env = () => isolatedEnv(dir.path);
  let mnistModel = "";
  let digitsModel = "";
  beforeAll(() => {
    mnistModel = writeModel(dir.path, "mnist-cnn", "mnist-classification", {
      kind: "cnn",
      channels: 4,
      dense: 32,
    });
    digitsModel = writeModel(
      dir.path,
      "digits-mlp",
      "digits-classification",
      { kind: "mlp", hidden: [32] },
      "int8",
    );
  });
  afterAll(() => dir.cleanup());

  it("measures a model, prints the certificate and writes it with the badge", async () => {
    const out = join(dir.path, "labels");
    const result = await runCli(
      [
        "label",
        "--model",
        mnistModel,
        "--task",
        "mnist-classification",
        ...QUICK,
        "--out-dir",
        out,
        "--json",
      ],
      { env: env(), timeoutMs: 60_000 },
    );
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as LabelCertificate;
    const certificatePath = join(out, "mnist-cnn.mnist-classification.label.json");
    const badgePath = join(out, "mnist-cnn.mnist-classification.label.svg");
    expect(JSON.parse(readFileSync(certificatePath, "utf8"))).toEqual(printed);
    expect(printed.energyWhPer1kQueries).toBeGreaterThan(0);
    expect(printed.rating).toBeGreaterThanOrEqual(1);
    expect(printed.rating).toBeLessThanOrEqual(5);
    expect(printed.protocol.queriesPerRepeat).toBe(200);
    expect(printed.repeats).toHaveLength(2);
    const badge = readFileSync(badgePath, "utf8");
    expect(badge).toMatch(/^<\?xml[^>]*>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(badge).toContain(`${printed.rating}/5`);
    expect(result.stderr).toContain(badgePath);
  });

  it("prints a summary with the rating, the energy sources and the file paths", async () => {
    const result = await runCli(
      [
        "label",
        "--model",
        digitsModel,
        "--task",
        "digits-classification",
        ...QUICK,
        "--out-dir",
        dir.path,
      ],
      { env: env(), timeoutMs: 60_000 },
    );
    expect(result.code).toBe(0);
    const certificate = JSON.parse(
      readFileSync(join(dir.path, "digits-mlp.digits-classification.label.json"), "utf8"),
    ) as LabelCertificate;
    expect(result.stdout).toContain(`${certificate.rating} of 5`);
    expect(result.stdout).toMatch(/measured by\s+cpu: model \(tdp-model:/);
    expect(result.stdout).toContain(join(dir.path, "digits-mlp.digits-classification.label.svg"));
    expect(result.stdout).toMatch(/warning: .*indicative only/);
  });

  it.each([
    [["--task", "mnist-classification"], 2, /label needs --model/],
    [["--model", "m.onnx"], 2, /label needs --task/],
    [["--model", "m.onnx", "--task", "imagenet"], 2, /unknown label task "imagenet"/],
    [["--model", "absent.onnx", "--task", "mnist-classification"], 3, /no such model file/],
    [
      ["--model", "m.onnx", "--task", "mnist-classification", "--queries", "0"],
      2,
      /invalid --queries 0/,
    ],
    [
      ["--model", "m.onnx", "--task", "mnist-classification", "--repeats", "two"],
      2,
      /invalid --repeats/,
    ],
  ])("refuses %j with one line and exit %i", async (args, code, message) => {
    const result = await runCli(["label", ...args], { env: env() });
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^wattprint: [^\n]+\n {2}hint: [^\n]+\n$/);
  });

  it("refuses a model made for another task, with a hint, and writes nothing", async () => {
    const out = join(dir.path, "mismatch");
    const result = await runCli(
      ["label", "--model", digitsModel, "--task", "mnist-classification", "--out-dir", out],
      { env: env() },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^wattprint: model digits-mlp\.onnx takes 64 values per query .*gives 784\n {2}hint: /,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a file that is not ONNX and an --out-dir that is a file", async () => {
    const notModel = join(dir.path, "notes.onnx");
    writeFileSync(notModel, "just text\n");
    const bad = await runCli(["label", "--model", notModel, "--task", "mnist-classification"], {
      env: env(),
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not an ONNX model/);
    const file = join(dir.path, "a-file");
    writeFileSync(file, "");
    const blocked = await runCli(
      ["label", "--model", mnistModel, "--task", "mnist-classification", "--out-dir", file],
      { env: env() },
    );
    expect(blocked.code).toBe(73);
    expect(blocked.stderr).toMatch(/not a directory/);
  });

  it("loads onnxruntime-node only when a model is run", async () => {
    const hooks = join(dir.path, "hooks");
    mkdirSync(hooks);
    const log = join(hooks, "resolved.log");
    writeFileSync(log, "");
    writeFileSync(
      join(hooks, "hooks.mjs"),
      `import { appendFileSync } from "node:fs";
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  if (specifier.includes("onnxruntime")) appendFileSync(log, specifier + "\\n");
  return next(specifier, context);
}
`,
    );
    writeFileSync(
      join(hooks, "register.mjs"),
      `import { register } from "node:module";
register(${JSON.stringify(pathToFileURL(join(hooks, "hooks.mjs")).href)}, { data: { log: ${JSON.stringify(log)} } });
`,
    );
    const hooked = {
      ...env(),
      NODE_OPTIONS: `--import ${pathToFileURL(join(hooks, "register.mjs")).href}`,
    };
    const help = await runCli(["label", "--help"], { env: hooked });
    expect(help.code).toBe(0);
    const mismatch = await runCli(
      ["label", "--model", digitsModel, "--task", "mnist-classification"],
      {
        env: hooked,
      },
    );
    expect(mismatch.code).toBe(2);
    expect(readFileSync(log, "utf8")).toBe("");
    const out = join(hooks, "out");
    const ran = await runCli(
      [
        "label",
        "--model",
        mnistModel,
        "--task",
        "mnist-classification",
        ...QUICK,
        "--out-dir",
        out,
      ],
      { env: hooked, timeoutMs: 60_000 },
    );
    expect(ran.code).toBe(0);
    expect(readFileSync(log, "utf8")).toMatch(/^onnxruntime-node$/m);
    expect(readdirSync(out).sort()).toEqual([
      "mnist-cnn.mnist-classification.label.json",
      "mnist-cnn.mnist-classification.label.svg",
    ]);
  });
});
