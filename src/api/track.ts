import type { RunRecord } from "../record/run-record.js";
import { Sampler } from "../track/sampler.js";
import { runTrackedCommand } from "../track/track-command.js";
import { wattprintVersion } from "../version.js";
import { commandRunBase, resolveTrackOptions, type TrackOptions } from "./options.js";
import type { UploadResult } from "../serve/client/uploader.js";

export interface TrackCommandOptions extends TrackOptions {
  /** The command's stdio; default "inherit" (passes through untouched). */
  stdio?: "inherit" | "ignore" | "pipe";
  cwd?: string;
  /** Forward SIGINT to the command; default: only when stdin is not a terminal. */
  forwardSigint?: boolean;
  onStart?: (info: { pid: number; runId: string }) => void;
}

/**
 * Runs a command in any language, measures the energy of its whole process tree and
 * returns the run record; the run is saved in the store as it runs.
 * `exitCode` is the command's (or 128 + signal number). With `server`, the run is also
 * streamed and `upload` says whether everything reached the server.
 */
export async function trackCommand(
  command: string[],
  options: TrackCommandOptions = {},
): Promise<{ run: RunRecord; exitCode: number; upload: UploadResult | null }> {
  const resolved = await resolveTrackOptions(options);
  try {
    const { record, exitCode } = await runTrackedCommand(command, {
      ...commandRunBase(resolved, options),
      onStart: options.onStart,
      onSample: options.onSample,
    });
    return { run: record, exitCode, upload: await resolved.finishUpload() };
  } finally {
    resolved.store?.close();
  }
}

/**
 * Tracks this process (and any children it starts) from `start()` to `stop()`.
 *
 * ```ts
 * const tracker = new Tracker({ region: "FR" });
 * await tracker.start();
 * await tracker.phase("epoch 1", () => trainOneEpoch());
 * const run = await tracker.stop();
 * ```
 */
export class Tracker {
  private readonly options: TrackOptions & { label?: string };
  private sampler: Sampler | null = null;
  private closeStore: (() => void) | null = null;
  private finishUpload: (() => Promise<UploadResult | null>) | null = null;
  /** With `server`: how the upload ended, once `stop()` returned. */
  uploadResult: UploadResult | null = null;

  constructor(options: TrackOptions & { label?: string } = {}) {
    this.options = options;
  }

  async start(): Promise<void> {
    if (this.sampler) return;
    const resolved = await resolveTrackOptions(this.options);
    this.closeStore = () => resolved.store?.close();
    this.finishUpload = resolved.finishUpload;
    this.sampler = new Sampler({
      plan: resolved.setup.plan,
      carbon: resolved.setup.carbon,
      machine: resolved.setup.machine,
      command: [this.options.label ?? `node ${process.argv.slice(1).join(" ")}`.trim()],
      intervalS: resolved.intervalS,
      sink: resolved.sink,
      procRoot: resolved.settings.procRoot,
      trackerVersion: wattprintVersion(),
      onSample: this.options.onSample,
    });
    await this.sampler.start();
  }

  /** Starts a phase; returns the function that ends it, or runs `body` inside it. */
  phase(name: string): () => void;
  phase<T>(name: string, body: () => T): T;
  phase<T>(name: string, body?: () => T): T | (() => void) {
    const sampler = this.requireStarted();
    return body === undefined ? sampler.phase(name) : sampler.phase(name, body);
  }

  /** Ends a phase started with `phase(name)`, recording metrics such as validation accuracy. */
  endPhase(name: string, metrics?: Record<string, number>): void {
    this.requireStarted().endPhase(name, metrics);
  }

  /** The run so far (status "running"). */
  snapshot(): RunRecord {
    return this.requireStarted().snapshot();
  }

  /** Ends the run and returns its record. */
  async stop(
    options: { status?: "completed" | "failed" | "interrupted" } = {},
  ): Promise<RunRecord> {
    const sampler = this.requireStarted();
    try {
      const record = await sampler.stop({ status: options.status ?? "completed" });
      this.uploadResult = (await this.finishUpload?.()) ?? null;
      return record;
    } finally {
      this.closeStore?.();
      this.closeStore = null;
    }
  }

  private requireStarted(): Sampler {
    if (!this.sampler) throw new Error("Tracker not started: call await tracker.start() first");
    return this.sampler;
  }
}

/** Runs `body` with a tracker around it; a throw ends the run as failed and is re-thrown. */
export async function track<T>(
  body: (tracker: Tracker) => T | Promise<T>,
  options: TrackOptions & { label?: string } = {},
): Promise<{ result: T; run: RunRecord }> {
  const tracker = new Tracker(options);
  await tracker.start();
  let result: T;
  try {
    result = await body(tracker);
  } catch (error) {
    await tracker.stop({ status: "failed" });
    throw error;
  }
  return { result, run: await tracker.stop() };
}
