//! Time as the queue, the governor and the history see it.
//!
//! Everything that reads the time takes an `Arc<dyn Clock>`, so tests and the 30-day simulation
//! can move time by hand ([`ManualClock`]) instead of waiting, and the SQLite rows hold plain
//! integers ([`UnixMillis`]) that sort and compare in SQL.

use crate::types::time::duration_millis;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use crate::types::UnixMillis;

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
