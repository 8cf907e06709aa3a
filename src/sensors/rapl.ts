/**
 * RAPL energy counters read through the Linux powercap tree (`/sys/class/powercap`).
 *
 * The kernel exposes one zone per RAPL domain: `intel-rapl:N` (MSR interface, also used
 * for AMD CPUs), sub-zones `intel-rapl:N:M`, and `intel-rapl-mmio:N` (the MMIO interface
 * of Intel client CPUs, which usually repeats the MSR package counter). Each zone holds
 * `name`, `energy_uj` (cumulative µJ), `max_energy_range_uj` (where the counter wraps) and
 * `enabled` (whether power *limiting* is on; the counter counts either way).
 * See docs/sensors/rapl.md.
 */
import { join } from "node:path";

import { UJ_PER_J } from "../units/energy.js";
import type { Availability, ChannelInfo, ChannelReading, Sensor } from "./sensor.js";
import {
  isDirectory,
  isPermissionDenied,
  listDirectory,
  readSysfsInteger,
  readSysfsText,
} from "./sysfs.js";

/** Where the kernel publishes powercap zones. The CLI passes `WATTPRINT_POWERCAP_ROOT` instead when set. */
export const DEFAULT_POWERCAP_ROOT = "/sys/class/powercap";

/**
 * Which RAPL domains to count:
 * - `package+dram` (default): CPU = sum of package zones, RAM = sum of dram zones.
 * - `psys`: the platform zone alone, as the CPU channel (it already covers memory).
 */
export type RaplDomainChoice = "package+dram" | "psys";

export interface RaplSensorOptions {
  /** Powercap root. Default {@link DEFAULT_POWERCAP_ROOT}. */
  root?: string;
  /** Default "package+dram". */
  domains?: RaplDomainChoice;
}

/** The RAPL domain a zone measures, from its `name` file. */
export type RaplDomainKind = "package" | "core" | "uncore" | "dram" | "psys" | "unknown";

/** One powercap zone as found on disk. */
export interface RaplZone {
  /** Kernel zone id, the directory name: "intel-rapl:0", "intel-rapl:0:2", "intel-rapl-mmio:0". */
  id: string;
  /** Control type: "intel-rapl" (MSR) or "intel-rapl-mmio". */
  provider: string;
  /** Id of the enclosing zone; null for a top-level zone. */
  parentId: string | null;
  /** Content of `name`: "package-0", "core", "uncore", "dram", "psys"; null when unreadable. */
  name: string | null;
  kind: RaplDomainKind;
  /** Directory of the zone. */
  path: string;
  /** Content of `enabled` (power limiting on/off); null when absent. */
  powerLimitEnabled: boolean | null;
  /** Counter range from `max_energy_range_uj`, joules; null when absent or unreadable. */
  wrapJ: number | null;
}

/** The powercap group used by {@link RAPL_UDEV_RULE}. */
export const RAPL_GROUP = "powercap";

/** Path of the udev rule file suggested by {@link RAPL_PERMISSION_FIX}. */
export const RAPL_UDEV_RULE_PATH = "/etc/udev/rules.d/70-wattprint-powercap.rules";

/**
 * A udev rule that makes every RAPL `energy_uj` readable by the `powercap` group each
 * time a powercap zone appears (at boot and on module load). udev's GROUP/MODE apply to
 * /dev nodes only, not to sysfs attributes, hence the RUN commands.
 */
export const RAPL_UDEV_RULE =
  `SUBSYSTEM=="powercap", ACTION=="add", TEST=="energy_uj", ` +
  `RUN+="/bin/chgrp ${RAPL_GROUP} /sys%p/energy_uj", RUN+="/bin/chmod g+r /sys%p/energy_uj"`;

/**
 * The safe fix for "permission denied" on `energy_uj`: give read access to a dedicated
 * group instead of making the counters world-readable (`chmod 666`/`o+r` would reopen the
 * CVE-2020-8694 side channel to every local user). Shown by `wattprint doctor`.
 */
export const RAPL_PERMISSION_FIX = [
  `Let a dedicated group read the RAPL counters (only add users you trust: the counters can leak information about other processes, CVE-2020-8694):`,
  `  getent group ${RAPL_GROUP} >/dev/null || sudo groupadd --system ${RAPL_GROUP}`,
  `  sudo usermod -aG ${RAPL_GROUP} "$USER"`,
  `  echo '${RAPL_UDEV_RULE}' | sudo tee ${RAPL_UDEV_RULE_PATH}`,
  `  sudo udevadm control --reload-rules`,
  `  sudo udevadm trigger --subsystem-match=powercap --action=add`,
  `Then log out and back in (or run \`newgrp ${RAPL_GROUP}\`) so the new group applies.`,
].join("\n");

const PROVIDER_PATTERN = /^intel-rapl(?:-[a-z0-9]+)?$/;
const ZONE_ID_PATTERN = /^(intel-rapl(?:-[a-z0-9]+)?)((?::[0-9a-f]+)+)$/;
const MSR_PROVIDER = "intel-rapl";

/** Classifies a zone by its `name` file ("package-0", "package-0-die-1", "core", "dram", ...). */
export function classifyRaplDomain(name: string | null): RaplDomainKind {
  if (name === null) return "unknown";
  if (/^package(?:-|$)/.test(name)) return "package";
  if (name === "core" || name === "uncore" || name === "dram" || name === "psys") return name;
  return "unknown";
}

/** The hex indices of a zone id: "intel-rapl:0:a" → [0, 10]. */
function zoneIndices(id: string): number[] {
  const match = ZONE_ID_PATTERN.exec(id);
  if (match === null) return [];
  return (match[2] ?? "")
    .slice(1)
    .split(":")
    .map((part) => Number.parseInt(part, 16));
}

function providerRank(provider: string): number {
  return provider === MSR_PROVIDER ? 0 : 1;
}

function compareZones(a: RaplZone, b: RaplZone): number {
  const rank = providerRank(a.provider) - providerRank(b.provider);
  if (rank !== 0) return rank;
  if (a.provider !== b.provider) return a.provider < b.provider ? -1 : 1;
  const ia = zoneIndices(a.id);
  const ib = zoneIndices(b.id);
  for (let i = 0; i < Math.max(ia.length, ib.length); i++) {
    const diff = (ia[i] ?? -1) - (ib[i] ?? -1);
    if (diff !== 0) return diff;
  }
  return 0;
}

function readZone(id: string, path: string): RaplZone {
  const match = ZONE_ID_PATTERN.exec(id);
  const provider = match?.[1] ?? id;
  const lastColon = id.lastIndexOf(":");
  const parentId = id.indexOf(":") === lastColon ? null : id.slice(0, lastColon);
  const nameRead = readSysfsText(join(path, "name"));
  const name = nameRead.ok ? nameRead.text : null;
  const enabledRead = readSysfsText(join(path, "enabled"));
  const range = readSysfsInteger(join(path, "max_energy_range_uj"));
  return {
    id,
    provider,
    parentId,
    name,
    kind: classifyRaplDomain(name),
    path,
    powerLimitEnabled: enabledRead.ok ? enabledRead.text !== "0" : null,
    wrapJ: range.ok && range.value > 0 ? range.value / UJ_PER_J : null,
  };
}

/**
 * Finds every RAPL zone under `root`, each once: top-level zone entries, sub-zone
 * directories nested in their parent, the same sub-zones as top-level symlinks, and zones
 * inside control-type directories (`intel-rapl/`) all map to one zone per kernel id.
 * Returns null when `root` is not a directory.
 */
export function discoverRaplZones(root: string = DEFAULT_POWERCAP_ROOT): RaplZone[] | null {
  const entries = listDirectory(root);
  if (entries === null) return null;
  const zones = new Map<string, RaplZone>();

  const visit = (id: string, path: string): void => {
    if (zones.has(id) || !isDirectory(path)) return;
    zones.set(id, readZone(id, path));
    for (const child of listDirectory(path) ?? []) {
      if (child.startsWith(`${id}:`) && ZONE_ID_PATTERN.test(child))
        visit(child, join(path, child));
    }
  };

  // Zone entries first, so a zone's path is its class entry when it has one.
  for (const entry of entries) {
    if (ZONE_ID_PATTERN.test(entry)) visit(entry, join(root, entry));
  }
  for (const entry of entries) {
    if (!PROVIDER_PATTERN.test(entry)) continue;
    const path = join(root, entry);
    for (const child of listDirectory(path) ?? []) {
      if (child.startsWith(`${entry}:`) && ZONE_ID_PATTERN.test(child)) {
        visit(child, join(path, child));
      }
    }
  }
  return [...zones.values()].sort(compareZones);
}

/** A zone chosen to be read, with what the tracker should be told about it. */
interface SelectedZone {
  zone: RaplZone;
  info: ChannelInfo;
}

type Selection =
  { ok: true; selected: SelectedZone[]; notes: string[] } | { ok: false; reason: string };

function describeZone(zone: RaplZone): string {
  return zone.name === null ? zone.id : `${zone.name} (${zone.id})`;
}

function packageSuffix(packageName: string): string {
  return packageName.replace(/^package-?/, "");
}

function channelFor(
  zone: RaplZone,
  byId: Map<string, RaplZone>,
  extraNotes: string[],
): ChannelInfo {
  const notes = [...extraNotes];
  if (zone.provider !== MSR_PROVIDER) {
    notes.push(`read through the ${zone.provider} interface (no MSR zone for this domain)`);
  }
  if (zone.powerLimitEnabled === false) {
    notes.push(
      "power limiting is off for this zone (enabled = 0); its energy counter still counts",
    );
  }
  if (zone.wrapJ === null) {
    notes.push("max_energy_range_uj unreadable: a counter decrease is treated as a reset");
  }
  const base = { id: `rapl:${zone.id}`, method: "counter" as const };
  if (zone.kind === "dram") {
    const parent = zone.parentId === null ? undefined : byId.get(zone.parentId);
    const suffix =
      parent?.kind === "package" && parent.name !== null ? packageSuffix(parent.name) : "";
    const label = suffix === "" ? "dram" : `dram-${suffix}`;
    return { ...base, component: "ram", source: `rapl:${label}`, label, notes };
  }
  if (zone.kind === "psys") {
    notes.push(
      "psys covers the whole SoC platform as the firmware defines it (package and memory, " +
        "often more); no separate ram channel is reported",
    );
    return { ...base, component: "cpu", source: "rapl:psys", label: "psys", notes };
  }
  const name = zone.name ?? zone.id;
  const label = zone.provider === MSR_PROVIDER ? name : `${name} (${zone.provider})`;
  return { ...base, component: "cpu", source: `rapl:${name}`, label, notes };
}

/**
 * Chooses the zones to count so that no energy is counted twice: core and uncore lie
 * inside their package, a package repeated by a second interface (MMIO) is the same
 * package, and psys overlaps package and dram.
 */
export function selectRaplZones(zones: RaplZone[], domains: RaplDomainChoice): Selection {
  const notes: string[] = [];
  const byId = new Map(zones.map((zone) => [zone.id, zone]));

  // A top-level zone whose name a better-ranked interface already has is the same domain.
  const kept: RaplZone[] = [];
  const duplicateRoots = new Set<string>();
  const topLevelByName = new Map<string, RaplZone>();
  for (const zone of zones) {
    const rootId = zone.id.split(":").slice(0, 2).join(":");
    if (duplicateRoots.has(rootId)) continue;
    if (zone.parentId === null && zone.name !== null) {
      const earlier = topLevelByName.get(zone.name);
      if (earlier !== undefined && earlier.provider !== zone.provider) {
        duplicateRoots.add(zone.id);
        notes.push(
          `${describeZone(zone)} repeats ${describeZone(earlier)} through ${zone.provider}; ` +
            `read once, from ${earlier.provider}`,
        );
        continue;
      }
      if (earlier === undefined) topLevelByName.set(zone.name, zone);
    }
    kept.push(zone);
  }

  const packages = kept.filter((zone) => zone.kind === "package" && zone.parentId === null);
  const drams = kept.filter((zone) => zone.kind === "dram");
  const psys = kept.filter((zone) => zone.kind === "psys");

  for (const zone of kept) {
    if (zone.kind === "core" || zone.kind === "uncore") {
      const parent = zone.parentId === null ? undefined : byId.get(zone.parentId);
      const inside = parent === undefined ? "its package" : describeZone(parent);
      notes.push(`${describeZone(zone)} lies inside ${inside}; not counted separately`);
    } else if (zone.kind === "unknown") {
      notes.push(`${describeZone(zone)} is not a known RAPL domain; ignored`);
    }
  }

  const select = (chosen: RaplZone[], extra: (zone: RaplZone) => string[] = () => []) =>
    chosen.map((zone) => ({ zone, info: channelFor(zone, byId, extra(zone)) }));

  if (domains === "psys") {
    if (psys.length === 0) {
      return {
        ok: false,
        reason:
          "RAPL psys (platform) domain was asked for but the powercap tree has no psys zone " +
          "(psys exists only on some Intel client platforms whose firmware enables it)",
      };
    }
    for (const zone of [...packages, ...drams]) {
      notes.push(`${describeZone(zone)} not counted: psys already covers it`);
    }
    return { ok: true, selected: select(psys), notes };
  }

  if (packages.length === 0) {
    if (psys.length > 0) {
      notes.push(
        "no RAPL package zone; using the psys (platform) zone instead, which covers more " +
          "than the CPU (memory and other platform parts)",
      );
      return { ok: true, selected: select(psys), notes };
    }
    if (drams.length === 0) {
      return {
        ok: false,
        reason: "the powercap tree has no RAPL package, dram or psys zone",
      };
    }
    notes.push("no RAPL package zone: CPU energy is not measured by RAPL here");
  }
  if (drams.length === 0) {
    notes.push(
      "no RAPL dram zone (usual on desktops, laptops and AMD CPUs): RAM energy is not " +
        "measured by RAPL here",
    );
  }
  for (const zone of psys) {
    notes.push(
      `${describeZone(zone)} not counted: it overlaps package and dram (use domains "psys" to count it instead)`,
    );
  }
  return { ok: true, selected: select([...packages, ...drams]), notes };
}

function energyPath(zone: RaplZone): string {
  return join(zone.path, "energy_uj");
}

/**
 * Creates the RAPL sensor (name "rapl", components cpu and ram). `probe()` discovers and
 * classifies zones and checks that each chosen `energy_uj` can be read; `read()` reports
 * the raw cumulative counters in joules with their wrap range. Before `probe()` has found
 * channels, `read()` returns no readings.
 */
export function createRaplSensor(options: RaplSensorOptions = {}): Sensor {
  const root = options.root ?? DEFAULT_POWERCAP_ROOT;
  const domains = options.domains ?? "package+dram";
  let chosen: SelectedZone[] = [];

  const probe = async (): Promise<Availability> => {
    chosen = [];
    const zones = discoverRaplZones(root);
    if (zones === null) {
      return {
        available: false,
        reason:
          `no powercap tree at ${root} (no RAPL: not an Intel/AMD CPU, a VM without RAPL ` +
          `passthrough, or the intel_rapl_common module not loaded)`,
        fix: "on bare-metal Intel or AMD Linux machines: sudo modprobe intel_rapl_msr",
      };
    }
    if (zones.length === 0) {
      return {
        available: false,
        reason: `no RAPL zone under ${root} (the intel_rapl_msr module may not be loaded, or this CPU or VM has no RAPL)`,
        fix: "on bare-metal Intel or AMD Linux machines: sudo modprobe intel_rapl_msr",
      };
    }
    const selection = selectRaplZones(zones, domains);
    if (!selection.ok) return { available: false, reason: selection.reason };

    const notes = [...selection.notes];
    const readable: SelectedZone[] = [];
    const failures: string[] = [];
    for (const candidate of selection.selected) {
      const path = energyPath(candidate.zone);
      const counter = readSysfsInteger(path);
      if (counter.ok) {
        readable.push(candidate);
      } else if (isPermissionDenied(counter.code)) {
        return {
          available: false,
          reason:
            `permission denied reading ${path} (kernel restricts RAPL energy counters to ` +
            `root since CVE-2020-8694)`,
          fix: RAPL_PERMISSION_FIX,
        };
      } else {
        failures.push(counter.message);
        notes.push(`${describeZone(candidate.zone)} skipped: ${counter.message}`);
      }
    }
    if (readable.length === 0) {
      return {
        available: false,
        reason: `no RAPL energy counter could be read: ${failures.join("; ")}`,
      };
    }
    chosen = readable;
    return { available: true, channels: readable.map((zone) => zone.info), notes };
  };

  const read = async (): Promise<ChannelReading[]> =>
    chosen.map(({ zone, info }): ChannelReading => {
      const path = energyPath(zone);
      const counter = readSysfsInteger(path);
      if (counter.ok) {
        return {
          channelId: info.id,
          value: { kind: "energy", energyJ: counter.value / UJ_PER_J, wrapJ: zone.wrapJ },
        };
      }
      const error =
        counter.code === "ENOENT"
          ? `zone ${zone.id} vanished: ${counter.message}`
          : counter.message;
      return { channelId: info.id, value: null, error };
    });

  return { name: "rapl", components: ["cpu", "ram"], probe, read };
}
