import { describe, expect, it } from "vitest";
import { describeStatus, files } from "./status";

describe("describeStatus", () => {
  it("starts ready and idle", () => {
    expect(describeStatus({ kind: "ready" })).toEqual({ text: "Ready", tone: "idle" });
  });

  it("counts dropped files", () => {
    expect(describeStatus({ kind: "dropped", count: 1 }).text).toMatch(/^1 file received/);
    expect(describeStatus({ kind: "dropped", count: 3 }).text).toMatch(/^3 files received/);
  });

  it("treats an empty drop as nothing to do", () => {
    expect(describeStatus({ kind: "dropped", count: 0 })).toEqual({
      text: "Nothing to upload in that drop",
      tone: "idle",
    });
  });

  it("shows errors with the error tone", () => {
    expect(describeStatus({ kind: "error", message: "Offline" })).toEqual({
      text: "Offline",
      tone: "error",
    });
  });
});

describe("files", () => {
  it("pluralises", () => {
    expect(files(0)).toBe("0 files");
    expect(files(1)).toBe("1 file");
    expect(files(2)).toBe("2 files");
  });
});

describe("a queued batch", () => {
  it("counts what was queued and what was skipped", () => {
    expect(describeStatus({ kind: "queued", count: 3, rejected: 0 })).toEqual({ text: "3 files queued", tone: "active" });
    expect(describeStatus({ kind: "queued", count: 1, rejected: 2 })).toEqual({
      text: "1 file queued; 2 files skipped",
      tone: "error",
    });
    expect(describeStatus({ kind: "queued", count: 0, rejected: 0 }).text).toBe("Nothing to upload there");
  });
});
