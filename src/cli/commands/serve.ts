import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { parseNumber } from "../parse-values.js";
import { settingsFromEnvironment } from "../../config/settings.js";
import { openServerStore } from "../../store/server-store.js";
import { resolveServerDb } from "../../serve/default-db.js";
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_SERVE_HOST,
  DEFAULT_SERVE_PORT,
  OPEN_MODE_PROJECT,
  startServer,
} from "../../serve/server.js";
import { WattprintError } from "../../errors.js";

export const SERVE_HELP = `Usage: wattprint serve [--port ${DEFAULT_SERVE_PORT}] [--host ${DEFAULT_SERVE_HOST}] [--db <sqlite path | postgres://...>]

Serves the REST API (/api/v1, OpenAPI at /api/v1/openapi.yaml), the dashboard (/),
Prometheus metrics (/metrics), the Carbon Aware SDK routes (/emissions/..., /locations),
/healthz and /readyz, until SIGINT or SIGTERM. All state is in the database, so several
replicas can share one PostgreSQL database behind a load balancer.

Options:
  --port <n>             port (default ${DEFAULT_SERVE_PORT}; 0: any free port)
  --host <addr>          listen address (default ${DEFAULT_SERVE_HOST}); any other address
                         needs tokens to exist (wattprint token create)
  --db <db>              SQLite file or postgres:// URL (default: WATTPRINT_DB, else
                         $WATTPRINT_HOME/server.sqlite); WATTPRINT_DB keeps a password
                         out of the process list
  --rate-limit <n>       requests per second per token (default 50, burst 2×)
  --max-body <bytes>     largest request body (default ${DEFAULT_MAX_BODY_BYTES})
  --metrics-require-token  ask a read token for /metrics even from loopback (use behind
                         a reverse proxy on the same host)
  -h, --help             this help

Without any token (loopback only) the API is open to this machine's users, in project
"${OPEN_MODE_PROJECT}". Create tokens with: wattprint token create --project <p> --scope ingest|read|admin`;

/** Options for tests: stop the server with `signal` instead of a process signal. */
export interface ServeCliHooks {
  signal?: AbortSignal;
  onListening?: (url: string) => void;
}

export async function serveCli(
  argv: string[],
  io: CliIo,
  hooks: ServeCliHooks = {},
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      db: { type: "string" },
      "rate-limit": { type: "string" },
      "max-body": { type: "string" },
      "metrics-require-token": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${SERVE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    throw new WattprintError("USAGE", `unexpected argument "${positionals[0]}"`, {
      hint: "see wattprint serve --help",
    });
  }
  const port =
    values.port === undefined
      ? DEFAULT_SERVE_PORT
      : parseNumber(values.port, "--port", "a port from 0 to 65535");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new WattprintError("USAGE", `invalid --port ${values.port}`, {
      hint: "a port from 0 to 65535",
    });
  }
  const ratePerS =
    values["rate-limit"] === undefined
      ? undefined
      : parseNumber(values["rate-limit"], "--rate-limit", "requests per second, such as 50");
  if (ratePerS !== undefined && ratePerS <= 0) {
    throw new WattprintError("USAGE", "--rate-limit must be above 0", {
      hint: "requests per second, such as 50",
    });
  }
  const maxBodyBytes =
    values["max-body"] === undefined
      ? undefined
      : parseNumber(values["max-body"], "--max-body", "bytes, such as 1048576");
  if (maxBodyBytes !== undefined && (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024)) {
    throw new WattprintError("USAGE", "--max-body must be a whole number of bytes, at least 1024");
  }
  const db = resolveServerDb(values.db, io.env.WATTPRINT_DB, settingsFromEnvironment(io.env).home);
  const store = await openServerStore(db);
  let server;
  try {
    server = await startServer({
      store,
      host: values.host ?? DEFAULT_SERVE_HOST,
      port,
      rateLimit: ratePerS === undefined ? undefined : { ratePerS },
      maxBodyBytes,
      metricsRequireToken: values["metrics-require-token"] === true,
      log: (line) => io.stderr(`${line}\n`),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  io.stderr(
    `wattprint: serving ${server.url} (store: ${store.kind} ${store.description}); dashboard ${server.url}/\n`,
  );
  if (await server.openMode()) {
    io.stderr(
      `wattprint: no token exists yet: processes on this machine may use the API without one (project "${OPEN_MODE_PROJECT}"); create one to require tokens: wattprint token create --project <p> --scope admin --db ${db.startsWith("postgres") ? "<same db>" : db}\n`,
    );
  }
  hooks.onListening?.(server.url);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    if (hooks.signal !== undefined) {
      if (hooks.signal.aborted) resolve();
      hooks.signal.addEventListener("abort", stop, { once: true });
    } else {
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    }
  });
  io.stderr("wattprint: stopping (requests in flight finish)\n");
  await server.close();
  await store.close();
  return 0;
}
