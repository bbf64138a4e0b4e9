//! The one error type the shell hands to the UI.
//!
//! Every command returns `Result<T, Error>`; Tauri serializes the error, so the UI always
//! receives `{ "code": "...", "message": "..." }` and can branch on `code` without parsing
//! text.

use serde::Serialize;

/// What kind of failure an [`Error`] is, as a stable snake_case string for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// A failure inside the shell or Tauri itself; nothing the user can fix.
    Internal,
}

/// An error as the UI sees it: a machine-readable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// What kind of failure this is.
    pub code: ErrorCode,
    /// A sentence for the user.
    pub message: String,
}

impl Error {
    /// An error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<tauri::Error> for Error {
    fn from(error: tauri::Error) -> Self {
        Self::new(ErrorCode::Internal, error.to_string())
    }
}

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
    fn displays_the_message() {
        let error = Error::new(ErrorCode::Internal, "the webview crashed");
        assert_eq!(error.to_string(), "the webview crashed");
    }
}
