/**
 * `wattprint push RUN`: uploads a run from the local store to a server, for clusters with
 * no network during the job, or to fill in what a live upload missed. Sending a run twice,
 * or after it was partly streamed, stores each sample once (the server keys samples by
 * run and sequence number).
 */
import { WattprintError } from "../../errors.js";
import type { RunStore } from "../../store/run-store.js";
import type { RunKind } from "../ingest-schema.js";
import { Uploader, type UploadResult, type UploaderOptions } from "./uploader.js";
import { finalOf, runHeader, samplesFromTimeline } from "./wire-builder.js";

/** Options of {@link pushRun}. */
export interface PushOptions extends Omit<UploaderOptions, "uploadIntervalS"> {
  job: string | null;
  expectedNodes: number | null;
  kind?: RunKind;
  /** Metrics to record for the job (accuracy...). */
  metrics?: Record<string, number> | null;
  /** How long to keep retrying, ms; default 60,000. */
  timeoutMs?: number;
}

/**
 * Sends the run `idOrPrefix` of `store` with its timeline and final state. Throws
 * WattprintError("BAD_INPUT") for a run whose tracker is still running (push it once it
 * ends), ("NOT_FOUND") for an unknown run, ("PROVIDER") when the server refused it or
 * could not be reached before the timeout.
 */
export async function pushRun(
  store: RunStore,
  idOrPrefix: string,
  options: PushOptions,
): Promise<{ runId: string; samples: number; result: UploadResult }> {
  const record = store.getRun(idOrPrefix);
  if (record.status === "running") {
    throw new WattprintError("BAD_INPUT", `run ${record.id} is still being tracked`, {
      hint: "push it once it has ended (a live run streams with wattprint track --server)",
    });
  }
  const timeline = store.getSamples(record.id);
  const samples = samplesFromTimeline(record, timeline);
  const uploader = new Uploader({ ...options, uploadIntervalS: 3600 });
  uploader.begin(
    runHeader(record, {
      kind: options.kind ?? "track",
      job: options.job,
      expectedNodes: options.expectedNodes,
    }),
  );
  for (const sample of samples) uploader.add(sample);
  const endedAt = record.endedAt ?? timeline[timeline.length - 1]?.t ?? record.startedAt;
  uploader.finish(finalOf({ ...record, endedAt }, endedAt), options.metrics ?? null);
  const result = await uploader.close(options.timeoutMs ?? 60_000);
  if (!result.delivered) {
    throw new WattprintError(
      "PROVIDER",
      `run ${record.id} was not fully delivered: ${result.lastError ?? "the server did not answer"} (${result.pending} samples left)`,
      {
        hint: result.refused
          ? "check the token (an ingest token of the project) and the server's version"
          : "check that the server is up and reachable, then push again (samples already sent are not duplicated)",
      },
    );
  }
  return { runId: record.id, samples: samples.length, result };
}
