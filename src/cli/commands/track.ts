import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { splitCommand } from "../split-argv.js";
import { parseDurationS, parseNumber } from "../parse-values.js";
import { renderRunSummary } from "../render-run.js";
import { trackCommand } from "../../api/track.js";
import { assertWritable, writeFileAtomic } from "../../report/write-file.js";
import { appendCodeCarbonCsv } from "../../report/codecarbon-csv.js";
import { WattprintError } from "../../errors.js";
import { formatPower } from "../../units/energy.js";
import { loadIntensityFile } from "../../grid/series-files.js";
import { providerSettingsFromEnvironment } from "../../config/settings.js";
import type { ServerStreamOptions } from "../../api/options.js";

export const TRACK_HELP = `Usage: wattprint track [options] -- <command> [args...]

Runs the command, measures the energy of its whole process tree (CPU, GPU, RAM) from
hardware counters where readable, labelled models otherwise, and prints a summary to
stderr when it ends. The command's output and exit code pass through untouched.

Options:
  --region <code>      grid region: ISO country (FR), subdivision (US-CA) or cloud
                       region (aws:us-east-1, gcp:europe-west1, azure:westeurope)
  --pue <n>            data-centre PUE (default: the cloud region's, else 1.0)
  --intensity-file <f> hourly intensity series (CSV timestamp,intensity; Carbon Aware
                       SDK JSON; EIA/dc-rl CSV) used interval by interval
  --intensity-timezone <tz>  IANA zone for timestamps in the file without an offset
  --intensity-source <p>  ask a live provider for the run's hourly intensity when it
                       ends (electricitymaps, watttime, uk-carbon-intensity,
                       carbon-aware-sdk; see wattprint intensity --help for keys)
  --intensity-zone <id>  the provider's zone id when it differs from the region's
  --interval <t>       sampling interval (default 1s; e.g. 500ms, 2s)
  --out <file>         write the run record as JSON
  --csv <file>         append a row in CodeCarbon's emissions.csv format
  --project-name <n>   project_name for --csv (default "wattprint")
  --no-store           do not save the run in the run store
  --server <url>       also stream the run to a wattprint server (or WATTPRINT_SERVER);
                       samples are spooled in the local store and retried
  --token <t>          the server's ingest token (better: WATTPRINT_TOKEN, kept out of ps)
  --job <key>          join trackers of one job on many nodes into one run (default:
                       SLURM_JOB_ID, TORCHELASTIC_RUN_ID, Open MPI, Kubernetes indexed Job)
  --nodes <n>          nodes the job should have (default: from the launcher)
  --upload-interval <t>  time between uploads to the server (default 15s)
  --upload-timeout <t>   how long the end waits for the last upload (default 30s);
                       what is left stays in the local store for wattprint push
  --live               print power every sample to stderr
  --quiet              no summary
  -h, --help           this help

Phases: the command can append JSON lines such as {"phase":"epoch 3","event":"start"}
to the file named by $WATTPRINT_MARKS.`;

const VALUE_OPTIONS = new Set([
  "region",
  "pue",
  "interval",
  "out",
  "csv",
  "project-name",
  "intensity-file",
  "intensity-timezone",
  "intensity-source",
  "intensity-zone",
  "server",
  "token",
  "job",
  "nodes",
  "upload-interval",
  "upload-timeout",
]);

export async function trackCli(argv: string[], io: CliIo): Promise<number> {
  const { options: optionArgs, command } = splitCommand(argv, VALUE_OPTIONS);
  const { values } = parseArgs({
    args: optionArgs,
    strict: true,
    allowPositionals: false,
    options: {
      region: { type: "string" },
      pue: { type: "string" },
      "intensity-file": { type: "string" },
      "intensity-timezone": { type: "string" },
      "intensity-source": { type: "string" },
      "intensity-zone": { type: "string" },
      interval: { type: "string" },
      out: { type: "string" },
      csv: { type: "string" },
      "project-name": { type: "string" },
      "no-store": { type: "boolean" },
      server: { type: "string" },
      token: { type: "string" },
      job: { type: "string" },
      nodes: { type: "string" },
      "upload-interval": { type: "string" },
      "upload-timeout": { type: "string" },
      live: { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(`${TRACK_HELP}\n`);
    return 0;
  }
  if (command.length === 0) {
    throw new WattprintError("USAGE", "no command to track", {
      hint: "put the command after --, for example: wattprint track -- python train.py",
    });
  }
  const intervalS =
    values.interval === undefined ? undefined : parseDurationS(values.interval, "--interval");
  const pue =
    values.pue === undefined
      ? undefined
      : parseNumber(
          values.pue,
          "--pue",
          "PUE is a number such as 1.1 (facility energy / IT energy)",
        );
  const intensitySeries =
    values["intensity-file"] === undefined
      ? undefined
      : loadIntensityFile(values["intensity-file"], { timezone: values["intensity-timezone"] });
  const server = serverOptions(values, io);
  if (values.out !== undefined) assertWritable(values.out, "--out");
  if (values.csv !== undefined) assertWritable(values.csv, "--csv");

  const { run, exitCode, upload } = await trackCommand(command, {
    server,
    region: values.region,
    pue,
    intensitySeries,
    intensityProvider:
      values["intensity-source"] === undefined
        ? undefined
        : {
            name: values["intensity-source"],
            options: providerSettingsFromEnvironment(values["intensity-source"], io.env),
            zone: values["intensity-zone"],
          },
    intervalS,
    store: !values["no-store"],
    env: io.env,
    forwardSigint: !io.stdinIsTTY,
    onSample: values.live
      ? (sample) =>
          io.stderr(
            `wattprint: ${sample.elapsedS.toFixed(1)} s  cpu ${formatPower(sample.attributedPowerW.cpu)}  gpu ${formatPower(sample.attributedPowerW.gpu)}  ram ${formatPower(sample.attributedPowerW.ram)}  (machine cpu ${formatPower(sample.machinePowerW.cpu)})\n`,
          )
      : undefined,
  });
  if (upload !== null && !upload.delivered) {
    io.stderr(
      `wattprint: the run did not fully reach the server (${upload.lastError ?? "no answer"}); it is in the local store: wattprint push ${run.id.slice(0, 8)}\n`,
    );
  }
  if (values.out !== undefined) writeFileAtomic(values.out, `${JSON.stringify(run, null, 2)}\n`);
  if (values.csv !== undefined) {
    appendCodeCarbonCsv(values.csv, run, { projectName: values["project-name"] });
  }
  if (!values.quiet) {
    io.stderr(`${renderRunSummary(run)}\n`);
    if (!values["no-store"])
      io.stderr(
        `  saved as run ${run.id.slice(0, 8)} (wattprint runs show ${run.id.slice(0, 8)})\n`,
      );
  }
  return exitCode;
}

/** The --server options (flags first, then WATTPRINT_SERVER / WATTPRINT_TOKEN); undefined without a server. */
function serverOptions(
  values: {
    server?: string;
    token?: string;
    job?: string;
    nodes?: string;
    "upload-interval"?: string;
    "upload-timeout"?: string;
  },
  io: CliIo,
): ServerStreamOptions | undefined {
  const url = values.server ?? nonEmpty(io.env.WATTPRINT_SERVER);
  if (url === undefined) {
    if (
      values.token !== undefined ||
      values.job !== undefined ||
      values.nodes !== undefined ||
      values["upload-interval"] !== undefined ||
      values["upload-timeout"] !== undefined
    ) {
      throw new WattprintError("USAGE", "--token, --job, --nodes and --upload-* need --server", {
        hint: "add --server http://host:8787 (or set WATTPRINT_SERVER)",
      });
    }
    return undefined;
  }
  const token = values.token ?? nonEmpty(io.env.WATTPRINT_TOKEN);
  if (token === undefined) {
    throw new WattprintError("USAGE", "--server needs a token", {
      hint: "set WATTPRINT_TOKEN to an ingest token (wattprint token create --scope ingest), or pass --token",
    });
  }
  const expectedNodes =
    values.nodes === undefined
      ? undefined
      : parseNumber(values.nodes, "--nodes", "the number of nodes of the job, such as 4");
  return {
    url,
    token,
    job: values.job,
    expectedNodes,
    uploadIntervalS:
      values["upload-interval"] === undefined
        ? undefined
        : parseDurationS(values["upload-interval"], "--upload-interval"),
    flushTimeoutS:
      values["upload-timeout"] === undefined
        ? undefined
        : parseDurationS(values["upload-timeout"], "--upload-timeout"),
    onWarning: (message) => io.stderr(`wattprint: server: ${message}\n`),
  };
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === "" ? undefined : text.trim();
}
