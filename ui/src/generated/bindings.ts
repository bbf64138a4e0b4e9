// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// UPSHOT_WRITE_BINDINGS=1 cargo test -p upshot-desktop bindings rewrites it.

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
 * The notification's body: what failed and why, what waits and until when.
 */
body: string, };

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
 * A small PNG the core made (`data:` URL), or `null` (a video, or not made yet).
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

/** Every command: its arguments (`undefined` when it takes none) and its answer. */
export interface Commands {
  login_start: { args: undefined; result: string };
  logout: { args: undefined; result: string | null };
  watch_remove: { args: { id: string }; result: null };
  watch_set_enabled: { args: { id: string; enabled: boolean }; result: null };
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
  "account-changed": null;
  "queue-changed": QueueItem;
  "queue-removed": QueueRemoved;
  "upload-progress": UploadProgress;
  "quota-changed": Quota;
  "history-added": HistoryItem;
  "batch-ended": BatchReport;
  "late-link": LateLink;
}
