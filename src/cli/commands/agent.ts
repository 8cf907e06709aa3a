import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { parseDurationS, parseNumber } from "../parse-values.js";
import { DEFAULT_AGENT_INTERVAL_S, runAgent } from "../../serve/agent.js";
import { formatEnergy } from "../../units/energy.js";
import { WattprintError } from "../../errors.js";

export const AGENT_HELP = `Usage: wattprint agent [--server <url>] [--token <t>] [--interval ${DEFAULT_AGENT_INTERVAL_S}s] [--region <code>]

Measures this whole host continuously (every process, no command) until SIGINT or
SIGTERM, saving to the local run store and, with a server, streaming to it as the host's
agent: the server's wattprint_host_energy_joules_total and wattprint_host_power_watts
come from agents.

Options:
  --server <url>         the server (default WATTPRINT_SERVER; none: local store only)
  --token <t>            an ingest token (default WATTPRINT_TOKEN, kept out of ps)
  --interval <t>         sampling interval (default ${DEFAULT_AGENT_INTERVAL_S}s)
  --upload-interval <t>  time between uploads (default 15s)
  --region <code>        grid region, as for track
  --pue <n>              data-centre PUE
  -h, --help             this help`;

/** For tests: stop with `signal` instead of a process signal. */
export interface AgentCliHooks {
  signal?: AbortSignal;
  onStart?: (runId: string) => void;
}

export async function agentCli(
  argv: string[],
  io: CliIo,
  hooks: AgentCliHooks = {},
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      server: { type: "string" },
      token: { type: "string" },
      interval: { type: "string" },
      "upload-interval": { type: "string" },
      region: { type: "string" },
      pue: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${AGENT_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    throw new WattprintError("USAGE", `unexpected argument "${positionals[0]}"`, {
      hint: "the agent takes no command; see wattprint agent --help",
    });
  }
  const server = values.server ?? nonEmpty(io.env.WATTPRINT_SERVER);
  const token = values.token ?? nonEmpty(io.env.WATTPRINT_TOKEN);
  if (server !== undefined && token === undefined) {
    throw new WattprintError("USAGE", "--server needs a token", {
      hint: "set WATTPRINT_TOKEN to an ingest token, or pass --token",
    });
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  if (hooks.signal !== undefined) hooks.signal.addEventListener("abort", stop, { once: true });
  else {
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  }
  const { run, upload } = await runAgent({
    signal: controller.signal,
    intervalS:
      values.interval === undefined ? undefined : parseDurationS(values.interval, "--interval"),
    region: values.region,
    pue:
      values.pue === undefined
        ? undefined
        : parseNumber(values.pue, "--pue", "PUE is a number such as 1.1"),
    env: io.env,
    server:
      server === undefined || token === undefined
        ? undefined
        : {
            url: server,
            token,
            uploadIntervalS:
              values["upload-interval"] === undefined
                ? undefined
                : parseDurationS(values["upload-interval"], "--upload-interval"),
            onWarning: (message) => io.stderr(`wattprint: server: ${message}\n`),
          },
    onStart: (runId) => {
      io.stderr(
        `wattprint: agent measuring this host as run ${runId.slice(0, 8)}${server === undefined ? "" : `, streaming to ${server}`}\n`,
      );
      hooks.onStart?.(runId);
    },
  });
  io.stderr(
    `wattprint: agent stopped after ${run.durationS.toFixed(0)} s; machine energy ${formatEnergy(run.machineEnergyJ.total)}\n`,
  );
  if (upload !== null && !upload.delivered) {
    io.stderr(
      `wattprint: not everything reached the server (${upload.lastError ?? "no answer"}); send it later: wattprint push ${run.id.slice(0, 8)}\n`,
    );
  }
  return 0;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === "" ? undefined : text.trim();
}
