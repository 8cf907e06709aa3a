import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { CliIo } from "../../src/cli/io.js";
import { runWhenGreenCli } from "../../src/cli/commands/run.js";
import { RunStore } from "../../src/store/run-store.js";
import { defaultStorePath } from "../../src/store/default-path.js";
import { REPO_ROOT, isolatedEnv, tempDir, type CliResult } from "../helpers/cli.js";

// These tests run the built command (npm test builds dist/ first) until the integrator
// wires it into bin/wattprint.js, with plan time compressed: one hour of data per second.
const RUN_MODULE = pathToFileURL(join(REPO_ROOT, "dist/cli/commands/run.js")).href;
const RUNNER = `
const [moduleUrl, ...args] = process.argv.slice(1);
const { runWhenGreenCli } = await import(moduleUrl);
const io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t),
  env: process.env, stdinIsTTY: false, stderrIsTTY: false };
try { process.exitCode = await runWhenGreenCli(args, io); }
catch (error) { process.stderr.write("wattprint: " + error.message + "\\n"); process.exitCode = 2; }
`;

const dir = tempDir("wattprint-run-green-");
afterAll(() => dir.cleanup());
const env = () => isolatedEnv(dir.path, { WATTPRINT_TIME_SCALE: "3600" });

// Clean at hours 2 and 5.
const data = join(dir.path, "intensity.csv");
writeFileSync(
  data,
  `timestamp,intensity\n${[500, 500, 100, 500, 500, 100, 500, 500]
    .map((value, hour) => `2022-06-01T0${hour}:00:00Z,${value}`)
    .join("\n")}\n`,
);
const PLAN = [
  "--when-green",
  "--intensity-file",
  data,
  "--now",
  "2022-06-01T00:00:00Z",
  "--deadline",
  "8h",
  "--interval",
  "100ms",
];

/** Ticks into `name` every 50 ms until `ticks`; notes SIGINT/SIGTERM and exits 0 on them. */
function ticker(name: string, ticks: number): string[] {
  const file = JSON.stringify(join(dir.path, name));
  return [
    process.execPath,
    "-e",
    `const fs=require("fs");let n=0;for (const s of ["SIGINT","SIGTERM"]) process.on(s,()=>{fs.appendFileSync(${file},s+"\\n");process.exit(0);});` +
      `const t=setInterval(()=>{fs.appendFileSync(${file},Date.now()+"\\n");if(++n>=${ticks})clearInterval(t);},50);`,
  ];
}

/** Runs the command; `onStderr` sees stderr as it comes, with the process id to signal. */
function run(args: string[], onStderr?: (text: string, pid: number) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", RUNNER, RUN_MODULE, ...args],
      {
        env: env(),
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(stderr, child.pid ?? 0);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const outcomes = () =>
  readFileSync(join(dir.path, ".wattprint", "green-runs.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("wattprint run --when-green", () => {
  it("waits for the planned start, runs the command tracked and reports realised vs run-now", async () => {
    const out = join(dir.path, "outcome.json");
    const result = await run([
      ...PLAN,
      "--duration",
      "1h",
      "--out",
      out,
      "--",
      ...ticker("plain.txt", 10),
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /green plan for intensity: start 2022-06-01T02:00:00.000Z \(in (1\.9\d*|2) h\)/,
    );
    expect(result.stderr).toMatch(/waiting until 2022-06-01T02:00:00.000Z/);
    expect(result.stderr).toMatch(
      /when green .* realised vs .* had it started at once \(\d+(\.\d+)?% less\)/,
    );
    const outcome = JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown> & {
      plan: Record<string, unknown>;
    };
    expect(outcome.status).toBe("completed");
    expect(outcome.plan.start).toBe("2022-06-01T02:00:00.000Z");
    expect(Date.parse(String(outcome.startedAt))).toBeGreaterThanOrEqual(
      Date.parse("2022-06-01T02:00:00Z"),
    );
    expect(outcome.co2eG as number).toBeLessThan(outcome.runNowCo2eG as number);
    const store = RunStore.open(defaultStorePath(join(dir.path, ".wattprint")));
    try {
      expect(store.getRun(String(outcome.runId)).status).toBe("completed");
    } finally {
      store.close();
    }
    expect(outcomes().some((line) => line.runId === outcome.runId)).toBe(true);
  }, 30_000);

  it("Ctrl-C during a pause resumes the command, ends it and saves the run", async () => {
    let sent = false;
    const result = await run(
      [...PLAN, "--duration", "2h", "--interruptible", "--", ...ticker("paused.txt", 1000)],
      (text, pid) => {
        if (!sent && /paused at/.test(text)) {
          sent = true;
          setTimeout(() => process.kill(pid, "SIGINT"), 300);
        }
      },
    );
    expect(sent).toBe(true);
    // The command caught SIGINT (after SIGCONT) and exited 0.
    expect(result.code).toBe(0);
    const lines = readFileSync(join(dir.path, "paused.txt"), "utf8").trim().split("\n");
    expect(lines[lines.length - 1]).toBe("SIGINT");
    expect(result.stderr).toMatch(/stopping \(SIGINT\)/);
    const outcome = outcomes().at(-1) as Record<string, unknown> & { pauses: unknown[] };
    expect(outcome.status).toBe("interrupted");
    expect(outcome.stoppedBy).toBe("SIGINT");
    expect(outcome.pauses).toHaveLength(1);
    const store = RunStore.open(defaultStorePath(join(dir.path, ".wattprint")));
    try {
      expect(store.getRun(String(outcome.runId)).status).toBe("interrupted");
    } finally {
      store.close();
    }
  }, 30_000);

  it("Ctrl-C during the wait cancels cleanly: exit 130, nothing started, the outcome saved", async () => {
    let sent = false;
    const result = await run(
      [...PLAN, "--duration", "1h", "--", ...ticker("waited.txt", 5)],
      (text, pid) => {
        if (!sent && /waiting until/.test(text)) {
          sent = true;
          setTimeout(() => process.kill(pid, "SIGINT"), 200);
        }
      },
    );
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/cancelled after waiting .*: the command never started/);
    expect(existsSync(join(dir.path, "waited.txt"))).toBe(false);
    const outcome = outcomes().at(-1) as Record<string, unknown>;
    expect(outcome.status).toBe("cancelled");
    expect(outcome.stoppedBy).toBe("SIGINT");
    expect(outcome.runId).toBeNull();
  }, 30_000);

  it("bad input fails before anything runs", async () => {
    const io: CliIo = {
      stdout: () => {},
      stderr: () => {},
      env: env(),
      stdinIsTTY: false,
      stderrIsTTY: false,
    };
    await expect(runWhenGreenCli(["--", "true"], io)).rejects.toThrow(/needs --when-green/);
    await expect(runWhenGreenCli([...PLAN, "--interruptible", "--", "true"], io)).rejects.toThrow(
      /needs the command's duration/,
    );
    await expect(runWhenGreenCli([...PLAN, "--duration", "9h", "--", "true"], io)).rejects.toThrow(
      /shorter than the 9 h job/,
    );
    await expect(runWhenGreenCli([...PLAN, "--duration", "1h"], io)).rejects.toThrow(
      /no command to run/,
    );
  });
});
