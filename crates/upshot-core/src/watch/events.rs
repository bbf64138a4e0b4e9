//! What the watcher tells its subscribers (the CLI's lines, the app's UI), and each folder's
//! state for `upshot watch list` and the app's folder list.

use super::config::WatchedFolder;
use crate::types::JobId;
use serde::Serialize;
use std::path::PathBuf;

/// What the watcher tells its subscribers (the CLI's lines, the app's UI).
// The app's TypeScript type is derived: ts-rs does not see `serialize_with`, so each path it
// writes as text is declared `as = "String"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WatchEvent {
    /// A folder is watched (at start, or back after a fault); its catch-up scan is done.
    Watching {
        /// The folder.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        folder: PathBuf,
        /// Files in it that the patterns take.
        files: usize,
        /// Of those, new or changed since last handed over (looked at next).
        new: usize,
    },
    /// A complete file was queued.
    Queued {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        path: PathBuf,
        /// Its job.
        job: JobId,
    },
    /// The file's content was uploaded or queued before: not sent again.
    Duplicate {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        path: PathBuf,
        /// The job with that content; `None` when it was uploaded by a job pruned since.
        job: Option<JobId>,
        /// Its link, when uploaded.
        link: Option<String>,
    },
    /// A file left the folder before its upload started: its job was cancelled.
    Cancelled {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        path: PathBuf,
        /// Its job.
        job: JobId,
        /// Why, as the job shows it.
        reason: String,
    },
    /// A file left the folder before upload, but a copy remains: the job sends the copy.
    Repointed {
        /// The file that left.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        path: PathBuf,
        /// The job.
        job: JobId,
        /// The copy it sends now.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        to: PathBuf,
    },
    /// The after-upload action was carried out.
    Moved {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        path: PathBuf,
        /// Where it is now.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        to: PathBuf,
    },
    /// The upload a duplicate stood in for is no longer on Imgur (deleted there, not through
    /// Upshot): the file is kept and uploaded again; its action follows that upload.
    Reuploading {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        path: PathBuf,
        /// The link that is gone.
        link: Option<String>,
    },
    /// The after-upload action deleted the file.
    Deleted {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        path: PathBuf,
    },
    /// A file was given up on for now.
    Skipped {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Events came faster than they were taken (or the system dropped some): the folder is
    /// scanned again, so nothing is missed.
    Overflowed {
        /// The folder.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        folder: PathBuf,
    },
    /// A folder cannot be watched (missing, unreadable); it is looked for again.
    FolderFault {
        /// The folder.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        folder: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// Something below a folder is skipped (a symlink loop, an unreadable subfolder); the rest
    /// of the folder is watched.
    FolderWarning {
        /// The folder.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        #[ts(as = "String")]
        folder: PathBuf,
        /// What.
        message: String,
    },
}

/// A folder's state, for `upshot watch list` and the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FolderStatus {
    /// Its id.
    pub id: String,
    /// The folder.
    #[serde(serialize_with = "crate::shown_path::lossy")]
    pub path: PathBuf,
    /// `watching`, `paused` or `fault`.
    pub state: &'static str,
    /// The fault, in words.
    pub message: Option<String>,
    /// Problems below it.
    pub warnings: Vec<String>,
}

/// A saved folder with what a running watcher says of it now (the app's folder list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FolderView {
    /// The saved settings.
    #[serde(flatten)]
    pub folder: WatchedFolder,
    /// `watching`, `paused` or `fault`; `starting` until the watcher has taken it up.
    pub state: String,
    /// The fault, in words.
    pub message: Option<String>,
    /// Problems below it.
    pub warnings: Vec<String>,
}
