//! One typed error for every way a request can fail, classified by what the caller should do.

use crate::rate_limit::RateLimitSnapshot;
use serde::{Deserialize, Serialize};

/// What the caller should do about a failure. This is the only thing the queue needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A passing fault (5xx, 417, over capacity, network loss): try again after a back-off.
    RetryLater,
    /// A rate limit was hit (429 in any shape, including the 400 with an inner 429): wait until
    /// [`ImgurError::retry_at`].
    RateLimited,
    /// The user's token is invalid, expired or revoked: log in again (or refresh).
    Reauth,
    /// This request will never succeed as it is (bad type, too large, unknown id, bad Client ID).
    Permanent,
}

impl ErrorKind {
    /// The kind in the words the UI and the CLI show.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RetryLater => "retry_later",
            Self::RateLimited => "rate_limited",
            Self::Reauth => "reauth",
            Self::Permanent => "permanent",
        }
    }
}

/// A failed request to Imgur, whatever shape the failure came in.
///
/// `message` is plain text fit to show a user: Imgur's own sentence where it gave one, never raw
/// HTML, never a token. It serializes cleanly for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ImgurError {
    /// What to do about it.
    pub kind: ErrorKind,
    /// The HTTP status, or `None` when no answer arrived (network failure).
    pub status: Option<u16>,
    /// A plain sentence saying what went wrong.
    pub message: String,
    /// Imgur's inner error code where it sent one (shape B `code`, shape D `code`).
    pub code: Option<i64>,
    /// For [`ErrorKind::RateLimited`]: when to try again (Unix seconds).
    pub retry_at: Option<u64>,
    /// The rate-limit headers that came with the failure (boxed: errors travel through every
    /// `Result` of the client and should stay small).
    pub rate_limits: Box<RateLimitSnapshot>,
    /// True when the request's body was completely sent and no usable answer came back: the
    /// request may have taken effect (an upload may already be on Imgur).
    #[serde(default)]
    pub outcome_unknown: bool,
}

impl ImgurError {
    /// What the user can do, in one sentence, for the CLI and the UI to show beside `message`.
    pub fn advice(&self) -> &'static str {
        match self.kind {
            ErrorKind::RetryLater => "This is temporary; Upshot tries again shortly.",
            ErrorKind::RateLimited => {
                "Imgur's rate limit was reached; Upshot waits until it resets before trying again."
            }
            ErrorKind::Reauth => "Log in to Imgur again to continue.",
            ErrorKind::Permanent => "This file or request cannot be accepted by Imgur as it is.",
        }
    }

    /// A failure before any answer arrived: the network, a reset connection, a timeout, or a body
    /// that was cut off. Always worth retrying.
    pub(crate) fn network(error: &reqwest::Error, rate_limits: RateLimitSnapshot) -> Self {
        let cause = root_cause(error);
        let message = if error.is_timeout() {
            "Imgur did not answer in time.".to_owned()
        } else if error.is_connect() {
            format!("Could not connect to Imgur: {cause}.")
        } else if error.is_body() || error.is_decode() {
            format!("The answer from Imgur was cut off: {cause}.")
        } else {
            format!("The connection to Imgur failed: {cause}.")
        };
        Self {
            kind: ErrorKind::RetryLater,
            status: None,
            message,
            code: None,
            retry_at: None,
            rate_limits: Box::new(rate_limits),
            outcome_unknown: false,
        }
    }

    /// An answer arrived but could not be understood (a success status with a body that is not
    /// the documented shape). Treated as passing: such bodies come from proxies and cut-off
    /// transfers.
    pub(crate) fn unreadable(status: u16, detail: &str, rate_limits: RateLimitSnapshot) -> Self {
        Self {
            kind: ErrorKind::RetryLater,
            status: Some(status),
            message: format!("Imgur's answer could not be read ({detail})."),
            code: None,
            retry_at: None,
            rate_limits: Box::new(rate_limits),
            outcome_unknown: false,
        }
    }

    /// A local problem with the request itself (an unreadable file, a bad URL): never retried.
    pub(crate) fn local(message: String) -> Self {
        Self {
            kind: ErrorKind::Permanent,
            status: None,
            message,
            code: None,
            retry_at: None,
            rate_limits: Box::default(),
            outcome_unknown: false,
        }
    }
}

/// The innermost cause of an error, which is the part that means something to a person
/// ("Connection refused (os error 111)") rather than reqwest's wrapper text with the URL.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}
