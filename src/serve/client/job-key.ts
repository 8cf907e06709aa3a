/**
 * Which job a tracker belongs to, so that trackers on every node of one job join one run
 * on the server: `--job` when given, else the launcher's environment (read from the
 * environment passed in, never process.env):
 * - Slurm: `SLURM_JOB_ID` (with `SLURM_CLUSTER_NAME` when set); nodes from
 *   `SLURM_JOB_NUM_NODES` (or `SLURM_NNODES`);
 * - torchrun / TorchElastic: `TORCHELASTIC_RUN_ID` (its `--rdzv-id`; the default "none" is
 *   not an id); nodes = `WORLD_SIZE / LOCAL_WORLD_SIZE`, else `GROUP_WORLD_SIZE`;
 * - Open MPI: `PMIX_NAMESPACE` (or `OMPI_MCA_orte_ess_jobid`, `OMPI_MCA_ess_base_jobid`)
 *   when `OMPI_COMM_WORLD_SIZE` is set; nodes = `OMPI_COMM_WORLD_SIZE / OMPI_COMM_WORLD_LOCAL_SIZE`;
 * - Kubernetes indexed Jobs: `JOB_COMPLETION_INDEX` with the pod's `HOSTNAME`
 *   (`<job-name>-<index>`, optionally `-<suffix>`), and `POD_NAMESPACE` when the pod sets it.
 * `WATTPRINT_JOB_NODES` (or `--nodes`) gives the expected node count where the launcher
 * does not. Without any of these the run is its own job.
 */
import { WattprintError } from "../../errors.js";
import { KEY_PATTERN } from "../ingest-schema.js";

/** The job a tracker joins, where that came from, and how many nodes the job should have. */
export interface JobIdentity {
  /** Job key ("slurm:4242", "torchelastic:exp7", "mpi:prterun-n1-99@1", "k8s:ml/train"); null: the run is its own job. */
  key: string | null;
  expectedNodes: number | null;
  /** "--job", "SLURM_JOB_ID", "TORCHELASTIC_RUN_ID", "PMIX_NAMESPACE", "JOB_COMPLETION_INDEX", or "none". */
  source: string;
}

type Environment = Record<string, string | undefined>;

function value(env: Environment, name: string): string | undefined {
  const text = env[name]?.trim();
  return text === undefined || text === "" ? undefined : text;
}

function positiveInt(text: string | undefined): number | null {
  if (text === undefined || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 && n <= 100_000 ? n : null;
}

function ratio(total: string | undefined, perNode: string | undefined): number | null {
  const a = positiveInt(total);
  const b = positiveInt(perNode);
  if (a === null || b === null || a % b !== 0) return null;
  return a / b;
}

/** Keeps a job key within the server's pattern: odd characters become "-". */
export function sanitizeJobKey(key: string): string {
  const cleaned = key.replace(/[^A-Za-z0-9._:@/+-]/g, "-").slice(0, 200);
  return /^[A-Za-z0-9]/.test(cleaned) ? cleaned : `j${cleaned}`.slice(0, 200);
}

/**
 * The job of this tracker. `explicit.job` wins (it must fit the key pattern: letters,
 * digits and . _ : @ / + -); `explicit.expectedNodes` overrides the launcher's count.
 * Throws WattprintError("USAGE") for an explicit key or node count that does not fit.
 */
export function detectJob(
  env: Environment,
  explicit: { job?: string; expectedNodes?: number } = {},
): JobIdentity {
  let identity = fromEnvironment(env);
  if (explicit.job !== undefined) {
    if (!KEY_PATTERN.test(explicit.job)) {
      throw new WattprintError("USAGE", `invalid job key "${explicit.job}"`, {
        hint: "use 1–200 letters, digits and . _ : @ / + -, starting with a letter or digit (for example exp-42)",
      });
    }
    identity = { key: explicit.job, expectedNodes: identity.expectedNodes, source: "--job" };
  }
  const nodesText = value(env, "WATTPRINT_JOB_NODES");
  const nodes =
    explicit.expectedNodes ??
    (nodesText === undefined ? undefined : (positiveInt(nodesText) ?? undefined));
  if (
    explicit.expectedNodes !== undefined &&
    positiveInt(String(explicit.expectedNodes)) === null
  ) {
    throw new WattprintError("USAGE", `invalid node count ${explicit.expectedNodes}`, {
      hint: "give a whole number of nodes from 1 to 100000",
    });
  }
  if (nodes !== undefined) identity = { ...identity, expectedNodes: nodes };
  return identity;
}

function fromEnvironment(env: Environment): JobIdentity {
  const slurm = value(env, "SLURM_JOB_ID");
  if (slurm !== undefined) {
    const cluster = value(env, "SLURM_CLUSTER_NAME");
    return {
      key: sanitizeJobKey(cluster === undefined ? `slurm:${slurm}` : `slurm:${cluster}:${slurm}`),
      expectedNodes: positiveInt(value(env, "SLURM_JOB_NUM_NODES") ?? value(env, "SLURM_NNODES")),
      source: "SLURM_JOB_ID",
    };
  }
  const elastic = value(env, "TORCHELASTIC_RUN_ID");
  if (elastic !== undefined && elastic !== "none") {
    return {
      key: sanitizeJobKey(`torchelastic:${elastic}`),
      expectedNodes:
        ratio(value(env, "WORLD_SIZE"), value(env, "LOCAL_WORLD_SIZE")) ??
        positiveInt(value(env, "GROUP_WORLD_SIZE")),
      source: "TORCHELASTIC_RUN_ID",
    };
  }
  if (value(env, "OMPI_COMM_WORLD_SIZE") !== undefined) {
    const namespace =
      value(env, "PMIX_NAMESPACE") ??
      value(env, "OMPI_MCA_orte_ess_jobid") ??
      value(env, "OMPI_MCA_ess_base_jobid");
    if (namespace !== undefined) {
      return {
        key: sanitizeJobKey(`mpi:${namespace}`),
        expectedNodes: ratio(
          value(env, "OMPI_COMM_WORLD_SIZE"),
          value(env, "OMPI_COMM_WORLD_LOCAL_SIZE"),
        ),
        source: "PMIX_NAMESPACE",
      };
    }
  }
  const index = value(env, "JOB_COMPLETION_INDEX");
  const host = value(env, "HOSTNAME");
  if (index !== undefined && /^\d+$/.test(index) && host !== undefined) {
    const match = new RegExp(`^(.+)-${index}(?:-[a-z0-9]{5})?$`).exec(host);
    if (match?.[1] !== undefined) {
      const namespace = value(env, "POD_NAMESPACE");
      return {
        key: sanitizeJobKey(
          namespace === undefined ? `k8s:${match[1]}` : `k8s:${namespace}/${match[1]}`,
        ),
        expectedNodes: null,
        source: "JOB_COMPLETION_INDEX",
      };
    }
  }
  return { key: null, expectedNodes: null, source: "none" };
}
