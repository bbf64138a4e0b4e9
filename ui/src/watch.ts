/**
 * The watched-folders panel: the shapes of the shell's `watch_folders`/`watch_add` answers and
 * `watch-event` (from `upshot_core::watch`), and the words shown for them. Kept free of the DOM
 * so it can be unit-tested.
 */

/** What happens to a file once uploaded (`AfterUpload` as serde sends it). */
export type AfterUpload = { then: "keep" } | { then: "delete" } | { then: "move"; subfolder: string };

/** A saved folder (`WatchedFolder`). */
export interface WatchedFolder {
  id: string;
  path: string;
  recursive: boolean;
  include: string[];
  ignore: string[];
  album: string | null;
  after_upload: AfterUpload;
  enabled: boolean;
  upload_copies: boolean;
}

/** A saved folder and the watcher's state for it (`FolderView`). */
export interface FolderView extends WatchedFolder {
  /** `watching`, `paused`, `fault`, or `starting`. */
  state: string;
  message: string | null;
  warnings: string[];
}

/** A watcher event (`WatchEvent`, tagged by `event`); the panel only refreshes on them. */
export interface WatchEvent {
  event: string;
  [field: string]: unknown;
}

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
