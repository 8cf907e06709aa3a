// The serve and token commands as the CLI runs them: tokens printed once on stdout and
// stored hashed, listed without secrets, revoked; serve listening on loopback until asked
// to stop, refusing a public address without tokens, and taking WATTPRINT_DB.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serveCli } from "../../src/cli/commands/serve.js";
import { tokenCli } from "../../src/cli/commands/token.js";
import type { CliIo } from "../../src/cli/io.js";
import { tempDir } from "../helpers/cli.js";
import { request } from "./helpers.js";

const dir = tempDir("wattprint-serve-cli-");
afterAll(() => dir.cleanup());

function io(env: Record<string, string> = {}): CliIo & { out: string; err: string } {
  const result = {
    out: "",
    err: "",
    env: { WATTPRINT_HOME: join(dir.path, "home"), ...env },
    stdinIsTTY: false,
    stderrIsTTY: false,
    stdout: (text: string) => void (result.out += text),
    stderr: (text: string) => void (result.err += text),
  };
  return result;
}

describe("wattprint token", () => {
  it("creates a token shown once, lists it without its secret, revokes it", async () => {
    const db = join(dir.path, "tokens.sqlite");
    const created = io();
    expect(
      await tokenCli(
        ["create", "--project", "vision", "--scope", "ingest", "--label", "ci", "--db", db],
        created,
      ),
    ).toBe(0);
    const token = created.out.trim();
    expect(token).toMatch(/^wpt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.err).toContain('project "vision", scope ingest');
    const listed = io();
    expect(await tokenCli(["list", "--json", "--db", db], listed)).toBe(0);
    const rows = JSON.parse(listed.out) as {
      id: string;
      label: string;
      revokedAt: string | null;
    }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe(token.slice(4, 16));
    expect(listed.out).not.toContain(token.slice(17));
    expect(await tokenCli(["revoke", rows[0]?.id ?? "", "--db", db], io())).toBe(0);
    const after = io();
    await tokenCli(["list", "--db", db], after);
    expect(after.out).toContain("revoked");
    await expect(tokenCli(["revoke", rows[0]?.id ?? "", "--db", db], io())).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("refuses a bad scope, project or action before touching the database", async () => {
    const db = join(dir.path, "never.sqlite");
    await expect(
      tokenCli(["create", "--project", "p", "--scope", "root", "--db", db], io()),
    ).rejects.toThrow(/invalid token scope/);
    await expect(
      tokenCli(["create", "--project", "a b", "--scope", "read", "--db", db], io()),
    ).rejects.toThrow(/invalid project/);
    await expect(tokenCli(["mint"], io())).rejects.toThrow(/unknown token action/);
    await expect(tokenCli(["revoke", "xyz", "--db", db], io())).rejects.toThrow(/12 hex/);
  });
});

describe("wattprint serve", () => {
  it("serves on loopback from WATTPRINT_DB until stopped", async () => {
    const db = join(dir.path, "serve.sqlite");
    const controller = new AbortController();
    const cli = io({ WATTPRINT_DB: db });
    let url = "";
    const running = serveCli(["--port", "0"], cli, {
      signal: controller.signal,
      onListening: (u) => (url = u),
    });
    while (url === "") await new Promise((resolve) => setTimeout(resolve, 20));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await request(`${url}/readyz`)).body).toMatchObject({
      status: "ready",
      store: "sqlite",
    });
    expect(cli.err).toContain(`store: sqlite ${db}`);
    expect(cli.err).toContain("no token exists yet");
    controller.abort();
    expect(await running).toBe(0);
    await expect(fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });

  it("refuses a public address while no token exists, and bad flags", async () => {
    const db = join(dir.path, "public.sqlite");
    await expect(serveCli(["--host", "0.0.0.0", "--port", "0", "--db", db], io())).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without tokens/,
    );
    await expect(serveCli(["--port", "70000", "--db", db], io())).rejects.toThrow(/invalid --port/);
    await expect(serveCli(["--rate-limit", "0", "--db", db], io())).rejects.toThrow(/--rate-limit/);
  });
});
