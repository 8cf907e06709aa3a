// Tokens: shown once, stored as a SHA-256 only, verified in constant time, scoped to a
// project, refused when revoked, malformed or unknown.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken, scopeAllows, tokenId, verifyToken } from "../../src/serve/tokens.js";
import { openServerStore, type ServerStore } from "../../src/store/server-store.js";
import { sqliteDatabase, type TestDatabase } from "./helpers.js";

describe("tokens", () => {
  let database: TestDatabase;
  let store: ServerStore;
  beforeAll(async () => {
    database = sqliteDatabase();
    store = await openServerStore(database.db);
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  it("stores only the hash of a fresh random secret", async () => {
    const a = await createToken(store, { project: "team-a", scope: "ingest", label: "ci" });
    const b = await createToken(store, { project: "team-a", scope: "ingest" });
    expect(a.token).toMatch(/^wpt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    const row = await store.findToken(tokenId(a.token) ?? "");
    const secret = a.token.slice(17);
    expect(row?.secretSha256).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it("verifies the right token and refuses wrong, malformed and revoked ones", async () => {
    const { token, row } = await createToken(store, { project: "team-b", scope: "read" });
    expect(await verifyToken(store, token)).toEqual({
      ok: true,
      principal: { tokenId: row.id, project: "team-b", scope: "read" },
    });
    const flipped = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    expect(await verifyToken(store, flipped)).toEqual({ ok: false, reason: "unknown token" });
    expect(await verifyToken(store, "Bearer x")).toEqual({ ok: false, reason: "malformed token" });
    expect(await store.revokeToken(row.id, new Date().toISOString())).toBe(true);
    expect(await verifyToken(store, token)).toEqual({ ok: false, reason: "revoked token" });
    expect(await store.revokeToken(row.id, new Date().toISOString())).toBe(false);
  });

  it("refuses bad projects and scopes", async () => {
    await expect(createToken(store, { project: "no spaces", scope: "read" })).rejects.toThrow(
      /invalid project name/,
    );
    await expect(createToken(store, { project: "ok", scope: "root" })).rejects.toThrow(
      /invalid token scope/,
    );
  });

  it("lets admin do everything and keeps ingest and read apart", () => {
    expect(scopeAllows("admin", "ingest")).toBe(true);
    expect(scopeAllows("admin", "read")).toBe(true);
    expect(scopeAllows("ingest", "read")).toBe(false);
    expect(scopeAllows("read", "ingest")).toBe(false);
    expect(scopeAllows("read", "admin")).toBe(false);
  });
});
