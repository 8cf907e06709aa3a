import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, freemem, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { isWattprintError } from "../../src/errors.js";
import {
  CLOCK_TICKS_PER_S,
  probeProc,
  readMachineCpuTimes,
  readMemoryInfo,
  readProcessStartTicks,
  readSelfReapedChildrenCpuS,
  readTreeSnapshot,
} from "../../src/track/proc.js";

const SPAWN_TREE = fileURLToPath(new URL("../fixtures/bin/spawn-tree.js", import.meta.url));
const onLinux = process.platform === "linux";

interface TreeEvent {
  event: string;
  role: string;
  pid: number;
  ppid: number;
  cpuS?: number;
  child?: number;
  childRole?: string;
  daemon?: number;
  receivedAtMs: number;
}

interface RunningTree {
  proc: ChildProcess;
  events: TreeEvent[];
  waitFor(predicate: (events: TreeEvent[]) => boolean, timeoutMs?: number): Promise<void>;
}

const started: RunningTree[] = [];

function startTree(args: string[]): RunningTree {
  const proc = spawn(process.execPath, [SPAWN_TREE, "--lifetime-ms", "20000", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const events: TreeEvent[] = [];
  let pending = "";
  proc.stdout?.setEncoding("utf8");
  proc.stdout?.on("data", (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf("\n");
    while (newline !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim() !== "") events.push({ ...JSON.parse(line), receivedAtMs: Date.now() });
      newline = pending.indexOf("\n");
    }
  });
  const tree: RunningTree = {
    proc,
    events,
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (Date.now() > deadline) {
          throw new Error(`timed out; events so far: ${JSON.stringify(events.slice(-10))}`);
        }
        await sleep(20);
      }
    },
  };
  started.push(tree);
  return tree;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function startedPids(events: TreeEvent[], roles?: string[]): number[] {
  return events
    .filter((e) => e.event === "started" && (roles === undefined || roles.includes(e.role)))
    .map((e) => e.pid);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

afterEach(() => {
  for (const tree of started.splice(0)) {
    for (const pid of startedPids(tree.events)) killQuietly(pid);
    if (tree.proc.pid !== undefined) killQuietly(tree.proc.pid);
  }
});

/** VmRSS of a process from /proc/<pid>/status (a different file than the code reads), bytes. */
function vmRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

describe.skipIf(!onLinux)("readTreeSnapshot on real processes", () => {
  it("finds exactly the root, its children and the grandchild, with their memory", async () => {
    const tree = startTree(["--busy", "1", "--idle", "1", "--grandchild", "idle"]);
    await tree.waitFor((events) => startedPids(events).length === 4);
    const expected = startedPids(tree.events).sort((a, b) => a - b);

    const snapshot = readTreeSnapshot(tree.proc.pid as number);
    const rssByStatusBytes = expected.reduce((sum, pid) => sum + vmRssBytes(pid), 0);

    expect(snapshot.pids[0]).toBe(tree.proc.pid);
    expect([...snapshot.pids].sort((a, b) => a - b)).toEqual(expected);
    expect(snapshot.rssBytes).toBeGreaterThan(0);
    // Same memory seen through /proc/<pid>/status; allows for pages touched between reads.
    expect(snapshot.rssBytes / rssByStatusBytes).toBeGreaterThan(0.8);
    expect(snapshot.rssBytes / rssByStatusBytes).toBeLessThan(1.25);
  });

  it("grows at the rate the busy child reports for itself", async () => {
    const tree = startTree(["--busy", "1", "--idle", "1"]);
    const busyReports = (events: TreeEvent[]) =>
      events.filter((e) => e.event === "cpu" && e.role === "busy");
    await tree.waitFor((events) => busyReports(events).length >= 2);

    const root = tree.proc.pid as number;
    const before = readTreeSnapshot(root);
    const reportBefore = busyReports(tree.events).at(-1) as TreeEvent;
    const wallStartMs = Date.now();
    // Wait for CPU time, not wall time: on a loaded machine the child just gets less.
    await tree.waitFor(
      (events) => (busyReports(events).at(-1)?.cpuS as number) >= (reportBefore.cpuS as number) + 1,
      20_000,
    );
    const after = readTreeSnapshot(root);
    const reportAfter = busyReports(tree.events).at(-1) as TreeEvent;
    const wallS = (Date.now() - wallStartMs) / 1000;

    const treeDeltaS = after.cpuTimeS - before.cpuTimeS;
    const reportedDeltaS = (reportAfter.cpuS as number) - (reportBefore.cpuS as number);
    // Each report may lag the snapshot beside it by one 100 ms report period of busy
    // time; the idle members add a few ticks.
    expect(Math.abs(treeDeltaS - reportedDeltaS)).toBeLessThan(0.3);
    expect(treeDeltaS).toBeGreaterThan(0.7);
    expect(treeDeltaS).toBeLessThan(wallS * cpus().length + 0.05);
  });

  it("keeps an exited, reaped child's time (it moves into the parent's cutime)", async () => {
    const tree = startTree(["--busy", "1", "--idle", "1", "--exit-after-ms", "800"]);
    const root = tree.proc.pid as number;
    await tree.waitFor((events) => startedPids(events).length === 3);
    const busyPid = startedPids(tree.events, ["busy"])[0] as number;

    const series: number[] = [];
    let sawBusyInTree = false;
    const deadline = Date.now() + 10_000;
    let reapedAtMs: number | null = null;
    while (Date.now() < deadline) {
      const snapshot = readTreeSnapshot(root);
      series.push(snapshot.cpuTimeS);
      if (snapshot.pids.includes(busyPid)) sawBusyInTree = true;
      const reaped = tree.events.find((e) => e.event === "reaped" && e.child === busyPid);
      if (reaped !== undefined && reapedAtMs === null) reapedAtMs = Date.now();
      if (reapedAtMs !== null && Date.now() - reapedAtMs > 300) break;
      await sleep(25);
    }
    expect(reapedAtMs).not.toBeNull();
    expect(sawBusyInTree).toBe(true);

    const final = readTreeSnapshot(root);
    expect(final.pids).not.toContain(busyPid);
    for (let i = 1; i < series.length; i++) {
      // Never drops (one tick of slack for the reap race documented on the function).
      expect(series[i] as number).toBeGreaterThanOrEqual((series[i - 1] as number) - 0.011);
    }
    const exiting = tree.events.find((e) => e.event === "exiting" && e.pid === busyPid);
    // The child's whole time is still in the tree after it is gone.
    expect(final.cpuTimeS).toBeGreaterThanOrEqual((exiting?.cpuS as number) - 0.03);
  });

  it("loses an orphan that daemonized: it is re-parented outside the tree", async () => {
    const tree = startTree(["--orphan", "--idle", "1"]);
    const root = tree.proc.pid as number;
    await tree.waitFor(
      (events) =>
        startedPids(events, ["orphan"]).length === 1 &&
        events.some((e) => e.event === "reaped" && e.childRole === "orphaner"),
    );
    const orphan = startedPids(tree.events, ["orphan"])[0] as number;
    const idle = startedPids(tree.events, ["idle"])[0] as number;

    const snapshot = readTreeSnapshot(root);
    expect(snapshot.pids).toContain(idle);
    expect(snapshot.pids).not.toContain(orphan);
    const orphanStat = readFileSync(`/proc/${orphan}/stat`, "latin1");
    const orphanPpid = Number(orphanStat.slice(orphanStat.lastIndexOf(")") + 2).split(" ")[1]);
    expect(snapshot.pids).not.toContain(orphanPpid);
  });

  it("is empty once the root is gone", async () => {
    const tree = startTree([]);
    await tree.waitFor((events) => startedPids(events).length === 1);
    const root = tree.proc.pid as number;
    expect(readTreeSnapshot(root).pids).toEqual([root]);
    const exited = new Promise((resolve) => tree.proc.once("exit", resolve));
    tree.proc.kill("SIGKILL");
    await exited;
    expect(readTreeSnapshot(root)).toEqual({ pids: [], cpuTimeS: 0, rssBytes: 0 });
  });

  it("stays far under 1% of a core at one call per second", () => {
    const calls = 50;
    const startNs = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) {
      readTreeSnapshot(process.pid);
      readMachineCpuTimes();
      readMemoryInfo();
    }
    const perCallMs = Number(process.hrtime.bigint() - startNs) / 1e6 / calls;
    // 1% of one core at 1 Hz is 10 ms per sample.
    expect(perCallMs).toBeLessThan(10);
  });
});

describe.skipIf(!onLinux)("machine readers on this machine", () => {
  it("agree with os.cpus() totals", () => {
    const ours = readMachineCpuTimes();
    const perCpu = cpus();
    const osBusyS =
      perCpu.reduce((s, c) => s + c.times.user + c.times.nice + c.times.sys, 0) / 1000;
    const osIrqS = perCpu.reduce((s, c) => s + c.times.irq, 0) / 1000;
    const osIdleS = perCpu.reduce((s, c) => s + c.times.idle, 0) / 1000;
    // Reads are a few ms apart on every CPU; libuv leaves softirq out and iowait out of idle.
    const slackS = 0.5 * perCpu.length;
    expect(ours.busyS).toBeGreaterThanOrEqual(osBusyS + osIrqS - slackS);
    expect(ours.busyS).toBeLessThanOrEqual((osBusyS + osIrqS) * 1.1 + slackS);
    expect(ours.idleS).toBeGreaterThanOrEqual(osIdleS - slackS);
    expect(ours.idleS).toBeLessThanOrEqual(osIdleS * 1.1 + slackS);
    expect(ours.totalS).toBeCloseTo(ours.busyS + ours.idleS + ours.stealS, 6);
  });

  it("agree with os.totalmem() and os.freemem()", () => {
    const memory = readMemoryInfo();
    expect(memory.totalBytes / totalmem()).toBeCloseTo(1, 3);
    expect(Math.abs(memory.availableBytes - freemem())).toBeLessThan(0.05 * totalmem());
    expect(memory.usedBytes).toBe(memory.totalBytes - memory.availableBytes);
  });

  it("reads this process's reaped children's time after a busy child exits", async () => {
    const before = readSelfReapedChildrenCpuS();
    const child = spawn(
      process.execPath,
      [
        "-e",
        // Burns 0.3 s of CPU (not of wall time, so a loaded machine only makes it slower).
        "let u=process.cpuUsage();while(u.user+u.system<3e5)u=process.cpuUsage();" +
          "console.log((u.user+u.system)/1e6)",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => child.once("exit", resolve));
    const after = readSelfReapedChildrenCpuS();
    const reportedS = Number(output.trim());
    expect(reportedS).toBeGreaterThanOrEqual(0.3);
    expect(after - before).toBeGreaterThanOrEqual(reportedS - 0.03);
    expect(after - before).toBeLessThan(reportedS + 0.2);
  });

  it("gives a start time for a live process and null for a gone one", async () => {
    const self = readProcessStartTicks(process.pid);
    expect(self).toBeGreaterThan(0);
    expect(readProcessStartTicks(process.pid)).toBe(self);
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => child.once("exit", resolve));
    expect(readProcessStartTicks(child.pid as number)).toBeNull();
  });

  it("finds /proc usable here", () => {
    expect(probeProc()).toEqual({ available: true });
  });
});

describe("readers on a fixture proc tree", () => {
  const root = mkdtempSync(join(tmpdir(), "wattprint-proc-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  interface StatFields {
    pid: number;
    comm: string;
    state?: string;
    ppid: number;
    utime: number;
    stime: number;
    cutime: number;
    cstime: number;
    startTicks?: number;
    rssPages: number;
  }

  /** A /proc/<pid>/stat line with 52 fields (Linux 5.x layout). */
  function statLine(f: StatFields): string {
    const fields: (string | number)[] = [f.pid, `(${f.comm})`, f.state ?? "S", f.ppid];
    while (fields.length < 52) fields.push(0);
    fields[13] = f.utime;
    fields[14] = f.stime;
    fields[15] = f.cutime;
    fields[16] = f.cstime;
    fields[17] = 20; // priority
    fields[18] = -5; // nice: a negative field before the ones we read
    fields[21] = f.startTicks ?? 1000;
    fields[22] = 123_456_789; // vsize
    fields[23] = f.rssPages;
    return fields.join(" ") + "\n";
  }

  function writeStat(procRoot: string, f: StatFields, dirName = String(f.pid)): void {
    mkdirSync(join(procRoot, dirName), { recursive: true });
    writeFileSync(join(procRoot, dirName, "stat"), statLine(f));
  }

  const procRoot = join(root, "proc");
  const tree: StatFields[] = [
    {
      pid: 100,
      comm: "(a) b)",
      ppid: 7,
      utime: 250,
      stime: 50,
      cutime: 30,
      cstime: 10,
      rssPages: 1000,
    },
    {
      pid: 101,
      comm: "x y) S 1 2",
      state: "R",
      ppid: 100,
      utime: 400,
      stime: 25,
      cutime: 0,
      cstime: 0,
      rssPages: 500,
    },
    {
      pid: 102,
      comm: "dead",
      state: "Z",
      ppid: 101,
      utime: 70,
      stime: 3,
      cutime: 0,
      cstime: 0,
      rssPages: 999,
    },
    // A child with a lower pid than its parent (pid wrap-around).
    {
      pid: 95,
      comm: "wrapped",
      ppid: 101,
      utime: 12,
      stime: 1,
      cutime: 0,
      cstime: 0,
      rssPages: 40,
    },
  ];
  for (const f of tree) writeStat(procRoot, f);
  writeStat(procRoot, {
    pid: 103,
    comm: "other",
    ppid: 1,
    utime: 9999,
    stime: 9,
    cutime: 9,
    cstime: 9,
    rssPages: 7777,
  });
  writeStat(procRoot, {
    pid: 104,
    comm: "child of other",
    ppid: 103,
    utime: 5,
    stime: 5,
    cutime: 0,
    cstime: 0,
    rssPages: 1,
  });
  mkdirSync(join(procRoot, "105")); // vanished between readdir and read: no stat file
  mkdirSync(join(procRoot, "net"));
  writeStat(
    procRoot,
    { pid: 42, comm: "tracker", ppid: 1, utime: 1, stime: 1, cutime: 321, cstime: 79, rssPages: 1 },
    "self",
  );
  writeFileSync(
    join(procRoot, "stat"),
    "cpu  100 20 30 400 50 5 6 7 8 9\ncpu0 100 20 30 400 50 5 6 7 8 9\nintr 1 2 3\n",
  );
  writeFileSync(
    join(procRoot, "meminfo"),
    "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    6000000 kB\nBuffers:          200000 kB\n",
  );

  it("parses odd comm names, walks ppid links (also backwards) and counts zombies' time but not their memory", () => {
    const snapshot = readTreeSnapshot(100, procRoot);
    expect(snapshot.pids[0]).toBe(100);
    expect([...snapshot.pids].sort((a, b) => a - b)).toEqual([95, 100, 101, 102]);
    const ticks = 250 + 50 + 30 + 10 + (400 + 25) + (70 + 3) + (12 + 1);
    expect(snapshot.cpuTimeS).toBeCloseTo(ticks / CLOCK_TICKS_PER_S, 9);
    // No auxv in the fixture: the 4096-byte default page.
    expect(snapshot.rssBytes).toBe((1000 + 500 + 40) * 4096);
  });

  it("returns a sub-tree when rooted lower, and nothing for an unknown root", () => {
    const sub = readTreeSnapshot(101, procRoot);
    expect([...sub.pids].sort((a, b) => a - b)).toEqual([95, 101, 102]);
    expect(sub.cpuTimeS).toBeCloseTo((425 + 73 + 13) / 100, 9);
    expect(readTreeSnapshot(999, procRoot)).toEqual({ pids: [], cpuTimeS: 0, rssBytes: 0 });
  });

  it("reads the machine's CPU times without counting guest time twice", () => {
    const times = readMachineCpuTimes(procRoot);
    expect(times.busyS).toBeCloseTo((100 + 20 + 30 + 5 + 6) / 100, 9);
    expect(times.idleS).toBeCloseTo((400 + 50) / 100, 9);
    expect(times.stealS).toBeCloseTo(7 / 100, 9);
    expect(times.totalS).toBeCloseTo((161 + 450 + 7) / 100, 9);
  });

  it("reads memory, with the pre-3.14 fallback when MemAvailable is missing", () => {
    expect(readMemoryInfo(procRoot)).toEqual({
      totalBytes: 16_000_000 * 1024,
      availableBytes: 6_000_000 * 1024,
      usedBytes: 10_000_000 * 1024,
    });
    const old = join(root, "old-proc");
    mkdirSync(old);
    writeFileSync(
      join(old, "meminfo"),
      "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n",
    );
    expect(readMemoryInfo(old)).toEqual({
      totalBytes: 1000 * 1024,
      availableBytes: 400 * 1024,
      usedBytes: 600 * 1024,
    });
  });

  it("reads this process's reaped children's time and start ticks", () => {
    expect(readSelfReapedChildrenCpuS(procRoot)).toBeCloseTo(4, 9);
    expect(readProcessStartTicks(95, procRoot)).toBe(1000);
    expect(readProcessStartTicks(105, procRoot)).toBeNull();
  });

  it("says why when there is no proc filesystem", () => {
    const missing = join(root, "missing");
    const probe = probeProc(missing);
    expect(probe.available).toBe(false);
    if (!probe.available) expect(probe.reason).toContain(missing);
    let caught: unknown;
    try {
      readMachineCpuTimes(missing);
    } catch (error) {
      caught = error;
    }
    expect(isWattprintError(caught) && caught.code).toBe("SENSOR");
    expect(() => readTreeSnapshot(1, missing)).toThrow(/cannot read/);
  });
});
