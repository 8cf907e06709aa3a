import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { settingsFromEnvironment } from "../../config/settings.js";
import { openServerStore } from "../../store/server-store.js";
import { resolveServerDb } from "../../serve/default-db.js";
import { TOKEN_SCOPES, createToken, validateProject } from "../../serve/tokens.js";
import { WattprintError } from "../../errors.js";

export const TOKEN_HELP = `Usage: wattprint token create --project <p> --scope ${TOKEN_SCOPES.join("|")} [--label <text>] [--db <db>]
       wattprint token list [--project <p>] [--json] [--db <db>]
       wattprint token revoke <id> [--db <db>]

API tokens of a wattprint server, kept in its database (--db as for wattprint serve:
WATTPRINT_DB, else $WATTPRINT_HOME/server.sqlite). "create" prints the token once on
stdout; only its hash is stored. Scopes: ingest (send runs), read (runs, dashboard,
metrics), admin (both, and manage the project's tokens). The project comes from the token.`;

export async function tokenCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      project: { type: "string" },
      scope: { type: "string" },
      label: { type: "string" },
      db: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${TOKEN_HELP}\n`);
    return 0;
  }
  const [action, id, ...extra] = positionals;
  if (action !== "create" && action !== "list" && action !== "revoke") {
    throw new WattprintError(
      "USAGE",
      action === undefined ? "token needs an action" : `unknown token action "${action}"`,
      {
        hint: "use wattprint token create, list or revoke (see --help)",
      },
    );
  }
  if (extra.length > 0 || (action !== "revoke" && id !== undefined)) {
    throw new WattprintError("USAGE", `unexpected argument "${extra[0] ?? id}"`, {
      hint: "see wattprint token --help",
    });
  }
  if (action === "create") {
    if (values.project === undefined)
      throw new WattprintError("USAGE", "token create needs --project", {
        hint: "for example --project vision-team",
      });
    if (values.scope === undefined)
      throw new WattprintError("USAGE", "token create needs --scope", {
        hint: `one of ${TOKEN_SCOPES.join(", ")}`,
      });
    validateProject(values.project);
  }
  if (action === "revoke" && (id === undefined || !/^[0-9a-f]{12}$/.test(id))) {
    throw new WattprintError("USAGE", "token revoke needs a token id (12 hex characters)", {
      hint: "list them with wattprint token list",
    });
  }
  const db = resolveServerDb(values.db, io.env.WATTPRINT_DB, settingsFromEnvironment(io.env).home);
  const store = await openServerStore(db);
  try {
    if (action === "create") {
      const created = await createToken(store, {
        project: values.project as string,
        scope: values.scope as string,
        label: values.label ?? null,
      });
      io.stdout(`${created.token}\n`);
      io.stderr(
        `wattprint: token ${created.row.id} for project "${created.row.project}", scope ${created.row.scope}; it is shown only now: keep it in a secret store\n`,
      );
      return 0;
    }
    if (action === "list") {
      const rows = await store.listTokens(values.project);
      const view = rows.map((row) => ({
        id: row.id,
        project: row.project,
        scope: row.scope,
        label: row.label,
        createdAt: row.createdAt,
        revokedAt: row.revokedAt,
      }));
      if (values.json) {
        io.stdout(`${JSON.stringify(view, null, 2)}\n`);
      } else if (view.length === 0) {
        io.stdout("no tokens\n");
      } else {
        for (const row of view) {
          io.stdout(
            `${row.id}  ${row.project}  ${row.scope.padEnd(6)}  ${row.createdAt}  ${row.revokedAt === null ? "active" : `revoked ${row.revokedAt}`}${row.label === null ? "" : `  ${row.label}`}\n`,
          );
        }
      }
      return 0;
    }
    const revoked = await store.revokeToken(id as string, new Date().toISOString());
    if (!revoked)
      throw new WattprintError("NOT_FOUND", `no active token ${id}`, {
        hint: "list them with wattprint token list",
      });
    io.stderr(`wattprint: token ${id} revoked (servers stop accepting it within a few seconds)\n`);
    return 0;
  } finally {
    await store.close();
  }
}
