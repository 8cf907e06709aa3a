// The library's Tracker with `server`: the run goes to the local store (the spool) and to
// the server, whose totals match the tracker's record once stop() has returned.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tracker } from "../../../src/api/track.js";
import { RunStore } from "../../../src/store/run-store.js";
import { createToken } from "../../../src/serve/tokens.js";
import { isolatedEnv, spinCpu, tempDir } from "../../helpers/cli.js";
import { request, sqliteDatabase, startTestServer, type TestServer } from "../helpers.js";

describe("Tracker with a server", () => {
  const dir = tempDir();
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteDatabase());
  });
  afterAll(async () => {
    await t?.close();
    dir.cleanup();
  });

  it("spools in the local store and streams to the server", async () => {
    const token = (await createToken(t.store, { project: "lib", scope: "ingest" })).token;
    const read = (await createToken(t.store, { project: "lib", scope: "read" })).token;
    const storePath = join(dir.path, "runs.sqlite");
    const tracker = new Tracker({
      label: "library run",
      region: "FR",
      intervalS: 0.1,
      store: storePath,
      env: isolatedEnv(dir.path, { SLURM_JOB_ID: "77", SLURM_NNODES: "2" }),
      server: { url: t.url, token, uploadIntervalS: 0.2 },
    });
    await tracker.start();
    await tracker.phase("work", async () => spinCpu(300));
    const run = await tracker.stop();
    expect(tracker.uploadResult).toMatchObject({ delivered: true, pending: 0 });
    const local = RunStore.open(storePath);
    try {
      expect(local.getRun(run.id).status).toBe("completed");
      expect(local.getSamples(run.id).length).toBe(run.sampling.samples);
    } finally {
      local.close();
    }
    const job = (await request(`${t.url}/api/v1/runs/slurm%3A77`, { token: read })).body as {
      trackers: number;
      energyJ: number;
      nodes: { expected: number; reporting: number };
      status: string;
    };
    expect(job.status).toBe("completed");
    expect(job.trackers).toBe(1);
    expect(job.nodes).toEqual({ expected: 2, reporting: 1 });
    expect(job.energyJ).toBeCloseTo(run.energyJ.total ?? -1, 6);
    expect(await t.store.countDeviceSamples("lib", run.id)).toBe(
      run.sampling.samples * run.sources.length,
    );
  });

  it("needs the local store to stream", async () => {
    const tracker = new Tracker({
      store: false,
      env: isolatedEnv(dir.path),
      server: { url: t.url, token: "x" },
    });
    await expect(tracker.start()).rejects.toThrow(/needs the local run store/);
  });
});
