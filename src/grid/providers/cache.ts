/**
 * On-disk cache of provider answers: one JSON file per (provider, endpoint, parameters)
 * key, named by the SHA-256 of the key, written atomically (temporary file + rename), each
 * with its own expiry. A fresh entry saves a request; an expired one is kept and used only
 * when the provider fails. A file that cannot be read or does not match its key is ignored
 * and replaced on the next write.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { WattprintError, describeError } from "../../errors.js";

/** Format tag written in every cache file; files with another tag are ignored. */
export const CACHE_FORMAT = "wattprint-provider-cache/1";

/** How long an answer stays fresh when no TTL is given, seconds (15 min). */
export const DEFAULT_CACHE_TTL_S = 900;

/**
 * The default cache folder: `<wattprintHome>/cache`, where `wattprintHome` defaults to
 * `~/.wattprint` (the CLI passes WATTPRINT_HOME; this module reads no environment).
 */
export function defaultCacheDir(wattprintHome: string = join(homedir(), ".wattprint")): string {
  return join(wattprintHome, "cache");
}

/** What identifies one cached answer. */
export interface CacheKeyParts {
  /** "electricitymaps". */
  provider: string;
  /** The endpoint path: "/v3/carbon-intensity/latest". */
  endpoint: string;
  /** Query or path parameters; order does not matter. */
  params: Record<string, string>;
}

/** The canonical text of a key: provider, endpoint and the parameters sorted by name. */
export function cacheKeyText(parts: CacheKeyParts): string {
  const params = Object.keys(parts.params)
    .sort()
    .map((name) => [name, parts.params[name] ?? ""]);
  return JSON.stringify([parts.provider, parts.endpoint, params]);
}

/** File name of a key: the hex SHA-256 of {@link cacheKeyText} plus ".json". */
export function cacheFileName(parts: CacheKeyParts): string {
  return `${createHash("sha256").update(cacheKeyText(parts)).digest("hex")}.json`;
}

/** One entry read back from the cache. */
export interface CachedAnswer {
  /** The provider's JSON body as it was received. */
  body: unknown;
  /** When it was stored, ms since the epoch. */
  storedAtMs: number;
  /** When it stops being fresh, ms since the epoch. */
  expiresAtMs: number;
  /** True while `now < expiresAtMs`. */
  fresh: boolean;
}

/** The content of a cache file. */
interface CacheFile {
  format: string;
  key: string;
  storedAt: string;
  storedAtMs: number;
  expiresAtMs: number;
  body: unknown;
}

/** Options of {@link ResponseCache}. */
export interface ResponseCacheOptions {
  /** Folder of the cache files; created on the first write. */
  dir: string;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** A folder of cached provider answers. */
export class ResponseCache {
  readonly dir: string;
  private readonly now: () => number;

  constructor(options: ResponseCacheOptions) {
    this.dir = options.dir;
    this.now = options.now ?? Date.now;
  }

  /** Path of the file of a key. */
  pathOf(parts: CacheKeyParts): string {
    return join(this.dir, cacheFileName(parts));
  }

  /**
   * The entry of a key, fresh or expired; null when there is none or the file is unreadable,
   * not JSON, of another format or for another key (such a file is left for `write` to replace).
   */
  read(parts: CacheKeyParts): CachedAnswer | null {
    let text: string;
    try {
      text = readFileSync(this.pathOf(parts), "utf8");
    } catch {
      return null;
    }
    let file: unknown;
    try {
      file = JSON.parse(text);
    } catch {
      return null;
    }
    if (!isCacheFile(file) || file.key !== cacheKeyText(parts)) return null;
    return {
      body: file.body,
      storedAtMs: file.storedAtMs,
      expiresAtMs: file.expiresAtMs,
      fresh: this.now() < file.expiresAtMs,
    };
  }

  /**
   * Stores an answer, fresh for `ttlS` seconds, replacing any previous file of the key.
   * Returns null on success, else one line saying why it could not be written (a cache that
   * cannot be written must not fail the request).
   */
  write(parts: CacheKeyParts, body: unknown, ttlS: number): string | null {
    const storedAtMs = this.now();
    const file: CacheFile = {
      format: CACHE_FORMAT,
      key: cacheKeyText(parts),
      storedAt: new Date(storedAtMs).toISOString(),
      storedAtMs,
      expiresAtMs: storedAtMs + ttlS * 1000,
      body,
    };
    const target = this.pathOf(parts);
    const temporary = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(temporary, `${JSON.stringify(file)}\n`, { mode: 0o600 });
      renameSync(temporary, target);
      return null;
    } catch (error) {
      try {
        rmSync(temporary, { force: true });
      } catch {
        // Nothing more to do: the temporary file is named so that it never shadows an entry.
      }
      return `could not write the provider cache in ${this.dir}: ${describeError(error)}`;
    }
  }
}

function isCacheFile(value: unknown): value is CacheFile {
  if (value === null || typeof value !== "object") return false;
  const file = value as Partial<CacheFile>;
  return (
    file.format === CACHE_FORMAT &&
    typeof file.key === "string" &&
    typeof file.storedAtMs === "number" &&
    Number.isFinite(file.storedAtMs) &&
    typeof file.expiresAtMs === "number" &&
    Number.isFinite(file.expiresAtMs) &&
    "body" in file
  );
}

/** One cached provider request, for {@link loadThroughCache}. */
export interface CachedLoad<T> {
  /** The cache, or null when caching is off. */
  cache: ResponseCache | null;
  key: CacheKeyParts;
  /** How long a new answer stays fresh, seconds. */
  ttlS: number;
  /** Sends the request; rejects with a `WattprintError` code "PROVIDER" on failure. */
  request: () => Promise<unknown>;
  /** Reads a body (fresh, cached or stale); throws a `WattprintError` code "PROVIDER" when it has the wrong shape. */
  parse: (body: unknown) => T;
}

/** What {@link loadThroughCache} returns. */
export interface LoadedAnswer<T> {
  value: T;
  /** "network": just fetched; "cache": a fresh entry, no request sent; "stale-cache": an expired entry after the request failed. */
  origin: "network" | "cache" | "stale-cache";
  /** The stale-cache notice, or why the cache could not be written. */
  warnings: string[];
  /** When the cached answer used was stored, ms since the epoch; null for "network". */
  storedAtMs: number | null;
}

/**
 * A fresh cache entry if there is one (no request); else the request, whose answer is parsed
 * and then cached; when the request or the parsing fails with a `PROVIDER` error (other than
 * a configuration error), an expired entry of the key if any, with a warning
 * "stale cache from <time> used: <error>". A cached body that no longer parses counts as no
 * entry. Other errors and a failure without any entry are thrown.
 */
export async function loadThroughCache<T>(load: CachedLoad<T>): Promise<LoadedAnswer<T>> {
  const entry = load.cache?.read(load.key) ?? null;
  const cached = entry === null ? null : parseCached(load, entry);
  if (entry !== null && cached !== null && entry.fresh) {
    return { value: cached.value, origin: "cache", warnings: [], storedAtMs: entry.storedAtMs };
  }
  let body: unknown;
  let value: T;
  try {
    body = await load.request();
    value = load.parse(body);
  } catch (error) {
    if (
      entry === null ||
      cached === null ||
      !(error instanceof WattprintError) ||
      error.code !== "PROVIDER" ||
      (error as { kind?: unknown }).kind === "config"
    ) {
      throw error;
    }
    return {
      value: cached.value,
      origin: "stale-cache",
      warnings: [
        `stale cache from ${new Date(entry.storedAtMs).toISOString()} used: ${error.message}`,
      ],
      storedAtMs: entry.storedAtMs,
    };
  }
  const warnings: string[] = [];
  const problem = load.cache?.write(load.key, body, load.ttlS) ?? null;
  if (problem !== null) warnings.push(problem);
  return { value, origin: "network", warnings, storedAtMs: null };
}

function parseCached<T>(load: CachedLoad<T>, entry: CachedAnswer): { value: T } | null {
  try {
    return { value: load.parse(entry.body) };
  } catch {
    return null;
  }
}
