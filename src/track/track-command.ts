import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants as osConstants } from "node:os";
import type { RunRecord, RunStatus, TimelineSample } from "../record/run-record.js";
import { Sampler, type RunSink } from "./sampler.js";
import type { RunSetup } from "./setup.js";
import { WattprintError } from "../errors.js";

export interface CommandRunOptions {
  setup: RunSetup;
  intervalS: number;
  sink: RunSink | null;
  /** The child's environment (WATTPRINT_MARKS and WATTPRINT_RUN_ID are added). */
  env: Record<string, string | undefined>;
  procRoot?: string;
  trackerVersion: string;
  /** Forward SIGINT to the child; false when a terminal already delivers it to the child. */
  forwardSigint: boolean;
  stdio?: "inherit" | "ignore" | "pipe";
  cwd?: string;
  /**
   * Start the command in a process group (and session) of its own, whose id is its pid, so
   * that the caller can pause and resume the whole tree with `process.kill(-pid, "SIGSTOP")`
   * and `"SIGCONT"` without stopping wattprint. Signals received are then forwarded to the
   * whole group (SIGINT too: the terminal no longer delivers it), each followed by SIGCONT
   * so that a paused command acts on it, and the command's stdin is not inherited ("ignore")
   * since it is no longer in the terminal's foreground. Default false.
   */
  detached?: boolean;
  /**
   * Aborting ends the command as a stop from outside would: SIGTERM (to its group, then
   * SIGCONT, when detached), and the run is recorded as interrupted.
   */
  signal?: AbortSignal;
  onStart?: (info: { pid: number; runId: string }) => void;
  onSample?: (sample: TimelineSample) => void;
}

export interface CommandRun {
  record: RunRecord;
  /** What a shell would report: the exit code, or 128 + the signal number. */
  exitCode: number;
}

const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs `command` with its stdio untouched, tracks its process tree until it exits, and
 * returns the run. SIGINT/SIGTERM/SIGHUP received meanwhile are forwarded to it.
 */
export async function runTrackedCommand(
  command: string[],
  options: CommandRunOptions,
): Promise<CommandRun> {
  const [program, ...args] = command;
  if (program === undefined || program === "") {
    throw new WattprintError("USAGE", "no command to track", {
      hint: "put the command after --, for example: wattprint track -- python train.py",
    });
  }
  const marksDir = mkdtempSync(join(tmpdir(), "wattprint-marks-"));
  const marksPath = join(marksDir, "marks.jsonl");
  const sampler = new Sampler({
    plan: options.setup.plan,
    carbon: options.setup.carbon,
    machine: options.setup.machine,
    command,
    intervalS: options.intervalS,
    sink: options.sink,
    marksPath,
    procRoot: options.procRoot,
    trackerVersion: options.trackerVersion,
    rootIsChild: true,
    onSample: options.onSample,
  });
  const detached = options.detached === true;
  const stdio = options.stdio ?? "inherit";
  const child = spawn(program, args, {
    stdio: detached && stdio === "inherit" ? ["ignore", "inherit", "inherit"] : stdio,
    detached,
    cwd: options.cwd,
    env: { ...options.env, WATTPRINT_MARKS: marksPath, WATTPRINT_RUN_ID: sampler.id },
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => resolve({ code, signal }));
    },
  );
  if (child.pid === undefined) {
    rmSync(marksDir, { recursive: true, force: true });
    const error = await exited.then(
      () => new Error("the command did not start"),
      (e: NodeJS.ErrnoException) => e,
    );
    throw commandError(program, error);
  }
  const pid = child.pid;
  sampler.setRoot(pid);
  let received: NodeJS.Signals | null = null;
  const handlers = FORWARDED_SIGNALS.map((name) => {
    const handler = () => {
      received = name;
      if (detached) {
        signalGroup(pid, name);
        signalGroup(pid, "SIGCONT");
      } else if (name !== "SIGINT" || options.forwardSigint) {
        child.kill(name);
      }
    };
    process.on(name, handler);
    return { name, handler };
  });
  const onAbort = () => {
    received = "SIGTERM";
    if (detached) {
      signalGroup(pid, "SIGTERM");
      signalGroup(pid, "SIGCONT");
    } else {
      child.kill("SIGTERM");
    }
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await sampler.start();
    options.onStart?.({ pid, runId: sampler.id });
    const { code, signal } = await exited;
    sampler.noteRootExited();
    const status: RunStatus =
      signal !== null || received !== null ? "interrupted" : code === 0 ? "completed" : "failed";
    const record = await sampler.stop({ status, exitCode: code, signal });
    const exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
    return { record, exitCode };
  } finally {
    for (const { name, handler } of handlers) process.off(name, handler);
    options.signal?.removeEventListener("abort", onAbort);
    rmSync(marksDir, { recursive: true, force: true });
  }
}

/** Sends a signal to a process group; a group that has already gone is not an error. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

function commandError(program: string, error: NodeJS.ErrnoException | Error): WattprintError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") {
    return new WattprintError("COMMAND_NOT_FOUND", `command not found: ${program}`, {
      hint: "check the spelling and that it is on PATH (or give its path)",
      cause: error,
    });
  }
  if (code === "EACCES") {
    return new WattprintError("COMMAND_NOT_FOUND", `cannot run ${program}: permission denied`, {
      hint: "make it executable (chmod +x) or run it through its interpreter",
      cause: error,
    });
  }
  return new WattprintError("COMMAND_NOT_FOUND", `cannot start ${program}: ${error.message}`, {
    cause: error,
  });
}
