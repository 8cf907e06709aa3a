/**
 * CUDA_VISIBLE_DEVICES: which GPUs a CUDA program can see, so GPU sensors measure those
 * and not every GPU in the machine. Pure functions; the caller passes the variable's value
 * (sensors never read the environment).
 *
 * Semantics follow CUDA's documented behaviour: the list is comma-separated; an entry is a
 * device index, a GPU UUID (`GPU-…`, any unambiguous prefix) or a MIG device
 * (`MIG-<uuid>` or the older `MIG-GPU-<uuid>/<gi>/<ci>`); an invalid entry ("-1", an index
 * out of range, an unknown or ambiguous UUID) ends the list, so the devices after it are
 * not visible; an empty value hides every device; unset shows every device.
 */

/** One entry of CUDA_VISIBLE_DEVICES as written. */
export type CudaVisibleEntry =
  | { kind: "index"; index: number; text: string }
  | { kind: "gpu-uuid"; uuidPrefix: string; text: string }
  | {
      kind: "mig";
      /** `MIG-<uuid>` form: the MIG device's own UUID, mapped to its GPU only via NVML. */
      migUuid: string | null;
      /** `MIG-GPU-<uuid>/<gi>/<ci>` form: the parent GPU's UUID, written in the entry. */
      parentUuid: string | null;
      text: string;
    };

/** The entries CUDA reads, and where (if anywhere) it stopped reading. */
export interface CudaVisibleList {
  entries: CudaVisibleEntry[];
  /** The entry that ended the list because it cannot name a device, or null. */
  stoppedAt: { text: string; reason: string } | null;
}

/** A device a sensor found, as the selection needs to know it. */
export interface VisibleCandidate {
  /** The driver's (NVML / nvidia-smi) index: PCI bus order. */
  index: number;
  /** "GPU-…" UUID, or null when unknown. */
  uuid: string | null;
  /** UUIDs ("MIG-…") of the MIG devices on this GPU, when the sensor could list them. */
  migUuids?: string[];
}

/** Which devices are visible, in CUDA's order, with what the user should know. */
export interface VisibleSelection {
  /** Driver indices of the visible devices, in the order CUDA_VISIBLE_DEVICES names them. */
  indices: number[];
  /** Whether CUDA_VISIBLE_DEVICES restricted anything (false when unset). */
  restricted: boolean;
  /** Notes for the whole sensor: entries that ended the list, entries that could not be mapped. */
  notes: string[];
  /** Notes for each selected channel: the index-order caveat when indices were used. */
  channelNotes: string[];
}

/**
 * Splits CUDA_VISIBLE_DEVICES into entries, stopping at the first entry that cannot name a
 * device whatever GPUs exist ("-1", "abc"). Returns null when the variable is unset (every
 * device visible). Whitespace around entries is ignored.
 */
export function parseCudaVisibleDevices(value: string | undefined): CudaVisibleList | null {
  if (value === undefined) return null;
  const entries: CudaVisibleEntry[] = [];
  if (value.trim() === "") return { entries, stoppedAt: null };
  for (const raw of value.split(",")) {
    const text = raw.trim();
    const entry = parseEntry(text);
    if (typeof entry === "string") return { entries, stoppedAt: { text, reason: entry } };
    entries.push(entry);
  }
  return { entries, stoppedAt: null };
}

function parseEntry(text: string): CudaVisibleEntry | string {
  if (/^\d+$/.test(text)) return { kind: "index", index: Number(text), text };
  if (/^-\d+$/.test(text)) return "a negative index hides this and every later device";
  if (/^GPU-[0-9a-f-]+$/i.test(text)) return { kind: "gpu-uuid", uuidPrefix: text, text };
  const legacyMig = /^MIG-(GPU-[0-9a-f-]+)\/\d+\/\d+$/i.exec(text);
  if (legacyMig?.[1] !== undefined) {
    return { kind: "mig", migUuid: null, parentUuid: legacyMig[1], text };
  }
  if (/^MIG-[0-9a-f-]+$/i.test(text)) return { kind: "mig", migUuid: text, parentUuid: null, text };
  return "not an index, a GPU-… UUID or a MIG-… id";
}

/**
 * The devices CUDA would use, given CUDA_VISIBLE_DEVICES (`value`, undefined when unset),
 * the devices found (`devices`, in driver order) and CUDA_DEVICE_ORDER (`cudaDeviceOrder`,
 * undefined when unset, which CUDA treats as FASTEST_FIRST).
 *
 * Index entries are matched against driver (PCI bus order) indices; when CUDA's order is not
 * PCI_BUS_ID and there is more than one device, `channelNotes` says that the two orders may
 * differ. A MIG entry selects its parent GPU (power is only measured per GPU). A repeated
 * device ends the list, so a GPU is never counted twice.
 */
export function selectVisibleDevices(
  value: string | undefined,
  devices: readonly VisibleCandidate[],
  cudaDeviceOrder?: string,
): VisibleSelection {
  const list = parseCudaVisibleDevices(value);
  if (list === null) {
    return { indices: devices.map((d) => d.index), restricted: false, notes: [], channelNotes: [] };
  }
  const indices: number[] = [];
  const notes: string[] = [];
  let stop = list.stoppedAt;
  let usedIndexEntry = false;
  for (const entry of list.entries) {
    const resolved = resolveEntry(entry, devices);
    if (resolved.kind === "unmapped") {
      notes.push(resolved.note);
      continue;
    }
    if (resolved.kind === "invalid") {
      stop = { text: entry.text, reason: resolved.reason };
      break;
    }
    if (indices.includes(resolved.index)) {
      stop = { text: entry.text, reason: "names a device already listed" };
      break;
    }
    if (entry.kind === "index") usedIndexEntry = true;
    indices.push(resolved.index);
  }
  if (stop !== null) {
    notes.push(
      `CUDA_VISIBLE_DEVICES entry "${stop.text}" ${stop.reason}; CUDA ignores it and every entry after it`,
    );
  }
  const channelNotes: string[] = [];
  if (usedIndexEntry && devices.length > 1 && cudaDeviceOrder?.trim() !== "PCI_BUS_ID") {
    channelNotes.push(
      "CUDA_VISIBLE_DEVICES uses indices: they were matched in PCI bus order (the driver's order), " +
        "while CUDA defaults to CUDA_DEVICE_ORDER=FASTEST_FIRST, so on a machine with different GPU " +
        "models an index may name another GPU; set CUDA_DEVICE_ORDER=PCI_BUS_ID or use GPU UUIDs",
    );
  }
  return { indices, restricted: true, notes, channelNotes };
}

type Resolution =
  | { kind: "device"; index: number }
  | { kind: "invalid"; reason: string }
  | { kind: "unmapped"; note: string };

function resolveEntry(entry: CudaVisibleEntry, devices: readonly VisibleCandidate[]): Resolution {
  switch (entry.kind) {
    case "index": {
      const device = devices.find((d) => d.index === entry.index);
      return device === undefined
        ? { kind: "invalid", reason: `is not a device index here (${devices.length} found)` }
        : { kind: "device", index: device.index };
    }
    case "gpu-uuid":
      return byUuidPrefix(entry.uuidPrefix, devices);
    case "mig": {
      if (entry.parentUuid !== null) return byUuidPrefix(entry.parentUuid, devices, true);
      const migUuid = entry.migUuid ?? "";
      const parent = devices.find((d) =>
        d.migUuids?.some((m) => m.toLowerCase() === migUuid.toLowerCase()),
      );
      if (parent !== undefined) return { kind: "device", index: parent.index };
      if (devices.some((d) => d.migUuids !== undefined)) {
        return { kind: "invalid", reason: "is not a MIG device here" };
      }
      return {
        kind: "unmapped",
        note: `CUDA_VISIBLE_DEVICES entry "${entry.text}" is a MIG device whose GPU could not be determined; it is not measured`,
      };
    }
  }
}

function byUuidPrefix(
  prefix: string,
  devices: readonly VisibleCandidate[],
  exact = false,
): Resolution {
  const wanted = prefix.toLowerCase();
  const matches = devices.filter((d) => {
    const uuid = d.uuid?.toLowerCase();
    if (uuid === undefined) return false;
    return exact ? uuid === wanted : uuid.startsWith(wanted);
  });
  const [first] = matches;
  if (first === undefined) return { kind: "invalid", reason: "matches no GPU UUID here" };
  if (matches.length > 1) return { kind: "invalid", reason: "matches more than one GPU UUID" };
  return { kind: "device", index: first.index };
}
