import type { CliIo } from "./io.js";
import { isWattprintError, type ErrorCode } from "../errors.js";
import { wattprintVersion } from "../version.js";

export const MAIN_HELP = `wattprint — measure, estimate, reduce and prove the energy and carbon of AI work

Usage: wattprint <command> [options]

Commands:
  track -- <cmd>   run a command and measure its energy and CO2e (any language)
  runs             list saved runs; runs show <id> shows one
  doctor           what can be measured here, what cannot and why, and the fix
  regions          grid regions and their annual carbon intensity
  intensity        grid intensity now, at a time or over a range (files, providers)
  estimate         training and inference footprints before running (energy, CO2e, embodied)
  report <run>     HTML/Markdown/JSON report, SCI, model card (--update README.md)
  lca              lifecycle: training + inference + embodied, per request, crossover day
  label            energy label of a model: energy per 1,000 queries, 1–5 rating, badge, certificate
  study <name>     measured case studies: efficient transformer, green GAN, sustainable VAE
  optimize         prune, quantize, distil a TF.js model; accuracy against energy, Pareto front
  advise <run>     ranked, quantified recommendations: what to change and what it would save
  schedule         the lowest-carbon time (and region) for a job; schedule backtest
  run --when-green -- <cmd>  wait for cleaner electricity, then run and measure the command

  serve            REST API, dashboard, /metrics and Carbon Aware SDK routes (SQLite or PostgreSQL)
  token            create, list and revoke the server's API tokens
  push <run>       upload a run from the local store to a server
  agent            measure this whole host continuously, streaming to a server

Run \`wattprint <command> --help\` for a command's options.`;

type CommandModule = (argv: string[], io: CliIo) => Promise<number>;

// Lazy, so `track` never loads what other commands need.
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  track: async () => (await import("./commands/track.js")).trackCli,
  runs: async () => (await import("./commands/runs.js")).runsCli,
  doctor: async () => (await import("./commands/doctor.js")).doctorCli,
  regions: async () => (await import("./commands/regions.js")).regionsCli,
  intensity: async () => (await import("./commands/intensity.js")).intensityCli,
  estimate: async () => (await import("./commands/estimate.js")).estimateCli,
  report: async () => (await import("./commands/report.js")).reportCli,
  lca: async () => (await import("./commands/lca.js")).lcaCli,
  schedule: async () => (await import("./commands/schedule.js")).scheduleCli,
  run: async () => (await import("./commands/run.js")).runWhenGreenCli,
  serve: async () => (await import("./commands/serve.js")).serveCli,
  token: async () => (await import("./commands/token.js")).tokenCli,
  push: async () => (await import("./commands/push.js")).pushCli,
  agent: async () => (await import("./commands/agent.js")).agentCli,
  advise: async () => (await import("./commands/advise.js")).adviseCli,
  label: async () => (await import("./commands/label.js")).labelCli,
  optimize: async () => (await import("./commands/optimize.js")).optimizeCli,
  study: async () => (await import("./commands/study.js")).studyCli,
};

const EXIT_CODES: Record<ErrorCode, number> = {
  USAGE: 2,
  UNKNOWN_REGION: 2,
  BAD_INPUT: 2,
  NOT_FOUND: 3,
  OUTPUT_UNWRITABLE: 73,
  STORE: 74,
  COMMAND_NOT_FOUND: 127,
  SENSOR: 1,
  PROVIDER: 69,
};

/** Runs the CLI; returns the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "-h" || name === "--help" || name === "help") {
      io.stdout(`${MAIN_HELP}\n`);
      return name === undefined ? 2 : 0;
    }
    if (name === "-v" || name === "--version" || name === "version") {
      io.stdout(`${wattprintVersion()}\n`);
      return 0;
    }
    const load = COMMANDS[name];
    if (!load) {
      io.stderr(
        `wattprint: unknown command "${name}"\n  hint: commands are ${Object.keys(COMMANDS).join(", ")}; see wattprint --help\n`,
      );
      return 2;
    }
    return await (
      await load()
    )(rest, io);
  } catch (error) {
    if (isWattprintError(error)) {
      io.stderr(`wattprint: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ""}`);
      return EXIT_CODES[error.code];
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      io.stderr(`wattprint: ${(error as Error).message}\n  hint: see wattprint ${name} --help\n`);
      return 2;
    }
    io.stderr(
      `wattprint: internal error: ${(error as Error)?.message ?? String(error)}\n  hint: this is a bug; rerun with WATTPRINT_DEBUG=1 for details and report it\n`,
    );
    if (io.env.WATTPRINT_DEBUG) io.stderr(`${(error as Error)?.stack ?? ""}\n`);
    return 1;
  }
}

/** The process entry: binds the real process to the CLI. */
export async function main(): Promise<void> {
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
  process.exitCode = await runCli(process.argv.slice(2), io);
}
