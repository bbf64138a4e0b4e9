// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// UPSHOT_WRITE_BINDINGS=1 cargo test -p upshot-desktop bindings rewrites it.

/**
 * The logged-in account (no secrets: those stay in the vault).
 */
export type Account = { 
/**
 * Imgur username.
 */
username: string, 
/**
 * Imgur account id.
 */
account_id: number | null, 
/**
 * When the access token expires (it is refreshed before).
 */
expires_at: UnixMillis, 
/**
 * When the login was completed.
 */
logged_in_at: UnixMillis, 
/**
 * Set when Imgur no longer accepts the login: why, and that the user must log in again.
 */
logged_out_reason: string | null, 
/**
 * Where the tokens are kept.
 */
secret_store: VaultKind, };

/**
 * What happens to a file once its upload is confirmed.
 */
export type AfterUpload = { "then": "keep" } | { "then": "move", 
/**
 * The subfolder's name, relative to the watched folder.
 */
subfolder: string, } | { "then": "delete" };

/**
 * Everything that needs the user's attention now, for the app to show in one place: the start
 * notices, and the faults of upload workers (of this or another process) that are retrying a
 * database error. Serializes as `{notices: [...], worker_faults: [...], own_pid}`.
 */
export type Attention = { 
/**
 * Config files set aside at start.
 */
notices: Array<ConfigNotice>, 
/**
 * Workers that cannot record their work (disk full, database busy, …), still retrying.
 */
worker_faults: Array<WorkerFault>, 
/**
 * This process's id, so a face can tell its own workers' faults from another process's.
 */
own_pid: number, };

/**
 * A file of a batch that is not uploaded, and why (or until when).
 */
export type BatchFile = { 
/**
 * Its name.
 */
name: string, 
/**
 * Why it failed, or what it waits for.
 */
message: string, 
/**
 * Until when it waits (ms since the epoch), for a waiting file.
 */
until: number | null, };

/**
 * A batch that was queued.
 */
export type BatchQueued = { 
/**
 * The batch's id (the queue items carry it).
 */
batch: string, 
/**
 * Files queued (or uploaded already: their links are in the batch).
 */
queued: number, 
/**
 * Paths not queued and why.
 */
rejected: Array<RejectedPath>, };

/**
 * How a batch ended: every file uploaded, failed, or waiting for the budget (the
 * `batch-ended` event). The shell copies `links` and shows `title`/`body` as one notification.
 */
export type BatchReport = { 
/**
 * The batch.
 */
batch: string, 
/**
 * Files uploaded.
 */
uploaded: number, 
/**
 * Their links in the user's format, one a line, in drop order.
 */
links: string, 
/**
 * Files that failed, and why.
 */
failed: Array<BatchFile>, 
/**
 * Files that wait, and until when; each one's link comes as a `late-link` event.
 */
waiting: Array<BatchFile>, 
/**
 * The notification's title: "12 uploaded, links copied".
 */
title: string, 
/**
 * The title when the links were not copied (the app's preferences say not to): "12 uploaded".
 */
uncopied_title: string, 
/**
 * The notification's body: what failed and why, what waits and until when.
 */
body: string, };

/**
 * An error as the UI sees it: a machine-readable code and a message for people.
 */
export type CommandError = { 
/**
 * What kind of failure this is (snake_case).
 */
code: string, 
/**
 * A sentence for the user.
 */
message: string, };

/**
 * What to tell the user about a config file that was set aside: serializes as
 * `{code, message, file, set_aside_as}` for the app; the CLI prints `message` on stderr.
 */
export type ConfigNotice = { 
/**
 * Always `config_set_aside`.
 */
code: string, 
/**
 * What happened and what to do, in words.
 */
message: string, 
/**
 * The file that could not be read.
 */
file: string, 
/**
 * Where its content is now.
 */
set_aside_as: string, };

/**
 * The desktop app's own preferences, kept in its `desktop.json` (the CLI has no use for
 * them); the settings both faces share, the link format among them, stay in `settings.json`.
 */
export type DesktopPrefs = { 
/**
 * Put the links on the clipboard when a batch is uploaded.
 */
copy_on_upload: boolean, 
/**
 * Say so in a notification.
 */
notifications: boolean, 
/**
 * The view the window opened last (`uploads`, `history`, `settings`).
 */
last_view: string, };

/**
 * What a drop, pick or paste did (the `upload_paths` answer).
 */
export type DropOutcome = { "status": "queued" } & BatchQueued | { "status": "confirm", 
/**
 * Files the drop would queue.
 */
files: number, } | { "status": "nothing" };

/**
 * A saved folder with what a running watcher says of it now (the app's folder list).
 */
export type FolderView = { 
/**
 * `watching`, `paused` or `fault`; `starting` until the watcher has taken it up.
 */
state: string, 
/**
 * The fault, in words.
 */
message: string | null, 
/**
 * Problems below it.
 */
warnings: Array<string>, 
/**
 * Short id for the CLI (`upshot watch pause 2`); unique within the list.
 */
id: string, 
/**
 * The folder, absolute.
 */
path: string, 
/**
 * Subfolders too.
 */
recursive: boolean, 
/**
 * File-name patterns to upload (case-insensitive globs).
 */
include: Array<string>, 
/**
 * Names to skip, matched against every part of the path below the folder.
 */
ignore: Array<string>, 
/**
 * Album to upload into: its deletehash when anonymous, its id when logged in.
 */
album: string | null, 
/**
 * What to do with a file once its upload is confirmed.
 */
after_upload: AfterUpload, 
/**
 * `false` while paused: not watched, nothing queued, no catch-up until resumed.
 */
enabled: boolean, 
/**
 * Upload a file whose content was uploaded before (a copy) instead of reporting the
 * existing link.
 */
upload_copies: boolean, };

/**
 * One way to write an upload's link (the history's "copy as").
 */
export type FormattedLink = { 
/**
 * The format's name (`direct`, `page`, `markdown`, …).
 */
format: string, 
/**
 * The format for people ("Markdown", "BBCode", …).
 */
label: string, 
/**
 * The text to copy.
 */
text: string, };

/**
 * One upload of the history view (the `history_list` answer, the `history-added` event).
 */
export type HistoryItem = { 
/**
 * The history entry's id.
 */
id: string, 
/**
 * The file's name when uploaded (or the title, or Imgur's id).
 */
name: string, 
/**
 * The direct link.
 */
link: string, 
/**
 * Imgur's small square thumbnail (loaded lazily by the view).
 */
thumbnail: string | null, 
/**
 * The link in every format, in the order the menu lists them.
 */
links: Array<FormattedLink>, 
/**
 * When it was uploaded (ms since the epoch).
 */
uploaded_at: number, 
/**
 * Whether it was deleted from Imgur.
 */
deleted: boolean, };

/**
 * A failure as the UI shows it: a stable code (docs/ERROR_CODES.md) and words for people.
 */
export type ItemError = { 
/**
 * The stable code.
 */
code: string, 
/**
 * What went wrong and what to do.
 */
message: string, };

/**
 * Where a file of the queue view is.
 */
export type ItemState = "queued" | "waiting" | "uploading" | "done" | "failed" | "cancelled";

/**
 * A job's row id. Stable for the job's whole life; shown to users (`upshot queue cancel 12`).
 */
export type JobId = number;

/**
 * The link of a batch's file that had to wait, uploaded after the batch's report.
 */
export type LateLink = { 
/**
 * The batch.
 */
batch: string, 
/**
 * The file's name.
 */
name: string, 
/**
 * Its link in the user's format.
 */
link: string, };

/**
 * The limits a file must be within (defaults: Imgur's documented ones).
 */
export type Limits = { 
/**
 * Largest image, in bytes.
 */
max_image_bytes: number, 
/**
 * Largest video, in bytes.
 */
max_video_bytes: number, 
/**
 * Longest video, in seconds (where its container says).
 */
max_video_seconds: number, };

/**
 * What the UI is told when a login ends.
 */
export type LoginFinished = { "outcome": "logged_in", 
/**
 * Who.
 */
account: Account, } | { "outcome": "failed", 
/**
 * Why.
 */
error: CommandError, };

/**
 * The user's preflight settings (the settings file's `preflight_*` keys; see
 * [`SettingsFile::preflight`](crate::SettingsFile::preflight)).
 */
export type PreflightSettings = { 
/**
 * Remove personal metadata from JPEG, PNG and WebP (default on). Videos are sent as they
 * are.
 */
strip_metadata: boolean, 
/**
 * Fit oversize screenshots and clipboard images (default on: Upshot made the file).
 */
fit_captures: boolean, 
/**
 * Fit other oversize stills (default off: the user chose that file as it is).
 */
fit_files: boolean, 
/**
 * Send a file again although the same content was uploaded before (default off).
 */
upload_duplicates: boolean, 
/**
 * The limits.
 */
limits: Limits, };

/**
 * One file of the queue view (the `queue_list` answer, the `queue-changed` event).
 */
export type QueueItem = { 
/**
 * The job.
 */
job: string, 
/**
 * The drop, pick or paste it came with; `null` for watched folders and the CLI.
 */
batch: string | null, 
/**
 * The file's name.
 */
name: string, 
/**
 * Its size in bytes.
 */
size: number, 
/**
 * Where it is.
 */
state: ItemState, 
/**
 * Why it waits, while it does.
 */
wait: Wait | null, 
/**
 * Bytes sent, while it is sent.
 */
progress: UploadProgress | null, 
/**
 * The link in the user's format, once uploaded.
 */
link: string | null, 
/**
 * Why it failed, when it did.
 */
error: ItemError | null, 
/**
 * A small picture the core made (`data:` URL). `null` in a `queue-changed` event means
 * "keep the one shown": it is sent with `queue_list` and with the change that says it
 * was made, not with every change. Videos have none.
 */
thumbnail: string | null, };

/**
 * A job that left the queue view (the `queue-removed` event).
 */
export type QueueRemoved = { 
/**
 * The job.
 */
job: string, };

/**
 * Today's budget as the governor sees it (the `quota` answer, the `quota-changed` event).
 */
export type Quota = { 
/**
 * Uploads the budget above the reserve still covers today.
 */
uploads_left: number | null, 
/**
 * Uploads a whole day's budget covers.
 */
uploads_limit: number | null, 
/**
 * Credits left today (shared with every install of the Client ID).
 */
credits_left: number | null, 
/**
 * The day's credits.
 */
credits_limit: number | null, 
/**
 * When the day's limits reset (ms since the epoch).
 */
resets_at: number | null, 
/**
 * When the governor lets the next upload go, while it holds uploads.
 */
next_slot_at: number | null, 
/**
 * Credits the governor never spends.
 */
reserve: number, };

/**
 * A path of a drop that was not queued, and why.
 */
export type RejectedPath = { 
/**
 * The path as given.
 */
path: string, 
/**
 * Why, and what to do.
 */
message: string, };

/**
 * Milliseconds since the Unix epoch: the one time type of the core, stored as `INTEGER` in
 * SQLite and serialized as a bare number.
 *
 * Arithmetic saturates: a nonsense duration from a header must not wrap into the past.
 */
export type UnixMillis = number;

/**
 * Bytes sent of a running upload (the `upload-progress` event, at most ~10 a second a job).
 */
export type UploadProgress = { 
/**
 * The job.
 */
job: string, 
/**
 * Bytes sent so far.
 */
sent: number, 
/**
 * The file's size.
 */
total: number, 
/**
 * Recent speed; 0 until known.
 */
bytes_per_second: number, };

/**
 * Which store holds the secrets (shown to the user: a file is less safe than a keychain).
 */
export type VaultKind = "keychain" | "file";

/**
 * Why a file waits and until when.
 */
export type Wait = { 
/**
 * The core's reason code (`daily_budget`, `rate_limited`, `backoff`, …).
 */
reason: string, 
/**
 * The reason in words.
 */
message: string, 
/**
 * Until when (ms since the epoch); `null` while it waits for an event (a login).
 */
until: number | null, };

/**
 * What the watcher tells its subscribers (the CLI's lines, the app's UI).
 */
export type WatchEvent = { "event": "watching", 
/**
 * The folder.
 */
folder: string, 
/**
 * Files in it that the patterns take.
 */
files: number, 
/**
 * Of those, new or changed since last handed over (looked at next).
 */
new: number, } | { "event": "queued", 
/**
 * The file.
 */
path: string, 
/**
 * Its job.
 */
job: JobId, } | { "event": "duplicate", 
/**
 * The file.
 */
path: string, 
/**
 * The job with that content; `None` when it was uploaded by a job pruned since.
 */
job: JobId | null, 
/**
 * Its link, when uploaded.
 */
link: string | null, } | { "event": "cancelled", 
/**
 * The file.
 */
path: string, 
/**
 * Its job.
 */
job: JobId, 
/**
 * Why, as the job shows it.
 */
reason: string, } | { "event": "repointed", 
/**
 * The file that left.
 */
path: string, 
/**
 * The job.
 */
job: JobId, 
/**
 * The copy it sends now.
 */
to: string, } | { "event": "moved", 
/**
 * The file.
 */
path: string, 
/**
 * Where it is now.
 */
to: string, } | { "event": "reuploading", 
/**
 * The file.
 */
path: string, 
/**
 * The link that is gone.
 */
link: string | null, } | { "event": "deleted", 
/**
 * The file.
 */
path: string, } | { "event": "skipped", 
/**
 * The file.
 */
path: string, 
/**
 * Why.
 */
reason: string, } | { "event": "overflowed", 
/**
 * The folder.
 */
folder: string, } | { "event": "folder_fault", 
/**
 * The folder.
 */
folder: string, 
/**
 * What is wrong and what to do.
 */
message: string, } | { "event": "folder_warning", 
/**
 * The folder.
 */
folder: string, 
/**
 * What.
 */
message: string, };

/**
 * One watched folder and what to do with what lands in it.
 */
export type WatchedFolder = { 
/**
 * Short id for the CLI (`upshot watch pause 2`); unique within the list.
 */
id: string, 
/**
 * The folder, absolute.
 */
path: string, 
/**
 * Subfolders too.
 */
recursive: boolean, 
/**
 * File-name patterns to upload (case-insensitive globs).
 */
include: Array<string>, 
/**
 * Names to skip, matched against every part of the path below the folder.
 */
ignore: Array<string>, 
/**
 * Album to upload into: its deletehash when anonymous, its id when logged in.
 */
album: string | null, 
/**
 * What to do with a file once its upload is confirmed.
 */
after_upload: AfterUpload, 
/**
 * `false` while paused: not watched, nothing queued, no catch-up until resumed.
 */
enabled: boolean, 
/**
 * Upload a file whose content was uploaded before (a copy) instead of reporting the
 * existing link.
 */
upload_copies: boolean, };

/**
 * A runner that cannot do its work: its workers hit a database error and are retrying.
 */
export type WorkerFault = { 
/**
 * The runner's name (`pid<N>-<random>`).
 */
runner: string, 
/**
 * Its process id.
 */
pid: number, 
/**
 * The error's code (`disk_full`, `database_busy`, …).
 */
code: string, 
/**
 * The error in words, saying what to do.
 */
message: string, 
/**
 * Since when it has failed (ms since the epoch).
 */
since: number, 
/**
 * When it last failed (ms since the epoch).
 */
updated_at: number, };

/** Every command: its arguments (`undefined` when it takes none) and its answer. */
export interface Commands {
  attention: { args: undefined; result: Attention };
  login_start: { args: undefined; result: string };
  login_complete: { args: { callback: string }; result: Account };
  account: { args: undefined; result: Account | null };
  logout: { args: undefined; result: string | null };
  watch_folders: { args: undefined; result: Array<FolderView> };
  watch_add: { args: { path: string; recursive: boolean; after: string }; result: WatchedFolder };
  watch_remove: { args: { id: string }; result: null };
  watch_set_enabled: { args: { id: string; enabled: boolean }; result: null };
  preflight_settings: { args: undefined; result: PreflightSettings };
  set_preflight_settings: { args: { settings: PreflightSettings }; result: PreflightSettings };
  upload_paths: { args: { paths: Array<string>; confirmed: boolean }; result: DropOutcome };
  upload_pick: { args: undefined; result: DropOutcome };
  paste_clipboard: { args: undefined; result: DropOutcome };
  queue_list: { args: undefined; result: Array<QueueItem> };
  queue_retry: { args: { job: string }; result: null };
  queue_cancel: { args: { job: string }; result: null };
  queue_remove: { args: { job: string }; result: null };
  quota: { args: undefined; result: Quota };
  history_list: { args: { query: string; limit: number }; result: Array<HistoryItem> };
  history_delete: { args: { ids: Array<string> }; result: Array<string> };
  history_export: { args: undefined; result: number | null };
  copy_text: { args: { text: string }; result: null };
  open_link: { args: { url: string }; result: null };
  desktop_prefs: { args: undefined; result: DesktopPrefs };
  set_desktop_prefs: { args: { prefs: DesktopPrefs }; result: DesktopPrefs };
}

/** Every event the shell emits and its payload. */
export interface Events {
  "login-finished": LoginFinished;
  "account-changed": null;
  "watch-event": WatchEvent;
  "queue-changed": Array<QueueItem>;
  "queue-removed": QueueRemoved;
  "upload-progress": Array<UploadProgress>;
  "quota-changed": Quota;
  "history-added": Array<HistoryItem>;
  "batch-ended": BatchReport;
  "late-link": LateLink;
}
