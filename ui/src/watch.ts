/**
 * The watched-folders panel: the shapes of the shell's `watch_folders`/`watch_add` answers and
 * `watch-event` (from `upshot_core::watch`), and the words shown for them. Kept free of the DOM
 * so it can be unit-tested.
 */

import type { AfterUpload, FolderView } from "./generated/bindings";
export type { AfterUpload, FolderView, WatchedFolder, WatchEvent } from "./generated/bindings";

/** The words for what happens after upload. */
export function describeAfter(after: AfterUpload): string {
  switch (after.then) {
    case "keep":
      return "files are kept";
    case "delete":
      return "files are deleted after upload";
    case "move":
      return `files are moved to ${after.subfolder}`;
  }
}

/** The line under a folder's path. */
export function describeFolder(folder: FolderView): string {
  const state =
    folder.state === "watching"
      ? "Watching"
      : folder.state === "paused"
        ? "Paused"
        : folder.state === "fault"
          ? `Not watched: ${folder.message ?? "a fault"}`
          : "Starting";
  const depth = folder.recursive ? "with subfolders" : "this folder only";
  return `${state} · ${depth} · ${describeAfter(folder.after_upload)}`;
}

/** The `after` argument of `watch_add` for the add dialog's choice, or a sentence to fix it. */
export function afterArgument(choice: "keep" | "delete" | "move", subfolder: string): string | { error: string } {
  if (choice !== "move") return choice;
  const name = subfolder.trim();
  if (!name || /[\\/]/.test(name) || name === "." || name === "..") {
    return { error: "Name one subfolder to move uploaded files into, like “uploaded”." };
  }
  return `move:${name}`;
}
