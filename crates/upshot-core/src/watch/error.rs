//! What can go wrong with watched folders, in words that say what to do.

use crate::store::StoreError;
use std::path::{Path, PathBuf};

/// Why a watched-folder call failed. Serializes as `{"code": "<code>", "message": "…"}` for
/// the UI, like every error of Upshot.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// Reading or writing a file failed.
    #[error("Could not {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// `watch.json` is not valid.
    #[error(
        "The watched-folder list {path} is not valid JSON ({reason}). Fix it, or delete it and \
         add the folders again with `upshot watch add`."
    )]
    BadFile {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        reason: String,
    },
    /// A pattern or setting is not valid.
    #[error("The {what} {value:?} is not valid: expected {expected}.")]
    BadSetting {
        /// Which setting.
        what: &'static str,
        /// What was given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// The folder is in the list already.
    #[error("{path} is watched already; see `upshot watch list`.")]
    AlreadyWatched {
        /// The folder.
        path: PathBuf,
    },
    /// No folder has that id or path.
    #[error("No watched folder is {key:?}; `upshot watch list` shows the ids and paths.")]
    NotWatched {
        /// What was asked for.
        key: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A background task stopped (a bug, or the runtime shutting down).
    #[error("the folder watcher stopped unexpectedly: {0}")]
    Internal(String),
}

impl WatchError {
    /// An I/O error with what was being done to which path.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// A stable word for the kind of error, for the UI and `--json`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::BadFile { .. } => "bad_file",
            Self::BadSetting { .. } => "bad_setting",
            Self::AlreadyWatched { .. } => "already_watched",
            Self::NotWatched { .. } => "not_watched",
            Self::Store(error) => error.code(),
            Self::Internal(_) => "internal",
        }
    }
}

/// Here, not in the service: the watcher imports the service, never the other way round.
impl From<WatchError> for crate::service::ServiceError {
    fn from(error: WatchError) -> Self {
        Self::Watch {
            code: error.code(),
            source: Box::new(error),
        }
    }
}

impl From<crate::config_file::ConfigFileError> for WatchError {
    fn from(error: crate::config_file::ConfigFileError) -> Self {
        Self::Io {
            action: error.action,
            path: error.path,
            source: error.source,
        }
    }
}

impl crate::error::ErrorCode for WatchError {
    fn code(&self) -> &'static str {
        WatchError::code(self)
    }
}

crate::error::serialize_as_coded!(WatchError);
