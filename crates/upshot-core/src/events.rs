//! What the core tells the faces (the CLI's progress bars, the desktop UI) as it happens.
//!
//! A leaf: the events name jobs, history entries and images by the shared types and import
//! nothing that acts, so every layer that emits (the runner) and every face that listens can
//! depend on this module without depending on each other.

// The shared types move to `crate::types` (issue 14); until then they come from where they live.
use crate::types::{HistoryId, JobId, WaitReason};
use serde::Serialize;
use upshot_imgur::{ErrorKind, Image};

/// What the queue tells its watchers (the CLI's progress bars, the desktop UI).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum QueueEvent {
    /// A job entered the queue.
    Queued {
        /// The job.
        job: JobId,
    },
    /// A worker started sending it.
    Started {
        /// The job.
        job: JobId,
        /// Which attempt this is (1 for the first).
        attempt: u32,
        /// The file's size.
        total: u64,
    },
    /// Bytes handed to the network.
    Progress {
        /// The job.
        job: JobId,
        /// Bytes sent so far.
        sent: u64,
        /// The file's size.
        total: u64,
    },
    /// It waits, and why, until when (`None`: until an event such as a login).
    Waiting {
        /// The job.
        job: JobId,
        /// Why.
        reason: WaitReason,
        /// Until when (ms since the epoch).
        until: Option<i64>,
        /// The failure that caused the wait, if one did.
        error: Option<String>,
    },
    /// Uploaded.
    Done {
        /// The job.
        job: JobId,
        /// Its history entry.
        history: HistoryId,
        /// The uploaded image.
        image: Box<Image>,
    },
    /// Failed for good (kept listed with the reason).
    Failed {
        /// The job.
        job: JobId,
        /// The error's kind.
        kind: ErrorKind,
        /// The error's stable code (docs/ERROR_CODES.md), as recorded on the job.
        code: String,
        /// The reason in words.
        message: String,
    },
    /// Cancelled while it was being sent.
    Cancelled {
        /// The job.
        job: JobId,
    },
}
