import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { renderRunSummary } from "../render-run.js";
import { RunStore } from "../../store/run-store.js";
import { defaultStorePath } from "../../store/default-path.js";
import { settingsFromEnvironment } from "../../config/settings.js";
import { formatCo2e, formatDuration, formatEnergy } from "../../units/energy.js";
import { WattprintError } from "../../errors.js";
import { existsSync } from "node:fs";

export const RUNS_HELP = `Usage: wattprint runs [--limit N] [--json]
       wattprint runs show <id> [--json]

Lists the runs saved in the run store ($WATTPRINT_HOME, default ~/.wattprint), newest
first, or shows one run (a unique prefix of its id is enough).`;

export async function runsCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      limit: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${RUNS_HELP}\n`);
    return 0;
  }
  const path = defaultStorePath(settingsFromEnvironment(io.env).home);
  const [action, id, ...extra] = positionals;
  if (action !== undefined && action !== "show" && action !== "list") {
    throw new WattprintError("USAGE", `unknown runs action "${action}"`, {
      hint: "use `wattprint runs` to list or `wattprint runs show <id>`",
    });
  }
  if (extra.length > 0)
    throw new WattprintError("USAGE", `unexpected argument "${extra[0]}"`, {
      hint: RUNS_HELP.split("\n")[1]?.trim(),
    });
  if (!existsSync(path)) {
    if (action === "show") {
      throw new WattprintError("NOT_FOUND", `no run store at ${path}`, {
        hint: "track a run first: wattprint track -- <command>",
      });
    }
    io.stdout(values.json ? "[]\n" : `no runs yet (store: ${path})\n`);
    return 0;
  }
  const store = RunStore.open(path);
  try {
    if (action === "show") {
      if (id === undefined) {
        throw new WattprintError("USAGE", "runs show needs a run id", {
          hint: "list ids with `wattprint runs`",
        });
      }
      const run = store.getRun(id);
      io.stdout(
        values.json
          ? `${JSON.stringify(run, null, 2)}\n`
          : `id ${run.id}\n${renderRunSummary(run)}\n`,
      );
      return 0;
    }
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      throw new WattprintError("USAGE", `invalid --limit "${values.limit}"`, {
        hint: "give a whole number such as 20",
      });
    }
    const runs = store.listRuns({ limit });
    if (values.json) {
      io.stdout(`${JSON.stringify(runs, null, 2)}\n`);
      return 0;
    }
    if (runs.length === 0) {
      io.stdout(`no runs yet (store: ${path})\n`);
      return 0;
    }
    io.stdout(
      `${"id".padEnd(10)}${"started".padEnd(22)}${"status".padEnd(13)}${"duration".padEnd(16)}${"energy".padEnd(12)}${"CO2e".padEnd(16)}command\n`,
    );
    for (const run of runs) {
      io.stdout(
        `${run.id.slice(0, 8).padEnd(10)}${run.startedAt.slice(0, 19).replace("T", " ").padEnd(22)}${run.status.padEnd(13)}${formatDuration(run.durationS).padEnd(16)}${formatEnergy(run.energyJ).padEnd(12)}${formatCo2e(run.co2eG).padEnd(16)}${run.command.join(" ")}\n`,
      );
    }
    return 0;
  } finally {
    store.close();
  }
}
