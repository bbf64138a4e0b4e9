//! Injected faults: the failures Imgur and its gateways are seen to produce, on demand.
//!
//! A test queues a fault with a count and an optional path prefix; the next `count` requests that
//! match are answered with it instead of (or, for latency and truncation, around) the real
//! answer. Rules are consulted in the order they were queued.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// One kind of failure. JSON form: `{"kind": "server_error", "status": 503}`, `{"kind":
/// "over_capacity"}`, `{"kind": "upload_too_fast", "minutes": 7}`, `{"kind": "latency",
/// "millis": 250}` and so on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Envelope shape C (`{"data":{"error":…},"success":false,"status":N}`) with this status,
    /// 500, 502 or 503 in practice (any 400–599 is accepted).
    ServerError {
        /// The HTTP status to answer.
        status: u16,
    },
    /// 403 shape C "Imgur is temporarily over capacity. Please try again later."
    OverCapacity,
    /// 429 with an HTML page body, as the CDN answers.
    #[serde(rename = "html_429")]
    Html429,
    /// 429 in the gateway shape D: `{"errors":[{"id","code":"429","status","detail"}]}`.
    #[serde(rename = "gateway_429")]
    Gateway429,
    /// 400 shape B with inner code 429: "You are uploading too fast. Please wait N more minutes."
    UploadTooFast {
        /// The N in the message.
        minutes: u32,
    },
    /// 413 with nginx's HTML "413 Request Entity Too Large" page.
    PayloadTooLarge,
    /// 417 shape A "Upload failed".
    UploadFailed,
    /// 404 with Imgur's HTML not-found page.
    #[serde(rename = "html_404")]
    Html404,
    /// 503 with Imgur's HTML over-capacity page.
    HtmlOverCapacity,
    /// Waits this long, then answers normally (and charges normally).
    Latency {
        /// Delay in milliseconds.
        millis: u64,
    },
    /// Reads part of the request body (48 KiB, or half if the body is smaller) and then resets
    /// the TCP connection: the client sees a connection error, never an HTTP answer. The
    /// request is not processed and costs nothing.
    ResetMidBody,
    /// Processes the request normally (it takes effect and is charged), then sends a 200-looking
    /// answer whose body stops halfway through its `Content-Length` before the connection closes.
    TruncatedBody,
    /// `/oauth2/authorize` answers an HTML error page (observed on the real service since
    /// mid-2025). It only ever matches paths under `/oauth2/authorize`.
    AuthorizeBroken,
}

impl Fault {
    /// Paths this fault can apply to regardless of the rule's own prefix.
    fn implied_prefix(&self) -> Option<&'static str> {
        match self {
            Self::AuthorizeBroken => Some("/oauth2/authorize"),
            _ => None,
        }
    }

    /// Rejects faults that cannot be produced, so a bad test setup fails loudly.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::ServerError { status } if !(400..=599).contains(status) => Err(format!(
                "server_error status must be between 400 and 599, not {status}"
            )),
            _ => Ok(()),
        }
    }
}

/// A queued fault and how many more requests it will hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// What happens to a matching request.
    pub fault: Fault,
    /// How many more matching requests it applies to.
    pub remaining: u32,
    /// Only requests whose path starts with this match. Without one, every API (`/3/…`) and
    /// OAuth (`/oauth2/…`) request matches, but file serving and `/_fake` never do.
    pub path_prefix: Option<String>,
}

impl FaultRule {
    fn matches(&self, path: &str) -> bool {
        if path.starts_with("/_fake") {
            return false;
        }
        if let Some(implied) = self.fault.implied_prefix()
            && !path.starts_with(implied)
        {
            return false;
        }
        match &self.path_prefix {
            Some(prefix) => path.starts_with(prefix.as_str()),
            None => path.starts_with("/3/") || path == "/3" || path.starts_with("/oauth2/"),
        }
    }
}

/// The pending faults, oldest first.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    rules: VecDeque<FaultRule>,
}

impl FaultQueue {
    /// Queues `fault` for the next `count` matching requests. A count of 0 queues nothing.
    pub(crate) fn push(&mut self, fault: Fault, count: u32, path_prefix: Option<String>) {
        if count == 0 {
            return;
        }
        self.rules.push_back(FaultRule {
            fault,
            remaining: count,
            path_prefix: path_prefix.filter(|prefix| !prefix.is_empty()),
        });
    }

    /// Forgets every pending fault.
    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The first rule matching `path`, consumed once.
    pub(crate) fn take(&mut self, path: &str) -> Option<Fault> {
        let index = self.rules.iter().position(|rule| rule.matches(path))?;
        let rule = self.rules.get_mut(index)?;
        rule.remaining = rule.remaining.saturating_sub(1);
        let fault = rule.fault.clone();
        if rule.remaining == 0 {
            self.rules.remove(index);
        }
        Some(fault)
    }

    /// The pending rules, for `GET /_fake/faults`.
    pub(crate) fn pending(&self) -> Vec<FaultRule> {
        self.rules.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_match_the_contract() {
        let json = serde_json::to_string(&Fault::Html429).unwrap();
        assert_eq!(json, r#"{"kind":"html_429"}"#);
        let json = serde_json::to_string(&Fault::ServerError { status: 503 }).unwrap();
        assert_eq!(json, r#"{"kind":"server_error","status":503}"#);
        let parsed: Fault = serde_json::from_str(r#"{"kind":"gateway_429"}"#).unwrap();
        assert_eq!(parsed, Fault::Gateway429);
        let parsed: Fault = serde_json::from_str(r#"{"kind":"html_404"}"#).unwrap();
        assert_eq!(parsed, Fault::Html404);
        let parsed: Fault =
            serde_json::from_str(r#"{"kind":"upload_too_fast","minutes":3}"#).unwrap();
        assert_eq!(parsed, Fault::UploadTooFast { minutes: 3 });
    }

    #[test]
    fn rules_are_consumed_in_order_and_by_prefix() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::OverCapacity, 2, Some("/3/image".into()));
        queue.push(Fault::Html404, 1, None);
        assert_eq!(queue.take("/3/credits"), Some(Fault::Html404));
        assert_eq!(queue.take("/3/credits"), None);
        assert_eq!(queue.take("/3/image"), Some(Fault::OverCapacity));
        assert_eq!(queue.take("/3/image/abc"), Some(Fault::OverCapacity));
        assert_eq!(queue.take("/3/image"), None);
    }

    #[test]
    fn authorize_broken_only_hits_the_authorize_page() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::AuthorizeBroken, 1, None);
        assert_eq!(queue.take("/3/image"), None);
        assert_eq!(
            queue.take("/oauth2/authorize"),
            Some(Fault::AuthorizeBroken)
        );
    }

    #[test]
    fn control_and_file_paths_are_never_hit_without_a_prefix() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::OverCapacity, 1, None);
        assert_eq!(queue.take("/_fake/state"), None);
        assert_eq!(queue.take("/abcdefg.png"), None);
        assert_eq!(queue.take("/oauth2/token"), Some(Fault::OverCapacity));
    }
}
