// The uploader against a real server that goes away and comes back, and against stand-in
// servers that answer 503 (with Retry-After), 413 and 401: nothing acknowledged is lost,
// retries back off, a refused token stops for good, an oversized batch is split.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Uploader } from "../../../src/serve/client/uploader.js";
import type { IngestBatch } from "../../../src/serve/ingest-schema.js";
import { openServerStore } from "../../../src/store/server-store.js";
import { startServer } from "../../../src/serve/server.js";
import { createToken } from "../../../src/serve/tokens.js";
import { T0, batch, device, sample, sqliteDatabase } from "../helpers.js";

const header = batch("up-run", []).run;
const cpu = (j: number) => device("cpu|rapl:package-0|package-0", "cpu", j, j / 2);

/** A stand-in server answering with `answer(body, index)`; records every body it got. */
async function standIn(
  answer: (
    body: IngestBatch,
    index: number,
  ) => { status: number; headers?: Record<string, string> },
) {
  const bodies: IngestBatch[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      const body = JSON.parse(text) as IngestBatch;
      const { status, headers } = answer(body, bodies.length);
      bodies.push(body);
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(
        status === 200
          ? "{}"
          : JSON.stringify({ error: { code: "x", message: `answer ${status}` } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, bodies, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe("Uploader", () => {
  it("keeps samples through a server restart and delivers them all on close", async () => {
    const database = sqliteDatabase();
    const store = await openServerStore(database.db);
    cleanups.push(async () => {
      await store.close();
      await database.drop();
    });
    const { token } = await createToken(store, { project: "fleet", scope: "ingest" });
    let server = await startServer({ store, host: "127.0.0.1", port: 0 });
    const port = server.port;
    const warnings: string[] = [];
    const uploader = new Uploader({
      url: server.url,
      token,
      uploadIntervalS: 0.2,
      initialBackoffMs: 100,
      maxBackoffMs: 400,
      onWarning: (m) => warnings.push(m),
    });
    uploader.begin(header);
    for (let seq = 0; seq < 5; seq += 1) uploader.add(sample(seq, T0, [cpu(100 * (seq + 1))]));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await store.countDeviceSamples("fleet", "up-run")).toBe(5);
    await server.close(100);
    for (let seq = 5; seq < 12; seq += 1) uploader.add(sample(seq, T0, [cpu(100 * (seq + 1))]));
    await new Promise((resolve) => setTimeout(resolve, 700));
    const restart = setTimeout(async () => {
      server = await startServer({ store, host: "127.0.0.1", port });
    }, 500);
    uploader.finish({
      status: "completed",
      endedAt: new Date(T0 + 20_000).toISOString(),
      exitCode: 0,
      energyJ: 600,
      machineEnergyJ: 1200,
      co2eG: 0.1,
      record: null,
    });
    const result = await uploader.close(10_000);
    clearTimeout(restart);
    cleanups.push(() => server.close(100));
    expect(result).toMatchObject({ delivered: true, pending: 0, refused: false });
    expect(result.retries).toBeGreaterThan(0);
    expect(warnings.some((w) => w.includes("retrying"))).toBe(true);
    expect(await store.countDeviceSamples("fleet", "up-run")).toBe(12);
    const jobs = await store.loadJobs("fleet", ["up-run"]);
    const member = jobs.get("up-run")?.members[0];
    expect(member?.status).toBe("completed");
    expect(member?.energyJ).toBeCloseTo(600);
  });

  it("honours 503 with Retry-After and sends each sample once it is accepted", async () => {
    const stand = await standIn((_body, index) =>
      index < 2 ? { status: 503, headers: { "retry-after": "1" } } : { status: 200 },
    );
    cleanups.push(async () => void stand.server.close());
    const uploader = new Uploader({
      url: stand.url,
      token: "t",
      uploadIntervalS: 3600,
      initialBackoffMs: 50,
    });
    uploader.begin(header);
    for (let seq = 0; seq < 3; seq += 1) uploader.add(sample(seq, T0, [cpu(seq)]));
    const started = Date.now();
    const result = await uploader.close(10_000);
    expect(result.delivered).toBe(true);
    expect(stand.bodies).toHaveLength(3);
    // Two waits of at least about a second each (Retry-After: 1, with jitter down to 80%).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(stand.bodies[2]?.samples.map((s) => s.seq)).toEqual([0, 1, 2]);
  });

  it("splits batches the server finds too large", async () => {
    const stand = await standIn((body) =>
      body.samples.length > 2 ? { status: 413 } : { status: 200 },
    );
    cleanups.push(async () => void stand.server.close());
    const uploader = new Uploader({
      url: stand.url,
      token: "t",
      uploadIntervalS: 3600,
      initialBackoffMs: 10,
    });
    uploader.begin(header);
    for (let seq = 0; seq < 7; seq += 1) uploader.add(sample(seq, T0, [cpu(seq)]));
    const result = await uploader.close(10_000);
    expect(result.delivered).toBe(true);
    const accepted = stand.bodies
      .filter((b) => b.samples.length <= 2)
      .flatMap((b) => b.samples.map((s) => s.seq));
    expect(accepted).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("stops for good when the token is refused, keeping the samples for push", async () => {
    const stand = await standIn(() => ({ status: 401 }));
    cleanups.push(async () => void stand.server.close());
    const warnings: string[] = [];
    const uploader = new Uploader({
      url: stand.url,
      token: "bad",
      uploadIntervalS: 3600,
      onWarning: (m) => warnings.push(m),
    });
    uploader.begin(header);
    uploader.add(sample(0, T0, [cpu(1)]));
    const result = await uploader.close(10_000);
    expect(result).toMatchObject({ delivered: false, refused: true, pending: 1 });
    expect(stand.bodies).toHaveLength(1);
    expect(warnings[0]).toMatch(/wattprint push/);
  });

  it("gives up at the deadline when nothing answers", async () => {
    const stand = await standIn(() => ({ status: 200 }));
    const url = stand.url;
    await new Promise<void>((resolve) => stand.server.close(() => resolve()));
    const uploader = new Uploader({
      url,
      token: "t",
      uploadIntervalS: 3600,
      initialBackoffMs: 50,
      maxBackoffMs: 100,
    });
    uploader.begin(header);
    uploader.add(sample(0, T0, [cpu(1)]));
    const started = Date.now();
    const result = await uploader.close(800);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result).toMatchObject({ delivered: false, refused: false, pending: 1 });
    expect(result.lastError).toBeTruthy();
  });

  it("thins the queue in a long outage, keeping the newest cumulative sample", async () => {
    const stand = await standIn(() => ({ status: 200 }));
    cleanups.push(async () => void stand.server.close());
    const uploader = new Uploader({
      url: stand.url,
      token: "t",
      uploadIntervalS: 3600,
      maxQueuedSamples: 10,
    });
    uploader.begin(header);
    for (let seq = 0; seq < 40; seq += 1) uploader.add(sample(seq, T0, [cpu(seq * 10)]));
    await uploader.close(5000);
    const seqs = stand.bodies.flatMap((b) => b.samples.map((s) => s.seq));
    expect(seqs.length).toBeLessThanOrEqual(11);
    expect(seqs[seqs.length - 1]).toBe(39);
    expect(stand.bodies.at(-1)?.samples.at(-1)?.devices[0]?.machineEnergyJ).toBe(390);
  });
});
