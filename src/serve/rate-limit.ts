/**
 * Per-token request rate limits: a token bucket per key (a token id, or the client address
 * for requests without one), in memory, per server process. Behind a load balancer with N
 * replicas a token may get up to N times the rate; that is documented, not hidden.
 */

/** Options of {@link RateLimiter}. */
export interface RateLimitOptions {
  /** Sustained requests per second per key; default 50. */
  ratePerS?: number;
  /** Requests allowed at once above the rate; default 2 × rate (at least 10). */
  burst?: number;
  /** Keys kept at most; the least recently used go first. Default 10,000. */
  maxKeys?: number;
}

export const DEFAULT_RATE_PER_S = 50;

/** A token-bucket limiter keyed by string. */
export class RateLimiter {
  readonly ratePerS: number;
  readonly burst: number;
  private readonly maxKeys: number;
  private readonly buckets = new Map<string, { tokens: number; lastMs: number }>();

  constructor(options: RateLimitOptions = {}) {
    this.ratePerS = options.ratePerS ?? DEFAULT_RATE_PER_S;
    if (!Number.isFinite(this.ratePerS) || this.ratePerS <= 0) {
      throw new RangeError(
        `rate limit must be a positive number of requests per second, not ${this.ratePerS}`,
      );
    }
    this.burst = options.burst ?? Math.max(10, 2 * this.ratePerS);
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /**
   * Takes one request from `key`'s bucket. Returns 0 when allowed, else the seconds to wait
   * before the next request would be (for Retry-After).
   */
  take(key: string, nowMs: number): number {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.burst, lastMs: nowMs };
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    } else {
      this.buckets.delete(key);
      bucket.tokens = Math.min(
        this.burst,
        bucket.tokens + ((nowMs - bucket.lastMs) / 1000) * this.ratePerS,
      );
      bucket.lastMs = nowMs;
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.ratePerS;
  }
}
