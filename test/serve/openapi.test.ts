// docs/openapi.yaml documents every route the server answers, and the server serves it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ROUTES } from "../../src/serve/api-routes.js";
import { CARBON_AWARE_ROUTES } from "../../src/serve/carbon-aware-routes.js";
import { REPO_ROOT } from "../helpers/cli.js";
import { request, sqliteDatabase, startTestServer, type TestServer } from "./helpers.js";

const yaml = readFileSync(join(REPO_ROOT, "docs/openapi.yaml"), "utf8");

/** The route's path pattern as an OpenAPI path with a named parameter. */
function openApiPattern(path: RegExp): RegExp {
  const source = path.source
    .replace(/^\^/, "")
    .replace(/\$$/, "")
    .replace(/\\\//g, "/")
    .replace(/\\\./g, ".");
  const escaped = source
    .replace(/\(\[\^\/\]\+\)/g, "@@")
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/@@/g, "\\{[a-z]+\\}");
  return new RegExp(`^  ${escaped}:$`, "m");
}

describe("OpenAPI document", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteDatabase());
  });
  afterAll(async () => t?.close());

  it("has every API and Carbon Aware SDK route, with each method", () => {
    for (const route of [...API_ROUTES, ...CARBON_AWARE_ROUTES]) {
      const pattern = openApiPattern(route.path);
      const match = pattern.exec(yaml);
      expect(match, `${route.method} ${route.path.source}`).not.toBeNull();
      const after = yaml.slice((match?.index ?? 0) + (match?.[0].length ?? 0));
      const block = after.slice(0, after.search(/\n {2}\/|\ncomponents:/));
      expect(block, `${route.method} ${route.path.source}`).toContain(
        `    ${route.method.toLowerCase()}:`,
      );
    }
    for (const path of ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.yaml"])
      expect(yaml).toContain(`\n  ${path}:\n`);
  });

  it("is served at /api/v1/openapi.yaml without a token", async () => {
    const answer = await request(`${t.url}/api/v1/openapi.yaml`);
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(yaml);
  });
});
