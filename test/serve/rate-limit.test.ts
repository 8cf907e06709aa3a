// The token bucket: a burst, then the sustained rate, per key, with the wait to report.
import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../src/serve/rate-limit.js";

describe("RateLimiter", () => {
  it("allows the burst, then one request per 1/rate seconds", () => {
    const limiter = new RateLimiter({ ratePerS: 4, burst: 3 });
    const t0 = 1_000_000;
    expect([0, 0, 0].map(() => limiter.take("k", t0))).toEqual([0, 0, 0]);
    expect(limiter.take("k", t0)).toBeCloseTo(0.25);
    expect(limiter.take("k", t0 + 250)).toBe(0);
    expect(limiter.take("k", t0 + 260)).toBeGreaterThan(0);
    expect(limiter.take("other", t0)).toBe(0);
  });

  it("forgets the least recently used keys beyond its bound", () => {
    const limiter = new RateLimiter({ ratePerS: 1, burst: 1, maxKeys: 2 });
    expect(limiter.take("a", 0)).toBe(0);
    expect(limiter.take("a", 0)).toBeGreaterThan(0);
    limiter.take("b", 0);
    limiter.take("c", 0);
    // "a" was evicted: it starts again with a full bucket.
    expect(limiter.take("a", 0)).toBe(0);
  });

  it("refuses a rate that is not positive", () => {
    expect(() => new RateLimiter({ ratePerS: 0 })).toThrow(RangeError);
  });
});
