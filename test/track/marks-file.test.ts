import { afterEach, describe, expect, it } from "vitest";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MarksFileReader, parseMark } from "../../src/track/marks-file.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function marksFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "wattprint-marks-test-"));
  dirs.push(dir);
  return join(dir, "marks.jsonl");
}

describe("parseMark", () => {
  it("reads start and end with optional times in seconds, ms or ISO", () => {
    expect(parseMark('{"phase":"epoch 3","event":"start"}', 1000)).toEqual({
      phase: "epoch 3",
      event: "start",
      timeMs: 1000,
    });
    expect(parseMark('{"phase":"a","event":"end","time":1764000000.5}', 0)).toEqual({
      phase: "a",
      event: "end",
      timeMs: 1764000000500,
    });
    expect(parseMark('{"phase":"a","event":"end","time":1764000000500}', 0)).toMatchObject({
      timeMs: 1764000000500,
    });
    expect(
      parseMark('{"phase":"a","event":"start","time":"2026-11-26T10:00:00Z"}', 0),
    ).toMatchObject({
      timeMs: Date.parse("2026-11-26T10:00:00Z"),
    });
  });

  it("reads metrics reported with a mark, and refuses non-numbers", () => {
    expect(
      parseMark('{"phase":"epoch 2","event":"end","metrics":{"val_accuracy":0.91,"loss":0.3}}', 5),
    ).toEqual({
      phase: "epoch 2",
      event: "end",
      timeMs: 5,
      metrics: { val_accuracy: 0.91, loss: 0.3 },
    });
    expect(parseMark('{"phase":"e","event":"end","metrics":{"acc":"high"}}', 0)).toMatch(
      /"metrics" must be/,
    );
    expect(parseMark('{"phase":"e","event":"end","metrics":[1]}', 0)).toMatch(/"metrics" must be/);
  });

  it("explains what is wrong with a bad line", () => {
    expect(parseMark("epoch 3 start", 0)).toMatch(/not JSON/);
    expect(parseMark('{"event":"start"}', 0)).toMatch(/no "phase"/);
    expect(parseMark('{"phase":"x","event":"begin"}', 0)).toMatch(/"event" must be/);
    expect(parseMark('{"phase":"x","event":"start","time":"yesterday"}', 0)).toMatch(
      /unreadable "time"/,
    );
  });
});

describe("MarksFileReader", () => {
  it("reads only complete new lines, across appends", () => {
    const path = marksFile();
    const reader = new MarksFileReader(path);
    expect(reader.read()).toEqual([]);
    appendFileSync(path, '{"phase":"a","event":"start"}\n{"phase":"a","ev');
    expect(reader.read().map((m) => `${m.phase}:${m.event}`)).toEqual(["a:start"]);
    appendFileSync(path, 'ent":"end"}\n');
    expect(reader.read().map((m) => `${m.phase}:${m.event}`)).toEqual(["a:end"]);
  });

  it("turns malformed lines into a bounded number of warnings", () => {
    const path = marksFile();
    const reader = new MarksFileReader(path);
    appendFileSync(path, "bad\n".repeat(20));
    reader.read();
    expect(reader.warnings).toHaveLength(6);
    expect(reader.warnings.at(-1)).toMatch(/more malformed lines/);
  });

  it("delivers marks as soon as the file changes when watching", async () => {
    const path = marksFile();
    const reader = new MarksFileReader(path);
    const received = new Promise<string>((resolve) =>
      reader.watch((marks) => resolve(marks[0]?.phase ?? "")),
    );
    appendFileSync(path, '{"phase":"warm-up","event":"start"}\n');
    await expect(received).resolves.toBe("warm-up");
    reader.unwatch();
  });
});
