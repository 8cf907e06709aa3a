// `wattprint study` through the built binary: a quick VAE study end to end with the real
// tracker (CPU and RAM from the power models), its files on disk, bad input with one line
// and the right exit code, and TensorFlow.js left unloaded by the CLI until a study runs.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { isolatedEnv, REPO_ROOT, runCli, tempDir } from "../helpers/cli.js";
import type { StudyResult } from "../../src/study/study-result.js";

describe("wattprint study", () => {
  const dir = tempDir("wattprint-study-e2e-");
  const env = () => isolatedEnv(dir.path);
  afterAll(() => dir.cleanup());

  it("runs a quick study, prints its JSON and writes the same results with the report and charts", async () => {
    const out = join(dir.path, "vae");
    const result = await runCli(
      ["study", "vae", "--quick", "--seed", "3", "--energy-seconds", "0.2", "--out", out, "--json"],
      {
        env: env(),
        timeoutMs: 90_000,
      },
    );
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as StudyResult;
    expect(JSON.parse(readFileSync(join(out, "results.json"), "utf8"))).toEqual(printed);
    expect(printed.status).toBe("complete");
    expect(printed.settings).toMatchObject({ seed: 3, quick: true });
    expect(printed.settings.command).toBe(
      `wattprint study vae --quick --seed 3 --energy-seconds 0.2 --out ${out} --json`,
    );
    expect(printed.variants[0]?.name).toBe("baseline");
    expect(printed.variants.length).toBeGreaterThan(1);
    expect(printed.measurement.energySource).toMatch(/cpu: model/);
    for (const file of ["report.html", "pareto-training.svg", "pareto-inference.svg"])
      expect(existsSync(join(out, file))).toBe(true);
    expect(result.stderr).toMatch(/wattprint study: baseline: /);
  });

  it("prints the comparison table without --json", async () => {
    const out = join(dir.path, "vae-text");
    const result = await runCli(
      [
        "study",
        "vae",
        "--quick",
        "--variants",
        "narrow",
        "--energy-seconds",
        "0.2",
        "--out",
        out,
        "-q",
      ],
      {
        env: env(),
        timeoutMs: 90_000,
      },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^variant +params +negElboNats/m);
    expect(result.stdout).toMatch(/^baseline +\d+/m);
    expect(result.stdout).toMatch(/^narrow +\d+/m);
    expect(result.stdout).toMatch(/^finding: /m);
  });

  const blocker = join(dir.path, "a-file");
  writeFileSync(blocker, "in the way");
  it.each([
    [["study", "diffusion"], 2, /unknown study "diffusion"/],
    [["study"], 2, /no study named/],
    [["study", "gan", "--epochs", "0"], 2, /invalid --epochs "0"/],
    [["study", "gan", "--epochs", "many"], 2, /invalid --epochs "many"/],
    [["study", "gan", "--seed=-2"], 2, /invalid --seed "-2"/],
    [["study", "gan", "--variants", "bigger"], 2, /unknown variant bigger of the gan study/],
    [
      ["study", "vae", "--quick", "--out", join(blocker, "out")],
      73,
      /cannot write to .*a-file\/out/,
    ],
  ])("refuses %j with one line and exit %i", async (args, code, message) => {
    const result = await runCli(args, { env: env(), timeoutMs: 60_000 });
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^wattprint: [^\n]+\n {2}hint: [^\n]+\n$/);
    expect(result.stdout).toBe("");
  });

  it("does not load TensorFlow.js for the CLI, its help, or the study library's import", () => {
    const script = `
      const { runCli } = await import("./dist/cli/main.js");
      const io = { stdout: () => {}, stderr: () => {}, env: {}, stdinIsTTY: false, stderrIsTTY: false };
      const code = await runCli(["study", "--help"], io);
      await import("./dist/study/index.js");
      console.log(JSON.stringify({ code, tf: globalThis._tfengine !== undefined }));
      await import("./dist/optimize/runtime.js");
      console.log(JSON.stringify({ loadedAfterRuntime: globalThis._tfengine !== undefined }));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: env(),
    });
    const [first, second] = child.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first).toEqual({ code: 0, tf: false });
    // The probe can see TensorFlow.js once it is loaded.
    expect(second).toEqual({ loadedAfterRuntime: true });
  });
});
