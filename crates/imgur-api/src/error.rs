//! One typed error for every way a request can fail, classified by what the caller should do.

use crate::rate_limit::RateLimitSnapshot;
use serde::{Deserialize, Serialize};

/// How the message of an anonymous request refused for an invalid token begins: such a request
/// carried only the application's Client ID, so "log in again" would not fit it.
pub(crate) const ANONYMOUS_REFUSED: &str = "Imgur refused this anonymous request";

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
/// HTML, never a token. It serializes cleanly for the UI, in Upshot's one error shape:
/// `{"code": "<stable snake_case code>", "message": ..., "kind": ...}` and the details beside
/// them (Imgur's own numeric code under `imgur_code`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ImgurError {
    /// What to do about it.
    pub kind: ErrorKind,
    /// The HTTP status, or `None` when no answer arrived (network failure).
    pub status: Option<u16>,
    /// A plain sentence saying what went wrong.
    pub message: String,
    /// Imgur's inner error code where it sent one (shape B `code`, shape D `code`). Serialized
    /// as `imgur_code`: `code` is the stable code of [`ImgurError::error_code`].
    #[serde(rename = "imgur_code")]
    pub code: Option<i64>,
    /// For [`ErrorKind::RateLimited`]: when to try again (Unix seconds).
    pub retry_at: Option<u64>,
    /// The rate-limit headers that came with the failure (boxed: errors travel through every
    /// `Result` of the client and should stay small).
    pub rate_limits: Box<RateLimitSnapshot>,
    /// True when the request was completely sent and no usable answer came back (the answer
    /// deadline passed, the connection was cut after the body, the answer was too large or
    /// unreadable): Imgur may have acted on it, so an upload may already be on Imgur and must
    /// not simply be sent again. Such errors are always [`ErrorKind::RetryLater`].
    #[serde(default)]
    pub outcome_unknown: bool,
}

/// What a request would change on Imgur, which decides what an unknown outcome means and how a
/// failure is worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// A read: answering it changes nothing, so a lost answer only costs a retry.
    Read,
    /// An upload: a lost answer may leave the image on Imgur.
    Upload,
    /// Any other change (album, delete, token refresh).
    Change,
}

impl Effect {
    /// The sentence added to a failure whose outcome is unknown.
    fn unknown_outcome(self) -> &'static str {
        match self {
            Self::Read => "",
            Self::Upload => " The upload may already be on Imgur.",
            Self::Change => " Imgur may already have carried it out.",
        }
    }
}

impl Serialize for ImgurError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shape<'a> {
            code: &'static str,
            message: &'a str,
            kind: ErrorKind,
            status: Option<u16>,
            imgur_code: Option<i64>,
            retry_at: Option<u64>,
            rate_limits: &'a RateLimitSnapshot,
            outcome_unknown: bool,
        }
        Shape {
            code: self.error_code(),
            message: &self.message,
            kind: self.kind,
            status: self.status,
            imgur_code: self.code,
            retry_at: self.retry_at,
            rate_limits: &self.rate_limits,
            outcome_unknown: self.outcome_unknown,
        }
        .serialize(serializer)
    }
}

impl ImgurError {
    /// A stable snake_case code for the UI and `--json` (Upshot's `ErrorCode`), finer than
    /// [`kind`](Self::kind): the kind says what the queue does, the code what happened.
    pub fn error_code(&self) -> &'static str {
        match self.kind {
            ErrorKind::RetryLater if self.outcome_unknown => "imgur_outcome_unknown",
            ErrorKind::RetryLater if self.status.is_none() => "imgur_unreachable",
            ErrorKind::RetryLater => "imgur_unavailable",
            ErrorKind::RateLimited => "imgur_rate_limited",
            ErrorKind::Reauth if self.message.starts_with(ANONYMOUS_REFUSED) => {
                "imgur_client_id_refused"
            }
            ErrorKind::Reauth => "imgur_login_expired",
            ErrorKind::Permanent if self.status.is_none() => "invalid_request",
            ErrorKind::Permanent if self.status == Some(404) => "imgur_not_found",
            ErrorKind::Permanent => "imgur_refused",
        }
    }

    /// What the user can do, in one sentence, for the CLI and the UI to show beside `message`.
    ///
    /// It fits the situation as well as the kind: an anonymous request refused as `reauth` has no
    /// login to renew, so its advice is about the Client ID.
    pub fn advice(&self) -> &'static str {
        match self.kind {
            ErrorKind::RetryLater => "This is temporary; Upshot tries again shortly.",
            ErrorKind::RateLimited => {
                "Imgur's rate limit was reached; Upshot waits until it resets before trying again."
            }
            ErrorKind::Reauth if self.message.starts_with(ANONYMOUS_REFUSED) => {
                "Check the Client ID in Upshot's settings, or log in to upload to your account."
            }
            ErrorKind::Reauth => "Log in to Imgur again to continue.",
            ErrorKind::Permanent => "This file or request cannot be accepted by Imgur as it is.",
        }
    }

    /// A retry-later error; when `unknown` names a change that was completely sent, its outcome
    /// is unknown and the message says so.
    fn retry_later(
        status: Option<u16>,
        message: String,
        rate_limits: RateLimitSnapshot,
        unknown: Option<Effect>,
    ) -> Self {
        let unknown = unknown.filter(|effect| *effect != Effect::Read);
        let message = match unknown {
            Some(effect) => format!("{message}{}", effect.unknown_outcome()),
            None => message,
        };
        Self {
            kind: ErrorKind::RetryLater,
            status,
            message,
            code: None,
            retry_at: None,
            rate_limits: Box::new(rate_limits),
            outcome_unknown: unknown.is_some(),
        }
    }

    /// A failure before a whole answer arrived: the network, a reset connection, or a body that
    /// was cut off. Always worth retrying; `sent` names the request's effect when its body had
    /// been completely sent (then Imgur may have acted on it).
    pub(crate) fn network(
        error: &reqwest::Error,
        rate_limits: RateLimitSnapshot,
        sent: Option<Effect>,
    ) -> Self {
        let cause = root_cause(error);
        let sent = sent.filter(|_| !error.is_connect());
        let message = if error.is_timeout() {
            "Imgur did not answer in time.".to_owned()
        } else if error.is_connect() {
            format!("Could not connect to Imgur: {cause}.")
        } else if error.is_body() || error.is_decode() {
            format!("The answer from Imgur was cut off: {cause}.")
        } else {
            format!("The connection to Imgur failed: {cause}.")
        };
        Self::retry_later(None, message, rate_limits, sent)
    }

    /// No whole answer came within the answer deadline after the request was sent (a stalled
    /// or dripping server). Imgur may have acted on it.
    pub fn answer_deadline(
        deadline: std::time::Duration,
        status: Option<u16>,
        rate_limits: RateLimitSnapshot,
    ) -> Self {
        Self::answer_deadline_for(deadline, status, rate_limits, Effect::Upload)
    }

    pub(crate) fn answer_deadline_for(
        deadline: std::time::Duration,
        status: Option<u16>,
        rate_limits: RateLimitSnapshot,
        effect: Effect,
    ) -> Self {
        let message = format!(
            "Imgur did not answer within {} after the request was sent.",
            describe_duration(deadline)
        );
        Self::retry_later(status, message, rate_limits, Some(effect))
    }

    /// The connection took no byte of the request body for `limit` while it was being sent
    /// (the server stopped reading). The body was not all sent, so Imgur cannot have stored
    /// it: the outcome is known, and sending it again is safe.
    pub(crate) fn send_stalled(taken: u64, total: u64, limit: std::time::Duration) -> Self {
        let message = format!(
            "Imgur stopped taking the upload after {} of {} (nothing moved for {}); check the \
             connection, Upshot tries again later.",
            describe_bytes(taken),
            describe_bytes(total),
            describe_duration(limit)
        );
        Self::retry_later(None, message, RateLimitSnapshot::default(), None)
    }

    /// The answer was larger than any Imgur answer can be: it was not read further.
    pub(crate) fn answer_too_large(
        status: u16,
        limit: usize,
        rate_limits: RateLimitSnapshot,
        sent: Option<Effect>,
    ) -> Self {
        let message = format!(
            "The answer to this request was larger than {} KiB, which no Imgur answer is: something \
             other than Imgur answered (a proxy or a wrong API base?).",
            limit / 1024
        );
        Self::retry_later(Some(status), message, rate_limits, sent)
    }

    /// The API base answered with a redirect. API calls follow none: a POST would turn into a
    /// GET and another host's answer would pass for Imgur's, and the commercial key and OAuth
    /// fields would travel with it. `location` is shown without its query (it may hold tokens).
    pub(crate) fn redirected(
        status: u16,
        location: Option<&str>,
        rate_limits: RateLimitSnapshot,
    ) -> Self {
        let target = location
            .map(|location| match url::Url::parse(location) {
                Ok(mut url) => {
                    url.set_query(None);
                    url.set_fragment(None);
                    url.to_string()
                }
                Err(_) => location.split(['?', '#']).next().unwrap_or("").to_owned(),
            })
            .filter(|target| !target.is_empty())
            // Kept short whatever the server sent.
            .map(|target| target.chars().take(120).collect::<String>())
            .unwrap_or_else(|| "an address it did not name".to_owned());
        let message = format!(
            "The API base answered with a redirect (HTTP {status}) to {target}; Upshot follows no \
             redirects, so nothing was sent there. Check the API base setting, or sign in to \
             the network's login page."
        );
        Self::retry_later(Some(status), message, rate_limits, None)
    }

    /// An answer arrived but could not be understood (a success status with a body that is not
    /// the documented shape). Treated as passing: such bodies come from proxies and cut-off
    /// transfers; `sent` names the request's effect, which may have happened.
    pub(crate) fn unreadable(
        status: u16,
        detail: &str,
        rate_limits: RateLimitSnapshot,
        sent: Option<Effect>,
    ) -> Self {
        // serde's detail may quote the body: keep the sentence short whatever came.
        let detail: String = detail.chars().take(120).collect();
        Self::retry_later(
            Some(status),
            format!("Imgur's answer could not be read ({detail})."),
            rate_limits,
            sent,
        )
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

/// "2 s", "5 min", "90 s": a deadline in the words a message uses.
fn describe_duration(duration: std::time::Duration) -> String {
    let secs = duration.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else if secs >= 1 {
        format!("{secs} s")
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// "512 bytes", "64.0 KiB", "32.0 MiB": a size in the words a message uses.
fn describe_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64)
    } else {
        format!("{bytes} bytes")
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn error(kind: ErrorKind, status: Option<u16>, message: &str) -> ImgurError {
        ImgurError {
            kind,
            status,
            message: message.to_owned(),
            code: Some(1003),
            retry_at: None,
            rate_limits: Box::default(),
            outcome_unknown: false,
        }
    }

    #[test]
    fn serializes_as_code_and_message_with_the_kind_beside_them() {
        let json =
            serde_json::to_value(error(ErrorKind::Permanent, Some(400), "Bad type.")).unwrap();
        assert_eq!(json["code"], "imgur_refused");
        assert_eq!(json["message"], "Bad type.");
        assert_eq!(json["kind"], "permanent");
        assert_eq!(
            json["imgur_code"], 1003,
            "Imgur's own code keeps its own key"
        );
    }

    #[test]
    fn the_code_says_what_happened() {
        let lost = ImgurError::answer_deadline(
            std::time::Duration::from_secs(90),
            None,
            RateLimitSnapshot::default(),
        );
        assert_eq!(lost.error_code(), "imgur_outcome_unknown");
        let stalled = ImgurError::send_stalled(10, 100, std::time::Duration::from_secs(30));
        assert_eq!(stalled.error_code(), "imgur_unreachable");
        let cases = [
            (ErrorKind::RetryLater, Some(503), "", "imgur_unavailable"),
            (ErrorKind::RateLimited, Some(429), "", "imgur_rate_limited"),
            (ErrorKind::Reauth, Some(403), "", "imgur_login_expired"),
            (
                ErrorKind::Reauth,
                Some(403),
                ANONYMOUS_REFUSED,
                "imgur_client_id_refused",
            ),
            (ErrorKind::Permanent, None, "", "invalid_request"),
            (ErrorKind::Permanent, Some(404), "", "imgur_not_found"),
        ];
        for (kind, status, message, code) in cases {
            assert_eq!(
                error(kind, status, message).error_code(),
                code,
                "{kind:?} {status:?}"
            );
        }
    }
}
