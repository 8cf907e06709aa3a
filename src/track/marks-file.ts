import { closeSync, openSync, readSync, watch, writeFileSync, type FSWatcher } from "node:fs";

/** One line of a marks file: `{"phase":"epoch 3","event":"start"}`. */
export interface PhaseMark {
  phase: string;
  event: "start" | "end";
  /** Wall-clock time of the mark, epoch ms: the line's `time` if given, else when it was read. */
  timeMs: number;
  /** Metrics reported with the mark (`"metrics": {"val_accuracy": 0.91}`), finite numbers only. */
  metrics?: Record<string, number>;
}

const MAX_WARNINGS = 5;

/**
 * Reads phase marks that a tracked program in any language appends, one JSON object a
 * line, to the file named in WATTPRINT_MARKS. Lines are read as soon as the file changes
 * (inotify through fs.watch) and again at every sample, so marks without a `time` are
 * stamped within milliseconds. Malformed lines become warnings, never errors.
 */
export class MarksFileReader {
  readonly path: string;
  readonly warnings: string[] = [];
  private offset = 0;
  private partial = "";
  private watcher: FSWatcher | null = null;
  private readonly pending: PhaseMark[] = [];
  private badLines = 0;

  constructor(path: string) {
    this.path = path;
    writeFileSync(path, "", { flag: "a" });
  }

  /** Starts reading on change; `onMarks` is called with new marks as they arrive. */
  watch(onMarks: (marks: PhaseMark[]) => void): void {
    try {
      this.watcher = watch(this.path, () => {
        const marks = this.read();
        if (marks.length > 0) onMarks(marks);
      });
      this.watcher.on("error", () => this.unwatch());
      this.watcher.unref();
    } catch {
      // No inotify: the per-sample read still picks marks up, one interval late at worst.
      this.watcher = null;
    }
  }

  unwatch(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  /** Reads complete lines appended since the last read. */
  read(): PhaseMark[] {
    let fd: number;
    try {
      fd = openSync(this.path, "r");
    } catch {
      return this.drain();
    }
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const bytes = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (bytes <= 0) break;
        this.offset += bytes;
        this.partial += buffer.toString("utf8", 0, bytes);
      }
    } finally {
      closeSync(fd);
    }
    const lines = this.partial.split("\n");
    this.partial = lines.pop() ?? "";
    const nowMs = Date.now();
    for (const line of lines) {
      if (line.trim() === "") continue;
      const mark = parseMark(line, nowMs);
      if (typeof mark === "string") this.warn(mark);
      else this.pending.push(mark);
    }
    return this.drain();
  }

  private drain(): PhaseMark[] {
    return this.pending.splice(0, this.pending.length);
  }

  private warn(message: string): void {
    this.badLines += 1;
    if (this.badLines <= MAX_WARNINGS) this.warnings.push(`marks file: ${message}`);
    else if (this.badLines === MAX_WARNINGS + 1) {
      this.warnings.push("marks file: more malformed lines were ignored");
    }
  }
}

/** Parses one marks line; returns a reason string when the line cannot be used. */
export function parseMark(line: string, receivedAtMs: number): PhaseMark | string {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return `not JSON, ignored: ${truncate(line)}`;
  }
  if (typeof data !== "object" || data === null) return `not an object, ignored: ${truncate(line)}`;
  const { phase, event, time, metrics } = data as Record<string, unknown>;
  if (typeof phase !== "string" || phase.trim() === "") {
    return `no "phase" name, ignored: ${truncate(line)}`;
  }
  if (event !== "start" && event !== "end") {
    return `"event" must be "start" or "end", ignored: ${truncate(line)}`;
  }
  const timeMs = parseMarkTime(time);
  if (timeMs === undefined) return `unreadable "time", ignored: ${truncate(line)}`;
  const parsedMetrics = parseMetrics(metrics);
  if (parsedMetrics === undefined) {
    return `"metrics" must be an object of finite numbers, ignored: ${truncate(line)}`;
  }
  return {
    phase,
    event,
    timeMs: timeMs ?? receivedAtMs,
    ...(parsedMetrics === null ? {} : { metrics: parsedMetrics }),
  };
}

/** `metrics` is optional; when present, every value must be a finite number. */
function parseMetrics(metrics: unknown): Record<string, number> | null | undefined {
  if (metrics === undefined || metrics === null) return null;
  if (typeof metrics !== "object" || Array.isArray(metrics)) return undefined;
  const entries = Object.entries(metrics as Record<string, unknown>);
  if (!entries.every(([, v]) => typeof v === "number" && Number.isFinite(v))) return undefined;
  return Object.fromEntries(entries) as Record<string, number>;
}

/** `time` may be epoch seconds (Python's time.time()), epoch ms, or an ISO 8601 string. */
function parseMarkTime(time: unknown): number | null | undefined {
  if (time === undefined || time === null) return null;
  if (typeof time === "number" && Number.isFinite(time) && time > 0) {
    return time < 1e11 ? time * 1000 : time;
  }
  if (typeof time === "string") {
    const ms = Date.parse(time);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function truncate(line: string): string {
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
