import type { EnergyBreakdownJ, RunRecord } from "../record/run-record.js";
import { formatCo2e, formatDuration, formatEnergy, trimNumber } from "../units/energy.js";

function parts(energy: EnergyBreakdownJ): string {
  const one = (name: string, value: number | null) =>
    `${name} ${value === null ? "—" : formatEnergy(value)}`;
  return [one("cpu", energy.cpu), one("gpu", energy.gpu), one("ram", energy.ram)].join(" · ");
}

function percent(share: number | null): string {
  return share === null ? "unknown" : `${trimNumber(share * 100)}%`;
}

/** The summary printed to stderr when a tracked run ends. */
export function renderRunSummary(run: RunRecord): string {
  const lines: string[] = [];
  const exit =
    run.signal !== null
      ? `killed by ${run.signal}`
      : run.exitCode === null
        ? ""
        : `exit ${run.exitCode}`;
  lines.push(
    `wattprint: ${run.command.join(" ")} — ${run.status} in ${formatDuration(run.durationS)}${exit ? ` (${exit})` : ""}`,
  );
  const label = (name: string) => `  ${name.padEnd(14)}`;
  lines.push(`${label("energy")}${formatEnergy(run.energyJ.total)}   (${parts(run.energyJ)})`);
  const split = run.cpuSplitJ;
  const machineExtra = split
    ? `; CPU idle ${formatEnergy(split.idleJ)}, other processes ${formatEnergy(split.otherProcessesJ)}`
    : "";
  lines.push(
    `${label("machine")}${formatEnergy(run.machineEnergyJ.total)}   (this run: ${percent(run.shareOfMachine)}${machineExtra})`,
  );
  const series = run.intensitySource.series;
  const intensityFrom = series
    ? `${series.signal} series ${series.source}${series.coveredEnergyShare !== null && series.coveredEnergyShare < 0.999 ? `, ${trimNumber(series.coveredEnergyShare * 100)}% covered, rest ${run.intensitySource.source}` : ""}`
    : run.intensitySource.source;
  lines.push(
    `${label("CO2e")}${formatCo2e(run.co2eG)}   (${run.region}: ${trimNumber(run.intensityGPerKWh)} gCO2e/kWh, ${intensityFrom}; PUE ${trimNumber(run.pue)})`,
  );
  for (const source of run.sources) {
    lines.push(
      `${label(source.component === "cpu" ? "sources" : "")}${source.component}: ${source.method} ${source.source}`,
    );
  }
  for (const missing of run.unmeasured) {
    lines.push(`${label("")}${missing.component}: not measured — ${missing.reason}`);
  }
  if (run.phases.length > 0) {
    lines.push(
      `${label("phases")}${run.phases.map((p) => `${p.name} ${formatEnergy(p.energyJ.total)}`).join(" · ")}`,
    );
  }
  if (run.warnings.length > 0) {
    lines.push(`  warnings:`);
    for (const warning of run.warnings) lines.push(`    - ${warning}`);
  }
  return lines.join("\n");
}
