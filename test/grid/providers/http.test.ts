import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  backoffDelayMs,
  createHttpClient,
  parseRetryAfterMs,
  type HttpClientOptions,
} from "../../../src/grid/providers/http.js";
import {
  UK_CURRENT,
  rejectionOf,
  reply,
  startProviderServer,
  type ProviderServer,
} from "../../fixtures/provider-server.js";

let server: ProviderServer;

beforeAll(async () => {
  server = await startProviderServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
});

/** A client whose waits are recorded and skipped (the delays are what is tested). */
function recordingClient(overrides: Partial<HttpClientOptions> = {}) {
  const waitsMs: number[] = [];
  const client = createHttpClient({
    provider: "test-provider",
    retries: 3,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 250,
    timeoutMs: 2000,
    random: () => 0.5,
    sleep: async (delayMs) => {
      waitsMs.push(delayMs);
    },
    ...overrides,
  });
  return { client, waitsMs };
}

describe("backoff and Retry-After", () => {
  it("doubles the step per retry, caps it, and keeps the jitter within the upper half", () => {
    expect(backoffDelayMs(0, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelayMs(0, 100, 10_000, () => 0.999999)).toBe(100);
    expect(backoffDelayMs(3, 100, 10_000, () => 0)).toBe(400);
    expect(backoffDelayMs(3, 100, 10_000, () => 0.5)).toBe(600);
    expect(backoffDelayMs(20, 100, 1000, () => 0.999999)).toBe(1000);
    for (let retry = 0; retry < 8; retry += 1) {
      const delayMs = backoffDelayMs(retry, 100, 5000, Math.random);
      const stepMs = Math.min(5000, 100 * 2 ** retry);
      expect(delayMs).toBeGreaterThanOrEqual(stepMs / 2);
      expect(delayMs).toBeLessThanOrEqual(stepMs);
    }
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const nowMs = Date.parse("2024-05-01T10:00:00Z");
    expect(parseRetryAfterMs("120", nowMs)).toBe(120_000);
    expect(parseRetryAfterMs(" 0 ", nowMs)).toBe(0);
    expect(parseRetryAfterMs("Wed, 01 May 2024 10:00:30 GMT", nowMs)).toBe(30_000);
    expect(parseRetryAfterMs("Wed, 01 May 2024 09:00:00 GMT", nowMs)).toBe(0);
    expect(parseRetryAfterMs("-5", nowMs)).toBeNull();
    expect(parseRetryAfterMs("soon", nowMs)).toBeNull();
    expect(parseRetryAfterMs("2024-05-01T10:00:30Z", nowMs)).toBeNull();
    expect(parseRetryAfterMs(null, nowMs)).toBeNull();
  });
});

describe("getJson", () => {
  it("returns the parsed body, the status and one attempt", async () => {
    const { client, waitsMs } = recordingClient();
    const response = await client.getJson({ url: `${server.baseUrl}/intensity` });
    expect(response).toEqual({ body: UK_CURRENT, status: 200, attempts: 1, retryDelaysMs: [] });
    expect(waitsMs).toEqual([]);
    expect(server.requests[0]?.headers.accept).toBe("application/json");
  });

  it("backs off between retries of 5xx answers and reports the last one", async () => {
    server.enqueue(
      "/intensity",
      reply.status(500),
      reply.status(502),
      reply.status(503),
      reply.status(504),
    );
    const { client, waitsMs } = recordingClient();
    const error = await rejectionOf(client.getJson({ url: `${server.baseUrl}/intensity` }));
    expect(error.code).toBe("PROVIDER");
    expect(error.kind).toBe("server");
    expect(error.status).toBe(504);
    expect(error.attempts).toBe(4);
    expect(error.message).toMatch(
      /^test-provider: 504 Gateway Timeout from \/intensity \(after 4 attempts\)/,
    );
    // random 0.5 → 3/4 of each step: 100, 200, then capped at 250.
    expect(waitsMs).toEqual([75, 150, 188]);
    expect(server.requests).toHaveLength(4);
  });

  it("waits what Retry-After asks on 429 and 503 instead of the backoff", async () => {
    server.enqueue(
      "/intensity",
      reply.status(429, "0"),
      reply.status(503, "Wed, 01 May 2024 10:00:00 GMT"),
    );
    const { client, waitsMs } = recordingClient({
      now: () => Date.parse("2024-05-01T09:59:59.800Z"),
    });
    const response = await client.getJson({ url: `${server.baseUrl}/intensity` });
    expect(response.attempts).toBe(3);
    expect(response.retryDelaysMs).toEqual([0, 200]);
    expect(waitsMs).toEqual([0, 200]);
  });

  it("really sleeps for Retry-After with the default timer", async () => {
    server.enqueue("/intensity", reply.status(429, "1"));
    const client = createHttpClient({
      provider: "test-provider",
      retries: 1,
      retryMaxDelayMs: 2000,
    });
    const startedMs = performance.now();
    const response = await client.getJson({ url: `${server.baseUrl}/intensity` });
    const elapsedMs = performance.now() - startedMs;
    expect(response.retryDelaysMs).toEqual([1000]);
    expect(elapsedMs).toBeGreaterThanOrEqual(950);
    expect(elapsedMs).toBeLessThan(5000);
  });

  it("does not retry 401, 404 or malformed JSON", async () => {
    server.enqueue(
      "/intensity",
      reply.status(401),
      reply.status(404, undefined, ""),
      reply.malformed(),
    );
    const { client } = recordingClient();
    const url = `${server.baseUrl}/intensity`;
    const unauthorized = await rejectionOf(
      client.getJson({ url, credentials: "the token", authHint: "set the token" }),
    );
    expect(unauthorized.message).toMatch(
      /^test-provider: 401 Unauthorized — check the token \(server said: /,
    );
    expect(unauthorized.hint).toBe("set the token");
    const notFound = await rejectionOf(client.getJson({ url }));
    expect(notFound.message).toBe("test-provider: 404 Not Found from /intensity");
    expect(notFound.kind).toBe("client");
    const malformed = await rejectionOf(client.getJson({ url }));
    expect(malformed.kind).toBe("malformed");
    expect(malformed.cause).toBeInstanceOf(SyntaxError);
    expect(server.requests).toHaveLength(3);
  });

  it("times out a server that sends headers and then stalls the body", async () => {
    server.enqueue("/intensity", reply.stall());
    const { client } = recordingClient({ timeoutMs: 150, retries: 0 });
    const startedMs = performance.now();
    const error = await rejectionOf(client.getJson({ url: `${server.baseUrl}/intensity` }));
    expect(error.kind).toBe("timeout");
    expect(error.message).toBe("test-provider: no answer within 150 ms from /intensity");
    expect(performance.now() - startedMs).toBeLessThan(2000);
  });

  it("retries a refused connection and names the cause", async () => {
    const closed = await startProviderServer();
    const url = `${closed.baseUrl}/intensity`;
    await closed.close();
    const { client, waitsMs } = recordingClient({ retries: 1 });
    const error = await rejectionOf(client.getJson({ url }));
    expect(error.kind).toBe("network");
    expect(error.message).toBe(
      `test-provider: cannot reach ${closed.baseUrl} (ECONNREFUSED) (after 2 attempts)`,
    );
    expect(waitsMs).toHaveLength(1);
  });

  it("quotes at most a short, one-line excerpt of an error body", async () => {
    server.enqueue("/intensity", reply.status(400, undefined, `line one\n${"x".repeat(500)}`));
    const { client } = recordingClient();
    const error = await rejectionOf(client.getJson({ url: `${server.baseUrl}/intensity` }));
    expect(error.message).not.toContain("\n");
    expect(error.message).toMatch(/\(server said: "line one x+…"\)$/);
    expect(error.message.length).toBeLessThan(260);
  });

  it("refuses bad options when the client is made", () => {
    expect(() => createHttpClient({ provider: "p", timeoutMs: 0 })).toThrow(
      /p: option timeoutMs is 0/,
    );
    expect(() => createHttpClient({ provider: "p", retries: 1.5 })).toThrow(
      /retries is 1.5; it must be an integer/,
    );
    expect(() => createHttpClient({ provider: "p", retryMaxDelayMs: Number.NaN })).toThrow(
      /retryMaxDelayMs/,
    );
  });
});
