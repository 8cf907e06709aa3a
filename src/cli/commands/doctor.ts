import { parseArgs } from "node:util";
import type { CliIo } from "../io.js";
import { settingsFromEnvironment } from "../../config/settings.js";
import { readCpuInfo } from "../../hardware/cpu-info.js";
import { discoverSensors } from "../../sensors/discover.js";
import { readMachineFacts } from "../../track/machine-facts.js";
import { defaultStorePath } from "../../store/default-path.js";

export const DOCTOR_HELP = `Usage: wattprint doctor [--json]

Says what wattprint can measure on this machine, what it cannot and why (kernel RAPL
restriction, no NVML, a VM), and the safe fix for each.`;

interface SensorReport {
  sensor: string;
  components: string[];
  available: boolean;
  channels?: { id: string; component: string; method: string; source: string; label: string }[];
  notes?: string[];
  reason?: string;
  fix?: string | null;
}

export async function doctorCli(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    io.stdout(`${DOCTOR_HELP}\n`);
    return 0;
  }
  const settings = settingsFromEnvironment(io.env);
  const cpu = readCpuInfo(settings.procRoot);
  const facts = readMachineFacts(settings.procRoot);
  const { plan, probes } = await discoverSensors({
    powercapRoot: settings.powercapRoot,
    hwmonRoot: settings.hwmonRoot,
    nvml: settings.nvml,
    cudaVisibleDevices: settings.cudaVisibleDevices,
    cudaDeviceOrder: settings.cudaDeviceOrder,
    cpuModel: cpu.modelName,
    logicalCpus: cpu.logicalCpus,
    sockets: cpu.sockets,
    virtualized: cpu.virtualized,
  });
  for (const { sensor } of probes) await sensor.close?.();
  const sensors: SensorReport[] = probes.map(({ sensor, availability }) => ({
    sensor: sensor.name,
    components: [...sensor.components],
    available: availability.available,
    ...(availability.available
      ? {
          channels: availability.channels.map((c) => ({
            id: c.id,
            component: c.component,
            method: c.method,
            source: c.source,
            label: c.label,
          })),
          notes: availability.notes,
        }
      : { reason: availability.reason, fix: availability.fix ?? null }),
  }));
  const chosen = plan.sensors
    .flatMap((s) => s.channels)
    .map((c) => `${c.component}: ${c.method} ${c.source}`);
  for (const [component, fallback] of Object.entries(plan.fallbacks)) {
    if (fallback && !plan.sensors.some((s) => s.channels.some((c) => c.component === component))) {
      chosen.push(`${component}: model ${fallback.channel.source}`);
    }
  }
  const report = {
    machine: { cpuModel: cpu.modelName, logicalCpus: cpu.logicalCpus, ...facts },
    sensors,
    track: { uses: chosen, unmeasured: plan.unmeasured, warnings: plan.warnings },
    store: defaultStorePath(settings.home),
  };
  if (values.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const out: string[] = [];
  out.push(
    `machine: ${cpu.modelName}, ${cpu.logicalCpus} logical CPUs${facts.virtualMachine ? `, virtual machine (${facts.hypervisorHint})` : ""}${facts.kernel ? `, kernel ${facts.kernel}` : ""}${facts.runningAsRoot ? ", running as root" : ""}`,
  );
  out.push("");
  for (const s of sensors) {
    const mark = s.available ? "ok  " : "no  ";
    out.push(`${mark}${s.sensor.padEnd(12)} ${s.components.join(",")}`);
    if (s.available) {
      for (const c of s.channels ?? [])
        out.push(`      ${c.component}: ${c.method} ${c.source} (${c.label})`);
      for (const n of s.notes ?? []) out.push(`      note: ${n}`);
    } else {
      out.push(`      why: ${s.reason}`);
      if (s.fix) for (const line of s.fix.split("\n")) out.push(`      fix: ${line}`);
    }
  }
  if (facts.virtualMachine) {
    out.push("");
    out.push(
      "This is a virtual machine: hosts rarely pass RAPL or power sensors through, so CPU energy is modelled; on bare metal or a cloud instance type with RAPL exposed it is measured.",
    );
  }
  out.push("");
  out.push("wattprint track will use:");
  for (const line of chosen) out.push(`  ${line}`);
  for (const m of plan.unmeasured) out.push(`  ${m.component}: not measured — ${m.reason}`);
  for (const w of plan.warnings) out.push(`  warning: ${w}`);
  out.push(`run store: ${report.store}`);
  io.stdout(`${out.join("\n")}\n`);
  return 0;
}
