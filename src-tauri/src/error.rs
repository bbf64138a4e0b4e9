//! The one error type the shell hands to the UI.
//!
//! Every command returns `Result<T, Error>`; Tauri serializes the error, so the UI always
//! receives `{ "code": "...", "message": "..." }` and can branch on `code` without parsing
//! text. Errors from the core keep the core's codes (`reused_state`, `not_logged_in`, …).

use serde::Serialize;

/// Codes of failures that belong to the shell itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A failure inside the shell or Tauri itself; nothing the user can fix.
    Internal,
    /// The app's core (settings, database, sandbox) could not start.
    Startup,
    /// The desktop preferences (`desktop.json`) could not be saved.
    Preferences,
    /// The clipboard could not be read.
    Clipboard,
}

impl ErrorCode {
    /// The code as the UI sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::Startup => "startup",
            Self::Preferences => "preferences",
            Self::Clipboard => "clipboard",
        }
    }
}

/// An error as the UI sees it: a machine-readable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[ts(rename = "CommandError")]
#[error("{message}")]
pub struct Error {
    /// What kind of failure this is (snake_case).
    pub code: String,
    /// A sentence for the user.
    pub message: String,
}

impl Error {
    /// An error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code: code.as_str().to_owned(),
            message: message.into(),
        }
    }
}

impl From<tauri::Error> for Error {
    fn from(error: tauri::Error) -> Self {
        Self::new(ErrorCode::Internal, error.to_string())
    }
}

impl Error {
    /// Any error of the core, with its own code: a wrapping error reports its source's code, so
    /// a full disk under the service reaches the UI as `disk_full`.
    pub fn from_core(error: &impl upshot_core::error::ErrorCode) -> Self {
        Self {
            code: error.code().to_owned(),
            message: error.to_string(),
        }
    }
}

/// The core's errors the commands return, each keeping its code.
macro_rules! from_core {
    ($($error:ty),+ $(,)?) => {$(
        impl From<$error> for Error {
            fn from(error: $error) -> Self {
                Self::from_core(&error)
            }
        }
    )+};
}

from_core!(
    upshot_core::watch::WatchError,
    upshot_core::CoreError,
    upshot_core::auth::AuthError,
    upshot_core::ServiceError,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_code_and_message() {
        let error = Error::new(ErrorCode::Internal, "the webview crashed");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "code": "internal", "message": "the webview crashed" })
        );
    }

    #[test]
    fn core_errors_keep_their_codes() {
        let error: Error = upshot_core::auth::AuthError::NotLoggedIn.into();
        assert_eq!(error.code, "not_logged_in");
        assert!(error.message.contains("upshot login"), "{}", error.message);
    }

    #[test]
    fn service_errors_report_the_lowest_layers_code() {
        let disk_full = upshot_core::service::StoreError::DiskFull {
            path: "/data/upshot.db".into(),
        };
        let error: Error = upshot_core::ServiceError::Store(disk_full).into();
        assert_eq!(error.code, "disk_full");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "disk_full");
        assert!(
            json["message"]
                .as_str()
                .unwrap()
                .contains("Free some space")
        );
    }

    #[test]
    fn displays_the_message() {
        let error = Error::new(ErrorCode::Internal, "the webview crashed");
        assert_eq!(error.to_string(), "the webview crashed");
    }
}
