//! Times as people read them: "in 12 min (09:24 UTC)". Every waiting upload says until when.

use crate::types::UnixMillis;
use std::time::Duration;

/// `until` relative to `now` plus the absolute UTC time: "now", "in 40 s (…)", "in 3 h 5 min (…)".
pub fn describe(until: UnixMillis, now: UnixMillis) -> String {
    let absolute = humantime::format_rfc3339_seconds(until.to_system_time()).to_string();
    let absolute = absolute.replace('T', " ").replace('Z', " UTC");
    let ahead = until.as_millis() - now.as_millis();
    if ahead <= 500 {
        return format!("now ({absolute})");
    }
    format!(
        "in {} ({absolute})",
        short_duration(Duration::from_millis(ahead.unsigned_abs()))
    )
}

/// A duration in the two largest units: "40 s", "12 min", "3 h 5 min", "2 d 4 h".
pub fn short_duration(duration: Duration) -> String {
    let secs = duration.as_secs().max(1);
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute() {
        let now = UnixMillis::from_secs(1_795_400_000);
        assert!(describe(now, now).starts_with("now ("));
        let later = now.plus_millis(3_900_000);
        let text = describe(later, now);
        assert!(text.starts_with("in 1 h 5 min ("), "{text}");
        assert!(text.ends_with(" UTC)"), "{text}");
        assert_eq!(short_duration(Duration::from_secs(40)), "40 s");
        assert_eq!(
            short_duration(Duration::from_secs(2 * 86_400 + 4 * 3600)),
            "2 d 4 h"
        );
    }
}
