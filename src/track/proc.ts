import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from "node:fs";
import { endianness } from "node:os";
import { WattprintError, describeError } from "../errors.js";

/**
 * Readers of Linux /proc for the tracker: the tracked process tree's CPU time and
 * resident memory, and the machine's CPU times and memory. Called once per sampling
 * interval, so they read small files with one reused buffer and never spawn a program.
 * All take `procRoot` (default "/proc") so tests can point them at a fixture tree.
 */

/** Default root of the proc filesystem. */
export const DEFAULT_PROC_ROOT = "/proc";

/**
 * Clock ticks per second of the times in /proc/<pid>/stat and /proc/stat.
 *
 * The kernel reports these in USER_HZ, not in its internal CONFIG_HZ: USER_HZ is part of
 * the userland ABI and is 100 on every architecture Node supports on Linux (x86, x86-64,
 * arm, arm64, ppc64, s390x, riscv64; only alpha and ia64 differ). So the constant is
 * safe without asking `sysconf(_SC_CLK_TCK)`, which would mean spawning `getconf` on the
 * hot path.
 */
export const CLOCK_TICKS_PER_S = 100;

/** Page size assumed when it cannot be read from /proc/self/auxv, bytes. */
export const DEFAULT_PAGE_SIZE_BYTES = 4096;

/**
 * Cumulative CPU times of the whole machine since boot, in CPU-seconds summed over all
 * CPUs, from the first (`cpu`) line of /proc/stat.
 */
export interface MachineCpuTimes {
  /** user + nice + system + irq + softirq (guest time is already inside user and nice). */
  busyS: number;
  /** idle + iowait: time no process was running on a CPU. */
  idleS: number;
  /** busyS + idleS + stealS. */
  totalS: number;
  /** Time a hypervisor gave this VM's CPUs to someone else (0 on bare metal). */
  stealS: number;
}

/** The machine's memory, from /proc/meminfo, bytes. */
export interface MemoryInfo {
  /** MemTotal. */
  totalBytes: number;
  /** MemAvailable (kernels before 3.14: MemFree + Buffers + Cached, an approximation). */
  availableBytes: number;
  /** totalBytes - availableBytes. */
  usedBytes: number;
}

/** The tracked process tree at one instant. */
export interface TreeSnapshot {
  /** The root and all live descendants (including zombies not yet reaped); root first. */
  pids: number[];
  /**
   * Σ over `pids` of utime + stime + cutime + cstime, CPU-seconds. cutime/cstime hold the
   * time of descendants that already exited and were reaped, so a child that exits moves
   * its time into its parent's figure and nothing is lost.
   */
  cpuTimeS: number;
  /** Σ resident memory of the live members, bytes (zombies count 0). */
  rssBytes: number;
}

/** Whether the proc filesystem can be read at `procRoot`; when not, why and what to do. */
export type ProcAvailability =
  { available: true } | { available: false; reason: string; fix: string };

/**
 * Checks that `procRoot` is a readable proc filesystem (Linux). The readers below throw
 * when it is not, so a tracker calls this once first and falls back to machine-only
 * figures when it says no.
 */
export function probeProc(procRoot: string = DEFAULT_PROC_ROOT): ProcAvailability {
  try {
    readFileSync(`${procRoot}/stat`, "latin1");
    if (!statSync(`${procRoot}/self`).isDirectory()) throw new Error("no self directory");
    return { available: true };
  } catch (error) {
    return {
      available: false,
      reason: `cannot read ${procRoot}: ${describeError(error)}`,
      fix: "per-process attribution needs Linux with /proc mounted; figures will cover the whole machine",
    };
  }
}

// One buffer for every stat file read: a /proc/<pid>/stat line is under 1 KiB.
const statBuffer = Buffer.allocUnsafe(2048);
const CLOSE_PAREN = 0x29;
const SPACE = 0x20;
const MINUS = 0x2d;

/** Fields of /proc/<pid>/stat the tracker needs; reused between reads. */
interface PidStat {
  ppid: number;
  state: number;
  /** utime + stime + cutime + cstime, clock ticks. */
  cpuTicks: number;
  /** cutime + cstime, clock ticks. */
  reapedChildrenTicks: number;
  /** Process start time after boot, clock ticks. */
  startTicks: number;
  rssPages: number;
}

const scratch: PidStat = {
  ppid: 0,
  state: 0,
  cpuTicks: 0,
  reapedChildrenTicks: 0,
  startTicks: 0,
  rssPages: 0,
};

const ZOMBIE = "Z".charCodeAt(0);
const DEAD = "X".charCodeAt(0);

function isVanished(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ESRCH" || code === "ENOTDIR";
}

/** Reads a small file into `statBuffer`; the byte count, or -1 when the file has vanished. */
function readSmallFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if (isVanished(error)) return -1;
    throw error;
  }
  try {
    return readSync(fd, statBuffer, 0, statBuffer.length, 0);
  } catch (error) {
    if (isVanished(error)) return -1;
    throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses the bytes of a stat line into `out`. The comm field (2) is in parentheses and
 * may itself contain spaces and parentheses, so fields are counted from the LAST ')'.
 * Returns false when the line is malformed.
 */
function parseStat(length: number, out: PidStat): boolean {
  let close = length - 1;
  while (close >= 0 && statBuffer[close] !== CLOSE_PAREN) close--;
  if (close < 0 || close + 2 >= length) return false;
  out.state = statBuffer[close + 2] ?? 0;
  let utime = 0;
  let stime = 0;
  let cutime = 0;
  let cstime = 0;
  let field = 3;
  let value = 0;
  let negative = false;
  // Walk from field 3 (state); fields are separated by exactly one space.
  for (let i = close + 2; i <= length; i++) {
    const byte = i < length ? statBuffer[i] : SPACE;
    if (byte === SPACE || byte === 0x0a) {
      const number = negative ? -value : value;
      if (field === 4) out.ppid = number;
      else if (field === 14) utime = number;
      else if (field === 15) stime = number;
      else if (field === 16) cutime = number;
      else if (field === 17) cstime = number;
      else if (field === 22) out.startTicks = number;
      else if (field === 24) {
        out.rssPages = number;
        out.cpuTicks = utime + stime + cutime + cstime;
        out.reapedChildrenTicks = cutime + cstime;
        return true;
      }
      field++;
      value = 0;
      negative = false;
    } else if (byte === MINUS) {
      negative = true;
    } else if (byte !== undefined && byte >= 0x30 && byte <= 0x39) {
      value = value * 10 + (byte - 0x30);
    }
  }
  return false;
}

/** Reads /proc/<pid>/stat into `out`; false when the process has vanished or the line is bad. */
function readPidStat(path: string, out: PidStat): boolean {
  const length = readSmallFile(path);
  if (length <= 0) return false;
  return parseStat(length, out);
}

const pageSizeByRoot = new Map<string, number>();
const AT_PAGESZ = 6;

/**
 * The kernel page size, read once per procRoot from the AT_PAGESZ entry of
 * /proc/self/auxv (exact, no program spawned; 64 KiB pages exist on some arm64 and
 * ppc64 kernels). Falls back to 4096 when auxv cannot be read (a fixture procRoot).
 */
export function readPageSizeBytes(procRoot: string = DEFAULT_PROC_ROOT): number {
  const cached = pageSizeByRoot.get(procRoot);
  if (cached !== undefined) return cached;
  let pageSizeBytes = DEFAULT_PAGE_SIZE_BYTES;
  try {
    const auxv = readFileSync(`${procRoot}/self/auxv`);
    const littleEndian = endianness() === "LE";
    // auxv is a list of (type, value) machine words; try 64-bit words, then 32-bit.
    for (const wordBytes of [8, 4]) {
      const found = findAuxvValue(auxv, wordBytes, littleEndian, AT_PAGESZ);
      if (found !== null && found >= 1024 && found <= 1 << 24 && (found & (found - 1)) === 0) {
        pageSizeBytes = found;
        break;
      }
    }
  } catch {
    // keep the default: not Linux, or a fixture tree without auxv
  }
  pageSizeByRoot.set(procRoot, pageSizeBytes);
  return pageSizeBytes;
}

function findAuxvValue(
  auxv: Buffer,
  wordBytes: number,
  littleEndian: boolean,
  type: number,
): number | null {
  const read = (offset: number): number => {
    if (wordBytes === 8) {
      const big = littleEndian ? auxv.readBigUInt64LE(offset) : auxv.readBigUInt64BE(offset);
      return big > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(big);
    }
    return littleEndian ? auxv.readUInt32LE(offset) : auxv.readUInt32BE(offset);
  };
  for (let offset = 0; offset + 2 * wordBytes <= auxv.length; offset += 2 * wordBytes) {
    const entryType = read(offset);
    if (entryType === 0) return null;
    if (entryType === type) return read(offset + wordBytes);
  }
  return null;
}

function procError(path: string, error: unknown): WattprintError {
  return new WattprintError("SENSOR", `cannot read ${path}: ${describeError(error)}`, {
    hint: "per-process figures need Linux with /proc mounted",
    cause: error,
  });
}

/**
 * The machine's cumulative CPU times from the first line of `<procRoot>/stat`.
 * Differences between two calls give the busy and idle CPU-seconds of an interval.
 * Throws WattprintError("SENSOR") when the file cannot be read (see {@link probeProc}).
 */
export function readMachineCpuTimes(procRoot: string = DEFAULT_PROC_ROOT): MachineCpuTimes {
  const path = `${procRoot}/stat`;
  let length: number;
  try {
    // Only the first line is needed; /proc/stat is large on many-core machines.
    length = readSmallFile(path);
  } catch (error) {
    throw procError(path, error);
  }
  if (length < 0) throw procError(path, new Error("no such file"));
  const text = statBuffer.toString("latin1", 0, length);
  const end = text.indexOf("\n");
  const line = end === -1 ? text : text.slice(0, end);
  const parts = line.trim().split(/\s+/);
  if (parts[0] !== "cpu" || parts.length < 5) {
    throw procError(path, new Error(`unexpected first line "${line.slice(0, 80)}"`));
  }
  const tick = (index: number): number => {
    const value = Number(parts[index] ?? 0);
    return Number.isFinite(value) ? value : 0;
  };
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const busyTicks = tick(1) + tick(2) + tick(3) + tick(6) + tick(7);
  const idleTicks = tick(4) + tick(5);
  const stealTicks = tick(8);
  return {
    busyS: busyTicks / CLOCK_TICKS_PER_S,
    idleS: idleTicks / CLOCK_TICKS_PER_S,
    totalS: (busyTicks + idleTicks + stealTicks) / CLOCK_TICKS_PER_S,
    stealS: stealTicks / CLOCK_TICKS_PER_S,
  };
}

/**
 * The machine's memory from `<procRoot>/meminfo` (kB there means KiB).
 * Throws WattprintError("SENSOR") when the file cannot be read or lacks MemTotal.
 */
export function readMemoryInfo(procRoot: string = DEFAULT_PROC_ROOT): MemoryInfo {
  const path = `${procRoot}/meminfo`;
  let text: string;
  try {
    text = readFileSync(path, "latin1");
  } catch (error) {
    throw procError(path, error);
  }
  const kib = (key: string): number | null => {
    const match = new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text);
    return match?.[1] === undefined ? null : Number(match[1]);
  };
  const totalKiB = kib("MemTotal");
  if (totalKiB === null) throw procError(path, new Error("no MemTotal line"));
  let availableKiB = kib("MemAvailable");
  if (availableKiB === null) {
    availableKiB = (kib("MemFree") ?? 0) + (kib("Buffers") ?? 0) + (kib("Cached") ?? 0);
  }
  availableKiB = Math.min(availableKiB, totalKiB);
  return {
    totalBytes: totalKiB * 1024,
    availableBytes: availableKiB * 1024,
    usedBytes: (totalKiB - availableKiB) * 1024,
  };
}

// Scratch arrays for the scan, grown as needed and reused between calls.
let scanPids = new Int32Array(1024);
let scanPpids = new Int32Array(1024);

function listPids(procRoot: string): string[] {
  try {
    return readdirSync(procRoot);
  } catch (error) {
    throw procError(procRoot, error);
  }
}

/**
 * The process tree rooted at `rootPid`: its live members, their CPU time and resident
 * memory. Scans `<procRoot>/[0-9]*` once, reading each /proc/<pid>/stat, and follows
 * ppid links down from the root; processes that vanish during the scan are skipped.
 *
 * What is and is not counted:
 * - A descendant that exits and is reaped by a member moves its CPU time (and that of
 *   its own reaped descendants) into the reaper's cutime/cstime: nothing is lost.
 * - An orphan (its parent exited first) is re-parented to init or to a subreaper outside
 *   the tree and leaves the tree: its CPU time from that point on is not counted, and
 *   the time it had used is lost from the total (a `setsid`-daemonized child does this).
 * - When the root itself has exited and was reaped, the tree is empty (pids [], 0 s);
 *   the root's total then shows in the reaper's own cutime
 *   ({@link readSelfReapedChildrenCpuS} when the tracker spawned it).
 * - If a member is reaped in the microseconds between reading its parent and itself,
 *   the members are read once more so the time shows in the parent; with pid wrap-around
 *   (a child with a lower pid than its parent) one snapshot can still be off by one
 *   reaped child's time, so treat `cpuTimeS` as a series and clamp negative deltas to 0.
 *
 * Cost: three syscalls per process on the machine plus a readdir, no spawned program.
 * Throws WattprintError("SENSOR") only when `procRoot` itself cannot be listed.
 */
export function readTreeSnapshot(
  rootPid: number,
  procRoot: string = DEFAULT_PROC_ROOT,
): TreeSnapshot {
  const entries = listPids(procRoot);
  if (scanPids.length < entries.length) {
    scanPids = new Int32Array(entries.length * 2);
    scanPpids = new Int32Array(entries.length * 2);
  }
  let count = 0;
  for (const entry of entries) {
    const code = entry.charCodeAt(0);
    if (code < 0x30 || code > 0x39) continue;
    const pid = Number(entry);
    if (Number.isInteger(pid)) scanPids[count++] = pid;
  }
  // Ascending pids read parents before children in the usual case (see the TSDoc).
  const sorted = scanPids.subarray(0, count).sort();

  const members = new Set<number>();
  const ticks = new Map<number, number>();
  let rssPages = 0;
  let rootFound = false;
  let vanished = false;
  let scanned = 0;
  // Compacts the readable processes into the front of scanPids; safe while iterating
  // `sorted` (a view of the same array) because the write index never passes the read one.
  for (const pid of sorted) {
    if (!readPidStat(`${procRoot}/${pid}/stat`, scratch)) {
      vanished = true;
      continue;
    }
    scanPids[scanned] = pid;
    scanPpids[scanned] = scratch.ppid;
    scanned++;
    if (pid === rootPid || members.has(scratch.ppid)) {
      if (pid === rootPid) rootFound = true;
      members.add(pid);
      ticks.set(pid, scratch.cpuTicks);
      if (scratch.state !== ZOMBIE && scratch.state !== DEAD) rssPages += scratch.rssPages;
    }
  }
  if (!rootFound) return { pids: [], cpuTimeS: 0, rssBytes: 0 };

  // Children with lower pids than their parents (pid wrap-around) were missed above.
  let grown = true;
  const late: number[] = [];
  while (grown) {
    grown = false;
    for (let i = 0; i < scanned; i++) {
      const pid = scanPids[i] as number;
      if (!members.has(pid) && members.has(scanPpids[i] as number)) {
        members.add(pid);
        late.push(pid);
        grown = true;
      }
    }
  }
  for (const pid of late) {
    if (readPidStat(`${procRoot}/${pid}/stat`, scratch)) {
      ticks.set(pid, scratch.cpuTicks);
      if (scratch.state !== ZOMBIE && scratch.state !== DEAD) rssPages += scratch.rssPages;
    } else {
      members.delete(pid);
    }
  }

  if (vanished) {
    // Something exited during the scan: read the members again so a child reaped between
    // the reads of its parent and itself shows in the parent's cutime.
    rssPages = 0;
    for (const pid of members) {
      if (readPidStat(`${procRoot}/${pid}/stat`, scratch)) {
        ticks.set(pid, scratch.cpuTicks);
        if (scratch.state !== ZOMBIE && scratch.state !== DEAD) rssPages += scratch.rssPages;
      } else {
        members.delete(pid);
        ticks.delete(pid);
      }
    }
  }

  let cpuTicks = 0;
  for (const value of ticks.values()) cpuTicks += value;
  return {
    pids: Array.from(members),
    cpuTimeS: cpuTicks / CLOCK_TICKS_PER_S,
    rssBytes: rssPages * readPageSizeBytes(procRoot),
  };
}

/**
 * CPU-seconds (cutime + cstime) of the children this process has reaped, from
 * `<procRoot>/self/stat`. The tracker reads it just before and just after it reaps the
 * tracked command: the difference is the root's total CPU time, including the reaped
 * descendants in the root's own cutime. Any other child the tracker reaps (a helper
 * program) also lands here, so only the difference across the root's reap is meaningful.
 */
export function readSelfReapedChildrenCpuS(procRoot: string = DEFAULT_PROC_ROOT): number {
  const path = `${procRoot}/self/stat`;
  let ok: boolean;
  try {
    ok = readPidStat(path, scratch);
  } catch (error) {
    throw procError(path, error);
  }
  if (!ok) throw procError(path, new Error("missing or malformed"));
  return scratch.reapedChildrenTicks / CLOCK_TICKS_PER_S;
}

/**
 * When a process started, in clock ticks after boot (field 22 of /proc/<pid>/stat);
 * null when the process does not exist or /proc cannot be read. Together with the pid it
 * identifies a process across pid reuse.
 */
export function readProcessStartTicks(
  pid: number,
  procRoot: string = DEFAULT_PROC_ROOT,
): number | null {
  try {
    return readPidStat(`${procRoot}/${pid}/stat`, scratch) ? scratch.startTicks : null;
  } catch {
    return null;
  }
}
