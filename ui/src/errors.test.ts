import { describe, expect, it } from "vitest";
import { asCommandError } from "./errors";

describe("command errors", () => {
  it("keeps the shell's code and message", () => {
    expect(asCommandError({ code: "disk_full", message: "The disk holding /d is full." })).toEqual({
      code: "disk_full",
      message: "The disk holding /d is full.",
    });
  });

  it("calls anything without a code internal", () => {
    expect(asCommandError(new Error("boom"))).toEqual({ code: "internal", message: "boom" });
    expect(asCommandError("the webview went away")).toEqual({
      code: "internal",
      message: "the webview went away",
    });
    expect(asCommandError({ code: 7, message: "odd" }).code).toBe("internal");
  });
});
