import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WattprintError } from "../../../src/errors.js";
import {
  CACHE_FORMAT,
  ResponseCache,
  cacheFileName,
  cacheKeyText,
  defaultCacheDir,
  loadThroughCache,
  type CacheKeyParts,
} from "../../../src/grid/providers/cache.js";
import { ProviderRequestError } from "../../../src/grid/providers/http.js";
import { makeTempDir } from "../../fixtures/provider-server.js";

const KEY: CacheKeyParts = {
  provider: "electricitymaps",
  endpoint: "/v3/carbon-intensity/latest",
  params: { zone: "DE", b: "2" },
};
const T0_MS = Date.parse("2024-05-01T10:00:00Z");

let dir: string;
let nowMs: number;
beforeEach(() => {
  dir = makeTempDir("wattprint-cache-");
  nowMs = T0_MS;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function cacheIn(folder = dir): ResponseCache {
  return new ResponseCache({ dir: folder, now: () => nowMs });
}

function failure(message = "boom"): ProviderRequestError {
  return new ProviderRequestError("electricitymaps", "server", message, {
    hint: "later",
    status: 500,
  });
}

describe("keys and files", () => {
  it("does not depend on the order of the parameters, and does on their values", () => {
    const reordered = { ...KEY, params: { b: "2", zone: "DE" } };
    expect(cacheKeyText(reordered)).toBe(cacheKeyText(KEY));
    expect(cacheKeyText({ ...KEY, params: { zone: "FR", b: "2" } })).not.toBe(cacheKeyText(KEY));
    expect(cacheKeyText({ ...KEY, endpoint: "/v3/carbon-intensity/forecast" })).not.toBe(
      cacheKeyText(KEY),
    );
  });

  it("names the file by the SHA-256 of the key", () => {
    const expected = createHash("sha256").update(cacheKeyText(KEY)).digest("hex");
    expect(cacheFileName(KEY)).toBe(`${expected}.json`);
  });

  it("lives in <wattprint home>/cache, ~/.wattprint by default", () => {
    expect(defaultCacheDir("/srv/wp")).toBe(join("/srv/wp", "cache"));
    expect(defaultCacheDir()).toBe(join(homedir(), ".wattprint", "cache"));
  });
});

describe("ResponseCache", () => {
  it("writes one file atomically (nothing else left behind) and reads it back fresh until it expires", () => {
    const cache = cacheIn(join(dir, "nested", "cache"));
    expect(cache.read(KEY)).toBeNull();
    expect(cache.write(KEY, { carbonIntensity: 302 }, 60)).toBeNull();
    expect(readdirSync(cache.dir)).toEqual([cacheFileName(KEY)]);
    expect(statSync(cache.pathOf(KEY)).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(cache.pathOf(KEY), "utf8")) as Record<string, unknown>;
    expect(file["format"]).toBe(CACHE_FORMAT);
    expect(file["storedAt"]).toBe("2024-05-01T10:00:00.000Z");

    nowMs = T0_MS + 59_999;
    expect(cache.read(KEY)).toEqual({
      body: { carbonIntensity: 302 },
      storedAtMs: T0_MS,
      expiresAtMs: T0_MS + 60_000,
      fresh: true,
    });
    nowMs = T0_MS + 60_000;
    expect(cache.read(KEY)?.fresh).toBe(false);
    expect(cache.read(KEY)?.body).toEqual({ carbonIntensity: 302 });
  });

  it("ignores a corrupt or foreign file and replaces it on the next write", () => {
    const cache = cacheIn();
    cache.write(KEY, { v: 1 }, 60);
    writeFileSync(cache.pathOf(KEY), '{"format": "wattprint-provider-cache/1", "key": ');
    expect(cache.read(KEY)).toBeNull();
    writeFileSync(cache.pathOf(KEY), JSON.stringify({ format: "other/9", body: 1 }));
    expect(cache.read(KEY)).toBeNull();
    expect(cache.write(KEY, { v: 2 }, 60)).toBeNull();
    expect(cache.read(KEY)?.body).toEqual({ v: 2 });
  });

  it("does not serve a file that belongs to another key", () => {
    const cache = cacheIn();
    const other = { ...KEY, params: { zone: "FR" } };
    cache.write(other, { zone: "FR" }, 60);
    copyFileSync(cache.pathOf(other), cache.pathOf(KEY));
    expect(cache.read(KEY)).toBeNull();
  });

  it("says why it cannot write instead of throwing", () => {
    const blocker = join(dir, "a-file");
    writeFileSync(blocker, "");
    const problem = cacheIn(join(blocker, "cache")).write(KEY, {}, 60);
    expect(problem).toMatch(/^could not write the provider cache in .*a-file\/cache: /);
  });
});

describe("loadThroughCache", () => {
  it("fetches, parses and stores; then serves the fresh entry without a request", async () => {
    const cache = cacheIn();
    let requests = 0;
    const load = {
      cache,
      key: KEY,
      ttlS: 60,
      request: async () => {
        requests += 1;
        return { value: 7 };
      },
      parse: (body: unknown) => (body as { value: number }).value * 2,
    };
    expect(await loadThroughCache(load)).toEqual({
      value: 14,
      origin: "network",
      warnings: [],
      storedAtMs: null,
    });
    nowMs += 30_000;
    expect(await loadThroughCache(load)).toEqual({
      value: 14,
      origin: "cache",
      warnings: [],
      storedAtMs: T0_MS,
    });
    expect(requests).toBe(1);
  });

  it("uses an expired entry only when the provider fails, with a warning naming the time and the error", async () => {
    const cache = cacheIn();
    cache.write(KEY, { value: 1 }, 60);
    nowMs = T0_MS + 3_600_000;
    const parse = (body: unknown) => (body as { value: number }).value;
    const live = await loadThroughCache({
      cache,
      key: KEY,
      ttlS: 60,
      request: async () => ({ value: 2 }),
      parse,
    });
    expect(live.value).toBe(2);

    nowMs = T0_MS + 7_200_000;
    const stale = await loadThroughCache({
      cache,
      key: KEY,
      ttlS: 60,
      request: async () => {
        throw failure("500 Internal Server Error");
      },
      parse,
    });
    expect(stale).toEqual({
      value: 2,
      origin: "stale-cache",
      warnings: [
        "stale cache from 2024-05-01T11:00:00.000Z used: electricitymaps: 500 Internal Server Error",
      ],
      storedAtMs: T0_MS + 3_600_000,
    });
  });

  it("falls back to a stale entry when the fresh answer has the wrong shape, and does not cache it", async () => {
    const cache = cacheIn();
    cache.write(KEY, { value: 1 }, 0);
    const parse = (body: unknown) => {
      const value = (body as { value?: unknown }).value;
      if (typeof value !== "number") throw failure("wrong shape");
      return value;
    };
    const result = await loadThroughCache({
      cache,
      key: KEY,
      ttlS: 60,
      request: async () => ({}),
      parse,
    });
    expect(result.origin).toBe("stale-cache");
    expect(result.value).toBe(1);
    expect(cache.read(KEY)?.body).toEqual({ value: 1 });
  });

  it("throws when there is no entry, for errors that are not provider failures, and for configuration errors", async () => {
    const cache = cacheIn();
    const parse = (body: unknown) => body;
    await expect(
      loadThroughCache({
        cache,
        key: KEY,
        ttlS: 60,
        request: async () => Promise.reject(failure()),
        parse,
      }),
    ).rejects.toThrow(/boom/);
    cache.write(KEY, { value: 1 }, 0);
    await expect(
      loadThroughCache({
        cache,
        key: KEY,
        ttlS: 60,
        request: async () => Promise.reject(new TypeError("bug")),
        parse,
      }),
    ).rejects.toThrow(TypeError);
    const config = new ProviderRequestError("electricitymaps", "config", "no API key given", {
      hint: "give one",
    });
    await expect(
      loadThroughCache({
        cache,
        key: KEY,
        ttlS: 60,
        request: async () => Promise.reject(config),
        parse,
      }),
    ).rejects.toBe(config);
    await expect(
      loadThroughCache({
        cache,
        key: KEY,
        ttlS: 60,
        request: async () => Promise.reject(new WattprintError("SENSOR", "not a provider error")),
        parse,
      }),
    ).rejects.toThrow(/not a provider error/);
  });

  it("treats a cached body that no longer parses as no entry", async () => {
    const cache = cacheIn();
    cache.write(KEY, "old format", 60);
    let requests = 0;
    const result = await loadThroughCache({
      cache,
      key: KEY,
      ttlS: 60,
      request: async () => {
        requests += 1;
        return { value: 3 };
      },
      parse: (body: unknown) => {
        if (typeof body === "string") throw failure("old");
        return (body as { value: number }).value;
      },
    });
    expect(result).toMatchObject({ value: 3, origin: "network" });
    expect(requests).toBe(1);
  });

  it("works without a cache, and reports a cache it cannot write as a warning", async () => {
    const request = async () => ({ value: 5 });
    const parse = (body: unknown) => (body as { value: number }).value;
    expect(
      await loadThroughCache({ cache: null, key: KEY, ttlS: 60, request, parse }),
    ).toMatchObject({
      value: 5,
      warnings: [],
    });
    const blocker = join(dir, "a-file");
    writeFileSync(blocker, "");
    const result = await loadThroughCache({
      cache: cacheIn(join(blocker, "c")),
      key: KEY,
      ttlS: 60,
      request,
      parse,
    });
    expect(result.value).toBe(5);
    expect(result.warnings[0]).toMatch(/could not write the provider cache/);
  });
});
