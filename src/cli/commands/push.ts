import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { parseDurationS, parseNumber } from "../parse-values.js";
import { settingsFromEnvironment } from "../../config/settings.js";
import { RunStore } from "../../store/run-store.js";
import { defaultStorePath } from "../../store/default-path.js";
import { detectJob } from "../../serve/client/job-key.js";
import { pushRun } from "../../serve/client/push.js";
import { METRIC_NAME } from "../../serve/validate.js";
import { WattprintError } from "../../errors.js";

export const PUSH_HELP = `Usage: wattprint push <run> [--server <url>] [--token <t>] [--job <key>] [--nodes <n>] [--metric name=value]...

Uploads a run from the local store (an id or a unique prefix) to a wattprint server: for
clusters without network during jobs, or to fill in what a live upload missed. Pushing
twice stores each sample once.

Options:
  --server <url>     the server (default WATTPRINT_SERVER)
  --token <t>        an ingest token (default WATTPRINT_TOKEN, kept out of ps)
  --job <key>        the job the run belongs to (several nodes, one run); default from
                     the launcher's environment when pushed from inside the job
  --nodes <n>        nodes the job should have
  --metric <n=v>     a metric for the accuracy-versus-energy view (repeatable)
  --timeout <t>      how long to keep retrying (default 60s)
  -h, --help         this help`;

export async function pushCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      server: { type: "string" },
      token: { type: "string" },
      job: { type: "string" },
      nodes: { type: "string" },
      metric: { type: "string", multiple: true },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${PUSH_HELP}\n`);
    return 0;
  }
  const [runId, ...extra] = positionals;
  if (runId === undefined)
    throw new WattprintError("USAGE", "push needs a run id", {
      hint: "list them with wattprint runs",
    });
  if (extra.length > 0)
    throw new WattprintError("USAGE", `unexpected argument "${extra[0]}"`, {
      hint: "push one run at a time",
    });
  const server = values.server ?? io.env.WATTPRINT_SERVER;
  const token = values.token ?? io.env.WATTPRINT_TOKEN;
  if (server === undefined || server.trim() === "") {
    throw new WattprintError("USAGE", "push needs a server", {
      hint: "pass --server http://host:8787 or set WATTPRINT_SERVER",
    });
  }
  if (token === undefined || token.trim() === "") {
    throw new WattprintError("USAGE", "push needs a token", {
      hint: "set WATTPRINT_TOKEN to an ingest token, or pass --token",
    });
  }
  const metrics: Record<string, number> = {};
  for (const text of values.metric ?? []) {
    const [name = "", value = ""] = text.split("=", 2);
    const number = Number(value);
    if (!METRIC_NAME.test(name) || value.trim() === "" || !Number.isFinite(number)) {
      throw new WattprintError("USAGE", `invalid --metric "${text}"`, {
        hint: "give name=value, such as --metric val_accuracy=0.93",
      });
    }
    metrics[name] = number;
  }
  const expectedNodes =
    values.nodes === undefined
      ? undefined
      : parseNumber(values.nodes, "--nodes", "a number of nodes, such as 4");
  const job = detectJob(io.env, { job: values.job, expectedNodes });
  const timeoutMs =
    values.timeout === undefined ? 60_000 : parseDurationS(values.timeout, "--timeout") * 1000;
  const path = defaultStorePath(settingsFromEnvironment(io.env).home);
  if (!existsSync(path))
    throw new WattprintError("NOT_FOUND", `no run store at ${path}`, {
      hint: "track a run first, or set WATTPRINT_HOME",
    });
  const store = RunStore.open(path);
  try {
    let pushed;
    try {
      pushed = await pushRun(store, runId, {
        url: server.trim(),
        token: token.trim(),
        job: job.key,
        expectedNodes: job.expectedNodes,
        metrics: Object.keys(metrics).length === 0 ? null : metrics,
        timeoutMs,
      });
    } catch (error) {
      if (error instanceof TypeError)
        throw new WattprintError("USAGE", error.message, {
          hint: "give the server's base URL, such as http://127.0.0.1:8787",
        });
      throw error;
    }
    io.stderr(
      `wattprint: pushed run ${pushed.runId.slice(0, 8)} (${pushed.samples} samples in ${pushed.result.requests} requests${job.key === null ? "" : `, job ${job.key}`})\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}
