import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "../../src/record/run-record.js";
import { busyScript, isolatedEnv, runCli, tempDir } from "../helpers/cli.js";

const dir = tempDir();
afterAll(() => dir.cleanup());
const env = () => isolatedEnv(dir.path);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("phases from any language through the marks file", () => {
  it("gives each phase its energy and times", async () => {
    const busy = `${process.execPath} -e '${busyScript(1000)}'`;
    const script = [
      `echo '{"phase":"prepare","event":"start"}' >> "$WATTPRINT_MARKS"`,
      "sleep 0.5",
      `echo '{"phase":"prepare","event":"end"}' >> "$WATTPRINT_MARKS"`,
      `echo '{"phase":"train","event":"start"}' >> "$WATTPRINT_MARKS"`,
      busy,
      `echo '{"phase":"train","event":"end","metrics":{"val_accuracy":0.93}}' >> "$WATTPRINT_MARKS"`,
      `echo 'not json' >> "$WATTPRINT_MARKS"`,
    ].join("; ");
    // At the default 1 s interval: phase boundaries must cut intervals, not share an even spread.
    const out = join(dir.path, "phases.json");
    const result = await runCli(["track", "--no-store", "--out", out, "--", "sh", "-c", script], {
      env: env(),
    });
    expect(result.code).toBe(0);
    const run = JSON.parse(readFileSync(out, "utf8")) as RunRecord;
    expect(run.phases.map((p) => p.name)).toEqual(["prepare", "train"]);
    const [prepare, train] = run.phases;
    const seconds = (p: RunRecord["phases"][number] | undefined) =>
      (Date.parse(p?.endedAt ?? "") - Date.parse(p?.startedAt ?? "")) / 1000;
    expect(seconds(prepare)).toBeGreaterThan(0.4);
    expect(seconds(prepare)).toBeLessThan(0.9);
    expect(seconds(train)).toBeGreaterThan(0.9);
    const meanPowerW = (p: RunRecord["phases"][number] | undefined) =>
      (p?.energyJ.cpu ?? NaN) / seconds(p);
    // `sleep` uses next to no CPU; the busy loop keeps a core busy.
    expect(meanPowerW(prepare)).toBeLessThan(0.3 * meanPowerW(train));
    expect((prepare?.energyJ.total ?? 0) + (train?.energyJ.total ?? 0)).toBeLessThanOrEqual(
      (run.energyJ.total ?? 0) + 1e-9,
    );
    expect(run.warnings.join("\n")).toMatch(/marks file: not JSON, ignored: not json/);
    expect(train?.metrics).toEqual({ val_accuracy: 0.93 });
    expect(prepare?.metrics).toBeUndefined();
  });
});

describe("signals", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "forwards %s to the command, exits with its code and saves the run",
    async (signal) => {
      const script = `process.on(${JSON.stringify(signal)}, () => { console.log("child got ${signal}"); process.exit(0); }); setInterval(() => {}, 1000);`;
      let pid = 0;
      const running = runCli(
        ["track", "--interval", "200ms", "--", process.execPath, "-e", script],
        {
          env: env(),
          onSpawn: (p) => (pid = p),
        },
      );
      await sleep(900);
      process.kill(pid, signal);
      const result = await running;
      expect(result.stdout).toBe(`child got ${signal}\n`);
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/— interrupted in/);
      const id = /saved as run ([0-9a-f]{8})/.exec(result.stderr)?.[1] ?? "missing";
      const shown = await runCli(["runs", "show", id, "--json"], { env: env() });
      expect((JSON.parse(shown.stdout) as RunRecord).status).toBe("interrupted");
    },
  );

  it("reports a command killed by a signal as 128 + the signal number", async () => {
    const result = await runCli(
      ["track", "--quiet", "--no-store", "--", "sh", "-c", "kill -TERM $$"],
      { env: env() },
    );
    expect(result.code).toBe(143);
  });
});

describe("a tracker killed with SIGKILL", () => {
  it("leaves its run in the store up to the last sample, marked interrupted", async () => {
    const pidFile = join(dir.path, "child.pid");
    const script = `require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); ${busyScript(4000)}`;
    let pid = 0;
    const running = runCli(["track", "--interval", "200ms", "--", process.execPath, "-e", script], {
      env: env(),
      onSpawn: (p) => (pid = p),
    });
    await sleep(1500);
    process.kill(pid, "SIGKILL");
    await running;
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
      } catch {
        // already gone
      }
    }
    const listed = await runCli(["runs", "--json", "--limit", "1"], { env: env() });
    const [latest] = JSON.parse(listed.stdout) as { id: string }[];
    const shown = await runCli(["runs", "show", latest?.id ?? "none", "--json"], { env: env() });
    const run = JSON.parse(shown.stdout) as RunRecord;
    expect(run.command.join(" ")).toContain(pidFile);
    expect(run.status).toBe("interrupted");
    expect(run.warnings.join("\n")).toMatch(/tracker stopped before the run ended/);
    expect(run.sampling.samples).toBeGreaterThanOrEqual(4);
    expect(run.durationS).toBeGreaterThan(0.8);
    expect(run.energyJ.cpu).toBeGreaterThan(0);
  });
});

describe("CodeCarbon-compatible CSV", () => {
  it("appends one row per run under one header", async () => {
    const csv = join(dir.path, "emissions.csv");
    for (let i = 0; i < 2; i++) {
      const result = await runCli(
        [
          "track",
          "--quiet",
          "--no-store",
          "--region",
          "FR",
          "--csv",
          csv,
          "--",
          process.execPath,
          "-e",
          busyScript(200),
        ],
        { env: env() },
      );
      expect(result.code).toBe(0);
    }
    const lines = readFileSync(csv, "utf8").trim().split("\n");
    expect(lines).toHaveLength(3);
    const header = lines[0]?.split(",") ?? [];
    expect(header.slice(0, 6)).toEqual([
      "timestamp",
      "project_name",
      "run_id",
      "experiment_id",
      "duration",
      "emissions",
    ]);
    const row = lines[2]?.split(",") ?? [];
    expect(row).toHaveLength(header.length);
    const energyKWh = Number(row[header.indexOf("energy_consumed")]);
    const emissionsKg = Number(row[header.indexOf("emissions")]);
    expect(energyKWh).toBeGreaterThan(0);
    expect(row[header.indexOf("country_iso_code")]).toBe("FRA");
    expect(emissionsKg / energyKWh).toBeGreaterThan(0.01);
    expect(emissionsKg / energyKWh).toBeLessThan(0.2);
  });
});

describe("bad input", () => {
  const cases: { name: string; args: string[]; code: number; message: RegExp }[] = [
    { name: "missing command", args: ["track"], code: 2, message: /no command to track/ },
    {
      name: "unknown flag",
      args: ["track", "--regoin", "FR", "--", "true"],
      code: 2,
      message: /Unknown option '--regoin'/,
    },
    {
      name: "bad interval",
      args: ["track", "--interval", "fast", "--", "true"],
      code: 2,
      message: /invalid --interval "fast"/,
    },
    {
      name: "zero interval",
      args: ["track", "--interval", "0s", "--", "true"],
      code: 2,
      message: /invalid interval 0 s/,
    },
    {
      name: "unknown region",
      args: ["track", "--region", "Frnace", "--", "true"],
      code: 2,
      message: /unknown region "Frnace"/,
    },
    {
      name: "bad PUE",
      args: ["track", "--pue", "0.5", "--", "true"],
      code: 2,
      message: /invalid PUE 0.5/,
    },
    {
      name: "unwritable output",
      args: ["track", "--out", "/nonexistent-dir/run.json", "--", "true"],
      code: 73,
      message: /cannot write --out/,
    },
    {
      name: "command not found",
      args: ["track", "--", "definitely-not-a-command-xyz"],
      code: 127,
      message: /command not found: definitely-not-a-command-xyz/,
    },
    { name: "unknown subcommand", args: ["trakc"], code: 2, message: /unknown command "trakc"/ },
    { name: "unknown run", args: ["runs", "show", "ffffffff"], code: 3, message: /ffffffff/ },
  ];
  it.each(cases)(
    "$name: one clear line, a hint, a non-zero exit",
    async ({ args, code, message }) => {
      const result = await runCli(args, { env: env() });
      expect(result.code).toBe(code);
      const lines = result.stderr.trim().split("\n");
      expect(lines[0]).toMatch(message);
      expect(lines[0]).toMatch(/^wattprint: /);
      expect(lines[1] ?? "").toMatch(/^ {2}hint: /);
      expect(lines.length).toBeLessThanOrEqual(2);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stderr).not.toMatch(/NaN/);
    },
  );

  it("suggests close matches for an unknown region", async () => {
    const result = await runCli(["track", "--region", "Frnace", "--", "true"], { env: env() });
    expect(result.stderr).toMatch(/hint: .*FR/);
  });

  it("writes no file when the run cannot start", async () => {
    const out = join(dir.path, "never.json");
    await runCli(["track", "--region", "Nowhere", "--out", out, "--", "true"], { env: env() });
    expect(existsSync(out)).toBe(false);
  });

  it("refuses an --out that is a directory before running anything", async () => {
    const marker = join(dir.path, "ran");
    const result = await runCli(["track", "--out", dir.path, "--", "sh", "-c", `touch ${marker}`], {
      env: env(),
    });
    expect(result.code).toBe(73);
    expect(existsSync(marker)).toBe(false);
  });
});

describe("runs", () => {
  it("lists nothing in a fresh home without failing", async () => {
    const fresh = tempDir();
    try {
      const result = await runCli(["runs"], { env: isolatedEnv(fresh.path) });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/no runs yet/);
    } finally {
      fresh.cleanup();
    }
  });

  it("reports an unwritable store as one line", async () => {
    const blocker = join(dir.path, "store-blocker");
    writeFileSync(blocker, "a file where the store directory should be");
    const result = await runCli(["track", "--", "true"], {
      env: { ...env(), WATTPRINT_HOME: join(blocker, "home") },
    });
    expect(result.code).toBe(74);
    expect(result.stderr).toMatch(/^wattprint: cannot open run store/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
