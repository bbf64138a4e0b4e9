//! The queue's vocabulary: ids, origins, states, why a job waits, and the job itself.

use crate::types::{HistoryId, JobId, Origin, PreflightReport, WaitReason};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use upshot_imgur::ErrorKind;

/// Where a job is in its life (docs/QUEUE.md, "Job life").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// Held by a worker (under a lease) and being sent.
    Uploading,
    /// Uploaded; `history_id` points at the result.
    Done,
    /// Will not succeed as it is; kept listed with the reason until retried or cancelled.
    Failed,
    /// Cancelled by the user.
    Cancelled,
    /// Waiting for a time (`run_after`) or for an event (log in again), with a `wait_reason`.
    Deferred,
}

impl JobState {
    /// Every state.
    pub const ALL: [JobState; 6] = [
        Self::Queued,
        Self::Uploading,
        Self::Done,
        Self::Failed,
        Self::Cancelled,
        Self::Deferred,
    ];

    /// The word stored in the database and shown in `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Uploading => "uploading",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Deferred => "deferred",
        }
    }

    /// The state a stored word names.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == word)
    }

    /// Done, failed or cancelled: nothing will happen to it unless someone acts.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a job waits and, where known, until when (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// Why.
    pub reason: WaitReason,
    /// When it may run; `None` when it waits for an event (a worker, a login, `resume`).
    pub until: Option<i64>,
}

/// A file to queue, with what the user said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewJob {
    /// The file to upload.
    #[serde(serialize_with = "crate::shown_path::lossy")]
    pub source_path: PathBuf,
    /// Where it came from; decides the priority.
    pub origin: Origin,
    /// The Client ID whose budget the upload spends.
    pub client_id: String,
    /// `None` to upload anonymously, else the username whose token is used.
    pub account: Option<String>,
    /// Album: its deletehash when anonymous, its id when logged in.
    pub album: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The file is Upshot's own (in the spool) and is removed once the upload is confirmed.
    pub spooled: bool,
    /// The file's size if known (0 if not), so progress and projections can show it early.
    pub bytes_total: u64,
    /// BLAKE3 of the content, where the source hashed it (watched folders), so the same
    /// content is recognised under another name or after a restart.
    pub content_hash: Option<String>,
    /// What preflight found and did.
    pub preflight: Option<PreflightReport>,
    /// A copy Upshot made to send instead of the original (a fitted JPEG in the spool),
    /// removed once the upload is confirmed.
    #[serde(serialize_with = "crate::shown_path::lossy_opt")]
    pub upload_path: Option<PathBuf>,
}

impl NewJob {
    /// An anonymous job with no title, album or description.
    pub fn new(
        source_path: impl Into<PathBuf>,
        origin: Origin,
        client_id: impl Into<String>,
    ) -> Self {
        Self {
            source_path: source_path.into(),
            origin,
            client_id: client_id.into(),
            account: None,
            album: None,
            title: None,
            description: None,
            spooled: false,
            bytes_total: 0,
            content_hash: None,
            preflight: None,
            upload_path: None,
        }
    }
}

/// A copy of some content that is queued or uploaded already, so the same content is not sent
/// again: a job, or an upload in the history whose job was pruned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCopy {
    /// The job that holds it; `None` for an upload whose job was pruned (its history entry
    /// stands in alone).
    pub job: Option<JobId>,
    /// Its link, once uploaded.
    pub link: Option<String>,
    /// Its history entry, once uploaded.
    pub history: Option<HistoryId>,
    /// It was (or will be) sent with its metadata: it does not stand in for a cleaned upload.
    #[serde(default)]
    pub kept_metadata: bool,
    /// The account it was (or will be) uploaded as (`None`: anonymous).
    #[serde(default)]
    pub account: Option<String>,
    /// The album it was (or will be) added to.
    #[serde(default)]
    pub album: Option<String>,
}

impl LiveCopy {
    /// Whether this copy may stand in for a new upload of the same content: only in the same
    /// place (account and album: an image on another account or in another album is not where
    /// the user asked for it, and "delete after upload" must not take it for this file's
    /// upload), and not when the new one is to be sent without its metadata and this one kept
    /// it (its link would show the location the user now wants removed).
    pub fn stands_in_for(&self, new: &NewJob) -> bool {
        let wants_clean = new
            .preflight
            .as_ref()
            .is_none_or(|report| report.strip_metadata);
        self.same_place(new.account.as_deref(), new.album.as_deref())
            && !(wants_clean && self.kept_metadata)
    }

    /// Whether it went (or goes) to this account and album.
    pub fn same_place(&self, account: Option<&str>, album: Option<&str>) -> bool {
        self.account.as_deref() == account && self.album.as_deref() == album
    }
}

/// A job as stored (every column of `jobs`), plus why it waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// The file.
    #[serde(serialize_with = "crate::shown_path::lossy")]
    pub source_path: PathBuf,
    /// Where it came from.
    pub origin: Origin,
    /// 0 interactive, 1 backlog; lower runs first.
    pub priority: i64,
    /// The Client ID whose budget it spends.
    pub client_id: String,
    /// `None` anonymous, else the username.
    pub account: Option<String>,
    /// Album.
    pub album: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Where it is in its life.
    pub state: JobState,
    /// Deferred jobs: when they may run (ms); `None` = when told (e.g. after logging in).
    pub run_after: Option<i64>,
    /// Deferred jobs: why they wait.
    pub wait_reason: Option<WaitReason>,
    /// How many times a worker claimed it (reset by `retry`).
    pub attempts: u32,
    /// The last failure's kind.
    pub error_kind: Option<ErrorKind>,
    /// The last failure, in words.
    pub error_message: Option<String>,
    /// The last failure's stable code (docs/ERROR_CODES.md: `imgur_refused`, `too_large`, …),
    /// so a face can act on it without reading the words; `None` for failures recorded before
    /// codes were kept (schema version 9).
    pub error_code: Option<String>,
    /// Bytes sent in the current (or last) attempt.
    pub bytes_sent: u64,
    /// The file's size, 0 where not yet known.
    pub bytes_total: u64,
    /// Random 128-bit hex carried by the upload's `name` (see [`Job::upload_name`]).
    pub marker: String,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// When that worker's lease runs out (ms); after that any worker may take the job over.
    pub lease_expires: Option<i64>,
    /// The file is Upshot's own, in the spool: remove it after a confirmed upload.
    pub spooled: bool,
    /// Done jobs: the history entry of the upload.
    pub history_id: Option<HistoryId>,
    /// When it was queued (ms).
    pub created_at: i64,
    /// When it last changed (ms).
    pub updated_at: i64,
    /// BLAKE3 of the content when the source hashed it.
    pub content_hash: Option<String>,
    /// What preflight found and did (`None` for jobs queued before preflight existed).
    pub preflight: Option<PreflightReport>,
    /// The fitted copy sent instead of `source_path`, when there is one.
    #[serde(serialize_with = "crate::shown_path::lossy_opt")]
    pub upload_path: Option<PathBuf>,
    /// How often its body was sent and no answer came back (the upload may be on Imgur); kept
    /// by `queue retry`, so a retried job is still looked up before it is sent again.
    pub unknown_sends: u32,
    /// For queued and deferred jobs: why they wait (not a column: it also reflects the paused
    /// flag and a client id's rate limit).
    pub waiting: Option<Waiting>,
}

impl Job {
    /// The `name` the upload carries, so a logged-in retry after a crash can find out whether the
    /// first attempt reached Imgur (docs/QUEUE.md, "Crash safety").
    pub fn upload_name(&self) -> String {
        format!("upshot-{}", self.marker)
    }
}

/// What a worker learns when it touches the job it is uploading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[must_use = "a worker whose job was cancelled or taken over must stop sending it"]
pub enum LeaseCheck {
    /// Still ours: carry on.
    Held,
    /// The user cancelled it: stop sending (the job stays cancelled).
    Cancelled,
    /// Another worker took it over (our lease had run out) or it was retried: stop, and leave
    /// the job alone.
    Lost,
}

/// Which jobs [`JobQueue::list`](super::JobQueue::list) returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFilter {
    /// Only these states; empty for all.
    pub states: Vec<JobState>,
    /// Newest (the default) or oldest first.
    pub order: ListOrder,
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many first.
    pub offset: u32,
}

impl JobFilter {
    /// Every job in the given states, newest first.
    pub fn states(states: &[JobState]) -> Self {
        Self {
            states: states.to_vec(),
            ..Self::default()
        }
    }
}

/// The order of a listing, by the order jobs were queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListOrder {
    /// Most recently queued first.
    #[default]
    NewestFirst,
    /// First queued first.
    OldestFirst,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCounts {
    /// Waiting for a worker.
    pub queued: u64,
    /// Being sent.
    pub uploading: u64,
    /// Uploaded.
    pub done: u64,
    /// Failed, kept listed.
    pub failed: u64,
    /// Cancelled.
    pub cancelled: u64,
    /// Waiting for a time or an event.
    pub deferred: u64,
}

impl JobCounts {
    /// Jobs that will still run on their own (queued, uploading, deferred).
    pub fn pending(&self) -> u64 {
        self.queued + self.uploading + self.deferred
    }
}

/// A failure as the queue records it on a job: what the queue does about it (`kind`), the
/// error's stable code (docs/ERROR_CODES.md) and its words. Kept together so the code cannot be
/// dropped on the way from the error to the row, which is how `--json` came to print
/// `upload_failed` for every failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobFailure<'a> {
    /// What the queue does about it.
    pub kind: ErrorKind,
    /// The error's stable code.
    pub code: &'a str,
    /// The reason in words, with what to do.
    pub message: &'a str,
}

/// The kind as stored in `jobs.error_kind`.
pub(crate) fn parse_error_kind(word: &str) -> Option<ErrorKind> {
    [
        ErrorKind::RetryLater,
        ErrorKind::RateLimited,
        ErrorKind::Reauth,
        ErrorKind::Permanent,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == word)
}
