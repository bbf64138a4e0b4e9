//! What the rate-limit headers told us, merged per budget and kept in `rate_headers.snapshot`.
//!
//! A response may carry only some headers (GETs have no POST headers, HTML error pages none), so
//! each budget keeps its own latest reading with the time it was observed: "own spend since the
//! reading" must be counted from when *that* budget was seen.
//!
//! Times are rewritten to the governor's clock when they are read. The client stamps a snapshot
//! with its own wall clock and turns "seconds from now" headers into Unix times with it, while
//! `X-RateLimit-UserReset` is the server's epoch; the governor's clock may be neither (the
//! simulation runs weeks ahead). So a reset is taken as an offset from the snapshot's
//! `observed_at` when that offset is a plausible window, else as an absolute time when that is
//! plausible, else ignored (the governor then assumes a rolling window, which is conservative).

use crate::types::{DAY_MS, HOUR_MS, UnixMillis};
use serde::{Deserialize, Serialize};
use upshot_imgur::RateLimitSnapshot;

/// Slack on top of a window for a reset to count as plausible (clock skew, rounding).
const RESET_SLACK_MS: i64 = 60_000;

/// One budget's latest header values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Reading {
    /// The limit the header announced, when it did.
    pub limit: Option<i64>,
    /// What the header said was left.
    pub remaining: i64,
    /// When the window it describes ends, on the governor's clock (`None`: not said or not
    /// believable).
    pub reset: Option<UnixMillis>,
    /// When it was observed, on the governor's clock.
    pub observed_at: UnixMillis,
    /// The highest ledger row id when it was observed: rows above it were spent after the
    /// reading (time alone cannot tell, as a request and its answer may share a millisecond).
    #[serde(default)]
    pub ledger_mark: i64,
    /// Daily budget only: credits other installs had spent in this window when it was observed
    /// (limit − remaining − own spend in the window before the observation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others_spent: Option<i64>,
}

impl Reading {
    /// The start of the window this reading describes, when its reset is known.
    pub fn window_start(&self, window_ms: i64) -> Option<UnixMillis> {
        self.reset.map(|reset| reset.plus_millis(-window_ms))
    }

    /// Other installs' average spend rate (credits per ms) over the part of the window seen,
    /// counting at least an hour so that one early burst does not read as a flood.
    pub fn others_rate(&self, window_ms: i64) -> Option<f64> {
        let start = self.window_start(window_ms)?;
        let spent = self.others_spent?;
        let elapsed = (self.observed_at.as_millis() - start.as_millis()).max(HOUR_MS);
        Some(spent as f64 / elapsed as f64)
    }
}

/// Interactive credits spent in one daily window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Demand {
    /// When the window ends.
    pub window_end: UnixMillis,
    /// Credits spent by interactive requests in it.
    pub spent: i64,
}

/// How long the interactive demand of today is averaged over at least: a person dropping fifty
/// files at 8:00 should not hold the whole day's budget back from the backlog.
const INTERACTIVE_MIN_ELAPSED_MS: i64 = 4 * HOUR_MS;

/// Everything the governor keeps about one Client ID (the `snapshot` JSON): the headers it saw
/// and what it learned from them and from our own interactive spend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct HeaderState {
    /// `X-RateLimit-Client*`.
    pub daily: Option<Reading>,
    /// `X-RateLimit-User*`.
    pub hourly: Option<Reading>,
    /// `X-Post-Rate-Limit-*`.
    pub posts: Option<Reading>,
    /// Other installs' spend rate over the last daily window seen before the current one
    /// (credits per hour): today's estimate never goes below it, so a quiet morning does not
    /// hide a steady neighbour.
    pub others_per_hour_previous: Option<f64>,
    /// `Retry-After` of the latest answer that had one, on the governor's clock.
    pub retry_after: Option<UnixMillis>,
    /// Our interactive spend in the current daily window: the user's own demand, learned so
    /// the backlog leaves room for it.
    #[serde(default)]
    pub interactive: Option<Demand>,
    /// Our interactive spend rate over the previous daily window seen (credits per hour).
    #[serde(default)]
    pub interactive_per_hour_previous: Option<f64>,
    /// The latest snapshot exactly as received, for diagnosis.
    pub last: RateLimitSnapshot,
}

impl HeaderState {
    /// Reads the stored JSON; a value this version cannot read is dropped (the headers of the
    /// next answer rebuild it) rather than failing every upload.
    pub fn parse(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_else(|error| {
            tracing::warn!("ignoring unreadable rate_headers snapshot: {error}");
            Self::default()
        })
    }

    /// The JSON stored.
    pub fn to_json(&self) -> String {
        // A struct of numbers and options always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Merges a new snapshot observed at `now`, when the ledger's highest row id was
    /// `ledger_mark`. `own_spent_since(start)` gives the credits this Client ID spent from
    /// `start` up to the mark (from the ledger), to separate other installs' spend from ours.
    pub fn merge(
        &mut self,
        snapshot: &RateLimitSnapshot,
        now: UnixMillis,
        ledger_mark: i64,
        own_spent_since: impl Fn(UnixMillis) -> i64,
    ) {
        let seen = snapshot.observed_at;
        if let Some(remaining) = snapshot.client_remaining {
            let reset = normalize_reset(snapshot.client_reset, seen, now, DAY_MS, false);
            let limit = snapshot
                .client_limit
                .map(to_i64)
                .or(self.daily.and_then(|r| r.limit));
            let remaining = to_i64(remaining);
            let mut reading = Reading {
                limit,
                remaining,
                reset,
                observed_at: now,
                ledger_mark,
                others_spent: None,
            };
            if let (Some(limit), Some(start)) = (limit, reading.window_start(DAY_MS)) {
                let own = own_spent_since(start);
                reading.others_spent = Some((limit - remaining - own).max(0));
            }
            // A reading of a newer window: the old one's rate becomes "yesterday's".
            if let Some(old) = self.daily
                && let (Some(old_reset), Some(new_reset)) = (old.reset, reset)
                && new_reset.as_millis() - old_reset.as_millis() > DAY_MS / 2
                && let Some(rate) = old.others_rate(DAY_MS)
            {
                self.others_per_hour_previous = Some(rate * HOUR_MS as f64);
            }
            self.daily = Some(reading);
        }
        if let Some(remaining) = snapshot.user_remaining {
            self.hourly = Some(Reading {
                limit: snapshot
                    .user_limit
                    .map(to_i64)
                    .or(self.hourly.and_then(|r| r.limit)),
                remaining: to_i64(remaining),
                // Documented as an epoch (observed as plain seconds): absolute first.
                reset: normalize_reset(snapshot.user_reset, seen, now, HOUR_MS, true),
                observed_at: now,
                ledger_mark,
                others_spent: None,
            });
        }
        if let Some(remaining) = snapshot.post_remaining {
            self.posts = Some(Reading {
                limit: snapshot
                    .post_limit
                    .map(to_i64)
                    .or(self.posts.and_then(|r| r.limit)),
                remaining: to_i64(remaining),
                reset: normalize_reset(snapshot.post_reset, seen, now, HOUR_MS, false),
                observed_at: now,
                ledger_mark,
                others_spent: None,
            });
        }
        if snapshot.retry_after.is_some() {
            self.retry_after = normalize_reset(snapshot.retry_after, seen, now, DAY_MS, false);
        }
        self.last = snapshot.clone();
    }
}

impl HeaderState {
    /// Counts an interactive spend in the daily window ending at `window_end`; a new window
    /// turns the old one's total into "yesterday's" rate. Window ends read from headers may
    /// differ by a second from answer to answer, so "the same window" means within half a day.
    pub fn note_interactive(&mut self, credits: i64, window_end: UnixMillis) {
        match &mut self.interactive {
            Some(demand) if same_day_window(demand.window_end, window_end) => {
                demand.spent += credits;
            }
            current => {
                if let Some(old) = current
                    && old.window_end < window_end
                {
                    self.interactive_per_hour_previous = Some(old.spent as f64 / 24.0);
                }
                *current = Some(Demand {
                    window_end,
                    spent: credits,
                });
            }
        }
    }

    /// Our interactive spend rate (credits per ms): today's over the part of the window gone
    /// (at least four hours), or yesterday's, whichever is higher. 0 when nothing is known.
    pub fn interactive_rate(&self, window_end: Option<i64>, now: i64) -> f64 {
        let today = self
            .interactive
            .filter(|demand| {
                window_end.is_some_and(|end| same_day_window(demand.window_end, UnixMillis(end)))
            })
            .map_or(0.0, |demand| {
                let start = demand.window_end.as_millis() - DAY_MS;
                demand.spent as f64 / (now - start).max(INTERACTIVE_MIN_ELAPSED_MS) as f64
            });
        let before = self
            .interactive_per_hour_previous
            .map_or(0.0, |per_hour| per_hour / HOUR_MS as f64);
        today.max(before)
    }
}

/// Whether two daily window ends name the same window.
fn same_day_window(a: UnixMillis, b: UnixMillis) -> bool {
    (a.as_millis() - b.as_millis()).abs() < DAY_MS / 2
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A reset time from a snapshot, on the governor's clock (see the module docs).
///
/// `value` is what the snapshot holds (Unix seconds on the client's clock, or the server's epoch),
/// `seen` the snapshot's `observed_at`, `now` the governor's time of the observation. When the
/// snapshot was taken on the governor's own clock (the normal case) the value is used as is:
/// an offset from `seen` would be up to a second late, `seen` being rounded down.
pub(crate) fn normalize_reset(
    value: Option<u64>,
    seen: u64,
    now: UnixMillis,
    window_ms: i64,
    absolute_first: bool,
) -> Option<UnixMillis> {
    let value = value?;
    let plausible = |at: UnixMillis| {
        let ahead = at.as_millis() - now.as_millis();
        (0..=window_ms + RESET_SLACK_MS).contains(&ahead)
    };
    let same_clock = (UnixMillis::from_secs(seen).as_millis() - now.as_millis()).abs() <= 2_000;
    let relative = value
        .checked_sub(seen)
        .filter(|_| seen > 0)
        .and_then(|secs| i64::try_from(secs).ok())
        .map(|secs| now.plus_millis(secs.saturating_mul(1000)))
        .filter(|at| plausible(*at));
    let absolute = Some(UnixMillis::from_secs(value)).filter(|at| plausible(*at));
    if absolute_first || same_clock {
        absolute.or(relative)
    } else {
        relative.or(absolute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixMillis = UnixMillis::from_millis(1_900_000_000_500);

    #[test]
    fn resets_are_offsets_from_the_snapshot_or_plausible_epochs() {
        // The client's clock is 10 days behind the governor's (the simulation's case).
        let seen = 1_899_136_000;
        // "Seconds from now" converted by the client: an offset of 600 s.
        assert_eq!(
            normalize_reset(Some(seen + 600), seen, NOW, HOUR_MS, false),
            Some(NOW.plus_millis(600_000))
        );
        // The server's epoch, on the governor's clock: taken as is.
        let epoch = 1_900_003_600;
        assert_eq!(
            normalize_reset(Some(epoch), seen, NOW, HOUR_MS, true),
            Some(UnixMillis::from_secs(epoch))
        );
        // Neither plausible: ignored.
        assert_eq!(
            normalize_reset(Some(seen + 9 * 3600), seen, NOW, HOUR_MS, false),
            None
        );
        assert_eq!(normalize_reset(None, seen, NOW, HOUR_MS, false), None);
    }

    #[test]
    fn a_new_day_keeps_yesterdays_rate_of_other_installs() {
        let mut state = HeaderState::default();
        let seen = NOW.as_secs();
        let snapshot = RateLimitSnapshot {
            observed_at: seen,
            client_limit: Some(12_500),
            client_remaining: Some(10_000),
            client_reset: Some(seen + 12 * 3600),
            ..Default::default()
        };
        // 12 h into the day: 2,500 spent, 1,300 of it ours.
        state.merge(&snapshot, NOW, 7, |_| 1_300);
        let daily = state.daily.unwrap();
        assert_eq!(daily.others_spent, Some(1_200));
        assert!((daily.others_rate(DAY_MS).unwrap() * HOUR_MS as f64 - 100.0).abs() < 0.01);
        assert_eq!(state.others_per_hour_previous, None);

        let tomorrow = NOW.plus_millis(DAY_MS);
        let next = RateLimitSnapshot {
            observed_at: tomorrow.as_secs(),
            client_remaining: Some(12_000),
            client_reset: Some(tomorrow.as_secs() + 12 * 3600),
            ..Default::default()
        };
        state.merge(&next, tomorrow, 9, |_| 0);
        assert!((state.others_per_hour_previous.unwrap() - 100.0).abs() < 0.01);
        assert_eq!(
            state.daily.unwrap().limit,
            Some(12_500),
            "the limit is kept"
        );
        let parsed = HeaderState::parse(&state.to_json());
        assert_eq!(parsed, state);
        assert_eq!(HeaderState::parse("not json"), HeaderState::default());
    }
}
