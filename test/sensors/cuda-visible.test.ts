import { describe, expect, it } from "vitest";
import {
  parseCudaVisibleDevices,
  selectVisibleDevices,
  type VisibleCandidate,
} from "../../src/sensors/cuda-visible.js";

const UUID_0 = "GPU-5c1e0a4b-1111-2222-3333-444455556666";
const UUID_1 = "GPU-5c9f7d21-aaaa-bbbb-cccc-ddddeeeeffff";
const UUID_2 = "GPU-0b3d2e10-9999-8888-7777-666655554444";

const devices: VisibleCandidate[] = [
  { index: 0, uuid: UUID_0 },
  { index: 1, uuid: UUID_1 },
  { index: 2, uuid: UUID_2 },
];

describe("parseCudaVisibleDevices", () => {
  it("returns null when unset and an empty list for an empty value", () => {
    expect(parseCudaVisibleDevices(undefined)).toBeNull();
    expect(parseCudaVisibleDevices("")).toEqual({ entries: [], stoppedAt: null });
    expect(parseCudaVisibleDevices("  ")).toEqual({ entries: [], stoppedAt: null });
  });

  it("reads indices, UUIDs and both MIG forms, trimming spaces", () => {
    const list = parseCudaVisibleDevices(
      ` 2, GPU-5c1e ,MIG-GPU-${UUID_1.slice(4)}/1/0,MIG-0f0e0d0c-1234-5678-9abc-def012345678`,
    );
    expect(list?.stoppedAt).toBeNull();
    expect(list?.entries.map((e) => e.kind)).toEqual(["index", "gpu-uuid", "mig", "mig"]);
    expect(list?.entries[0]).toMatchObject({ index: 2 });
    expect(list?.entries[1]).toMatchObject({ uuidPrefix: "GPU-5c1e" });
    expect(list?.entries[2]).toMatchObject({ parentUuid: UUID_1, migUuid: null });
    expect(list?.entries[3]).toMatchObject({
      migUuid: "MIG-0f0e0d0c-1234-5678-9abc-def012345678",
      parentUuid: null,
    });
  });

  it("stops at -1 and at garbage, keeping the entries before", () => {
    const minusOne = parseCudaVisibleDevices("1,-1,0");
    expect(minusOne?.entries.map((e) => e.text)).toEqual(["1"]);
    expect(minusOne?.stoppedAt?.text).toBe("-1");
    const garbage = parseCudaVisibleDevices("0,gpu0,1");
    expect(garbage?.entries.map((e) => e.text)).toEqual(["0"]);
    expect(garbage?.stoppedAt?.text).toBe("gpu0");
    expect(parseCudaVisibleDevices("-1")?.entries).toEqual([]);
  });
});

describe("selectVisibleDevices", () => {
  it("shows every device when unset, none when empty", () => {
    expect(selectVisibleDevices(undefined, devices)).toMatchObject({
      indices: [0, 1, 2],
      restricted: false,
      notes: [],
    });
    expect(selectVisibleDevices("", devices)).toMatchObject({ indices: [], restricted: true });
  });

  it("keeps CUDA's order of the entries", () => {
    expect(selectVisibleDevices("2,0", devices).indices).toEqual([2, 0]);
  });

  it("selects by UUID prefix and rejects ambiguous prefixes, stopping there", () => {
    expect(selectVisibleDevices("GPU-0b3d", devices).indices).toEqual([2]);
    expect(selectVisibleDevices(UUID_1, devices).indices).toEqual([1]);
    // "GPU-5c" is a prefix of two UUIDs: invalid, so "2" after it is ignored too.
    const ambiguous = selectVisibleDevices("0,GPU-5c,2", devices);
    expect(ambiguous.indices).toEqual([0]);
    expect(ambiguous.notes.join(" ")).toMatch(/GPU-5c.*more than one/);
  });

  it("stops at an index out of range, an unknown UUID and a repeated device", () => {
    expect(selectVisibleDevices("1,7,0", devices).indices).toEqual([1]);
    expect(selectVisibleDevices("GPU-ffff,0", devices).indices).toEqual([]);
    const repeated = selectVisibleDevices(`0,${UUID_0},1`, devices);
    expect(repeated.indices).toEqual([0]);
    expect(repeated.notes.join(" ")).toMatch(/already listed/);
  });

  it("maps MIG entries to their GPU when it can, and says so when it cannot", () => {
    const legacy = selectVisibleDevices(`MIG-${UUID_2}/3/0`, devices);
    expect(legacy.indices).toEqual([2]);
    const migUuid = "MIG-0f0e0d0c-1234-5678-9abc-def012345678";
    const unknown = selectVisibleDevices(`${migUuid},1`, devices);
    expect(unknown.indices).toEqual([1]);
    expect(unknown.notes.join(" ")).toMatch(/could not be determined/);
    const withMig = devices.map((d) => (d.index === 1 ? { ...d, migUuids: [migUuid] } : d));
    expect(selectVisibleDevices(migUuid, withMig).indices).toEqual([1]);
    // When MIG devices are known, an unknown one is invalid like any other entry.
    expect(selectVisibleDevices("MIG-aaaa,0", withMig).indices).toEqual([]);
  });

  it("warns about index order unless CUDA_DEVICE_ORDER=PCI_BUS_ID", () => {
    expect(selectVisibleDevices("1", devices).channelNotes.join(" ")).toMatch(/FASTEST_FIRST/);
    expect(selectVisibleDevices("1", devices, "PCI_BUS_ID").channelNotes).toEqual([]);
    expect(selectVisibleDevices(UUID_1, devices).channelNotes).toEqual([]);
    expect(selectVisibleDevices("0", [{ index: 0, uuid: UUID_0 }]).channelNotes).toEqual([]);
  });
});
