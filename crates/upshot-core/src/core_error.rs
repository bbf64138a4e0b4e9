//! Errors of the core that are not about one upload: configuration, directories, the sandbox.
//!
//! [`CoreError`] sits above the modules whose errors it wraps (paths, config files, the vault,
//! the Imgur client): they each keep their own enum and import nothing of this one.

use crate::error::ErrorCode;
use std::path::PathBuf;

/// A problem the user must fix before Upshot can work; every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// No Client ID is set and the sandbox is not in use.
    #[error(
        "No Imgur Client ID is configured. Register an application at https://api.imgur.com/oauth2/addclient \
         (choose \"OAuth 2 authorization with a callback URL\" and give it the callback upshot://oauth/callback), \
         then run `upshot config set client-id <ID>` or set UPSHOT_CLIENT_ID. \
         To try Upshot without an account, add --sandbox."
    )]
    MissingClientId,
    /// The API base URL setting does not parse.
    #[error(
        "The API base URL {value:?} is not a valid URL: {reason}. Use e.g. https://api.imgur.com, or a name: imgur, rapidapi."
    )]
    InvalidApiBase {
        /// What was given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A setting's value is not one of the accepted values.
    #[error("{key} cannot be {value:?}: {expected}")]
    InvalidSetting {
        /// The setting.
        key: String,
        /// What was given.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// Finding or creating Upshot's directories failed.
    #[error(transparent)]
    Paths(#[from] crate::paths::PathsError),
    /// The settings file exists but is not valid.
    #[error(
        "The settings file {path} is not valid JSON ({reason}). Fix it or delete it to start over."
    )]
    BadSettingsFile {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        reason: String,
    },
    /// Reading or writing a file or directory failed.
    #[error("Could not {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "write", "create").
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The sandbox server could not start.
    #[error("The sandbox server could not start: {0}")]
    Sandbox(String),
    /// The Imgur client could not be built.
    #[error("{0}")]
    Client(#[from] upshot_imgur::ImgurError),
    /// The keychain or the secrets file failed (a secret setting such as the RapidAPI key).
    #[error(transparent)]
    Secrets(#[from] crate::auth::VaultError),
}

impl ErrorCode for CoreError {
    fn code(&self) -> &'static str {
        match self {
            Self::MissingClientId => "missing_client_id",
            Self::InvalidApiBase { .. } => "invalid_api_base",
            Self::InvalidSetting { .. } => "invalid_setting",
            Self::Paths(error) => error.code(),
            Self::BadSettingsFile { .. } => "bad_settings_file",
            Self::Io { .. } => "io",
            Self::Sandbox(_) => "sandbox",
            Self::Client(error) => error.code(),
            Self::Secrets(error) => error.code(),
        }
    }
}

impl CoreError {
    /// A stable machine-readable code for the UI and `--json` output (see [`ErrorCode`]).
    pub fn code(&self) -> &'static str {
        ErrorCode::code(self)
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl From<crate::config_file::ConfigFileError> for CoreError {
    fn from(error: crate::config_file::ConfigFileError) -> Self {
        Self::Io {
            action: error.action,
            path: error.path,
            source: error.source,
        }
    }
}

crate::error::serialize_as_coded!(CoreError);
