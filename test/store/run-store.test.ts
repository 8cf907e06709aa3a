import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WattprintError } from "../../src/errors.js";
import { defaultStorePath, RunStore } from "../../src/store/run-store.js";
import { LATEST_SCHEMA_VERSION } from "../../src/store/schema.js";
import { makeRunRecord, makeSample } from "../fixtures/store/record-factory.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WRITER = fileURLToPath(new URL("../fixtures/store/store-writer.ts", import.meta.url));
const THIS_HOST = hostname();

let dir: string;
const openStores: RunStore[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "wattprint-store-"));
});

afterEach(() => {
  for (const store of openStores.splice(0)) store.close();
  for (const child of children.splice(0)) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function open(path = join(dir, "runs.sqlite"), options?: { hostname?: string }): RunStore {
  const store = RunStore.open(path, options);
  openStores.push(store);
  return store;
}

function caught(action: () => unknown): WattprintError {
  try {
    action();
  } catch (error) {
    if (error instanceof WattprintError) return error;
    throw error;
  }
  throw new Error("expected a WattprintError");
}

function localRecord(overrides: Parameters<typeof makeRunRecord>[0] = {}) {
  const base = makeRunRecord();
  return makeRunRecord({ ...overrides, machine: { ...base.machine, hostname: THIS_HOST } });
}

/** The pid of a process that has exited and been reaped, so no longer alive. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid as number;
}

/** Starts the writer fixture; resolves with it and its "saved <seq>" lines as they come. */
function startWriter(path: string, id: string, pauseMs: number) {
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, path, id, String(pauseMs)], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const saved: number[] = [];
  let begun = false;
  let pending = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "begun") begun = true;
      const match = /^saved (\d+)$/.exec(line);
      if (match?.[1] !== undefined) saved.push(Number(match[1]));
    }
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once("exit", (_code, signal) => resolve(signal)),
  );
  return {
    child,
    saved,
    exited,
    isBegun: () => begun,
    async waitForSaved(count: number, timeoutMs = 20_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (saved.length < count) {
        if (Date.now() > deadline) throw new Error(`writer saved only ${saved.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

describe("RunStore", () => {
  it("creates the file and its directories, in WAL mode, at the latest schema", () => {
    const path = join(dir, "a", "b", "runs.sqlite");
    open(path);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    const versions = raw.prepare("SELECT version FROM schema_version ORDER BY version").all();
    raw.close();
    expect(versions.map((row) => (row as { version: number }).version)).toEqual(
      Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
    );
    // Opening again applies nothing twice.
    open(path).close();
  });

  it("saves progress that a second connection reads back, then the finished record", () => {
    const writer = open();
    const record = localRecord({ status: "running", endedAt: null });
    writer.beginRun(record, process.pid);
    const samples = [0, 1, 2].map((seq) => makeSample(seq, record.startedAt));
    for (const sample of samples) {
      record.durationS = sample.elapsedS;
      record.sampling = { ...record.sampling, samples: sample.seq + 1 };
      writer.saveProgress(record, sample);
    }

    const reader = open();
    const read = reader.getRun(record.id);
    expect(read).toEqual(record);
    expect(read.status).toBe("running");
    expect(reader.getSamples(record.id)).toEqual(samples);

    const finished = {
      ...record,
      status: "completed" as const,
      endedAt: "2025-03-01T10:00:03.000Z",
    };
    writer.finishRun(finished);
    expect(reader.getRun(record.id)).toEqual(finished);
    expect(reader.listRuns()[0]?.status).toBe("completed");
  });

  it("saves a sample and the record in one transaction: a failed sample leaves the record as it was", () => {
    const store = open();
    const record = localRecord({ status: "running", durationS: 1 });
    store.beginRun(record, process.pid);
    store.saveProgress(record, makeSample(0));

    const error = caught(() => store.saveProgress({ ...record, durationS: 2 }, makeSample(0)));
    expect(error.code).toBe("STORE");
    expect(store.getRun(record.id).durationS).toBe(1);
    expect(store.getSamples(record.id)).toHaveLength(1);
  });

  it("refuses progress for a run that was never begun, leaving no stray sample", () => {
    const path = join(dir, "runs.sqlite");
    const store = open(path);
    expect(caught(() => store.saveProgress(localRecord({ id: "ghost" }), makeSample(0))).code).toBe(
      "STORE",
    );
    expect(caught(() => store.finishRun(localRecord({ id: "ghost" }))).code).toBe("STORE");
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare("SELECT COUNT(*) AS n FROM samples").get()).toEqual({ n: 0 });
    raw.close();
  });

  it("refuses a second run with the same id and a finish that is still running", () => {
    const store = open();
    const record = localRecord();
    store.beginRun(record, process.pid);
    expect(caught(() => store.beginRun(record, process.pid)).code).toBe("STORE");
    expect(caught(() => store.finishRun({ ...record, status: "running" })).code).toBe("BAD_INPUT");
  });

  it("finds runs by unique prefix, says which runs an ambiguous prefix matches, and not found", () => {
    const store = open();
    for (const id of ["abc123", "abd456", "xyz789", "ab"]) {
      store.beginRun(localRecord({ id }), process.pid);
    }
    expect(store.getRun("abc").id).toBe("abc123");
    expect(store.getRun("x").id).toBe("xyz789");
    // An exact id wins even when it is also a prefix of other ids.
    expect(store.getRun("ab").id).toBe("ab");
    const ambiguous = caught(() => store.getRun("a"));
    expect(ambiguous.code).toBe("BAD_INPUT");
    expect(ambiguous.message).toContain("abc123");
    expect(ambiguous.message).toContain("abd456");
    expect(ambiguous.hint).toBeDefined();
    expect(caught(() => store.getRun("q")).code).toBe("NOT_FOUND");
    expect(caught(() => store.getSamples("nope")).code).toBe("NOT_FOUND");
    expect(caught(() => store.getRun("")).code).toBe("BAD_INPUT");
    // LIKE wildcards in a prefix are plain characters.
    expect(caught(() => store.getRun("a%")).code).toBe("NOT_FOUND");
    expect(caught(() => store.getRun("_")).code).toBe("NOT_FOUND");
  });

  it("lists runs newest first with their totals, up to a limit", () => {
    const store = open();
    const starts = [
      "2025-03-02T09:00:00.000Z",
      "2025-03-01T09:00:00.000Z",
      "2025-03-03T09:00:00.000Z",
    ];
    starts.forEach((startedAt, i) => {
      store.beginRun(
        localRecord({
          id: `run-${i}`,
          startedAt,
          command: ["job", String(i)],
          energyJ: { total: 100 * (i + 1), cpu: null, gpu: null, ram: null },
          co2eG: i === 1 ? null : i + 0.5,
        }),
        process.pid,
      );
    });
    const list = store.listRuns();
    expect(list.map((run) => run.id)).toEqual(["run-2", "run-0", "run-1"]);
    expect(list[0]).toMatchObject({
      command: ["job", "2"],
      energyJ: 300,
      co2eG: 2.5,
      host: THIS_HOST,
    });
    expect(list[2]?.co2eG).toBeNull();
    expect(store.listRuns({ limit: 2 }).map((run) => run.id)).toEqual(["run-2", "run-0"]);
    expect(caught(() => store.listRuns({ limit: 0 })).code).toBe("BAD_INPUT");
  });

  it("reports a running run whose tracker is gone as interrupted, up to its last sample", async () => {
    const store = open();
    const gone = await deadPid();
    const record = localRecord({ id: "crashed", status: "running", endedAt: null });
    store.beginRun(record, gone);
    const last = makeSample(4, record.startedAt);
    store.saveProgress(record, makeSample(3, record.startedAt));
    store.saveProgress(record, last);
    store.beginRun(localRecord({ id: "alive", status: "running" }), process.pid);
    store.beginRun(localRecord({ id: "no-sample", status: "running" }), gone);

    const read = store.getRun("crashed");
    expect(read.status).toBe("interrupted");
    expect(read.warnings).toContain(
      `the tracker stopped before the run ended (killed or crashed); figures cover up to ${last.t}`,
    );
    expect(store.getRun("alive").status).toBe("running");
    expect(store.getRun("no-sample").warnings.join()).toContain("no sample was saved");

    const listed = new Map(store.listRuns().map((run) => [run.id, run]));
    expect(listed.get("crashed")?.status).toBe("interrupted");
    expect(listed.get("crashed")?.warning).toContain(last.t);
    expect(listed.get("alive")?.status).toBe("running");
    expect(listed.get("alive")?.warning).toBeNull();
  });

  it("does not judge another host's run, nor a finished run", async () => {
    const store = open();
    const gone = await deadPid();
    const base = makeRunRecord();
    store.beginRun(
      makeRunRecord({
        id: "remote",
        status: "running",
        machine: { ...base.machine, hostname: "elsewhere" },
      }),
      gone,
    );
    const done = localRecord({ id: "done", status: "running" });
    store.beginRun(done, gone);
    store.finishRun({ ...done, status: "failed" });
    expect(store.getRun("remote").status).toBe("running");
    expect(store.getRun("done").status).toBe("failed");
    // The same file read as if from the other host judges the remote run.
    const there = open(join(dir, "runs.sqlite"), { hostname: "elsewhere" });
    expect(there.getRun("remote").status).toBe("interrupted");
  });

  it.skipIf(process.platform !== "linux")(
    "sees a reused pid as a different process by its start time",
    () => {
      const path = join(dir, "runs.sqlite");
      const store = open(path);
      store.beginRun(localRecord({ id: "reused", status: "running" }), process.pid);
      expect(store.getRun("reused").status).toBe("running");
      const raw = new Database(path);
      raw.prepare("UPDATE runs SET tracker_start_ticks = tracker_start_ticks - 1").run();
      raw.close();
      expect(store.getRun("reused").status).toBe("interrupted");
    },
  );

  it("keeps every committed sample when the writer is killed with SIGKILL mid-run", async () => {
    const path = join(dir, "runs.sqlite");
    const writer = startWriter(path, "killed-run", 0);
    await writer.waitForSaved(40);
    writer.child.kill("SIGKILL");
    expect(await writer.exited).toBe("SIGKILL");
    const lastPrinted = writer.saved.at(-1) as number;

    const store = open(path);
    const samples = store.getSamples("killed-run");
    const record = store.getRun("killed-run");
    // Printed after commit, so at least everything printed is there, without gaps.
    expect(samples.length).toBeGreaterThanOrEqual(lastPrinted + 1);
    expect(samples.map((s) => s.seq)).toEqual(samples.map((_, i) => i));
    // The record was replaced in the same transaction as the last sample.
    expect(record.sampling.samples).toBe(samples.length);
    expect(record.durationS).toBeCloseTo((samples.at(-1) as { elapsedS: number }).elapsedS, 9);
    expect(record.status).toBe("interrupted");
    expect(record.warnings.at(-1)).toContain((samples.at(-1) as { t: string }).t);
  });

  it("lets a reader read while another process writes (WAL), always a consistent record", async () => {
    const path = join(dir, "runs.sqlite");
    const writer = startWriter(path, "live-run", 2);
    await writer.waitForSaved(1);
    const reader = open(path);
    let previous = 0;
    let slowestReadMs = 0;
    let reads = 0;
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      const startMs = performance.now();
      const record = reader.getRun("live-run");
      const samples = reader.getSamples("live-run");
      slowestReadMs = Math.max(slowestReadMs, performance.now() - startMs);
      expect(record.status).toBe("running");
      // Samples are read after the record, so never fewer than it counts.
      expect(samples.length).toBeGreaterThanOrEqual(record.sampling.samples);
      expect(record.sampling.samples).toBeGreaterThanOrEqual(previous);
      previous = record.sampling.samples;
      reads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(writer.isBegun()).toBe(true);
    expect(reads).toBeGreaterThan(20);
    expect(previous).toBeGreaterThan(20);
    expect(slowestReadMs).toBeLessThan(1000);
  });

  it("says why it cannot open a path under a file, a file that is not a database, or a newer schema", () => {
    const file = join(dir, "plain-file");
    writeFileSync(file, "not a directory");
    const underFile = caught(() => open(join(file, "runs.sqlite")));
    expect(underFile.code).toBe("STORE");
    expect(underFile.message).toContain(`cannot open run store at ${join(file, "runs.sqlite")}`);
    expect(underFile.hint).toBeDefined();

    const garbage = join(dir, "garbage.sqlite");
    writeFileSync(garbage, "this is not an SQLite database, just some text ".repeat(100));
    expect(caught(() => open(garbage)).code).toBe("STORE");

    const newer = join(dir, "newer.sqlite");
    open(newer).close();
    const raw = new Database(newer);
    raw
      .prepare("INSERT INTO schema_version VALUES (?, 'from the future', '2099-01-01')")
      .run(LATEST_SCHEMA_VERSION + 1);
    raw.close();
    const tooNew = caught(() => open(newer));
    expect(tooNew.code).toBe("STORE");
    expect(tooNew.message).toContain("newer wattprint");
  });

  it("fails with STORE after close", () => {
    const store = open();
    store.close();
    expect(caught(() => store.listRuns()).code).toBe("STORE");
  });
});

describe("defaultStorePath", () => {
  it("uses the given wattprint home, else ~/.wattprint", () => {
    expect(defaultStorePath("/data/wp", "/home/ada")).toBe(join("/data/wp", "runs.sqlite"));
    expect(defaultStorePath(undefined, "/home/ada")).toBe(
      join("/home/ada", ".wattprint", "runs.sqlite"),
    );
    expect(defaultStorePath("", "/home/ada")).toBe(join("/home/ada", ".wattprint", "runs.sqlite"));
  });
});
