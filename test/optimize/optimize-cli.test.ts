import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WattprintError } from "../../src/errors.js";
import type { CliIo } from "../../src/cli/io.js";
import { OPTIMIZE_HELP, optimizeCli, parseBytes } from "../../src/cli/commands/optimize.js";
import { buildMlp } from "../../src/optimize/models.js";
import { saveModel } from "../../src/optimize/model-io.js";
import { initTensorflow } from "../../src/optimize/runtime.js";
import { trainModel } from "../../src/optimize/train.js";
import { loadDigits } from "../../src/optimize/datasets.js";
import { headOf, tempDir } from "./helpers.js";

function fakeIo(home: string): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: { HOME: home, WATTPRINT_HOME: join(home, ".wattprint"), WATTPRINT_NVML: "off" },
    stdinIsTTY: false,
    stderrIsTTY: false,
  };
}

const QUICK = [
  "--data",
  "digits",
  "--train-limit",
  "400",
  "--energy-seconds",
  "0.15",
  "--latency-seconds",
  "0.03",
  "--fine-tune-epochs",
  "1",
];

async function failure(run: Promise<number>): Promise<WattprintError> {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WattprintError);
  return error as WattprintError;
}

describe("wattprint optimize (command)", () => {
  const dir = tempDir();
  const modelDir = join(dir.path, "model");
  beforeAll(async () => {
    await initTensorflow();
    const model = buildMlp({ inputShape: [8, 8, 1], hiddenUnits: [16], classes: 10, seed: 2 });
    await trainModel(model, headOf(loadDigits().train, 600), {
      epochs: 4,
      batchSize: 32,
      learningRate: 0.01,
    });
    await saveModel(model, modelDir);
  });
  afterAll(() => dir.cleanup());

  it("prints its help", async () => {
    const io = fakeIo(dir.path);
    expect(await optimizeCli(["--help"], io)).toBe(0);
    expect(io.out.join("")).toBe(`${OPTIMIZE_HELP}\n`);
    expect(OPTIMIZE_HELP).toMatch(/--max-accuracy-drop/);
  });

  it("rejects bad flags with a hint, before loading anything", async () => {
    const io = fakeIo(dir.path);
    const cases: [string[], RegExp][] = [
      [["--train-baseline", "mlp"], /--data is missing/],
      [["--data", "digits"], /give --model <dir> or --train-baseline mlp\|cnn/],
      [["--data", "digits", "--train-baseline", "rnn"], /invalid --train-baseline "rnn"/],
      [
        ["--data", "digits", "--model", modelDir, "--quantize", "int4"],
        /invalid --quantize "int4"/,
      ],
      [["--data", "digits", "--model", modelDir, "--prune", "none,0.5"], /mixes none with values/],
      [
        ["--data", "digits", "--model", modelDir, "--min-accuracy", "120"],
        /invalid --min-accuracy 120/,
      ],
      [["--data", "digits", "--model", modelDir, "--epochs", "0"], /invalid --epochs "0"/],
      [["--data", "digits", "--model", modelDir, "--prune", "1.5"], /invalid pruning fraction 1.5/],
      [
        ["--data", "digits", "--model", modelDir, "--max-size", "lots"],
        /invalid --max-size "lots"/,
      ],
      [
        ["--data", "digits", "--model", modelDir, "--energy-seconds", "0"],
        /invalid --energy-seconds 0/,
      ],
    ];
    for (const [argv, pattern] of cases) {
      const error = await failure(optimizeCli(argv, io));
      expect(error.code, argv.join(" ")).toBe("USAGE");
      expect(error.message).toMatch(pattern);
      expect(error.hint).toBeTruthy();
    }
  });

  it("parses sizes with units", () => {
    expect(parseBytes("250000")).toBe(250000);
    expect(parseBytes("250kB")).toBe(250000);
    expect(parseBytes("1.5MB")).toBe(1500000);
    expect(parseBytes("64KiB")).toBe(65536);
  });

  it("prints the table with the front and the recommendation, and JSON with --json", async () => {
    const io = fakeIo(dir.path);
    const out = join(dir.path, "table");
    expect(
      await optimizeCli(
        ["--model", modelDir, ...QUICK, "--prune", "0.5", "--quantize", "int8", "--out", out],
        io,
      ),
    ).toBe(0);
    const text = io.out.join("");
    expect(text).toMatch(
      /variant\s+accuracy\s+Δ pts\s+size\s+gzip\s+p50 b1 ms\s+p50 b64 ms\s+J\/1k inf\s+made J/,
    );
    for (const name of ["baseline", "prune-50%", "prune-units-50%", "prune-units-50%+int8", "int8"])
      expect(text).toContain(name);
    expect(text).toMatch(/→ \S+/);
    expect(text).toMatch(/\* on the Pareto front/);
    expect(text).toMatch(/recommended: \S+: lowest energy per inference/);
    expect(io.err.join("")).toMatch(/wattprint optimize: baseline: accuracy/);

    const jsonIo = fakeIo(dir.path);
    expect(
      await optimizeCli(
        [
          "--model",
          modelDir,
          ...QUICK,
          "--prune",
          "none",
          "--quantize",
          "float16",
          "--json",
          "--quiet",
          "--out",
          join(dir.path, "json"),
        ],
        jsonIo,
      ),
    ).toBe(0);
    expect(jsonIo.err).toEqual([]);
    const json = JSON.parse(jsonIo.out.join(""));
    expect(json.variants.map((v: { name: string }) => v.name)).toEqual(["baseline", "float16"]);
    for (const v of json.variants) {
      expect(Object.keys(v)).toEqual(
        expect.arrayContaining([
          "name",
          "accuracy",
          "sizeBytes",
          "latencyMsP50",
          "energyJPer1kInferences",
          "trainingEnergyJ",
          "pareto",
        ]),
      );
      expect(Object.keys(v.latencyMsP50)).toEqual(["batch1", "batch64"]);
    }
    expect(json.recommended.name).toMatch(/baseline|float16/);
  });

  it("fails with one line and a hint when no variant meets the constraint, after printing and writing the results", async () => {
    const io = fakeIo(dir.path);
    const out = join(dir.path, "impossible");
    const error = await failure(
      optimizeCli(
        [
          "--model",
          modelDir,
          ...QUICK,
          "--prune",
          "none",
          "--quantize",
          "int8",
          "--max-size",
          "10",
          "--quiet",
          "--out",
          out,
        ],
        io,
      ),
    );
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toMatch(
      /^no variant meets the constraint \(at most 1 points below the baseline's .*%, at most 10 bytes\)$/,
    );
    expect(error.hint).toMatch(/loosen --max-accuracy-drop, --min-accuracy or --max-size/);
    expect(io.out.join("")).toMatch(/recommended: none meets the constraint/);
    expect(JSON.parse(readFileSync(join(out, "results.json"), "utf8")).variants).toHaveLength(2);
  });

  it("reports a missing or malformed model, pointing at the partial results", async () => {
    const io = fakeIo(dir.path);
    const missing = await failure(
      optimizeCli(
        [
          "--model",
          join(dir.path, "nope"),
          ...QUICK,
          "--quiet",
          "--out",
          join(dir.path, "missing"),
        ],
        io,
      ),
    );
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.message).toMatch(/no model at/);
    expect(missing.hint).toMatch(/results\.json/);
    const badData = await failure(
      optimizeCli(
        [
          "--model",
          modelDir,
          "--data",
          join(dir.path, "none.csv"),
          "--quiet",
          "--out",
          join(dir.path, "x"),
        ],
        io,
      ),
    );
    expect(badData.code).toBe("NOT_FOUND");
    expect(badData.message).toMatch(/data file .* does not exist/);
    expect(badData.hint).toMatch(/results\.json/);
    const written = JSON.parse(readFileSync(join(dir.path, "x", "results.json"), "utf8"));
    expect(written.status).toBe("failed");
    expect(written.error).toMatch(/does not exist/);
  });

  it("keeps TensorFlow.js out of the command module until it runs", () => {
    // Only type imports may reach into optimize/ (TypeScript drops them), so loading the
    // command for --help or a usage error never loads TensorFlow.js or onnxruntime.
    const source = readFileSync(
      new URL("../../src/cli/commands/optimize.ts", import.meta.url),
      "utf8",
    );
    const imports = source.split("\n").filter((line) => /^import\s/.test(line));
    for (const line of imports) {
      if (/optimize\/|@tensorflow|onnxruntime/.test(line)) expect(line).toMatch(/^import type /);
    }
    expect(source).toMatch(/await import\("\.\.\/\.\.\/optimize\/run-optimize\.js"\)/);
  });
});
