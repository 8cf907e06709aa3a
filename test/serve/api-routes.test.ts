// Pieces of the API routes: which database failures answer 503 (retry) rather than 500,
// metrics taken from a final record's phases, and the runs-list query.
import { describe, expect, it } from "vitest";
import { metricsFromRecord, parseListFilter, storeFailure } from "../../src/serve/api-routes.js";
import { WattprintError } from "../../src/errors.js";

describe("storeFailure", () => {
  it("answers 503 for failures a retry may cure, and nothing for others", () => {
    const transient = [
      new WattprintError("STORE", "locked"),
      Object.assign(new Error("refused"), { code: "ECONNREFUSED" }),
      Object.assign(new Error("conn"), { code: "08006" }),
      Object.assign(new Error("too many"), { code: "53300" }),
      Object.assign(new Error("shutdown"), { code: "57P01" }),
      Object.assign(new Error("busy"), { code: "SQLITE_BUSY" }),
    ];
    for (const error of transient) {
      const answer = storeFailure(error);
      expect(answer?.status, String(error)).toBe(503);
      expect(answer?.headers["retry-after"]).toBe("2");
    }
    expect(storeFailure(Object.assign(new Error("unique"), { code: "23505" }))).toBeNull();
    expect(storeFailure(new Error("bug"))).toBeNull();
    expect(storeFailure(new WattprintError("BAD_INPUT", "x"))).toBeNull();
  });
});

describe("metricsFromRecord", () => {
  it("takes the last phase's metrics, later phases winning", () => {
    const record = {
      phases: [
        { name: "b", endedAt: "2025-01-01T00:00:02Z", metrics: { acc: 0.9 } },
        { name: "a", endedAt: "2025-01-01T00:00:01Z", metrics: { acc: 0.5, loss: 1 } },
        { name: "c", endedAt: "2025-01-01T00:00:03Z", metrics: { bad: "x" } },
      ],
    };
    expect(metricsFromRecord(record)).toEqual({ acc: 0.9, loss: 1 });
    expect(metricsFromRecord(null)).toEqual({});
    expect(metricsFromRecord({ phases: "no" })).toEqual({});
  });
});

describe("parseListFilter", () => {
  it("reads the filters and refuses bad values", () => {
    expect(
      parseListFilter(
        new URLSearchParams(
          "status=failed&host=n1&q=exp&kind=agent&since=2025-01-01T00:00:00Z&limit=10",
        ),
      ),
    ).toEqual({
      status: "failed",
      host: "n1",
      text: "exp",
      kind: "agent",
      sinceMs: Date.parse("2025-01-01T00:00:00Z"),
      limit: 10,
    });
    expect(parseListFilter(new URLSearchParams("status="))).toEqual({});
    expect(() => parseListFilter(new URLSearchParams("limit=0"))).toThrow(/limit/);
    expect(() => parseListFilter(new URLSearchParams("since=yesterday"))).toThrow(/since/);
    expect(() => parseListFilter(new URLSearchParams("kind=cron"))).toThrow(/kind/);
  });
});
