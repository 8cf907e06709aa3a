import { describe, expect, it } from "vitest";
import { parseDurationS } from "../../src/cli/parse-values.js";
import { splitCommand } from "../../src/cli/split-argv.js";

describe("parseDurationS", () => {
  it("reads units", () => {
    expect(parseDurationS("1s", "--interval")).toBe(1);
    expect(parseDurationS("500ms", "--interval")).toBeCloseTo(0.5, 9);
    expect(parseDurationS("2m", "--interval")).toBe(120);
    expect(parseDurationS("0.25", "--interval")).toBe(0.25);
  });

  it("refuses anything else with the flag named", () => {
    expect(() => parseDurationS("fast", "--interval")).toThrow(/invalid --interval "fast"/);
    expect(() => parseDurationS("-1s", "--interval")).toThrow(/invalid --interval/);
  });
});

describe("splitCommand", () => {
  const values = new Set(["region", "out"]);
  it("stops at -- and keeps the command's own flags", () => {
    expect(splitCommand(["--region", "FR", "--", "python", "-u", "train.py"], values)).toEqual({
      options: ["--region", "FR"],
      command: ["python", "-u", "train.py"],
    });
  });

  it("stops at the first word that is not an option", () => {
    expect(
      splitCommand(["--out=r.json", "node", "--max-old-space-size=100", "x.js"], values),
    ).toEqual({
      options: ["--out=r.json"],
      command: ["node", "--max-old-space-size=100", "x.js"],
    });
  });
});
