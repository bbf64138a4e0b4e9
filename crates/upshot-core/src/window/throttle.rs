//! Progress for the window at a pace a webview can take: at most one update a job every
//! [`PROGRESS_INTERVAL_MS`], plus the first and the last, whatever the runner reports. A drop of
//! 200 files sends at most ~10 updates a second a running job (2 at a time), never a flood.

use super::views::UploadProgress;
use crate::types::JobId;
use std::collections::HashMap;

/// The shortest time between two progress updates of one job (10 a second).
pub const PROGRESS_INTERVAL_MS: i64 = 100;

#[derive(Debug, Clone, Copy)]
struct Shown {
    at: i64,
    sent: u64,
    /// Bytes a second, smoothed over the updates shown.
    speed: f64,
}

/// Decides which progress reports reach the window, and measures the speed they show.
#[derive(Debug, Default)]
pub struct ProgressThrottle {
    shown: HashMap<JobId, Shown>,
}

impl ProgressThrottle {
    /// The update to show for `sent` of `total` bytes at `now` (ms), or `None` when the last
    /// shown one is too recent. The first and the last (`sent == total`) always show.
    pub fn admit(&mut self, job: JobId, sent: u64, total: u64, now: i64) -> Option<UploadProgress> {
        let last = self.shown.get(&job).copied();
        let finished = sent >= total;
        if let Some(last) = last
            && !finished
            && now - last.at < PROGRESS_INTERVAL_MS
        {
            return None;
        }
        let speed = match last {
            Some(last) if now > last.at && sent >= last.sent => {
                #[allow(clippy::cast_precision_loss)]
                let recent = (sent - last.sent) as f64 * 1000.0 / (now - last.at) as f64;
                if last.speed > 0.0 {
                    0.7f64.mul_add(last.speed, 0.3 * recent)
                } else {
                    recent
                }
            }
            _ => 0.0,
        };
        self.shown.insert(
            job,
            Shown {
                at: now,
                sent,
                speed,
            },
        );
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bytes_per_second = speed.max(0.0).round() as u64;
        Some(UploadProgress {
            job: job.to_string(),
            sent,
            total,
            bytes_per_second,
        })
    }

    /// Forgets a job whose upload ended (or starts over).
    pub fn forget(&mut self, job: JobId) {
        self.shown.remove(&job);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_update_per_interval_plus_the_last() {
        let mut throttle = ProgressThrottle::default();
        let job = JobId(7);
        let total = 10_000_000;
        // The runner reports every 64 KiB: ~150 reports in 300 ms.
        let mut shown = Vec::new();
        for step in 0..=153u64 {
            let sent = (step * 65_536).min(total);
            let now = i64::try_from(step * 2).unwrap();
            if let Some(update) = throttle.admit(job, sent, total, now) {
                shown.push((now, update));
            }
        }
        // 0, 100, 200, 300 ms and the last report.
        let times: Vec<i64> = shown.iter().map(|(now, _)| *now).collect();
        assert_eq!(times, vec![0, 100, 200, 300, 306]);
        assert_eq!(shown.last().unwrap().1.sent, total);
        // 64 KiB every 2 ms is 32.768 MB/s.
        let speed = shown[2].1.bytes_per_second;
        assert!((32_000_000..33_500_000).contains(&speed), "{speed}");
    }

    #[test]
    fn jobs_are_throttled_apart() {
        let mut throttle = ProgressThrottle::default();
        assert!(throttle.admit(JobId(1), 10, 100, 0).is_some());
        assert!(throttle.admit(JobId(2), 10, 100, 1).is_some());
        assert!(throttle.admit(JobId(1), 20, 100, 2).is_none());
        throttle.forget(JobId(1));
        assert!(throttle.admit(JobId(1), 0, 100, 3).is_some());
    }
}
