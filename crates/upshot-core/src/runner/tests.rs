//! Unit tests of the runner's private helpers.

use super::RunnerConfig;
use super::leases::holder_is_gone;
use super::outcomes::backoff_ceiling;
use std::time::Duration;

#[test]
fn a_lease_of_a_process_that_is_gone_is_recognised() {
    // Pid 1 always exists; pid 0x3FFFFFFF is above Linux's pid_max.
    assert!(!holder_is_gone("pid1-00000000-w0", "pid999-aaaa"));
    #[cfg(unix)]
    assert!(holder_is_gone("pid1073741823-0badcafe-w1", "pid999-aaaa"));
    let own = format!("pid{}-1234abcd", std::process::id());
    assert!(
        !holder_is_gone(&format!("{own}-w0"), &own),
        "our own workers are alive"
    );
    assert!(
        holder_is_gone(&format!("pid{}-ffffffff-w0", std::process::id()), &own),
        "an earlier process with our pid is gone"
    );
    assert!(
        !holder_is_gone("someone-else", &own),
        "unknown owners keep their lease"
    );
}

#[test]
fn backoff_is_jittered_below_a_doubling_capped_ceiling() {
    let config = RunnerConfig::default();
    let ceiling = |attempts: u32| backoff_ceiling(&config, attempts);
    assert_eq!(ceiling(0), Duration::from_secs(2));
    assert_eq!(ceiling(1), Duration::from_secs(2));
    assert_eq!(ceiling(4), Duration::from_secs(16));
    assert_eq!(ceiling(30), Duration::from_secs(600));
}
