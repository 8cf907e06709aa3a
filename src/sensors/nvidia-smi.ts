/**
 * NVIDIA GPU power from the `nvidia-smi` command, for machines where NVML cannot be loaded
 * in-process (for example a container with the tool but an unusable library path). Each read
 * runs two queries in parallel: board power per GPU, and the compute processes per GPU.
 * Power readings are integrated by the tracker ("power-integration").
 */
import { execFile, type ExecFileException } from "node:child_process";
import { selectVisibleDevices } from "./cuda-visible.js";
import type { Availability, ChannelInfo, ChannelReading, DeviceProcess, Sensor } from "./sensor.js";

/** Default for {@link NvidiaSmiSensorOptions.timeoutMs}: 2000 ms per query. */
export const NVIDIA_SMI_DEFAULT_TIMEOUT_MS = 2000;

/** The arguments of the power query (index, UUID, name, board power in W). */
export const NVIDIA_SMI_GPU_QUERY = [
  "--query-gpu=index,uuid,name,power.draw",
  "--format=csv,noheader,nounits",
] as const;

/** The arguments of the process query (GPU UUID, pid). */
export const NVIDIA_SMI_APPS_QUERY = [
  "--query-compute-apps=gpu_uuid,pid",
  "--format=csv,noheader",
] as const;

export interface NvidiaSmiSensorOptions {
  /** The program to run: a name looked up on PATH, or a path. Default "nvidia-smi". */
  command?: string;
  /** The value of CUDA_VISIBLE_DEVICES (undefined: unset, every GPU measured). */
  cudaVisibleDevices?: string;
  /** The value of CUDA_DEVICE_ORDER (undefined: unset, CUDA's FASTEST_FIRST). */
  cudaDeviceOrder?: string;
  /** Limit for each query, ms. Default {@link NVIDIA_SMI_DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /**
   * Environment of the child process; its PATH is where `command` is looked up. Default: the
   * environment this process was started with.
   */
  env?: NodeJS.ProcessEnv;
}

/** One line of the power query. `powerW` is null with `powerError` when the GPU does not report it. */
export interface NvidiaSmiGpuRow {
  index: number;
  uuid: string;
  name: string;
  powerW: number | null;
  powerError?: string;
}

/** One line of the process query. */
export interface NvidiaSmiAppRow {
  gpuUuid: string;
  pid: number;
}

/**
 * Parses `nvidia-smi --query-gpu=index,uuid,name,power.draw --format=csv,noheader,nounits`.
 * Throws an Error naming the first bad line when the output is not in that format.
 */
export function parseNvidiaSmiGpus(stdout: string): NvidiaSmiGpuRow[] {
  const rows: NvidiaSmiGpuRow[] = [];
  for (const line of nonEmptyLines(stdout)) {
    const parts = line.split(",").map((part) => part.trim());
    const indexText = parts[0] ?? "";
    const uuid = parts[1] ?? "";
    const powerText = parts[parts.length - 1] ?? "";
    // A name could hold a comma: it is everything between the UUID and the power.
    const name = parts.slice(2, -1).join(", ");
    if (parts.length < 4 || !/^\d+$/.test(indexText) || !uuid.startsWith("GPU-") || name === "") {
      throw new Error(`unexpected nvidia-smi output: "${line}"`);
    }
    rows.push({ index: Number(indexText), uuid, name, ...parsePower(powerText) });
  }
  if (rows.length === 0) throw new Error("nvidia-smi printed no GPUs");
  return rows;
}

function parsePower(text: string): { powerW: number | null; powerError?: string } {
  if (text.startsWith("[")) return { powerW: null, powerError: `power.draw is ${text}` };
  const powerW = Number(text.replace(/\s*W$/, ""));
  if (text === "" || !Number.isFinite(powerW) || powerW < 0) {
    return { powerW: null, powerError: `power.draw "${text}" is not a number of watts` };
  }
  return { powerW };
}

/** Parses `nvidia-smi --query-compute-apps=gpu_uuid,pid --format=csv,noheader`. Throws on a bad line. */
export function parseNvidiaSmiApps(stdout: string): NvidiaSmiAppRow[] {
  const rows: NvidiaSmiAppRow[] = [];
  for (const line of nonEmptyLines(stdout)) {
    if (/^no running (compute )?processes found/i.test(line)) continue;
    const [gpuUuid = "", pidText = ""] = line.split(",").map((part) => part.trim());
    if (!gpuUuid.startsWith("GPU-") || !/^\d+$/.test(pidText)) {
      throw new Error(`unexpected nvidia-smi output: "${line}"`);
    }
    rows.push({ gpuUuid, pid: Number(pidText) });
  }
  return rows;
}

function nonEmptyLines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

type RunResult = { ok: true; stdout: string } | { ok: false; missing: boolean; message: string };

interface Channel {
  info: ChannelInfo;
  uuid: string;
}

/**
 * Creates the nvidia-smi sensor: one "power-integration" channel per visible GPU, id
 * "nvidia-smi:<index>", source "nvidia-smi:power.draw". Processes come from the compute-apps
 * query (share null: nvidia-smi gives no per-process utilisation); when that query fails,
 * `processes` is undefined.
 */
export function createNvidiaSmiSensor(options: NvidiaSmiSensorOptions = {}): Sensor {
  const command = options.command ?? "nvidia-smi";
  const timeoutMs = options.timeoutMs ?? NVIDIA_SMI_DEFAULT_TIMEOUT_MS;
  let channels: Channel[] = [];
  let probed: Promise<Availability> | null = null;

  function run(args: readonly string[]): Promise<RunResult> {
    return new Promise((resolve) => {
      execFile(
        command,
        args,
        { timeout: timeoutMs, env: options.env, windowsHide: true, maxBuffer: 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error === null) return resolve({ ok: true, stdout });
          resolve({ ok: false, ...describeFailure(command, timeoutMs, error, stdout, stderr) });
        },
      );
    });
  }

  async function probe(): Promise<Availability> {
    const gpus = await run(NVIDIA_SMI_GPU_QUERY);
    if (!gpus.ok) {
      return gpus.missing
        ? {
            available: false,
            reason: command.includes("/") ? `${command} not found` : "nvidia-smi not found on PATH",
            fix: "install the NVIDIA driver (it ships nvidia-smi) or put nvidia-smi on PATH",
          }
        : { available: false, reason: gpus.message };
    }
    let rows: NvidiaSmiGpuRow[];
    try {
      rows = parseNvidiaSmiGpus(gpus.stdout);
    } catch (error) {
      return { available: false, reason: (error as Error).message };
    }
    const selection = selectVisibleDevices(
      options.cudaVisibleDevices,
      rows.map((row) => ({ index: row.index, uuid: row.uuid })),
      options.cudaDeviceOrder,
    );
    const notes = [...selection.notes];
    channels = [];
    for (const index of selection.indices) {
      const row = rows.find((r) => r.index === index);
      if (row === undefined) continue;
      if (row.powerW === null) notes.push(`GPU ${row.index}: ${row.powerError ?? "no power"}`);
      channels.push({ uuid: row.uuid, info: channelInfo(row, selection.channelNotes) });
    }
    if (channels.length === 0) {
      return {
        available: false,
        reason: `CUDA_VISIBLE_DEVICES="${options.cudaVisibleDevices ?? ""}" leaves no GPU to measure`,
        fix: "unset CUDA_VISIBLE_DEVICES or list GPUs that exist here",
      };
    }
    return { available: true, channels: channels.map((c) => c.info), notes };
  }

  async function read(): Promise<ChannelReading[]> {
    if (channels.length === 0) return [];
    const [gpus, apps] = await Promise.all([run(NVIDIA_SMI_GPU_QUERY), run(NVIDIA_SMI_APPS_QUERY)]);
    let rows: NvidiaSmiGpuRow[] | null = null;
    let rowsError = "";
    if (gpus.ok) {
      try {
        rows = parseNvidiaSmiGpus(gpus.stdout);
      } catch (error) {
        rowsError = (error as Error).message;
      }
    } else {
      rowsError = gpus.message;
    }
    let appRows: NvidiaSmiAppRow[] | undefined;
    if (apps.ok) {
      try {
        appRows = parseNvidiaSmiApps(apps.stdout);
      } catch {
        appRows = undefined;
      }
    }
    return channels.map((channel): ChannelReading => {
      const processes = appRows === undefined ? undefined : processesOn(channel.uuid, appRows);
      const withProcesses = processes === undefined ? {} : { processes };
      if (rows === null) {
        return { channelId: channel.info.id, value: null, error: rowsError, ...withProcesses };
      }
      const row = rows.find((r) => r.uuid === channel.uuid);
      if (row === undefined) {
        return {
          channelId: channel.info.id,
          value: null,
          error: `GPU ${channel.uuid} is no longer listed by nvidia-smi`,
          ...withProcesses,
        };
      }
      if (row.powerW === null) {
        return {
          channelId: channel.info.id,
          value: null,
          error: row.powerError ?? "no power reading",
          ...withProcesses,
        };
      }
      return {
        channelId: channel.info.id,
        value: { kind: "power", powerW: row.powerW },
        ...withProcesses,
      };
    });
  }

  return {
    name: "nvidia-smi",
    components: ["gpu"],
    probe() {
      probed ??= probe();
      return probed;
    },
    read,
  };
}

function channelInfo(row: NvidiaSmiGpuRow, extraNotes: string[]): ChannelInfo {
  return {
    id: `nvidia-smi:${row.index}`,
    component: "gpu",
    method: "power-integration",
    source: "nvidia-smi:power.draw",
    label: `GPU ${row.index} (${row.name})`,
    device: { index: row.index, uuid: row.uuid, name: row.name },
    notes: [
      "board power from nvidia-smi power.draw, integrated over time; on some GPUs and drivers " +
        "power.draw is itself a 1-second average, so short spikes are smoothed",
      ...extraNotes,
    ],
  };
}

function processesOn(uuid: string, apps: NvidiaSmiAppRow[]): DeviceProcess[] {
  const pids = new Set(apps.filter((app) => app.gpuUuid === uuid).map((app) => app.pid));
  return [...pids].map((pid) => ({ pid, share: null }));
}

function describeFailure(
  command: string,
  timeoutMs: number,
  error: ExecFileException,
  stdout: string,
  stderr: string,
): { missing: boolean; message: string } {
  if (error.code === "ENOENT") return { missing: true, message: `${command} not found` };
  if (error.code === "EACCES") {
    // A PATH search that meets an unreadable directory also ends in EACCES.
    if (!command.includes("/")) {
      return { missing: true, message: `${command} not found on PATH (or not executable)` };
    }
    return { missing: false, message: `${command} is not executable` };
  }
  if (error.killed === true) {
    return { missing: false, message: `${command} did not answer within ${timeoutMs} ms` };
  }
  const firstLine = nonEmptyLines(stderr)[0] ?? nonEmptyLines(stdout)[0] ?? error.message;
  const exit = typeof error.code === "number" ? ` (exit ${error.code})` : "";
  return { missing: false, message: `${command} failed${exit}: ${firstLine}` };
}
