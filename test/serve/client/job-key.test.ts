// Job keys from --job and from the launchers' environments (Slurm, torchrun, Open MPI,
// Kubernetes indexed Jobs), with the expected node counts they imply.
import { describe, expect, it } from "vitest";
import { detectJob, sanitizeJobKey } from "../../../src/serve/client/job-key.js";

describe("detectJob", () => {
  it("is no job without a launcher or --job", () => {
    expect(detectJob({ PATH: "/usr/bin", HOSTNAME: "laptop" })).toEqual({
      key: null,
      expectedNodes: null,
      source: "none",
    });
  });

  it("reads Slurm's job id, cluster and node count", () => {
    expect(detectJob({ SLURM_JOB_ID: "4242", SLURM_JOB_NUM_NODES: "8" })).toEqual({
      key: "slurm:4242",
      expectedNodes: 8,
      source: "SLURM_JOB_ID",
    });
    expect(
      detectJob({ SLURM_JOB_ID: "7", SLURM_CLUSTER_NAME: "jean zay", SLURM_NNODES: "2" }),
    ).toMatchObject({
      key: "slurm:jean-zay:7",
      expectedNodes: 2,
    });
  });

  it("reads torchrun's run id and derives nodes from world sizes, ignoring the default id", () => {
    expect(
      detectJob({ TORCHELASTIC_RUN_ID: "exp7", WORLD_SIZE: "16", LOCAL_WORLD_SIZE: "8" }),
    ).toMatchObject({
      key: "torchelastic:exp7",
      expectedNodes: 2,
    });
    expect(detectJob({ TORCHELASTIC_RUN_ID: "exp8", GROUP_WORLD_SIZE: "3" })).toMatchObject({
      expectedNodes: 3,
    });
    expect(detectJob({ TORCHELASTIC_RUN_ID: "none", WORLD_SIZE: "2" }).key).toBeNull();
  });

  it("reads Open MPI's namespace and ranks per node", () => {
    expect(
      detectJob({
        OMPI_COMM_WORLD_SIZE: "12",
        OMPI_COMM_WORLD_LOCAL_SIZE: "4",
        PMIX_NAMESPACE: "prterun-node1-3141@1",
      }),
    ).toEqual({ key: "mpi:prterun-node1-3141@1", expectedNodes: 3, source: "PMIX_NAMESPACE" });
    // Without a namespace the ranks cannot be joined: no job rather than a wrong one.
    expect(detectJob({ OMPI_COMM_WORLD_SIZE: "4" }).key).toBeNull();
  });

  it("reads a Kubernetes indexed Job from the completion index and the pod's hostname", () => {
    expect(detectJob({ JOB_COMPLETION_INDEX: "3", HOSTNAME: "train-resnet-3" })).toMatchObject({
      key: "k8s:train-resnet",
    });
    expect(
      detectJob({ JOB_COMPLETION_INDEX: "0", HOSTNAME: "train-0-x7k2p", POD_NAMESPACE: "ml" }),
    ).toMatchObject({
      key: "k8s:ml/train",
    });
    expect(detectJob({ JOB_COMPLETION_INDEX: "0", HOSTNAME: "unrelated" }).key).toBeNull();
  });

  it("lets --job and --nodes win, and WATTPRINT_JOB_NODES fill a count the launcher lacks", () => {
    expect(detectJob({ SLURM_JOB_ID: "1", SLURM_NNODES: "4" }, { job: "exp-42" })).toEqual({
      key: "exp-42",
      expectedNodes: 4,
      source: "--job",
    });
    expect(
      detectJob({ SLURM_JOB_ID: "1", SLURM_NNODES: "4" }, { expectedNodes: 6 }).expectedNodes,
    ).toBe(6);
    expect(
      detectJob({ JOB_COMPLETION_INDEX: "1", HOSTNAME: "t-1", WATTPRINT_JOB_NODES: "5" })
        .expectedNodes,
    ).toBe(5);
  });

  it("refuses a --job key the server would refuse", () => {
    expect(() => detectJob({}, { job: "has space" })).toThrow(/invalid job key/);
    expect(() => detectJob({}, { job: "" })).toThrow(/invalid job key/);
    expect(() => detectJob({}, { expectedNodes: 0 })).toThrow(/invalid node count/);
  });

  it("sanitizes launcher values into valid keys", () => {
    expect(sanitizeJobKey("slurm:a b/c")).toBe("slurm:a-b/c");
    expect(sanitizeJobKey("-x")).toBe("j-x");
  });
});
