//! The shapes the desktop window shows: a queued file, its progress, the budget, a history
//! entry, what a drop queued and how a batch ended. Plain data made from the core's own types,
//! with their TypeScript declarations derived (`ts-rs`), so the UI's types are generated from
//! these and never copied by hand.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where a file of the queue view is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Waiting its turn for a worker.
    Queued,
    /// Held back, with a reason and (usually) a time.
    Waiting,
    /// Being sent.
    Uploading,
    /// Uploaded.
    Done,
    /// Will not succeed as it is; kept with the reason.
    Failed,
    /// Cancelled by the user.
    Cancelled,
}

impl ItemState {
    /// Whether the file's upload has ended, one way or the other.
    pub fn ended(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

/// Why a file waits and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Wait {
    /// The core's reason code (`daily_budget`, `rate_limited`, `backoff`, …).
    pub reason: String,
    /// The reason in words.
    pub message: String,
    /// Until when (ms since the epoch); `null` while it waits for an event (a login).
    pub until: Option<i64>,
}

/// Bytes sent of a running upload (the `upload-progress` event, at most ~10 a second a job).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UploadProgress {
    /// The job.
    pub job: String,
    /// Bytes sent so far.
    pub sent: u64,
    /// The file's size.
    pub total: u64,
    /// Recent speed; 0 until known.
    pub bytes_per_second: u64,
}

/// A failure as the UI shows it: a stable code (docs/ERROR_CODES.md) and words for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ItemError {
    /// The stable code.
    pub code: String,
    /// What went wrong and what to do.
    pub message: String,
}

/// One file of the queue view (the `queue_list` answer, the `queue-changed` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QueueItem {
    /// The job.
    pub job: String,
    /// The drop, pick or paste it came with; `null` for watched folders and the CLI.
    pub batch: Option<String>,
    /// The file's name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where it is.
    pub state: ItemState,
    /// Why it waits, while it does.
    pub wait: Option<Wait>,
    /// Bytes sent, while it is sent.
    pub progress: Option<UploadProgress>,
    /// The link in the user's format, once uploaded.
    pub link: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<ItemError>,
    /// A small picture the core made (`data:` URL). `null` in a `queue-changed` event means
    /// "keep the one shown": it is sent with `queue_list` and with the change that says it
    /// was made, not with every change. Videos have none.
    pub thumbnail: Option<String>,
}

/// Today's budget as the governor sees it (the `quota` answer, the `quota-changed` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Quota {
    /// Uploads the budget above the reserve still covers today.
    pub uploads_left: Option<i64>,
    /// Uploads a whole day's budget covers.
    pub uploads_limit: Option<i64>,
    /// Credits left today (shared with every install of the Client ID).
    pub credits_left: Option<i64>,
    /// The day's credits.
    pub credits_limit: Option<i64>,
    /// When the day's limits reset (ms since the epoch).
    pub resets_at: Option<i64>,
    /// When the governor lets the next upload go, while it holds uploads.
    pub next_slot_at: Option<i64>,
    /// Credits the governor never spends.
    pub reserve: i64,
}

/// One way to write an upload's link (the history's "copy as").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FormattedLink {
    /// The format's name (`direct`, `page`, `markdown`, …).
    pub format: String,
    /// The format for people ("Markdown", "BBCode", …).
    pub label: String,
    /// The text to copy.
    pub text: String,
}

/// One upload of the history view (the `history_list` answer, the `history-added` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HistoryItem {
    /// The history entry's id.
    pub id: String,
    /// The file's name when uploaded (or the title, or Imgur's id).
    pub name: String,
    /// The direct link.
    pub link: String,
    /// Imgur's small square thumbnail (loaded lazily by the view).
    pub thumbnail: Option<String>,
    /// The link in every format, in the order the menu lists them.
    pub links: Vec<FormattedLink>,
    /// When it was uploaded (ms since the epoch).
    pub uploaded_at: i64,
    /// Whether it was deleted from Imgur.
    pub deleted: bool,
}

/// A path of a drop that was not queued, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RejectedPath {
    /// The path as given.
    pub path: String,
    /// Why, and what to do.
    pub message: String,
}

/// What a drop, pick or paste did (the `upload_paths` answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DropOutcome {
    /// Queued as one batch.
    Queued(BatchQueued),
    /// The folders hold more files than a drop takes unasked: call again with `confirmed`.
    Confirm {
        /// Files the drop would queue.
        files: u32,
    },
    /// Nothing to upload (an empty folder, a cancelled picker).
    Nothing,
}

/// A batch that was queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BatchQueued {
    /// The batch's id (the queue items carry it).
    pub batch: String,
    /// Files queued (or uploaded already: their links are in the batch).
    pub queued: u32,
    /// Paths not queued and why.
    pub rejected: Vec<RejectedPath>,
}

/// A file of a batch that is not uploaded, and why (or until when).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BatchFile {
    /// Its name.
    pub name: String,
    /// Why it failed, or what it waits for.
    pub message: String,
    /// Until when it waits (ms since the epoch), for a waiting file.
    pub until: Option<i64>,
}

/// How a batch ended: every file uploaded, failed, or waiting for the budget (the
/// `batch-ended` event). The shell copies `links` and shows `title`/`body` as one notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BatchReport {
    /// The batch.
    pub batch: String,
    /// Files uploaded.
    pub uploaded: u32,
    /// Their links in the user's format, one a line, in drop order.
    pub links: String,
    /// Files that failed, and why.
    pub failed: Vec<BatchFile>,
    /// Files that wait, and until when; each one's link comes as a `late-link` event.
    pub waiting: Vec<BatchFile>,
    /// The notification's title: "12 uploaded, links copied".
    pub title: String,
    /// The title when the links were not copied (the app's preferences say not to): "12 uploaded".
    pub uncopied_title: String,
    /// The notification's body: what failed and why, what waits and until when.
    pub body: String,
}

/// The link of a batch's file that had to wait, uploaded after the batch's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LateLink {
    /// The batch.
    pub batch: String,
    /// The file's name.
    pub name: String,
    /// Its link in the user's format.
    pub link: String,
}

/// A job that left the queue view (the `queue-removed` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QueueRemoved {
    /// The job.
    pub job: String,
}

/// The desktop app's own preferences, kept in its `desktop.json` (the CLI has no use for
/// them); the settings both faces share, the link format among them, stay in `settings.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct DesktopPrefs {
    /// Put the links on the clipboard when a batch is uploaded.
    pub copy_on_upload: bool,
    /// Say so in a notification.
    pub notifications: bool,
    /// The view the window opened last (`uploads`, `history`, `settings`).
    pub last_view: String,
}

impl Default for DesktopPrefs {
    fn default() -> Self {
        Self {
            copy_on_upload: true,
            notifications: true,
            last_view: "uploads".to_owned(),
        }
    }
}
