/**
 * The shapes routes share: what a handler receives, who may call it, and the server-wide
 * context (store, counters, clock, limits).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerStore } from "../store/server-store.js";
import type { ServeCounters } from "./prometheus.js";
import type { Principal } from "./tokens.js";

/**
 * Who may call a route:
 * - `public`: anyone (health checks, the login page, static assets);
 * - `loopback-or-read`: anyone on this machine's loopback, else a read (or admin) token
 *   (/metrics, the Carbon Aware SDK routes);
 * - `ingest`, `read`, `admin`: a token with that scope (admin allows everything).
 */
export type Access = "public" | "loopback-or-read" | "ingest" | "read" | "admin";

/** Server-wide state handed to every route. */
export interface AppContext {
  store: ServerStore;
  counters: ServeCounters;
  /** Clock, epoch ms (tests may pass their own). */
  now: () => number;
  maxBodyBytes: number;
  /** Drops cached verifications of a token (after it was revoked here). */
  forgetToken: (tokenId: string) => void;
}

/** One request as a route sees it. */
export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Captured groups of the route's path pattern, decoded. */
  params: string[];
  /** The caller: null for public routes called without a token. */
  principal: Principal | null;
  /** Whether the caller connects from this machine's loopback. */
  loopback: boolean;
  app: AppContext;
}

export interface Route {
  method: "GET" | "POST" | "DELETE";
  /** Anchored pattern of the path; groups become `params`. */
  path: RegExp;
  /** Bounded name for the request counters ("api.ingest"). */
  name: string;
  access: Access;
  /** Accept the dashboard's session cookie in place of an Authorization header (GET only). */
  cookie?: boolean;
  /** Dashboard pages: send a caller without a usable token to the login page (303) instead of 401. */
  loginRedirect?: boolean;
  handler: (request: RouteRequest) => Promise<void>;
}
