/**
 * The one typed door to the shell: every command the UI calls and every event it listens to,
 * with their argument and payload shapes. Components call `call`/`on` and never `invoke` or
 * `listen` with a bare string, so a renamed command or a changed shape is one edit here (and,
 * once issue 15's generated types land, a compile error).
 *
 * Commands marked PROPOSED are not in src-tauri yet: the window is laid out against them so
 * the Rust side can implement exactly these names and shapes. Until then calling one rejects
 * (Tauri answers "command not found"), and the views say the feature is not available: no data
 * is ever made up here.
 */
import { invoke, isTauri } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { Account, LoginFinished } from "./account";
import { asCommandError, type CommandError } from "./errors";
import type { Attention } from "./attention";
import type { PreflightSettings } from "./preflight";
import type { FolderView, WatchedFolder, WatchEvent } from "./watch";
import type { BatchQueued, QueueItem, QueueRemoved, UploadProgress } from "./queue";
import type { Quota } from "./quota";
import type { HistoryItem } from "./history";

/** Every command: its arguments (`undefined` when it takes none) and its answer. */
export interface Commands {
  attention: { args: undefined; result: Attention };
  login_start: { args: undefined; result: string };
  login_complete: { args: { callback: string }; result: Account };
  account: { args: undefined; result: Account | null };
  logout: { args: undefined; result: string | null };
  watch_folders: { args: undefined; result: FolderView[] };
  /** `after`: `keep`, `delete` or `move:<subfolder>`. */
  watch_add: { args: { path: string; recursive: boolean; after: string }; result: WatchedFolder };
  watch_remove: { args: { id: string }; result: null };
  watch_set_enabled: { args: { id: string; enabled: boolean }; result: null };
  preflight_settings: { args: undefined; result: PreflightSettings };
  set_preflight_settings: { args: { settings: PreflightSettings }; result: PreflightSettings };

  /** PROPOSED: queue dropped or pasted paths as one interactive batch (folders expanded). */
  upload_paths: { args: { paths: string[] }; result: BatchQueued };
  /** PROPOSED: open the system file picker (tauri-plugin-dialog) and queue what is picked;
   * `null` when the picker is cancelled. */
  upload_pick: { args: undefined; result: BatchQueued | null };
  /** PROPOSED: the queue's jobs, oldest first (done jobs of this session included). */
  queue_list: { args: undefined; result: QueueItem[] };
  /** PROPOSED: a failed or waiting job tries again now. */
  queue_retry: { args: { job: string }; result: null };
  /** PROPOSED: a queued, waiting or running job is cancelled. */
  queue_cancel: { args: { job: string }; result: null };
  /** PROPOSED: an ended job leaves the list (its history entry stays). */
  queue_remove: { args: { job: string }; result: null };
  /** PROPOSED: history entries, newest first, matching `query` (name or link; "" = all). */
  history_list: { args: { query: string; limit: number }; result: HistoryItem[] };
  /** PROPOSED: deletes entries from Imgur (with their deletion links) and from the history;
   * answers the ids deleted (an entry Imgur refused stays, and the call rejects with why). */
  history_delete: { args: { ids: string[] }; result: string[] };
  /** PROPOSED: today's budget as the governor sees it. */
  quota: { args: undefined; result: Quota };
}

/** Every event the shell emits and its payload. */
export interface Events {
  "login-finished": LoginFinished;
  "account-changed": null;
  "watch-event": WatchEvent;
  /** PROPOSED: a job was added or changed state (the whole item, replacing the shown one). */
  "queue-changed": QueueItem;
  /** PROPOSED: a job left the list. */
  "queue-removed": QueueRemoved;
  /** PROPOSED: bytes sent for a running job, at most ~10 a second per job. */
  "upload-progress": UploadProgress;
  /** PROPOSED: the budget changed (an upload spent it, a reset, the governor holding). */
  "quota-changed": Quota;
  /** PROPOSED: an upload was recorded in the history. */
  "history-added": HistoryItem;
}

type ArgsOf<K extends keyof Commands> = Commands[K]["args"] extends undefined
  ? []
  : [Commands[K]["args"]];

/** Whether a shell is there to call (false in `npm run dev` in a plain browser). */
export function inShell(): boolean {
  return isTauri();
}

/** Calls a command; rejects with a [`CommandError`] (`{ code, message }`). */
export async function call<K extends keyof Commands>(
  command: K,
  ...args: ArgsOf<K>
): Promise<Commands[K]["result"]> {
  try {
    return await invoke<Commands[K]["result"]>(command, args[0] as Record<string, unknown> | undefined);
  } catch (error) {
    throw asCommandError(error);
  }
}

/** Listens to an event; resolves to the function that stops listening. */
export function on<K extends keyof Events>(
  event: K,
  handler: (payload: Events[K]) => void,
): Promise<UnlistenFn> {
  return listen<Events[K]>(event, (message) => handler(message.payload));
}

/** Whether an error means the shell does not offer the command yet (an older or newer app). */
export function isMissingCommand(error: CommandError): boolean {
  return /command .* not found|not allowed|unknown command/i.test(error.message);
}
