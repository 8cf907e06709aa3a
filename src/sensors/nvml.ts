/**
 * NVIDIA GPU energy through NVML (libnvidia-ml), called in-process through the koffi FFI.
 * Per GPU it reads the total-energy counter (mJ since the driver loaded; Volta and newer) or,
 * where that is not supported, board power (mW) for the tracker to integrate; and the compute
 * processes on the GPU with their share of SM utilisation.
 *
 * Struct layouts and signatures follow nvml.h (CUDA 11+/driver R510+):
 * - nvmlProcessInfo_t { unsigned int pid; unsigned long long usedGpuMemory;
 *   unsigned int gpuInstanceId; unsigned int computeInstanceId; } (24 bytes on LP64)
 * - nvmlProcessUtilizationSample_t { unsigned int pid; unsigned long long timeStamp;
 *   unsigned int smUtil, memUtil, encUtil, decUtil; } (32 bytes; timeStamp in µs)
 */
import { endianness } from "node:os";
import { describeError } from "../errors.js";
import { selectVisibleDevices, type VisibleCandidate } from "./cuda-visible.js";
import type {
  Availability,
  ChannelInfo,
  ChannelReading,
  ChannelValue,
  DeviceProcess,
  Sensor,
} from "./sensor.js";

/** Library names tried in order when no `libraryPath` is given (the driver ships both). */
export const NVML_LIBRARY_NAMES = ["libnvidia-ml.so.1", "libnvidia-ml.so"] as const;

export interface NvmlSensorOptions {
  /** Path or soname of the NVML library. Default: {@link NVML_LIBRARY_NAMES}, in order. */
  libraryPath?: string;
  /** The value of CUDA_VISIBLE_DEVICES (undefined: unset, every GPU measured). */
  cudaVisibleDevices?: string;
  /** The value of CUDA_DEVICE_ORDER (undefined: unset, CUDA's FASTEST_FIRST). */
  cudaDeviceOrder?: string;
}

const NVML_SUCCESS = 0;
const NVML_ERROR_INSUFFICIENT_SIZE = 7;
/** NVML_DEVICE_NAME_V2_BUFFER_SIZE and NVML_DEVICE_UUID_V2_BUFFER_SIZE in nvml.h. */
const STRING_BUFFER_BYTES = 96;
/** Initial room for process entries; grown when NVML says the buffer is too small. */
const INITIAL_PROCESS_CAPACITY = 32;
const INITIAL_SAMPLE_CAPACITY = 64;

type Koffi = typeof import("koffi");
type NvmlCall = (...args: unknown[]) => number;

/** The bound NVML entry points; optional ones are null when the library lacks them. */
interface NvmlApi {
  init: () => number;
  shutdown: () => number;
  errorString: (code: number) => string;
  getCount: (count: Uint32Array) => number;
  getHandleByIndex: (index: number, handle: unknown[]) => number;
  getName: NvmlCall;
  getUuid: NvmlCall;
  getPowerUsage: NvmlCall;
  getTotalEnergy: NvmlCall | null;
  getComputeProcesses: NvmlCall | null;
  getProcessUtilization: NvmlCall | null;
  getMaxMigDeviceCount: NvmlCall | null;
  getMigDeviceHandleByIndex: NvmlCall | null;
  /** Byte layout of the two structs, taken from koffi's C layout rules. */
  processInfo: { size: number; pid: number };
  sample: { size: number; pid: number; timeStamp: number; smUtil: number };
}

interface Channel {
  info: ChannelInfo;
  handle: unknown;
  counter: boolean;
  processBuffer: Buffer;
  processCapacity: number;
  sampleBuffer: Buffer;
  sampleCapacity: number;
  /** µs timestamp of the newest utilisation sample seen, passed back as lastSeenTimeStamp. */
  lastSeenUs: bigint;
}

const LITTLE_ENDIAN = endianness() === "LE";

function readU32(buffer: Buffer, offset: number): number {
  return LITTLE_ENDIAN ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset);
}

function readU64(buffer: Buffer, offset: number): bigint {
  return LITTLE_ENDIAN ? buffer.readBigUInt64LE(offset) : buffer.readBigUInt64BE(offset);
}

/**
 * Creates the NVML sensor: one channel per visible GPU, id "nvml:<index>" (NVML index, PCI bus
 * order), label "GPU <index> (<name>)". Method "counter" with source "nvml:total-energy" where
 * nvmlDeviceGetTotalEnergyConsumption works, else "power-integration" with source
 * "nvml:power-usage". The library is loaded in `probe()`, not on import; `close()` shuts NVML
 * down once.
 */
export function createNvmlSensor(options: NvmlSensorOptions = {}): Sensor {
  let api: NvmlApi | null = null;
  let channels: Channel[] = [];
  let initialised = false;
  let probed: Promise<Availability> | null = null;
  const energyOut = new BigUint64Array(1);
  const powerOut = new Uint32Array(1);
  const countInOut = new Uint32Array(1);

  function shutdown(): void {
    if (api !== null && initialised) {
      initialised = false;
      api.shutdown();
    }
  }

  function errorText(code: number): string {
    let text = "";
    try {
      text = api?.errorString(code) ?? "";
    } catch {
      // A broken library: the code alone still says something.
    }
    return text === "" ? `NVML error ${code}` : `${text} (NVML error ${code})`;
  }

  async function probe(): Promise<Availability> {
    let koffi: Koffi;
    try {
      koffi = (await import("koffi")).default;
    } catch (error) {
      return {
        available: false,
        reason: `the koffi FFI module cannot load: ${describeError(error)}`,
      };
    }
    const loaded = loadLibrary(koffi, options.libraryPath);
    if ("reason" in loaded) return { available: false, ...loaded };
    try {
      api = bindNvml(koffi, loaded.library);
    } catch (error) {
      return {
        available: false,
        reason: `${loaded.path} is not a usable NVML library: ${describeError(error)}`,
        fix: "point the NVML library path at the NVIDIA driver's libnvidia-ml.so.1",
      };
    }
    const initCode = api.init();
    if (initCode !== NVML_SUCCESS) {
      return {
        available: false,
        reason: `NVML could not start: ${errorText(initCode)}`,
        fix: "check that the NVIDIA kernel driver is loaded and matches the user-space library (nvidia-smi shows the same error)",
      };
    }
    initialised = true;
    const result = findChannels(api);
    if (!result.available) shutdown();
    return result;
  }

  function findChannels(nvml: NvmlApi): Availability {
    const countCode = nvml.getCount(countInOut);
    if (countCode !== NVML_SUCCESS) {
      return { available: false, reason: `NVML cannot count GPUs: ${errorText(countCode)}` };
    }
    const deviceCount = countInOut[0] ?? 0;
    if (deviceCount === 0) return { available: false, reason: "NVML found no GPUs" };

    const notes: string[] = [];
    const found: { candidate: VisibleCandidate; handle: unknown; name: string }[] = [];
    const wantMig = /MIG-/i.test(options.cudaVisibleDevices ?? "");
    for (let index = 0; index < deviceCount; index++) {
      const out: unknown[] = [null];
      const code = nvml.getHandleByIndex(index, out);
      if (code !== NVML_SUCCESS) {
        notes.push(`GPU ${index} cannot be opened: ${errorText(code)}`);
        continue;
      }
      const handle = out[0];
      const name = readString(nvml.getName, handle) ?? "unknown GPU";
      const uuid = readString(nvml.getUuid, handle);
      const candidate: VisibleCandidate = { index, uuid };
      if (wantMig) {
        const migUuids = listMigUuids(nvml, handle);
        if (migUuids !== null) candidate.migUuids = migUuids;
      }
      found.push({ candidate, handle, name });
    }

    const selection = selectVisibleDevices(
      options.cudaVisibleDevices,
      found.map((f) => f.candidate),
      options.cudaDeviceOrder,
    );
    notes.push(...selection.notes);
    channels = [];
    for (const index of selection.indices) {
      const device = found.find((f) => f.candidate.index === index);
      if (device === undefined) continue;
      const channel = openChannel(nvml, device.handle, index, device.candidate.uuid, device.name);
      if (typeof channel === "string") {
        notes.push(channel);
        continue;
      }
      channel.info.notes?.push(...selection.channelNotes);
      channels.push(channel);
    }
    if (channels.length === 0) {
      const reason = selection.restricted
        ? `CUDA_VISIBLE_DEVICES="${options.cudaVisibleDevices ?? ""}" leaves no GPU that NVML can measure`
        : "NVML found no GPU it can measure";
      return {
        available: false,
        reason: notes.length > 0 ? `${reason}: ${notes.join("; ")}` : reason,
      };
    }
    return { available: true, channels: channels.map((c) => c.info), notes };
  }

  function openChannel(
    nvml: NvmlApi,
    handle: unknown,
    index: number,
    uuid: string | null,
    name: string,
  ): Channel | string {
    const label = `GPU ${index} (${name})`;
    const energyCode = nvml.getTotalEnergy?.(handle, energyOut) ?? -1;
    const counter = energyCode === NVML_SUCCESS;
    const notes: string[] = [];
    if (!counter) {
      const powerCode = nvml.getPowerUsage(handle, powerOut);
      if (powerCode !== NVML_SUCCESS) {
        return `${label} reports neither total energy nor power: ${errorText(powerCode)}`;
      }
      notes.push(
        `total energy counter not available (${energyCode === -1 ? "not in this NVML" : errorText(energyCode)}); ` +
          "power (nvmlDeviceGetPowerUsage) is sampled and integrated: instantaneous on GA100 and " +
          "older GPUs, a 1-second average on newer ones, so short spikes between samples are missed",
      );
    }
    const device: ChannelInfo["device"] = { index, name };
    if (uuid !== null) device.uuid = uuid;
    const channel: Channel = {
      info: {
        id: `nvml:${index}`,
        component: "gpu",
        method: counter ? "counter" : "power-integration",
        source: counter ? "nvml:total-energy" : "nvml:power-usage",
        label,
        device,
        notes,
      },
      handle,
      counter,
      processBuffer: Buffer.alloc(INITIAL_PROCESS_CAPACITY * nvml.processInfo.size),
      processCapacity: INITIAL_PROCESS_CAPACITY,
      sampleBuffer: Buffer.alloc(INITIAL_SAMPLE_CAPACITY * nvml.sample.size),
      sampleCapacity: INITIAL_SAMPLE_CAPACITY,
      lastSeenUs: 0n,
    };
    // Only samples newer than the probe belong to the run.
    readUtilization(nvml, channel);
    return channel;
  }

  function readString(call: NvmlCall, handle: unknown): string | null {
    const buffer = Buffer.alloc(STRING_BUFFER_BYTES);
    if (call(handle, buffer, STRING_BUFFER_BYTES) !== NVML_SUCCESS) return null;
    const end = buffer.indexOf(0);
    return buffer.toString("utf8", 0, end < 0 ? buffer.length : end);
  }

  function listMigUuids(nvml: NvmlApi, handle: unknown): string[] | null {
    if (nvml.getMaxMigDeviceCount === null || nvml.getMigDeviceHandleByIndex === null) return null;
    if (nvml.getMaxMigDeviceCount(handle, countInOut) !== NVML_SUCCESS) return null;
    const uuids: string[] = [];
    const max = countInOut[0] ?? 0;
    for (let migIndex = 0; migIndex < max; migIndex++) {
      const out: unknown[] = [null];
      if (nvml.getMigDeviceHandleByIndex(handle, migIndex, out) !== NVML_SUCCESS) continue;
      const uuid = readString(nvml.getUuid, out[0]);
      if (uuid !== null) uuids.push(uuid);
    }
    return uuids;
  }

  function readComputePids(nvml: NvmlApi, channel: Channel): number[] | undefined {
    if (nvml.getComputeProcesses === null) return undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      countInOut[0] = channel.processCapacity;
      const code = nvml.getComputeProcesses(channel.handle, countInOut, channel.processBuffer);
      if (code === NVML_ERROR_INSUFFICIENT_SIZE) {
        channel.processCapacity = (countInOut[0] ?? 0) + 8;
        channel.processBuffer = Buffer.alloc(channel.processCapacity * nvml.processInfo.size);
        continue;
      }
      if (code !== NVML_SUCCESS) return undefined;
      const count = Math.min(countInOut[0] ?? 0, channel.processCapacity);
      const pids: number[] = [];
      for (let i = 0; i < count; i++) {
        const pid = readU32(
          channel.processBuffer,
          i * nvml.processInfo.size + nvml.processInfo.pid,
        );
        if (!pids.includes(pid)) pids.push(pid);
      }
      return pids;
    }
    return undefined;
  }

  /** Mean SM utilisation (%) per pid over the samples since the last call; null when unknown. */
  function readUtilization(nvml: NvmlApi, channel: Channel): Map<number, number> | null {
    if (nvml.getProcessUtilization === null) return null;
    const layout = nvml.sample;
    for (let attempt = 0; attempt < 3; attempt++) {
      countInOut[0] = channel.sampleCapacity;
      const code = nvml.getProcessUtilization(
        channel.handle,
        channel.sampleBuffer,
        countInOut,
        channel.lastSeenUs,
      );
      if (code === NVML_ERROR_INSUFFICIENT_SIZE) {
        channel.sampleCapacity = (countInOut[0] ?? 0) + 16;
        channel.sampleBuffer = Buffer.alloc(channel.sampleCapacity * layout.size);
        continue;
      }
      // NOT_FOUND (no samples since lastSeenUs) and NOT_SUPPORTED alike leave shares unknown.
      if (code !== NVML_SUCCESS) return null;
      const count = Math.min(countInOut[0] ?? 0, channel.sampleCapacity);
      const sums = new Map<number, { total: number; samples: number }>();
      for (let i = 0; i < count; i++) {
        const base = i * layout.size;
        const pid = readU32(channel.sampleBuffer, base + layout.pid);
        const timeStamp = readU64(channel.sampleBuffer, base + layout.timeStamp);
        const smUtil = readU32(channel.sampleBuffer, base + layout.smUtil);
        if (timeStamp > channel.lastSeenUs) channel.lastSeenUs = timeStamp;
        const sum = sums.get(pid) ?? { total: 0, samples: 0 };
        sum.total += smUtil;
        sum.samples += 1;
        sums.set(pid, sum);
      }
      return new Map([...sums].map(([pid, sum]) => [pid, sum.total / sum.samples]));
    }
    return null;
  }

  function readProcesses(nvml: NvmlApi, channel: Channel): DeviceProcess[] | undefined {
    const pids = readComputePids(nvml, channel);
    const utilization = readUtilization(nvml, channel);
    if (pids === undefined) return undefined;
    let totalSm = 0;
    for (const value of utilization?.values() ?? []) totalSm += value;
    return pids.map((pid) => ({
      pid,
      // Normalised over every process with samples (graphics ones too), so shares sum to <= 1.
      share: utilization !== null && totalSm > 0 ? (utilization.get(pid) ?? 0) / totalSm : null,
    }));
  }

  function readValue(nvml: NvmlApi, channel: Channel): { value: ChannelValue } | { error: string } {
    if (channel.counter) {
      const code = nvml.getTotalEnergy?.(channel.handle, energyOut) ?? -1;
      if (code !== NVML_SUCCESS) return { error: `total energy: ${errorText(code)}` };
      return { value: { kind: "energy", energyJ: Number(energyOut[0] ?? 0n) / 1000, wrapJ: null } };
    }
    const code = nvml.getPowerUsage(channel.handle, powerOut);
    if (code !== NVML_SUCCESS) return { error: `power usage: ${errorText(code)}` };
    return { value: { kind: "power", powerW: (powerOut[0] ?? 0) / 1000 } };
  }

  async function read(): Promise<ChannelReading[]> {
    const nvml = api;
    return channels.map((channel): ChannelReading => {
      if (nvml === null || !initialised) {
        return { channelId: channel.info.id, value: null, error: "NVML is shut down" };
      }
      const result = readValue(nvml, channel);
      const processes = readProcesses(nvml, channel);
      const reading: ChannelReading =
        "value" in result
          ? { channelId: channel.info.id, value: result.value }
          : { channelId: channel.info.id, value: null, error: result.error };
      if (processes !== undefined) reading.processes = processes;
      return reading;
    });
  }

  return {
    name: "nvml",
    components: ["gpu"],
    probe() {
      probed ??= probe();
      return probed;
    },
    read,
    close: shutdown,
  };
}

type Loaded =
  { library: ReturnType<Koffi["load"]>; path: string } | { reason: string; fix?: string };

function loadLibrary(koffi: Koffi, libraryPath: string | undefined): Loaded {
  if (libraryPath !== undefined) {
    try {
      return { library: koffi.load(libraryPath), path: libraryPath };
    } catch (error) {
      return { reason: `${libraryPath} could not be loaded: ${describeError(error)}` };
    }
  }
  for (const name of NVML_LIBRARY_NAMES) {
    try {
      return { library: koffi.load(name), path: name };
    } catch {
      // Try the next name.
    }
  }
  return {
    reason: "libnvidia-ml.so.1 not found (no NVIDIA driver)",
    fix: "install the NVIDIA driver; in a container, start it with the NVIDIA Container Toolkit (--gpus)",
  };
}

function bindNvml(koffi: Koffi, library: ReturnType<Koffi["load"]>): NvmlApi {
  const handle = koffi.pointer(koffi.opaque());
  const handleOut = koffi.out(koffi.pointer(handle));
  const required = (name: string, args: (string | ReturnType<Koffi["pointer"]>)[]) =>
    library.func(name, "int", args) as unknown as NvmlCall;
  const optional = (name: string, args: (string | ReturnType<Koffi["pointer"]>)[]) => {
    try {
      return required(name, args);
    } catch {
      return null;
    }
  };
  const processInfo = koffi.struct({
    pid: "uint",
    usedGpuMemory: "ulonglong",
    gpuInstanceId: "uint",
    computeInstanceId: "uint",
  });
  const sample = koffi.struct({
    pid: "uint",
    timeStamp: "ulonglong",
    smUtil: "uint",
    memUtil: "uint",
    encUtil: "uint",
    decUtil: "uint",
  });
  // nvmlInit_v2 first, so a library that is not NVML is named by its first missing symbol.
  const init = required("nvmlInit_v2", []) as () => number;
  const errorString = library.func("nvmlErrorString", "const char *", ["int"]);
  return {
    init,
    shutdown: required("nvmlShutdown", []) as () => number,
    errorString: (code) => String(errorString(code) ?? ""),
    getCount: required("nvmlDeviceGetCount_v2", ["uint *"]) as NvmlApi["getCount"],
    getHandleByIndex: required("nvmlDeviceGetHandleByIndex_v2", [
      "uint",
      handleOut,
    ]) as NvmlApi["getHandleByIndex"],
    getName: required("nvmlDeviceGetName", [handle, "char *", "uint"]),
    getUuid: required("nvmlDeviceGetUUID", [handle, "char *", "uint"]),
    getPowerUsage: required("nvmlDeviceGetPowerUsage", [handle, "uint *"]),
    getTotalEnergy: optional("nvmlDeviceGetTotalEnergyConsumption", [handle, "ulonglong *"]),
    getComputeProcesses:
      optional("nvmlDeviceGetComputeRunningProcesses_v3", [handle, "uint *", "void *"]) ??
      optional("nvmlDeviceGetComputeRunningProcesses_v2", [handle, "uint *", "void *"]),
    getProcessUtilization: optional("nvmlDeviceGetProcessUtilization", [
      handle,
      "void *",
      "uint *",
      "ulonglong",
    ]),
    getMaxMigDeviceCount: optional("nvmlDeviceGetMaxMigDeviceCount", [handle, "uint *"]),
    getMigDeviceHandleByIndex: optional("nvmlDeviceGetMigDeviceHandleByIndex", [
      handle,
      "uint",
      handleOut,
    ]),
    processInfo: { size: koffi.sizeof(processInfo), pid: koffi.offsetof(processInfo, "pid") },
    sample: {
      size: koffi.sizeof(sample),
      pid: koffi.offsetof(sample, "pid"),
      timeStamp: koffi.offsetof(sample, "timeStamp"),
      smUtil: koffi.offsetof(sample, "smUtil"),
    },
  };
}
