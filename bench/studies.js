// Runs the three case studies (efficient transformer, green GAN, sustainable VAE) at their
// default settings, as `wattprint study <name>` does, and prints each comparison table, its
// finding and its wall time against the 10-minute budget, then the tables again as
// Markdown for docs/case-studies.md. Energy is the tracker's (on a machine without RAPL, the
// CPU and RAM power models applied to this process's CPU time). Results, reports and
// charts go to --out (default: a temporary directory).
// Needs a build (npm run build). Usage:
//   node bench/studies.js [--studies transformer,gan,vae] [--seed 1] [--out dir] [--json]
import { mkdtempSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { renderStudyMarkdownTable, renderStudyText, runStudy } from "../dist/study/index.js";

const BUDGET_S = 600;
const { values } = parseArgs({
  options: {
    studies: { type: "string", default: "transformer,gan,vae" },
    seed: { type: "string", default: "1" },
    out: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const studies = values.studies.split(",").map((name) => name.trim());
const seed = Number(values.seed);
const outRoot =
  values.out === undefined
    ? mkdtempSync(join(tmpdir(), "wattprint-studies-"))
    : resolve(values.out);

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  logicalCpus: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverage1m: loadavg()[0],
};
const results = [];
for (const name of studies) {
  const started = performance.now();
  const result = await runStudy(name, {
    seed,
    outDir: join(outRoot, name),
    command: `wattprint study ${name} --seed ${seed}`,
  });
  const wallS = (performance.now() - started) / 1000;
  results.push({ result, wallS });
  if (!values.json) {
    process.stdout.write(renderStudyText(result));
    process.stdout.write(
      `wall time ${wallS.toFixed(1)} s (budget ${BUDGET_S} s: ${wallS <= BUDGET_S ? "within" : "OVER"})\n\n`,
    );
  }
}
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ machine, seed, results: results.map(({ result, wallS }) => ({ wallS, result })) }, null, 2)}\n`,
  );
} else {
  process.stdout.write(
    `machine: ${machine.cpu}, ${machine.logicalCpus} logical CPUs, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverage1m.toFixed(2)} at start\n`,
  );
  process.stdout.write(`files: ${outRoot}\n\n`);
  for (const { result, wallS } of results) {
    process.stdout.write(
      `### ${result.study} (${wallS.toFixed(0)} s)\n\n${renderStudyMarkdownTable(result)}\n${result.finding.text}\n\n`,
    );
  }
}
