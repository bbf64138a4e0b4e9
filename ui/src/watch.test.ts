import { describe, expect, it } from "vitest";
import { afterArgument, describeFolder, type FolderView } from "./watch";

const folder = (over: Partial<FolderView> = {}): FolderView => ({
  id: "1",
  path: "/home/a/Pictures",
  recursive: false,
  include: ["*.png"],
  ignore: [],
  album: null,
  after_upload: { then: "keep" },
  enabled: true,
  upload_copies: false,
  state: "watching",
  message: null,
  warnings: [],
  ...over,
});

describe("a watched folder's line", () => {
  it("says its state, depth and what happens after upload", () => {
    expect(describeFolder(folder())).toBe("Watching · this folder only · files are kept");
    expect(describeFolder(folder({ state: "paused", recursive: true, after_upload: { then: "move", subfolder: "done" } }))).toBe(
      "Paused · with subfolders · files are moved to done",
    );
    expect(describeFolder(folder({ state: "fault", message: "The folder is gone." }))).toMatch(/^Not watched: The folder is gone\./);
  });
});

describe("the add dialog's after-upload choice", () => {
  it("gives the shell's argument or a sentence to fix it", () => {
    expect(afterArgument("keep", "")).toBe("keep");
    expect(afterArgument("move", " uploaded ")).toBe("move:uploaded");
    expect(afterArgument("move", "a/b")).toHaveProperty("error");
  });
});
