/**
 * Sends a tracker run's samples to a wattprint server in batches: every `uploadIntervalS`
 * (15 s by default), with retries and exponential backoff (with jitter, honouring
 * Retry-After) when the server is unreachable or busy, and a last flush with a deadline
 * when the run ends. Samples are cumulative, so the server's figures are right as soon as
 * the newest sample arrives; during a long outage the queue is thinned (older samples
 * dropped, every other one) to bound memory, which costs time resolution, never energy.
 * The full timeline stays in the local run store, and `wattprint push` sends it later.
 */
import {
  WIRE_VERSION,
  type IngestBatch,
  type WireFinal,
  type WireRunHeader,
  type WireSample,
} from "../ingest-schema.js";
import { INGEST_LIMITS } from "../ingest-schema.js";

/** Options of {@link Uploader}. */
export interface UploaderOptions {
  /** The server's base URL ("http://127.0.0.1:8787"). */
  url: string;
  /** An ingest (or admin) token. */
  token: string;
  /** Seconds between uploads while the run goes on; default 15. */
  uploadIntervalS?: number;
  /** Samples per request at most; default 500 (halved on 413). */
  maxBatchSamples?: number;
  /** Timeout of one request, ms; default 10,000. */
  requestTimeoutMs?: number;
  /** First retry delay, ms; default 1000; doubles up to `maxBackoffMs` (default 60,000). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Samples kept in memory at most; default 20,000 (then thinned). */
  maxQueuedSamples?: number;
  /** Where problems are told, once each (default: nowhere). */
  onWarning?: (message: string) => void;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
}

/** What an upload achieved. */
export interface UploadResult {
  /** Every queued sample and the final state reached the server. */
  delivered: boolean;
  /** Samples still queued. */
  pending: number;
  samplesSent: number;
  requests: number;
  retries: number;
  /** The last failure, if any. */
  lastError: string | null;
  /** True when the server refused for good (token, schema): retrying would not help. */
  refused: boolean;
}

class PermanentError extends Error {}
class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

// Not unref'd: a process waiting for its last upload must stay alive until the deadline.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One tracker run's upload queue. */
export class Uploader {
  private readonly endpoint: string;
  private readonly options: Required<Omit<UploaderOptions, "onWarning" | "fetch">> &
    Pick<UploaderOptions, "onWarning">;
  private readonly fetchImpl: typeof fetch;
  private header: WireRunHeader | null = null;
  private queue: WireSample[] = [];
  private final: WireFinal | null = null;
  private finalSent = false;
  private metrics: Record<string, number> | null = null;
  private batchSamples: number;
  private backoffMs: number;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private closed = false;
  private refused = false;
  private readonly warned = new Set<string>();
  private readonly stats = {
    samplesSent: 0,
    requests: 0,
    retries: 0,
    lastError: null as string | null,
  };

  constructor(options: UploaderOptions) {
    const base = options.url.replace(/\/+$/, "");
    let parsed: URL;
    try {
      parsed = new URL(`${base}/api/v1/ingest`);
    } catch {
      throw new TypeError(`not a server URL: ${options.url}`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
      throw new TypeError(`not an http(s) URL: ${options.url}`);
    this.endpoint = parsed.toString();
    this.options = {
      url: base,
      token: options.token,
      uploadIntervalS: options.uploadIntervalS ?? 15,
      maxBatchSamples: Math.min(options.maxBatchSamples ?? 500, INGEST_LIMITS.maxSamples),
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      initialBackoffMs: options.initialBackoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 60_000,
      maxQueuedSamples: options.maxQueuedSamples ?? 20_000,
      onWarning: options.onWarning,
    };
    this.fetchImpl = options.fetch ?? fetch;
    this.batchSamples = this.options.maxBatchSamples;
    this.backoffMs = this.options.initialBackoffMs;
  }

  /**
   * Sets the run's header (sent with every batch) and starts the periodic upload; the first
   * batch goes after at most a second, so the run shows on the server at once.
   */
  begin(header: WireRunHeader): void {
    this.header = header;
    this.schedule(Math.min(1000, this.options.uploadIntervalS * 1000));
  }

  /** Queues a sample (sent with the next batch). */
  add(sample: WireSample): void {
    if (this.refused) return;
    this.queue.push(sample);
    if (this.queue.length > this.options.maxQueuedSamples) this.thin();
  }

  /** Queues the final state (sent after the last sample) and metrics for the job. */
  finish(final: WireFinal, metrics: Record<string, number> | null = null): void {
    this.final = final;
    this.metrics = metrics;
  }

  /**
   * Stops the periodic upload and tries to deliver everything queued until `timeoutMs`
   * has passed, retrying with backoff. Never throws.
   */
  async close(timeoutMs: number): Promise<UploadResult> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const deadline = Date.now() + timeoutMs;
    await this.sending;
    while (!this.refused && this.header !== null && !this.isDone()) {
      const ok = await this.attempt(Math.max(1, deadline - Date.now()));
      if (ok) continue;
      const waitMs = Math.min(this.nextDelayMs(), deadline - Date.now());
      if (waitMs <= 0 || this.refused) break;
      await sleep(waitMs);
    }
    return this.result();
  }

  /** Where the upload stands now. */
  result(): UploadResult {
    return {
      delivered: this.isDone(),
      pending: this.queue.length,
      samplesSent: this.stats.samplesSent,
      requests: this.stats.requests,
      retries: this.stats.retries,
      lastError: this.stats.lastError,
      refused: this.refused,
    };
  }

  private isDone(): boolean {
    return this.queue.length === 0 && (this.final === null || this.finalSent);
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.refused) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sending = this.attempt(this.options.requestTimeoutMs).then((ok) => {
        this.sending = null;
        this.schedule(ok ? this.options.uploadIntervalS * 1000 : this.nextDelayMs());
      });
    }, delayMs);
    this.timer.unref();
  }

  /** The next retry delay (exponential with ±20% jitter), then doubles it. */
  private nextDelayMs(): number {
    const delay = this.backoffMs * (0.8 + Math.random() * 0.4);
    this.backoffMs = Math.min(this.options.maxBackoffMs, this.backoffMs * 2);
    return delay;
  }

  /** Sends batches until the queue is empty or one fails; true when nothing is left to send. */
  private async attempt(budgetMs: number): Promise<boolean> {
    const started = Date.now();
    while (this.header !== null && !this.refused) {
      const take = this.queue.slice(0, this.batchSamples);
      const withFinal = take.length === this.queue.length && this.final !== null && !this.finalSent;
      if (take.length === 0 && !withFinal) return true;
      const body: IngestBatch = {
        version: WIRE_VERSION,
        run: this.header,
        samples: take,
        final: withFinal ? this.final : null,
        metrics: withFinal ? this.metrics : null,
      };
      try {
        await this.post(
          body,
          Math.min(this.options.requestTimeoutMs, Math.max(1, budgetMs - (Date.now() - started))),
        );
      } catch (error) {
        this.stats.lastError = (error as Error).message;
        if (error instanceof PermanentError) {
          this.refused = true;
          this.warn(
            "refused",
            `the server refused the samples for good (${(error as Error).message}); the run stays in the local store: send it later with wattprint push`,
          );
          return false;
        }
        this.stats.retries += 1;
        if (error instanceof RetryableError && error.retryAfterMs !== null)
          this.backoffMs = Math.max(this.backoffMs, error.retryAfterMs);
        this.warn(
          "retry",
          `cannot reach the server (${(error as Error).message}); retrying with backoff, samples are kept`,
        );
        return false;
      }
      this.queue.splice(0, take.length);
      this.stats.samplesSent += take.length;
      if (withFinal) this.finalSent = true;
      this.backoffMs = this.options.initialBackoffMs;
    }
    return false;
  }

  private async post(body: IngestBatch, timeoutMs: number): Promise<void> {
    this.stats.requests += 1;
    let response: Response;
    try {
      response = await this.fetchImpl(this.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${this.options.token}`,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new RetryableError(cause ?? (error as Error).message, null);
    }
    const text = await response.text().catch(() => "");
    if (response.ok) return;
    const detail = describeAnswer(response.status, text);
    if (response.status === 413 && body.samples.length > 1) {
      this.batchSamples = Math.max(1, Math.floor(body.samples.length / 2));
      throw new RetryableError(`${detail}; sending smaller batches`, 0);
    }
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      const retryAfter = Number(response.headers.get("retry-after"));
      throw new RetryableError(
        detail,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
      );
    }
    throw new PermanentError(detail);
  }

  /** Drops every other sample of the older half: cumulative values keep the energy. */
  private thin(): void {
    const half = Math.floor(this.queue.length / 2);
    const older = this.queue.slice(0, half).filter((_sample, i) => i % 2 === 1);
    this.queue = [...older, ...this.queue.slice(half)];
    this.warn(
      "thinned",
      "the server has been unreachable for long: older samples are thinned in memory (energy totals are kept; wattprint push fills the timeline in later)",
    );
  }

  private warn(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.options.onWarning?.(message);
  }
}

function describeAnswer(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string; details?: string[] } };
    const message = parsed.error?.message;
    const details = parsed.error?.details?.slice(0, 3).join("; ");
    if (message !== undefined) return `HTTP ${status}: ${message}${details ? ` (${details})` : ""}`;
  } catch {
    // not JSON: use the status alone
  }
  return `HTTP ${status}`;
}
