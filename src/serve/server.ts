/**
 * `wattprint serve`: one stateless node:http process serving the REST API, the dashboard,
 * /metrics, /healthz and /readyz over a server store (SQLite or PostgreSQL). All state is
 * in the store, so replicas behind a load balancer are safe. Security defaults: listens on
 * 127.0.0.1; refuses any other address unless tokens exist; no token is built in.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { WattprintError } from "../errors.js";
import type { ServerStore, TokenRow } from "../store/server-store.js";
import { API_ROUTES, storeFailure } from "./api-routes.js";
import { CARBON_AWARE_ROUTES } from "./carbon-aware-routes.js";
import { DASHBOARD_ROUTES, SESSION_COOKIE } from "./dashboard.js";
import {
  HttpError,
  isLoopbackAddress,
  isLoopbackHost,
  parseCookies,
  send,
  sendError,
  sendJson,
} from "./http.js";
import { ServeCounters, renderMetrics } from "./prometheus.js";
import { RateLimiter, type RateLimitOptions } from "./rate-limit.js";
import type { AppContext, Route, RouteRequest } from "./routing.js";
import { scopeAllows, verifyToken, type Principal } from "./tokens.js";

/** Default port of `wattprint serve`. */
export const DEFAULT_SERVE_PORT = 8787;
/** Default listen address: loopback only. */
export const DEFAULT_SERVE_HOST = "127.0.0.1";
/** Default largest request body, bytes (1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Default time a verified token is trusted before it is looked up again, ms. */
export const DEFAULT_TOKEN_CACHE_MS = 5000;
/** The project of open mode (loopback, no token ever created). */
export const OPEN_MODE_PROJECT = "default";

/** Options of {@link startServer}. */
export interface ServeOptions {
  store: ServerStore;
  /** Listen address; default {@link DEFAULT_SERVE_HOST}. Anything but loopback needs tokens. */
  host?: string;
  /** Port; default {@link DEFAULT_SERVE_PORT}; 0 picks a free one. */
  port?: number;
  /** Largest request body, bytes; default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
  /** Requests per token (or per address without one); default 50/s, burst 100. */
  rateLimit?: RateLimitOptions;
  /** How long a verified token is trusted, ms; default {@link DEFAULT_TOKEN_CACHE_MS}; 0 checks every request. */
  tokenCacheMs?: number;
  /** Require a read token for /metrics even from loopback (behind a local reverse proxy); default false. */
  metricsRequireToken?: boolean;
  /** Clock, epoch ms; default Date.now. */
  now?: () => number;
  /** Where one-line notices go (default: nowhere). */
  log?: (line: string) => void;
}

/** A listening server. */
export interface RunningServer {
  /** "http://127.0.0.1:8787". */
  url: string;
  host: string;
  port: number;
  /** True while no token was ever created and the server only listens on loopback: no token needed. */
  openMode: () => Promise<boolean>;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`, default 5 s), closes connections. */
  close: (graceMs?: number) => Promise<void>;
}

const OPENAPI_URL = new URL("../../docs/openapi.yaml", import.meta.url);

const BASE_ROUTES: readonly Route[] = [
  {
    method: "GET",
    path: /^\/healthz$/,
    name: "healthz",
    access: "public",
    handler: async ({ res }) => sendJson(res, 200, { status: "ok" }),
  },
  {
    method: "GET",
    path: /^\/readyz$/,
    name: "readyz",
    access: "public",
    handler: async ({ res, app }) => {
      try {
        const { schemaVersion } = await app.store.ping();
        sendJson(res, 200, { status: "ready", store: app.store.kind, schemaVersion });
      } catch (error) {
        sendJson(res, 503, {
          status: "unavailable",
          store: app.store.kind,
          reason: (error as Error).message,
        });
      }
    },
  },
  {
    method: "GET",
    path: /^\/metrics$/,
    name: "metrics",
    access: "loopback-or-read",
    handler: async ({ res, app }) => {
      const text = await renderMetrics(app.store, app.counters, app.now());
      send(res, 200, text, "text/plain; version=0.0.4; charset=utf-8");
    },
  },
  {
    method: "GET",
    path: /^\/api\/v1\/openapi\.yaml$/,
    name: "openapi",
    access: "public",
    handler: async ({ res }) =>
      send(res, 200, readFileSync(OPENAPI_URL), "application/yaml; charset=utf-8"),
  },
];

/**
 * Starts the server. Throws WattprintError("USAGE") for a non-loopback address when the
 * store holds no token, and ("USAGE") when the port is taken.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { store } = options;
  const host = options.host ?? DEFAULT_SERVE_HOST;
  const port = options.port ?? DEFAULT_SERVE_PORT;
  const loopbackOnly = isLoopbackHost(host);
  if (!loopbackOnly && !(await store.hasAnyToken())) {
    throw new WattprintError(
      "USAGE",
      `refusing to listen on ${host} without tokens: anyone who can reach it could write and read runs`,
      {
        hint: "create a token first (wattprint token create --project <name> --scope admin --db <same db>), or listen on 127.0.0.1",
      },
    );
  }
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const counters = new ServeCounters();
  const limiter = new RateLimiter(options.rateLimit);
  const tokenCacheMs = options.tokenCacheMs ?? DEFAULT_TOKEN_CACHE_MS;
  const cache = new Map<string, { principal: Principal; untilMs: number }>();
  let tokensExist: { value: boolean; untilMs: number } | null = null;

  const openMode = async (): Promise<boolean> => {
    if (!loopbackOnly) return false;
    if (tokensExist?.value === true) return false;
    if (tokensExist === null || now() >= tokensExist.untilMs) {
      tokensExist = { value: await store.hasAnyToken(), untilMs: now() + 2000 };
    }
    return !tokensExist.value;
  };

  const app: AppContext = {
    store,
    counters,
    now,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    forgetToken: (tokenId) => {
      for (const [key, entry] of cache) if (entry.principal.tokenId === tokenId) cache.delete(key);
    },
  };

  const authenticate = async (token: string): Promise<Principal | null> => {
    const key = createHash("sha256").update(token).digest("hex");
    const cached = cache.get(key);
    if (cached !== undefined && now() < cached.untilMs) return cached.principal;
    const result = await verifyToken(store, token, (id): Promise<TokenRow | null> =>
      store.findToken(id),
    );
    if (!result.ok) {
      cache.delete(key);
      return null;
    }
    if (tokenCacheMs > 0) {
      if (cache.size > 10_000) cache.clear();
      cache.set(key, { principal: result.principal, untilMs: now() + tokenCacheMs });
    }
    return result.principal;
  };

  const routes = [...BASE_ROUTES, ...API_ROUTES, ...CARBON_AWARE_ROUTES, ...DASHBOARD_ROUTES];

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ route: string; status: number }> => {
    const url = new URL(req.url ?? "/", "http://wattprint.invalid");
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    const matching = routes.filter((r) => r.path.test(url.pathname));
    if (matching.length === 0) throw new HttpError(404, "not_found", `no route ${url.pathname}`);
    const route = matching.find((r) => r.method === method);
    if (route === undefined) {
      const allow = [...new Set(matching.map((r) => r.method))].join(", ");
      throw new HttpError(405, "method_not_allowed", `${method} is not allowed here`, {
        headers: { allow },
      });
    }
    const loopback = isLoopbackAddress(req.socket.remoteAddress);
    let principal: Principal | null = null;
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      principal = match?.[1] === undefined ? null : await authenticate(match[1]);
      if (principal === null) {
        if (route.name === "api.ingest") counters.countIngest("unauthorized");
        throw new HttpError(401, "unauthorized", "the token is wrong, revoked or malformed", {
          headers: { "www-authenticate": 'Bearer realm="wattprint"' },
        });
      }
    } else if (route.cookie === true && method === "GET") {
      const cookie = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
      if (cookie !== undefined) principal = await authenticate(cookie);
    }
    if (principal === null && loopback && route.access !== "public" && (await openMode())) {
      principal = { tokenId: "open", project: OPEN_MODE_PROJECT, scope: "admin" };
    }
    const limitKey = principal?.tokenId ?? `address:${req.socket.remoteAddress ?? "?"}`;
    if (route.name !== "healthz" && route.name !== "readyz") {
      const waitS = limiter.take(limitKey, now());
      if (waitS > 0) {
        if (route.name === "api.ingest") counters.countIngest("rate_limited");
        throw new HttpError(429, "rate_limited", "too many requests for this token; slow down", {
          headers: { "retry-after": String(Math.max(1, Math.ceil(waitS))) },
        });
      }
    }
    checkAccess(route, principal, loopback && options.metricsRequireToken !== true, counters);
    const request: RouteRequest = {
      req,
      res,
      url,
      params: (route.path.exec(url.pathname) ?? []).slice(1).map((p) => safeDecode(p)),
      principal,
      loopback,
      app,
    };
    await route.handler(request);
    return { route: route.name, status: res.statusCode };
  };

  const server: Server = createServer((req, res) => {
    handle(req, res)
      .then(({ route, status }) => counters.countHttp(route, status))
      .catch((error: unknown) => {
        let httpError: HttpError;
        if (error instanceof HttpError) httpError = error;
        else {
          httpError =
            storeFailure(error) ??
            new HttpError(500, "internal", "the server failed to answer; the failure was logged");
          log(
            `wattprint serve: ${req.method} ${req.url}: ${(error as Error)?.stack ?? String(error)}`,
          );
        }
        counters.countHttp(routeName(req.url), httpError.status);
        sendError(res, httpError);
        // A body left unread (413) must not be parsed as the next request.
        if (httpError.headers.connection === "close") req.resume();
      });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new WattprintError(
          "USAGE",
          `cannot listen on ${host}:${port}: ${error.code === "EADDRINUSE" ? "the port is in use" : error.message}`,
          {
            hint: "pick another --port, or stop what listens there",
            cause: error,
          },
        ),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    openMode,
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

function checkAccess(
  route: Route,
  principal: Principal | null,
  loopbackOpen: boolean,
  counters: ServeCounters,
): void {
  if (route.access === "public") return;
  if (route.access === "loopback-or-read") {
    if (loopbackOpen) return;
    if (principal === null) {
      throw new HttpError(
        401,
        "unauthorized",
        "a read token is required from outside this machine",
        {
          headers: { "www-authenticate": 'Bearer realm="wattprint"' },
        },
      );
    }
    if (!scopeAllows(principal.scope, "read"))
      throw new HttpError(403, "forbidden", `a ${principal.scope} token cannot read`);
    return;
  }
  if (
    route.loginRedirect === true &&
    (principal === null || !scopeAllows(principal.scope, "read"))
  ) {
    throw new HttpError(303, "login_required", "sign in with a read token", {
      headers: { location: "/login" },
    });
  }
  if (principal === null) {
    if (route.name === "api.ingest") counters.countIngest("unauthorized");
    throw new HttpError(
      401,
      "unauthorized",
      "a token is required (Authorization: Bearer <token>)",
      {
        headers: { "www-authenticate": 'Bearer realm="wattprint"' },
      },
    );
  }
  if (!scopeAllows(principal.scope, route.access)) {
    if (route.name === "api.ingest") counters.countIngest("forbidden");
    throw new HttpError(
      403,
      "forbidden",
      `this needs a ${route.access} token; this one is ${principal.scope}`,
    );
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A bounded route label for requests that failed before a route was chosen. */
function routeName(url: string | undefined): string {
  const path = (url ?? "/").split("?")[0] ?? "/";
  if (path.startsWith("/api/")) return "api.other";
  return "other";
}
