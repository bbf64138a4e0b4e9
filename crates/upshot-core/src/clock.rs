//! Time as the queue, the governor and the history see it.
//!
//! Everything that reads the time takes an `Arc<dyn Clock>`, so tests and the 30-day simulation
//! can move time by hand ([`ManualClock`]) instead of waiting, and the SQLite rows hold plain
//! integers ([`UnixMillis`]) that sort and compare in SQL.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Sub};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch: the one time type of the core, stored as `INTEGER` in
/// SQLite and serialized as a bare number.
///
/// Arithmetic saturates: a nonsense duration from a header must not wrap into the past.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// The epoch itself.
    pub const EPOCH: Self = Self(0);

    /// From whole milliseconds.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// From whole seconds (Imgur's headers and the client's snapshots count in seconds).
    pub fn from_secs(secs: u64) -> Self {
        Self(
            i64::try_from(secs)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000),
        )
    }

    /// From a `SystemTime`; times before the epoch become the epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        Self(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }

    /// The milliseconds.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds, rounded down; 0 before the epoch.
    pub fn as_secs(self) -> u64 {
        u64::try_from(self.0.div_euclid(1000)).unwrap_or(0)
    }

    /// As a `SystemTime`, for display and for APIs that want one.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.0).unwrap_or(0))
    }

    /// How long after `earlier` this is; zero if it is not after it.
    pub fn saturating_since(self, earlier: Self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    /// `self + millis`, saturating.
    pub const fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }
}

fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Add<Duration> for UnixMillis {
    type Output = Self;

    fn add(self, rhs: Duration) -> Self {
        Self(self.0.saturating_add(duration_millis(rhs)))
    }
}

impl Sub<Duration> for UnixMillis {
    type Output = Self;

    fn sub(self, rhs: Duration) -> Self {
        Self(self.0.saturating_sub(duration_millis(rhs)))
    }
}

impl fmt::Display for UnixMillis {
    /// `1700000000.123`: seconds with milliseconds, unambiguous in logs and test failures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:03}",
            self.0.div_euclid(1000),
            self.0.rem_euclid(1000)
        )
    }
}

/// Where the time comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> UnixMillis;
}

/// The operating system's wall clock: what the app and the CLI use.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        UnixMillis::from_system_time(SystemTime::now())
    }
}

/// A clock that moves only when told: tests and the simulation share one through an `Arc` and
/// jump hours ahead in an instant.
#[derive(Debug, Default)]
pub struct ManualClock {
    millis: AtomicI64,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: UnixMillis) -> Self {
        Self {
            millis: AtomicI64::new(start.0),
        }
    }

    /// Sets the time (it may go backwards: tests decide).
    pub fn set(&self, now: UnixMillis) {
        self.millis.store(now.0, Ordering::SeqCst);
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = duration_millis(by);
        // fetch_update cannot fail with a closure that always returns Some.
        let _ = self
            .millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |old| {
                Some(old.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixMillis {
        UnixMillis(self.millis.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn unix_millis_converts_and_saturates() {
        let t = UnixMillis::from_secs(1_700_000_000);
        assert_eq!(t.as_millis(), 1_700_000_000_000);
        assert_eq!(t.as_secs(), 1_700_000_000);
        assert_eq!(
            (t + Duration::from_millis(1500)).to_string(),
            "1700000001.500"
        );
        assert_eq!(
            t - Duration::from_secs(1),
            UnixMillis::from_secs(1_699_999_999)
        );
        assert_eq!(
            UnixMillis(i64::MAX) + Duration::from_secs(5),
            UnixMillis(i64::MAX)
        );
        assert_eq!(
            t.saturating_since(t + Duration::from_secs(3)),
            Duration::ZERO
        );
        assert_eq!(
            (t + Duration::from_secs(3)).saturating_since(t),
            Duration::from_secs(3)
        );
        assert_eq!(serde_json::to_string(&t).unwrap(), "1700000000000");
        assert_eq!(
            UnixMillis::from_system_time(t.to_system_time()),
            t,
            "round trip"
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told_and_is_shared() {
        let clock = Arc::new(ManualClock::new(UnixMillis::from_secs(100)));
        let shared: Arc<dyn Clock> = clock.clone();
        assert_eq!(shared.now(), UnixMillis::from_secs(100));
        clock.advance(Duration::from_secs(60));
        assert_eq!(shared.now(), UnixMillis::from_secs(160));
        clock.set(UnixMillis::from_secs(5));
        assert_eq!(shared.now(), UnixMillis::from_secs(5));
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > UnixMillis::from_secs(1_577_836_800));
    }
}
