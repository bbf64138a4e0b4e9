//! The virtual clock. Token expiry, quota windows, `datetime` fields and rate-limit headers all
//! read it, so a test can jump a day ahead instead of waiting one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Real time plus an offset that only ever grows.
#[derive(Debug, Default)]
pub(crate) struct VirtualClock {
    offset_millis: AtomicU64,
}

impl VirtualClock {
    /// A clock that starts `offset_millis` ahead of real time (restored from saved state).
    pub(crate) fn with_offset(offset_millis: u64) -> Self {
        Self {
            offset_millis: AtomicU64::new(offset_millis),
        }
    }

    /// The current virtual time.
    pub(crate) fn now(&self) -> SystemTime {
        SystemTime::now() + Duration::from_millis(self.offset_millis.load(Ordering::Relaxed))
    }

    /// The current virtual time in whole seconds since the Unix epoch.
    pub(crate) fn epoch_secs(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())
    }

    /// Moves the clock forward. Saturates instead of overflowing on absurd values.
    pub(crate) fn advance(&self, by: Duration) {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        // fetch_update never fails with a closure that always returns Some.
        let _ = self
            .offset_millis
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(old.saturating_add(millis))
            });
    }

    /// How far ahead of real time the clock runs, for persistence.
    pub(crate) fn offset_millis(&self) -> u64 {
        self.offset_millis.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward() {
        let clock = VirtualClock::default();
        let before = clock.epoch_secs();
        clock.advance(Duration::from_secs(86_400));
        assert!(clock.epoch_secs() >= before + 86_400);
        assert_eq!(clock.offset_millis(), 86_400_000);
    }
}
