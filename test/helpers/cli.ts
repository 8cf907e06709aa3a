import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const BIN = join(REPO_ROOT, "bin/wattprint.js");
export const FIXTURE_BIN = join(REPO_ROOT, "test/fixtures/bin");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A temp dir removed by `cleanup()`. */
export function tempDir(prefix = "wattprint-e2e-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * An environment with no hardware: no powercap, no hwmon, NVML off, no nvidia-smi on PATH,
 * and the run store in `home`. Tests add fixture roots on top.
 */
export function isolatedEnv(
  home: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    HOME: home,
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    WATTPRINT_HOME: join(home, ".wattprint"),
    WATTPRINT_POWERCAP_ROOT: join(home, "no-powercap"),
    WATTPRINT_HWMON_ROOT: join(home, "no-hwmon"),
    WATTPRINT_NVML: "off",
    ...extra,
  };
}

/** Runs the built CLI (npm test builds it first) and collects its output. */
export function runCli(
  args: string[],
  options: {
    env: Record<string, string>;
    cwd?: string;
    onSpawn?: (pid: number) => void;
    timeoutMs?: number;
  },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: options.env,
      cwd: options.cwd ?? REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 25_000);
    child.on("error", reject);
    child.on("spawn", () => options.onSpawn?.(child.pid ?? 0));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A node one-liner that keeps one core busy until it has used `ms` milliseconds of CPU
 * time (not wall time: on a loaded machine it runs longer, but its CPU use is exact).
 */
export function busyScript(ms: number): string {
  return `{const s=process.cpuUsage();let x=0;for(;;){for(let i=0;i<1e5;i++)x+=Math.sqrt(x+1);const u=process.cpuUsage(s);if((u.user+u.system)/1000>=${ms})break;}}`;
}

/** Spins this process until it has used `ms` milliseconds of CPU time. */
export function spinCpu(ms: number): void {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + 1);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) break;
  }
}
