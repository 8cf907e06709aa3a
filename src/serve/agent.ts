/**
 * `wattprint agent`: measures a whole host continuously, with no command, for fleets. It
 * samples like `track` with the host's process 1 as the root (so the tree is every
 * process and attribution covers the machine), saves to the local store and, with a
 * server, streams as kind "agent": the server's host series (`wattprint_host_*` in
 * /metrics) come from agents.
 */
import type { RunRecord, TimelineSample } from "../record/run-record.js";
import { resolveTrackOptions, type TrackOptions } from "../api/options.js";
import { Sampler } from "../track/sampler.js";
import { wattprintVersion } from "../version.js";
import type { UploadResult } from "./client/uploader.js";

/** Default seconds between an agent's samples. */
export const DEFAULT_AGENT_INTERVAL_S = 15;

/** Options of {@link runAgent}: those of tracking, plus when to stop. */
export interface AgentOptions extends TrackOptions {
  /** Stops the agent (the run ends as completed). */
  signal: AbortSignal;
  /** The pid whose tree is measured; default 1 (every process). */
  rootPid?: number;
  /** Called once sampling has started, with the run's id. */
  onStart?: (runId: string) => void;
}

/** Runs until `signal` aborts; returns the agent's run and how its upload ended. */
export async function runAgent(
  options: AgentOptions,
): Promise<{ run: RunRecord; upload: UploadResult | null }> {
  const resolved = await resolveTrackOptions({
    ...options,
    intervalS: options.intervalS ?? DEFAULT_AGENT_INTERVAL_S,
    server: options.server === undefined ? undefined : { ...options.server, kind: "agent" },
  });
  try {
    const sampler = new Sampler({
      plan: resolved.setup.plan,
      carbon: resolved.setup.carbon,
      machine: resolved.setup.machine,
      command: ["wattprint", "agent"],
      rootPid: options.rootPid ?? 1,
      intervalS: resolved.intervalS,
      sink: resolved.sink,
      procRoot: resolved.settings.procRoot,
      trackerVersion: wattprintVersion(),
      onSample: options.onSample as ((sample: TimelineSample) => void) | undefined,
    });
    await sampler.start();
    options.onStart?.(sampler.id);
    await new Promise<void>((resolve) => {
      if (options.signal.aborted) resolve();
      else options.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    const run = await sampler.stop({ status: "completed" });
    return { run, upload: await resolved.finishUpload() };
  } finally {
    resolved.store?.close();
  }
}
