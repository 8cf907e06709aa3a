/**
 * API tokens: `wpt_<id>_<secret>`, project-scoped, with a scope (ingest, read, admin).
 * The secret is 32 random bytes; only its SHA-256 is stored (a random 256-bit secret
 * needs no slow hash), and it is compared in constant time. The id (12 hex characters)
 * finds the row and is safe to show, log and revoke by.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { WattprintError } from "../errors.js";
import type { ServerStore, TokenRow, TokenScope } from "../store/server-store.js";

/** The scopes, each allowing what the ones before it allow... except ingest cannot read. */
export const TOKEN_SCOPES: readonly TokenScope[] = ["ingest", "read", "admin"];

/** Project names: 1–64 letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
export const PROJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const TOKEN_PATTERN = /^wpt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** A token as created: the full text (shown once) and its stored row. */
export interface CreatedToken {
  token: string;
  row: TokenRow;
}

/** What a verified token allows. */
export interface Principal {
  /** The token id, or "loopback" in open mode. */
  tokenId: string;
  project: string;
  scope: TokenScope;
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Checks a project name; throws WattprintError("USAGE") when it does not fit. */
export function validateProject(project: string): string {
  if (!PROJECT_PATTERN.test(project)) {
    throw new WattprintError("USAGE", `invalid project name "${project}"`, {
      hint: "use 1–64 letters, digits, dots, underscores or dashes, starting with a letter or digit",
    });
  }
  return project;
}

/** Checks a scope; throws WattprintError("USAGE") when it is not one of {@link TOKEN_SCOPES}. */
export function validateScope(scope: string): TokenScope {
  if (!(TOKEN_SCOPES as readonly string[]).includes(scope)) {
    throw new WattprintError("USAGE", `invalid token scope "${scope}"`, {
      hint: `a scope is one of ${TOKEN_SCOPES.join(", ")}`,
    });
  }
  return scope as TokenScope;
}

/** Creates and stores a token; the returned text is the only copy of its secret. */
export async function createToken(
  store: ServerStore,
  options: { project: string; scope: string; label?: string | null; nowMs?: number },
): Promise<CreatedToken> {
  const project = validateProject(options.project);
  const scope = validateScope(options.scope);
  const label = options.label ?? null;
  if (label !== null && label.length > 200) {
    throw new WattprintError("USAGE", "a token label has at most 200 characters");
  }
  const id = randomBytes(6).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  const row: TokenRow = {
    id,
    project,
    scope,
    secretSha256: sha256Hex(secret),
    label,
    createdAt: new Date(options.nowMs ?? Date.now()).toISOString(),
    revokedAt: null,
  };
  await store.insertToken(row);
  return { token: `wpt_${id}_${secret}`, row };
}

/** The id part of a token text, or null when the text is not shaped like a token. */
export function tokenId(token: string): string | null {
  return TOKEN_PATTERN.exec(token)?.[1] ?? null;
}

const DUMMY_HASH = Buffer.from(sha256Hex("wattprint: no such token"), "hex");

/**
 * Checks a token against the store: the row must exist, not be revoked, and the secret's
 * hash must match (compared in constant time; an unknown id costs the same comparison).
 * Returns the principal, or a reason it was refused.
 */
export async function verifyToken(
  store: ServerStore,
  token: string,
  lookup: (id: string) => Promise<TokenRow | null> = (id) => store.findToken(id),
): Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> {
  const match = TOKEN_PATTERN.exec(token);
  if (match === null) return { ok: false, reason: "malformed token" };
  const [, id, secret] = match as unknown as [string, string, string];
  const row = await lookup(id);
  const presented = Buffer.from(sha256Hex(secret), "hex");
  const expected = row === null ? DUMMY_HASH : Buffer.from(row.secretSha256, "hex");
  const equal = expected.length === presented.length && timingSafeEqual(expected, presented);
  if (row === null || !equal) return { ok: false, reason: "unknown token" };
  if (row.revokedAt !== null) return { ok: false, reason: "revoked token" };
  return { ok: true, principal: { tokenId: row.id, project: row.project, scope: row.scope } };
}

/** Whether `scope` allows an action needing `needed` (admin allows all; ingest and read are apart). */
export function scopeAllows(scope: TokenScope, needed: TokenScope): boolean {
  return scope === "admin" || scope === needed;
}
