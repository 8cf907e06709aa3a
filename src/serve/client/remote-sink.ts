/**
 * The RunSink that streams a run to a wattprint server: it writes to the local run store
 * first (the spool: whatever the network does, the run is on disk and `wattprint push`
 * can send it), then queues the sample for the uploader.
 */
import type { RunRecord, TimelineSample } from "../../record/run-record.js";
import type { RunSink } from "../../track/sampler.js";
import type { RunKind } from "../ingest-schema.js";
import { Uploader, type UploadResult, type UploaderOptions } from "./uploader.js";
import { WireSampleBuilder, finalOf, runHeader } from "./wire-builder.js";

/** Where and how to stream a run. */
export interface RemoteSinkOptions extends UploaderOptions {
  kind: RunKind;
  /** Job key (several trackers, one run); null: the run is its own job. */
  job: string | null;
  expectedNodes: number | null;
}

/** A sink that also streams, and can be drained once the run has finished. */
export interface RemoteSink extends RunSink {
  /** Waits (up to `timeoutMs`) until everything queued reached the server. Never throws. */
  drain(timeoutMs: number): Promise<UploadResult>;
}

/**
 * Wraps `local` (the run store's sink, the spool) so that every call is also sent to the
 * server. The local write comes first; if it fails the sample is still queued for the
 * server, and the local error is thrown on (the sampler records it as a warning).
 */
export function createRemoteSink(local: RunSink, options: RemoteSinkOptions): RemoteSink {
  const uploader = new Uploader(options);
  const builder = new WireSampleBuilder();
  const both = (localWrite: () => void, remote: () => void) => {
    let failure: unknown = null;
    try {
      localWrite();
    } catch (error) {
      failure = error;
    }
    remote();
    if (failure !== null) throw failure;
  };
  return {
    begin: (record: RunRecord) =>
      both(
        () => local.begin(record),
        () => uploader.begin(runHeader(record, options)),
      ),
    progress: (record: RunRecord, sample: TimelineSample) =>
      both(
        () => local.progress(record, sample),
        () => uploader.add(builder.build(record, sample)),
      ),
    finish: (record: RunRecord) =>
      both(
        () => local.finish(record),
        () => uploader.finish(finalOf(record, new Date().toISOString())),
      ),
    drain: (timeoutMs: number) => uploader.close(timeoutMs),
  };
}
