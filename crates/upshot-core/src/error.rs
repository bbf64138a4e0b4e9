//! The one error scheme of Upshot: every error has a stable snake_case `code` and a `message`
//! for people, and serializes as `{"code": ..., "message": ...}` wherever it goes (the app's UI,
//! `upshot --json`, the logs).
//!
//! This module is the bottom of the core: it imports nothing else of the core, so every module
//! can implement [`ErrorCode`] for its own error enum without an import circle. An error that
//! wraps another reports its source's code, so a full disk under the database reaches the UI as
//! `disk_full`, not as the code of whichever layer passed it on. The codes are listed, with the
//! error that gives each, in `docs/ERROR_CODES.md`; a test keeps that list and the code in step.

use serde::ser::SerializeStruct;

/// A stable, machine-readable name for an error, for the UI and `--json` to branch on.
///
/// Codes are snake_case and never change once released (scripts and the UI depend on them):
/// reword the message freely, but add a new code rather than change an old one.
pub trait ErrorCode: std::fmt::Display {
    /// The code, e.g. `disk_full`. A wrapping error returns its source's code.
    fn code(&self) -> &'static str;
}

/// Serializes `error` as `{"code": ..., "message": ...}`: the one error shape of Upshot. Used by
/// every error's `Serialize` impl so the keys cannot drift apart.
pub fn serialize_coded<E, S>(error: &E, serializer: S) -> Result<S::Ok, S::Error>
where
    E: ErrorCode + ?Sized,
    S: serde::Serializer,
{
    let mut state = serializer.serialize_struct("Error", 2)?;
    state.serialize_field("code", error.code())?;
    state.serialize_field("message", &error.to_string())?;
    state.end()
}

/// Implements `serde::Serialize` as `{code, message}` for error types that implement
/// [`ErrorCode`]: `crate::error::serialize_as_coded!(StoreError);`.
macro_rules! serialize_as_coded {
    ($($error:ty),+ $(,)?) => {$(
        impl ::serde::Serialize for $error {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                crate::error::serialize_coded(self, serializer)
            }
        }
    )+};
}
pub(crate) use serialize_as_coded;

/// The Imgur client's errors carry their own stable code ([`upshot_imgur::ImgurError::error_code`]);
/// the client crate knows nothing of the core, so the trait is implemented here.
impl ErrorCode for upshot_imgur::ImgurError {
    fn code(&self) -> &'static str {
        self.error_code()
    }
}
