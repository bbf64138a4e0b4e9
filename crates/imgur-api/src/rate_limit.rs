//! The rate-limit headers Imgur puts on every response, errors included.

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// Values below this are read as "seconds from now" rather than a Unix time: Imgur documents
/// `X-RateLimit-UserReset` as an epoch but has been seen sending the literal `3600`.
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// What the rate-limit headers of one response said. Every field is optional because any of the
/// headers may be missing (HTML error pages, gateways, the commercial route).
///
/// Reset times are normalised to Unix seconds so the quota governor can compare them directly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitSnapshot {
    /// When the snapshot was taken (Unix seconds, the client's clock).
    pub observed_at: u64,
    /// `X-RateLimit-UserLimit`: credits per hour for this user (IP) and application.
    pub user_limit: Option<u64>,
    /// `X-RateLimit-UserRemaining`.
    pub user_remaining: Option<u64>,
    /// `X-RateLimit-UserReset`, as Unix seconds.
    pub user_reset: Option<u64>,
    /// `X-RateLimit-ClientLimit`: the application's daily credits.
    pub client_limit: Option<u64>,
    /// `X-RateLimit-ClientRemaining`.
    pub client_remaining: Option<u64>,
    /// `X-RateLimit-ClientReset` (undocumented, seconds), as Unix seconds.
    pub client_reset: Option<u64>,
    /// `X-Post-Rate-Limit-Limit`: POSTs per hour for this IP.
    pub post_limit: Option<u64>,
    /// `X-Post-Rate-Limit-Remaining`.
    pub post_remaining: Option<u64>,
    /// `X-Post-Rate-Limit-Reset` (seconds), as Unix seconds.
    pub post_reset: Option<u64>,
    /// `Retry-After` (seconds or an HTTP date is not used by Imgur; seconds only), as Unix seconds.
    pub retry_after: Option<u64>,
}

impl RateLimitSnapshot {
    /// Reads the headers of a response. Header names match in any letter case.
    pub fn from_headers(headers: &HeaderMap, now: u64) -> Self {
        let number = |name: &str| -> Option<u64> {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| text.trim().parse::<f64>().ok())
                .filter(|value| value.is_finite() && *value >= 0.0)
                .map(|value| value as u64)
        };
        let seconds_from_now = |name: &str| number(name).map(|secs| now.saturating_add(secs));
        let epoch_or_seconds = |name: &str| {
            number(name).map(|value| {
                if value >= EPOCH_THRESHOLD {
                    value
                } else {
                    now.saturating_add(value)
                }
            })
        };
        let mut snapshot = Self {
            observed_at: now,
            user_limit: number("x-ratelimit-userlimit"),
            user_remaining: number("x-ratelimit-userremaining"),
            user_reset: epoch_or_seconds("x-ratelimit-userreset"),
            client_limit: number("x-ratelimit-clientlimit"),
            client_remaining: number("x-ratelimit-clientremaining"),
            client_reset: epoch_or_seconds("x-ratelimit-clientreset"),
            post_limit: number("x-post-rate-limit-limit"),
            post_remaining: number("x-post-rate-limit-remaining"),
            post_reset: epoch_or_seconds("x-post-rate-limit-reset"),
            retry_after: seconds_from_now("retry-after"),
        };
        // The commercial route (RapidAPI's proxy) reports its plan's quota and its short rate
        // window in its own headers.
        snapshot.follow_rapidapi(
            Budget {
                limit: number("x-ratelimit-requests-limit"),
                remaining: number("x-ratelimit-requests-remaining"),
                reset: epoch_or_seconds("x-ratelimit-requests-reset"),
            },
            Budget {
                limit: number("x-ratelimit-limit"),
                remaining: number("x-ratelimit-remaining"),
                reset: epoch_or_seconds("x-ratelimit-reset"),
            },
        );
        snapshot
    }

    /// Folds RapidAPI's budgets into the ones the quota governor already follows, so that it
    /// keeps to the commercial route's limits with no notion of its own of that route:
    ///
    /// - the plan's quota (`X-RateLimit-Requests-*`, counted in requests) is the application's
    ///   budget through that route: it stands for `X-RateLimit-Client*` when Imgur's own
    ///   headers are missing or show more left. Requests are counted as credits, which only
    ///   errs on the careful side (an upload spends 10 credits but one request);
    /// - the short rate window (`X-RateLimit-Limit`/`-Remaining`/`-Reset`) matters only when it
    ///   is spent: its reset is then a `Retry-After`.
    fn follow_rapidapi(&mut self, quota: Budget, window: Budget) {
        if let Some(remaining) = quota.remaining
            && self.client_remaining.is_none_or(|imgur| remaining < imgur)
        {
            self.client_remaining = Some(remaining);
            self.client_limit = quota.limit.or(self.client_limit);
            self.client_reset = quota.reset.or(self.client_reset);
        }
        if window.remaining == Some(0)
            && let Some(reset) = window.reset
        {
            self.retry_after = Some(self.retry_after.map_or(reset, |after| after.max(reset)));
        }
    }

    /// Whether any rate-limit header was present at all.
    pub fn is_empty(&self) -> bool {
        self.user_limit.is_none()
            && self.user_remaining.is_none()
            && self.client_limit.is_none()
            && self.client_remaining.is_none()
            && self.post_limit.is_none()
            && self.post_remaining.is_none()
            && self.retry_after.is_none()
    }

    /// The earliest time a rate-limited request may be tried again, judged from the headers
    /// alone: the latest reset among the budgets that are spent, or `Retry-After`.
    ///
    /// Imgur has been seen answering 429 while the headers still show credit left; then this is
    /// `None` and the caller picks a back-off.
    pub fn exhausted_until(&self) -> Option<u64> {
        let spent = |remaining: Option<u64>, reset: Option<u64>| match (remaining, reset) {
            (Some(0), Some(reset)) => Some(reset),
            _ => None,
        };
        [
            spent(self.user_remaining, self.user_reset),
            spent(self.client_remaining, self.client_reset),
            spent(self.post_remaining, self.post_reset),
            self.retry_after,
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

/// One budget as a header family reports it.
struct Budget {
    limit: Option<u64>,
    remaining: Option<u64>,
    reset: Option<u64>,
}

/// The client's clock in Unix seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn reads_every_header_in_any_case() {
        let now = 1_700_000_000;
        let snapshot = RateLimitSnapshot::from_headers(
            &headers(&[
                ("X-RateLimit-UserLimit", "2000"),
                ("x-ratelimit-userremaining", "1990"),
                ("X-RATELIMIT-USERRESET", "1700003600"),
                ("X-RateLimit-ClientLimit", "12500"),
                ("X-RateLimit-ClientRemaining", "12490"),
                ("X-RateLimit-ClientReset", "86400"),
                ("X-Post-Rate-Limit-Limit", "1250"),
                ("X-Post-Rate-Limit-Remaining", "1249"),
                ("X-Post-Rate-Limit-Reset", "3599"),
            ]),
            now,
        );
        assert_eq!(snapshot.user_limit, Some(2000));
        assert_eq!(snapshot.user_remaining, Some(1990));
        assert_eq!(snapshot.user_reset, Some(1_700_003_600));
        assert_eq!(snapshot.client_limit, Some(12500));
        assert_eq!(snapshot.client_remaining, Some(12490));
        assert_eq!(snapshot.client_reset, Some(now + 86400));
        assert_eq!(snapshot.post_limit, Some(1250));
        assert_eq!(snapshot.post_remaining, Some(1249));
        assert_eq!(snapshot.post_reset, Some(now + 3599));
        assert!(!snapshot.is_empty());
    }

    #[test]
    fn user_reset_below_epoch_threshold_is_seconds_from_now() {
        let now = 1_700_000_000;
        let snapshot =
            RateLimitSnapshot::from_headers(&headers(&[("X-RateLimit-UserReset", "3600")]), now);
        assert_eq!(snapshot.user_reset, Some(now + 3600));
    }

    #[test]
    fn garbage_values_are_ignored() {
        let snapshot = RateLimitSnapshot::from_headers(
            &headers(&[
                ("X-RateLimit-UserLimit", "lots"),
                ("X-RateLimit-ClientRemaining", "-5"),
            ]),
            10,
        );
        assert_eq!(snapshot.user_limit, None);
        assert_eq!(snapshot.client_remaining, None);
        assert!(snapshot.is_empty());
    }

    #[test]
    fn rapidapi_quota_stands_for_the_daily_budget_and_a_spent_window_holds() {
        let now = 1_700_000_000;
        let snapshot = RateLimitSnapshot::from_headers(
            &headers(&[
                ("X-RateLimit-Requests-Limit", "1000"),
                ("X-RateLimit-Requests-Remaining", "0"),
                ("X-RateLimit-Requests-Reset", "7200"),
                ("X-RateLimit-Limit", "60"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", "42"),
            ]),
            now,
        );
        assert_eq!(snapshot.client_limit, Some(1000));
        assert_eq!(snapshot.client_remaining, Some(0));
        assert_eq!(snapshot.client_reset, Some(now + 7200));
        assert_eq!(snapshot.retry_after, Some(now + 42));
        assert!(!snapshot.is_empty());
        assert_eq!(snapshot.exhausted_until(), Some(now + 7200));

        // Imgur's own daily headers stay when they are the tighter budget; an unspent window
        // holds nothing.
        let snapshot = RateLimitSnapshot::from_headers(
            &headers(&[
                ("X-RateLimit-ClientLimit", "12500"),
                ("X-RateLimit-ClientRemaining", "40"),
                ("x-ratelimit-requests-limit", "100000"),
                ("x-ratelimit-requests-remaining", "99000"),
                ("x-ratelimit-remaining", "59"),
                ("x-ratelimit-reset", "30"),
            ]),
            now,
        );
        assert_eq!(snapshot.client_limit, Some(12500));
        assert_eq!(snapshot.client_remaining, Some(40));
        assert_eq!(snapshot.retry_after, None);
    }

    #[test]
    fn exhausted_until_takes_the_latest_spent_reset() {
        let snapshot = RateLimitSnapshot {
            user_remaining: Some(0),
            user_reset: Some(500),
            client_remaining: Some(0),
            client_reset: Some(900),
            post_remaining: Some(3),
            post_reset: Some(2000),
            ..Default::default()
        };
        assert_eq!(snapshot.exhausted_until(), Some(900));
        let fresh = RateLimitSnapshot {
            user_remaining: Some(10),
            user_reset: Some(500),
            ..Default::default()
        };
        assert_eq!(fresh.exhausted_until(), None);
    }
}
