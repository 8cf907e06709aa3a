/**
 * The JSON REST API under /api/v1 (docs/openapi.yaml): ingestion, runs (jobs), their
 * timelines and metrics, project totals, and token management. The project always comes
 * from the caller's token, never from the body or the URL.
 */
import { HttpError, readJsonBody, sendJson } from "./http.js";
import { validateIngestBatch, KEY_PATTERN } from "./ingest-schema.js";
import type { Route, RouteRequest } from "./routing.js";
import {
  getJobDetail,
  listJobs,
  projectDailyTotals,
  MAX_LIST_LIMIT,
  type JobListFilter,
} from "./runs-view.js";
import { createToken, validateScope } from "./tokens.js";
import {
  BodyErrors,
  isObject,
  metrics as checkMetrics,
  noExtraFields,
  nullableString,
} from "./validate.js";
import type { WattprintError } from "../errors.js";
import { isWattprintError } from "../errors.js";
import type { Principal } from "./tokens.js";

function principalOf(request: RouteRequest): Principal {
  if (request.principal === null) throw new HttpError(401, "unauthorized", "a token is required");
  return request.principal;
}

/**
 * Metrics a finished tracker reported with its phases (`val_accuracy` at the end of an
 * epoch): the last phase's metrics win, as they describe the model the run produced.
 */
export function metricsFromRecord(record: Record<string, unknown> | null): Record<string, number> {
  const phases = record?.phases;
  if (!Array.isArray(phases)) return {};
  const out: Record<string, number> = {};
  const ordered = [...phases].sort((a, b) =>
    String((a as { endedAt?: unknown }).endedAt ?? "").localeCompare(
      String((b as { endedAt?: unknown }).endedAt ?? ""),
    ),
  );
  for (const phase of ordered) {
    const metrics = (phase as { metrics?: unknown }).metrics;
    if (!isObject(metrics)) continue;
    for (const [name, value] of Object.entries(metrics)) {
      if (typeof value === "number" && Number.isFinite(value) && name.length <= 64)
        out[name] = value;
    }
  }
  return out;
}

async function ingest(request: RouteRequest): Promise<void> {
  const { app } = request;
  const principal = principalOf(request);
  let body: unknown;
  try {
    body = await readJsonBody(request.req, app.maxBodyBytes);
  } catch (error) {
    if (error instanceof HttpError)
      app.counters.countIngest(error.status === 413 ? "too_large" : "invalid");
    throw error;
  }
  const checked = validateIngestBatch(body);
  if (!checked.ok) {
    app.counters.countIngest(checked.tooLarge ? "too_large" : "invalid");
    throw new HttpError(
      checked.tooLarge ? 413 : 400,
      checked.tooLarge ? "batch_too_large" : "invalid_batch",
      "the batch does not fit the ingest schema",
      {
        details: checked.errors,
      },
    );
  }
  const { batch } = checked;
  const recordMetrics = metricsFromRecord(batch.final?.record ?? null);
  const metrics = { ...recordMetrics, ...(batch.metrics ?? {}) };
  const counts = await app.store.ingest(
    principal.project,
    batch,
    {
      startedMs: checked.startedMs,
      sampleMs: checked.sampleMs,
      endedMs: checked.endedMs,
      nowMs: app.now(),
    },
    Object.keys(metrics).length === 0 ? null : metrics,
  );
  app.counters.countIngest("accepted");
  app.counters.deviceSamples.set(
    "written",
    (app.counters.deviceSamples.get("written") ?? 0) + counts.deviceSamplesWritten,
  );
  app.counters.deviceSamples.set(
    "duplicate",
    (app.counters.deviceSamples.get("duplicate") ?? 0) + counts.deviceSamplesDuplicate,
  );
  app.counters.runSamples.set(
    "written",
    (app.counters.runSamples.get("written") ?? 0) + counts.samplesWritten,
  );
  app.counters.runSamples.set(
    "duplicate",
    (app.counters.runSamples.get("duplicate") ?? 0) + counts.samplesDuplicate,
  );
  sendJson(request.res, 200, {
    project: principal.project,
    job: batch.run.job ?? batch.run.id,
    run: batch.run.id,
    samples: { written: counts.samplesWritten, duplicate: counts.samplesDuplicate },
    deviceSamples: {
      written: counts.deviceSamplesWritten,
      duplicate: counts.deviceSamplesDuplicate,
    },
    finished: counts.finished,
  });
}

const STATUSES = ["running", "completed", "failed", "interrupted"] as const;

/** Reads the runs-list filters from a query string; 400 for a bad value. */
export function parseListFilter(query: URLSearchParams): JobListFilter {
  const filter: JobListFilter = {};
  const status = query.get("status");
  if (status !== null && status !== "") {
    if (!(STATUSES as readonly string[]).includes(status)) {
      throw new HttpError(400, "bad_query", `status must be one of ${STATUSES.join(", ")}`);
    }
    filter.status = status as JobListFilter["status"];
  }
  const kind = query.get("kind");
  if (kind !== null && kind !== "") {
    if (kind !== "track" && kind !== "agent")
      throw new HttpError(400, "bad_query", "kind must be track or agent");
    filter.kind = kind;
  }
  const host = query.get("host");
  if (host !== null && host !== "") filter.host = host.slice(0, 255);
  const text = query.get("q");
  if (text !== null && text !== "") filter.text = text.slice(0, 200);
  const since = query.get("since");
  if (since !== null && since !== "") {
    const ms = Date.parse(since);
    if (!Number.isFinite(ms))
      throw new HttpError(400, "bad_query", "since must be an ISO 8601 time");
    filter.sinceMs = ms;
  }
  const limit = query.get("limit");
  if (limit !== null && limit !== "") {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIST_LIMIT) {
      throw new HttpError(
        400,
        "bad_query",
        `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`,
      );
    }
    filter.limit = n;
  }
  return filter;
}

async function listRuns(request: RouteRequest): Promise<void> {
  const principal = principalOf(request);
  const filter = parseListFilter(request.url.searchParams);
  const runs = await listJobs(request.app.store, principal.project, filter, request.app.now());
  sendJson(request.res, 200, { project: principal.project, runs });
}

function runKey(request: RouteRequest): string {
  const key = request.params[0] ?? "";
  if (!KEY_PATTERN.test(key)) throw new HttpError(400, "bad_key", "not a run id or job key");
  return key;
}

async function getRun(request: RouteRequest): Promise<void> {
  const principal = principalOf(request);
  const found = await getJobDetail(
    request.app.store,
    principal.project,
    runKey(request),
    request.app.now(),
  );
  if (found === null) throw new HttpError(404, "not_found", "no such run in this project");
  sendJson(request.res, 200, found.detail);
}

async function getTimeline(request: RouteRequest): Promise<void> {
  const principal = principalOf(request);
  const { store } = request.app;
  const jobKey = await store.resolveJobKey(principal.project, runKey(request));
  const stored =
    jobKey === null ? undefined : (await store.loadJobs(principal.project, [jobKey])).get(jobKey);
  if (stored === undefined) throw new HttpError(404, "not_found", "no such run in this project");
  const afterText = request.url.searchParams.get("after");
  const afterMs = afterText === null || afterText === "" ? undefined : Number(afterText);
  if (afterMs !== undefined && !Number.isFinite(afterMs))
    throw new HttpError(400, "bad_query", "after must be epoch milliseconds");
  const maxText = request.url.searchParams.get("maxPoints");
  const maxPoints = maxText === null ? 500 : Number(maxText);
  if (!Number.isInteger(maxPoints) || maxPoints < 2 || maxPoints > 5000) {
    throw new HttpError(400, "bad_query", "maxPoints must be a whole number from 2 to 5000");
  }
  const [samples, devices] = await Promise.all([
    store.runSamples(principal.project, stored.members, { maxPoints, afterMs }),
    store.deviceSamples(principal.project, stored.members, { maxPoints, afterMs }),
  ]);
  sendJson(request.res, 200, { key: stored.job.jobKey, samples, devices });
}

async function postMetrics(request: RouteRequest): Promise<void> {
  const principal = principalOf(request);
  const body = await readJsonBody(request.req, request.app.maxBodyBytes);
  const errors = new BodyErrors();
  const metrics = checkMetrics(errors, isObject(body) ? body.metrics : undefined, "metrics", 32);
  if (isObject(body)) noExtraFields(errors, body, ["metrics"], "body");
  if (!errors.ok)
    throw new HttpError(400, "invalid_body", 'the body must be { "metrics": { name: number } }', {
      details: errors.summary(),
    });
  const { store } = request.app;
  const jobKey = await store.resolveJobKey(principal.project, runKey(request));
  if (
    jobKey === null ||
    !(await store.mergeJobMetrics(principal.project, jobKey, metrics, request.app.now()))
  ) {
    throw new HttpError(404, "not_found", "no such run in this project");
  }
  sendJson(request.res, 200, { key: jobKey, metrics });
}

async function projectTotals(request: RouteRequest): Promise<void> {
  const principal = principalOf(request);
  const daysText = request.url.searchParams.get("days");
  const days = daysText === null ? 30 : Number(daysText);
  if (!Number.isInteger(days) || days < 1 || days > 366) {
    throw new HttpError(400, "bad_query", "days must be a whole number from 1 to 366");
  }
  const daily = await projectDailyTotals(
    request.app.store,
    principal.project,
    days,
    request.app.now(),
  );
  sendJson(request.res, 200, { project: principal.project, days: daily });
}

function tokenView(row: {
  id: string;
  project: string;
  scope: string;
  label: string | null;
  createdAt: string;
  revokedAt: string | null;
}) {
  return {
    id: row.id,
    project: row.project,
    scope: row.scope,
    label: row.label,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
  };
}

async function listTokens(request: RouteRequest): Promise<void> {
  const principal = principalOf(request);
  const rows = await request.app.store.listTokens(principal.project);
  sendJson(request.res, 200, { project: principal.project, tokens: rows.map(tokenView) });
}

async function postToken(request: RouteRequest): Promise<void> {
  const principal = principalOf(request);
  const body = await readJsonBody(request.req, 4096);
  const errors = new BodyErrors();
  if (!isObject(body)) errors.add("body", "must be an object");
  const input = isObject(body) ? body : {};
  noExtraFields(errors, input, ["scope", "label"], "body");
  const label = nullableString(errors, input.label, "label", { maxLength: 200 });
  if (!errors.ok)
    throw new HttpError(400, "invalid_body", 'the body must be { "scope": ..., "label"?: ... }', {
      details: errors.summary(),
    });
  try {
    validateScope(String(input.scope));
  } catch (error) {
    throw new HttpError(400, "invalid_body", (error as WattprintError).message);
  }
  const created = await createToken(request.app.store, {
    project: principal.project,
    scope: String(input.scope),
    label,
    nowMs: request.app.now(),
  });
  sendJson(request.res, 201, { token: created.token, ...tokenView(created.row) });
}

async function deleteToken(request: RouteRequest): Promise<void> {
  const principal = principalOf(request);
  const id = request.params[0] ?? "";
  if (!/^[0-9a-f]{12}$/.test(id)) throw new HttpError(400, "bad_key", "not a token id");
  const revoked = await request.app.store.revokeToken(
    id,
    new Date(request.app.now()).toISOString(),
    principal.project,
  );
  if (!revoked) throw new HttpError(404, "not_found", "no such active token in this project");
  request.app.forgetToken(id);
  sendJson(request.res, 200, { id, revoked: true });
}

/** The API routes. */
export const API_ROUTES: readonly Route[] = [
  {
    method: "POST",
    path: /^\/api\/v1\/ingest$/,
    name: "api.ingest",
    access: "ingest",
    handler: ingest,
  },
  {
    method: "GET",
    path: /^\/api\/v1\/runs$/,
    name: "api.runs",
    access: "read",
    cookie: true,
    handler: listRuns,
  },
  {
    method: "GET",
    path: /^\/api\/v1\/runs\/([^/]+)$/,
    name: "api.run",
    access: "read",
    cookie: true,
    handler: getRun,
  },
  {
    method: "GET",
    path: /^\/api\/v1\/runs\/([^/]+)\/timeline$/,
    name: "api.timeline",
    access: "read",
    cookie: true,
    handler: getTimeline,
  },
  {
    method: "POST",
    path: /^\/api\/v1\/runs\/([^/]+)\/metrics$/,
    name: "api.metrics",
    access: "ingest",
    handler: postMetrics,
  },
  {
    method: "GET",
    path: /^\/api\/v1\/project$/,
    name: "api.project",
    access: "read",
    cookie: true,
    handler: projectTotals,
  },
  {
    method: "GET",
    path: /^\/api\/v1\/tokens$/,
    name: "api.tokens",
    access: "admin",
    handler: listTokens,
  },
  {
    method: "POST",
    path: /^\/api\/v1\/tokens$/,
    name: "api.tokens",
    access: "admin",
    handler: postToken,
  },
  {
    method: "DELETE",
    path: /^\/api\/v1\/tokens\/([^/]+)$/,
    name: "api.token",
    access: "admin",
    handler: deleteToken,
  },
];

/**
 * An HTTP 503 for failures of the database that a retry may cure: the store's own errors,
 * a refused or lost connection, SQLite busy, and PostgreSQL's connection (08),
 * resources (53), operator (57) and serialization (40) classes. Null for anything else.
 */
export function storeFailure(error: unknown): HttpError | null {
  const code = (error as { code?: unknown } | null)?.code;
  const transient =
    (isWattprintError(error) && error.code === "STORE") ||
    (typeof code === "string" &&
      (/^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT)$/.test(code) ||
        code.startsWith("SQLITE_BUSY") ||
        /^(08|53|57|40)[0-9A-Z]{3}$/.test(code)));
  if (!transient) return null;
  return new HttpError(
    503,
    "store_unavailable",
    "the server store cannot be used right now; retry later",
    {
      headers: { "retry-after": "2" },
    },
  );
}
