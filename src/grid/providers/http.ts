/**
 * The one HTTP path of the live carbon-intensity providers: a JSON GET with a timeout per
 * attempt, retries with exponential backoff and jitter on 429, 5xx, timeouts and refused
 * connections, `Retry-After` honoured on 429 and 503, and every failure turned into a
 * {@link ProviderRequestError} (`WattprintError` code "PROVIDER") whose message names the
 * provider, the endpoint and the cause. Only Node's global `fetch` is used.
 */
import { WattprintError, describeError } from "../../errors.js";

/** Per-attempt time limit when none is given, milliseconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Extra attempts after the first when none is given (so 3 attempts in all). */
export const DEFAULT_RETRIES = 2;
/** First backoff delay, milliseconds; it doubles on each further retry. */
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;
/**
 * Longest single wait between attempts, milliseconds: caps the backoff, and a 429 whose
 * `Retry-After` asks for more is not retried but reported.
 */
export const DEFAULT_RETRY_MAX_DELAY_MS = 10_000;

/** Longest excerpt of an error body quoted in a message, characters. */
const BODY_EXCERPT_CHARS = 160;

/** Why a provider request failed. */
export type ProviderFailureKind =
  | "unauthorized" // 401 / 403
  | "rate-limited" // 429 after the retries, or a Retry-After longer than the cap
  | "server" // 5xx after the retries
  | "client" // any other 4xx (bad zone, bad parameters)
  | "timeout" // no complete answer within the time limit
  | "network" // connection refused, DNS, reset
  | "malformed" // the body is not JSON
  | "unexpected" // JSON of the wrong shape (raised by the adapters)
  | "config"; // missing key or bad option (raised before any request)

/** A provider failure: `WattprintError` code "PROVIDER" plus what went wrong, for callers that branch on it. */
export class ProviderRequestError extends WattprintError {
  /** The provider's name: "electricitymaps". */
  readonly provider: string;
  readonly kind: ProviderFailureKind;
  /** HTTP status of the last answer, null when there was none. */
  readonly status: number | null;
  /** Requests sent before giving up (0 for a configuration error). */
  readonly attempts: number;

  constructor(
    provider: string,
    kind: ProviderFailureKind,
    message: string,
    details: { hint: string; status?: number | null; attempts?: number; cause?: unknown },
  ) {
    super("PROVIDER", `${provider}: ${message}`, { hint: details.hint, cause: details.cause });
    this.name = "ProviderRequestError";
    this.provider = provider;
    this.kind = kind;
    this.status = details.status ?? null;
    this.attempts = details.attempts ?? 0;
  }
}

/** Settings of {@link createHttpClient}; every field but `provider` has a default. */
export interface HttpClientOptions {
  /** Provider name put at the start of every message. */
  provider: string;
  /** Time limit of one attempt (headers and body), ms. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Extra attempts after the first. Default {@link DEFAULT_RETRIES}. */
  retries?: number;
  /** First backoff delay, ms. Default {@link DEFAULT_RETRY_BASE_DELAY_MS}. */
  retryBaseDelayMs?: number;
  /** Cap on one wait, ms. Default {@link DEFAULT_RETRY_MAX_DELAY_MS}. */
  retryMaxDelayMs?: number;
  /** Wall clock in ms since the epoch, for HTTP-date `Retry-After`. Default `Date.now`. */
  now?: () => number;
  /** Waits between attempts. Default: a real timer. */
  sleep?: (delayMs: number) => Promise<void>;
  /** Uniform random number in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number;
}

/** One JSON GET. */
export interface JsonRequest {
  url: string | URL;
  headers?: Record<string, string>;
  /** What the credentials are called in a 401/403 message. Default "the API key". */
  credentials?: string;
  /** What to tell the user on 401/403 ("set ELECTRICITY_MAPS_API_KEY …"). */
  authHint?: string;
  /** What to tell the user on another 4xx. Default: check the zone and the dates. */
  clientErrorHint?: string;
}

/** A JSON answer and how it was obtained. */
export interface JsonResponse {
  body: unknown;
  status: number;
  /** Requests sent, the successful one included. */
  attempts: number;
  /** The waits before each retry, ms (empty when the first attempt succeeded). */
  retryDelaysMs: number[];
}

/** Sends JSON GETs for one provider. */
export interface HttpClient {
  /** Resolves with the parsed body of a 2xx answer; rejects with {@link ProviderRequestError}. */
  getJson(request: JsonRequest): Promise<JsonResponse>;
}

/** Normalised settings, defaults applied once. */
interface ResolvedHttpOptions {
  provider: string;
  timeoutMs: number;
  retries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  now: () => number;
  sleep: (delayMs: number) => Promise<void>;
  random: () => number;
}

/** Validates and completes the options; throws `PROVIDER` (kind "config") for a bad value. */
function resolveHttpOptions(options: HttpClientOptions): ResolvedHttpOptions {
  const resolved: ResolvedHttpOptions = {
    provider: options.provider,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retries: options.retries ?? DEFAULT_RETRIES,
    retryBaseDelayMs: options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS,
    now: options.now ?? Date.now,
    sleep: options.sleep ?? sleepMs,
    random: options.random ?? Math.random,
  };
  const checks: [string, number, number][] = [
    ["timeoutMs", resolved.timeoutMs, 1],
    ["retries", resolved.retries, 0],
    ["retryBaseDelayMs", resolved.retryBaseDelayMs, 0],
    ["retryMaxDelayMs", resolved.retryMaxDelayMs, 0],
  ];
  for (const [name, value, minimum] of checks) {
    if (
      !Number.isFinite(value) ||
      value < minimum ||
      (name === "retries" && !Number.isInteger(value))
    ) {
      throw new ProviderRequestError(
        resolved.provider,
        "config",
        `option ${name} is ${value}; it must be ${name === "retries" ? "an integer" : "a number"} ≥ ${minimum}`,
        { hint: "fix the provider options" },
      );
    }
  }
  return resolved;
}

/** A client for one provider; the options are checked here, not on each request. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const settings = resolveHttpOptions(options);
  return { getJson: (request) => getJsonWithRetries(settings, request) };
}

/** Wait of retry `retryIndex` (0 for the first retry): base × 2^index, capped, with half of it jittered. */
export function backoffDelayMs(
  retryIndex: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const ceilingMs = Math.min(maxDelayMs, baseDelayMs * 2 ** retryIndex);
  // "Equal jitter": never less than half the step, so retries stay spaced out.
  return Math.round(ceilingMs / 2 + (ceilingMs / 2) * random());
}

/**
 * The wait a `Retry-After` header asks for, ms: delta-seconds ("120") or an HTTP-date
 * relative to `nowMs`. Null when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP-date always names the weekday and "GMT"; Date.parse would accept much looser text.
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return null;
  const atMs = Date.parse(text);
  if (Number.isNaN(atMs)) return null;
  return Math.max(0, atMs - nowMs);
}

const STATUS_NAMES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function statusLabel(status: number, statusText: string): string {
  const name = STATUS_NAMES[status] ?? statusText.trim();
  return name === "" ? String(status) : `${status} ${name}`;
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The result of one attempt, before deciding whether to retry. */
type Attempt =
  | { ok: true; status: number; body: unknown }
  | { ok: false; error: ProviderRequestError; retryable: boolean; retryAfterMs: number | null };

async function getJsonWithRetries(
  settings: ResolvedHttpOptions,
  request: JsonRequest,
): Promise<JsonResponse> {
  const url = new URL(request.url);
  const retryDelaysMs: number[] = [];
  for (let attemptIndex = 0; ; attemptIndex += 1) {
    const attempts = attemptIndex + 1;
    const attempt = await attemptOnce(settings, request, url, attempts);
    if (attempt.ok) {
      return { body: attempt.body, status: attempt.status, attempts, retryDelaysMs };
    }
    if (!attempt.retryable || attemptIndex >= settings.retries) throw attempt.error;
    let delayMs = backoffDelayMs(
      attemptIndex,
      settings.retryBaseDelayMs,
      settings.retryMaxDelayMs,
      settings.random,
    );
    if (attempt.retryAfterMs !== null) {
      if (attempt.retryAfterMs > settings.retryMaxDelayMs) {
        throw new ProviderRequestError(
          settings.provider,
          "rate-limited",
          `${statusLabel(attempt.error.status ?? 429, "")} from ${url.pathname}; the service asks to wait ${Math.ceil(attempt.retryAfterMs / 1000)} s, more than the ${settings.retryMaxDelayMs} ms wattprint waits`,
          {
            hint: "retry later, or keep answers longer with a larger cache TTL",
            status: attempt.error.status,
            attempts,
          },
        );
      }
      delayMs = attempt.retryAfterMs;
    }
    retryDelaysMs.push(delayMs);
    await settings.sleep(delayMs);
  }
}

async function attemptOnce(
  settings: ResolvedHttpOptions,
  request: JsonRequest,
  url: URL,
  attempts: number,
): Promise<Attempt> {
  const { provider, timeoutMs } = settings;
  const path = url.pathname;
  const after = attempts === 1 ? "" : ` (after ${attempts} attempts)`;
  let response: Response;
  let text: string;
  try {
    // The signal covers the body too: a server that sends headers and then stalls still times out.
    response = await fetch(url, {
      headers: { accept: "application/json", ...request.headers },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "follow",
    });
    text = await response.text();
  } catch (error) {
    if (isTimeout(error)) {
      return {
        ok: false,
        retryable: true,
        retryAfterMs: null,
        error: new ProviderRequestError(
          provider,
          "timeout",
          `no answer within ${timeoutMs} ms from ${path}${after}`,
          {
            hint: "the service is slow or unreachable; retry later or raise the timeout",
            attempts,
            cause: error,
          },
        ),
      };
    }
    return {
      ok: false,
      retryable: true,
      retryAfterMs: null,
      error: new ProviderRequestError(
        provider,
        "network",
        `cannot reach ${url.origin} (${networkCause(error)})${after}`,
        {
          hint: "check the network connection and the provider's base URL",
          attempts,
          cause: error,
        },
      ),
    };
  }

  const status = response.status;
  if (status < 200 || status > 299) {
    const label = statusLabel(status, response.statusText);
    const said = bodyExcerpt(text);
    const saidPart = said === null ? "" : ` (server said: ${said})`;
    if (status === 401 || status === 403) {
      return {
        ok: false,
        retryable: false,
        retryAfterMs: null,
        error: new ProviderRequestError(
          provider,
          "unauthorized",
          `${label} — check ${request.credentials ?? "the API key"}${saidPart}`,
          {
            hint: request.authHint ?? "check the credentials given for this provider",
            status,
            attempts,
          },
        ),
      };
    }
    if (isRetryableStatus(status)) {
      const rateLimited = status === 429;
      return {
        ok: false,
        retryable: true,
        retryAfterMs:
          status === 429 || status === 503
            ? parseRetryAfterMs(response.headers.get("retry-after"), settings.now())
            : null,
        error: new ProviderRequestError(
          provider,
          rateLimited ? "rate-limited" : "server",
          `${label} from ${path}${after}${saidPart}`,
          {
            hint: rateLimited
              ? "the service is rate limiting this key; retry later or raise the cache TTL"
              : "the service is failing; retry later",
            status,
            attempts,
          },
        ),
      };
    }
    return {
      ok: false,
      retryable: false,
      retryAfterMs: null,
      error: new ProviderRequestError(provider, "client", `${label} from ${path}${saidPart}`, {
        hint:
          request.clientErrorHint ??
          "check the zone and the time range; the service refused the request",
        status,
        attempts,
      }),
    };
  }

  try {
    return { ok: true, status, body: JSON.parse(text) as unknown };
  } catch (error) {
    return {
      ok: false,
      retryable: false,
      retryAfterMs: null,
      error: new ProviderRequestError(provider, "malformed", `malformed JSON from ${path}`, {
        hint: "the service sent something other than JSON; check the base URL, or retry later",
        status,
        attempts,
        cause: error,
      }),
    };
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/** "ECONNREFUSED" rather than undici's bare "fetch failed". */
function networkCause(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause !== null && typeof cause === "object") {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string") return code;
    if (cause instanceof Error) return cause.message;
  }
  return describeError(error);
}

/** A one-line start of an error body, quoted; null when empty. */
function bodyExcerpt(text: string): string | null {
  const line = text.replace(/\s+/g, " ").trim();
  if (line === "") return null;
  const cut = line.length > BODY_EXCERPT_CHARS ? `${line.slice(0, BODY_EXCERPT_CHARS)}…` : line;
  return JSON.stringify(cut);
}

function sleepMs(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}
