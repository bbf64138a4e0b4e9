//! Why a service call failed: one enum that wraps the errors of the layers below.

use crate::auth::AuthError;
use crate::core_error::CoreError;
use crate::error::ErrorCode;
use crate::runner::RunnerError;
use crate::store::StoreError;
use upshot_imgur::ImgurError;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Setting up failed.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The workers failed.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// Imgur refused or failed a request.
    #[error(transparent)]
    Imgur(#[from] ImgurError),
    /// The governor says the request must wait; nothing was sent.
    #[error("Imgur's budget for this Client ID is spent for now ({reason}); try again {when}.")]
    Budget {
        /// Why.
        reason: &'static str,
        /// When it may go, in words.
        when: String,
    },
    /// A background task stopped (a bug, or the runtime shutting down).
    #[error("an internal task stopped unexpectedly: {0}")]
    Task(String),
    /// An upload made through another server (the sandbox or Imgur) cannot be changed here.
    #[error(
        "This upload was made through {made_on}, not {using}; run the command with the same \
         server (for the sandbox: --sandbox)."
    )]
    OtherServer {
        /// Where it was uploaded.
        made_on: String,
        /// Where this command talks to.
        using: String,
    },
    /// No such entry.
    #[error("{0}")]
    NotFound(String),
    /// A file still to be uploaded cannot leave the queue view unsaid: it must be cancelled.
    #[error("{name} is still to be uploaded: cancel it first, then remove it.")]
    StillToSend {
        /// The file's name.
        name: String,
    },
    /// Ctrl+V found nothing Upshot can upload on the clipboard.
    #[error(
        "The clipboard holds no image, no link to one and no copied files. Copy a picture, an \
         image's address or files, then paste again."
    )]
    NothingToPaste,
    /// What was pasted could not be read or fetched.
    #[error("{0}")]
    PasteFailed(String),
    /// Writing the history's export failed.
    #[error("Could not write {path}: {reason}. Choose another place.")]
    ExportFailed {
        /// Where it was to be written.
        path: String,
        /// Why.
        reason: String,
    },
    /// Logging in, or the logged-in account, failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A watched-folder setting or the folder list failed. The watcher's error is boxed, with
    /// its code kept, so the service does not import the watcher (which imports the service);
    /// the conversion lives in `watch::error`.
    #[error("{source}")]
    Watch {
        /// The watcher error's stable code (`WatchError::code`).
        code: &'static str,
        /// The watcher's error.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl From<crate::governor::GovernorError> for ServiceError {
    fn from(error: crate::governor::GovernorError) -> Self {
        Self::Runner(RunnerError::Governor(error))
    }
}

impl From<crate::paths::PathsError> for ServiceError {
    fn from(error: crate::paths::PathsError) -> Self {
        Self::Core(error.into())
    }
}

/// A wrapping variant reports its source's code: a full disk under the database reaches the
/// CLI's `--json` and the app as `disk_full`, not as a code of the service.
impl ErrorCode for ServiceError {
    fn code(&self) -> &'static str {
        match self {
            Self::Core(error) => error.code(),
            Self::Store(error) => error.code(),
            Self::Runner(error) => error.code(),
            Self::Imgur(error) => error.error_code(),
            Self::Budget { .. } => "budget_spent",
            Self::Task(_) => "internal",
            Self::OtherServer { .. } => "other_server",
            Self::NotFound(_) => "not_found",
            Self::StillToSend { .. } => "still_to_send",
            Self::NothingToPaste => "nothing_to_paste",
            Self::PasteFailed(_) => "paste_failed",
            Self::ExportFailed { .. } => "export_failed",
            Self::Auth(error) => error.code(),
            Self::Watch { code, .. } => code,
        }
    }
}

crate::error::serialize_as_coded!(ServiceError);
