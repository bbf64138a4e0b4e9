//! Leases: renewing and giving back a worker's claim, watching it while an upload runs, and
//! freeing the jobs of processes that are gone.

use super::*;
use crate::queue::{Job, JobQueue, JobState, LeaseCheck};
use crate::store::StoreError;
use crate::types::JobId;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

impl Runner {
    /// Jobs left `uploading` by a process that no longer exists (killed, crashed) are freed at
    /// once rather than after their lease runs out. A holder that may still be alive is left
    /// alone: its lease protects its upload.
    pub(super) async fn reclaim_from_dead_processes(&self) -> Result<(), RunnerError> {
        let now = self.now();
        let own_prefix = self.shared.owner.clone();
        let freed = self
            .shared
            .pool
            .run(move |conn| -> Result<usize, StoreError> {
                let queue = JobQueue::new(conn);
                let uploading =
                    queue.list(&crate::queue::JobFilter::states(&[JobState::Uploading]))?;
                let mut freed = 0;
                for job in uploading {
                    let Some(owner) = job.lease_owner.as_deref() else {
                        continue;
                    };
                    if holder_is_gone(owner, &own_prefix)
                        && queue.expire_lease(job.id, owner, now)?
                    {
                        freed += 1;
                    }
                }
                Ok(freed)
            })
            .await??;
        if freed > 0 {
            tracing::info!(
                freed,
                "took over jobs from a process that stopped mid-upload"
            );
        }
        Ok(())
    }

    /// Renews `owner`'s lease on job `id`, saying whether it is still ours.
    pub(super) async fn renew(&self, owner: &str, id: JobId) -> Result<LeaseCheck, RunnerError> {
        let now = self.now();
        let lease = duration_ms(self.shared.config.lease);
        let owner = owner.to_owned();
        Ok(self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).renew_lease(id, &owner, now, lease))
            .await??)
    }

    /// Gives back a job claimed ahead that will not be processed (the worker is stopping).
    pub(super) async fn release(&self, owner: &str, job: &Job) -> Result<(), RunnerError> {
        let now = self.now();
        let owner = owner.to_owned();
        let id = job.id;
        // Cancelled or taken over meanwhile: nothing left to give back either way.
        let _check = self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).release(id, &owner, now))
            .await??;
        Ok(())
    }

    /// Renews the lease while the upload runs and records progress; returns only when the job
    /// is no longer ours (cancelled or taken over).
    pub(super) async fn watch_lease(
        &self,
        owner: &str,
        id: JobId,
        sent: Arc<AtomicU64>,
        total: u64,
    ) -> LeaseCheck {
        let lease = duration_ms(self.shared.config.lease);
        let every = (self.shared.config.lease / 3).min(Duration::from_millis(500));
        let mut ticker = tokio::time::interval(every);
        ticker.tick().await;
        let mut last_renewal = self.now();
        loop {
            ticker.tick().await;
            let now = self.now();
            let renew = now - last_renewal >= lease / 3;
            let owner = owner.to_owned();
            let bytes = sent.load(Ordering::Relaxed);
            let check = self
                .shared
                .pool
                .run(move |conn| {
                    let queue = JobQueue::new(conn);
                    if renew {
                        queue.renew_lease(id, &owner, now, lease)
                    } else {
                        queue.record_progress(id, &owner, now, bytes, total)
                    }
                })
                .await;
            match check {
                Ok(Ok(LeaseCheck::Held)) => {
                    if renew {
                        last_renewal = now;
                    }
                }
                Ok(Ok(other)) => return other,
                // A busy or failing database must not abort a good upload: try again next tick.
                Ok(Err(error)) => tracing::warn!(job = %id, "could not renew the lease: {error}"),
                Err(error) => tracing::warn!(job = %id, "could not renew the lease: {error}"),
            }
        }
    }
}

/// Whether the process named in a lease owner (`pid<N>-…`) is gone. Unknown formats and other
/// platforms answer "not known to be gone", which keeps the lease.
pub(super) fn holder_is_gone(owner: &str, own_prefix: &str) -> bool {
    let Some(pid) = owner
        .strip_prefix("pid")
        .and_then(|rest| rest.split('-').next())
        .and_then(|pid| pid.parse::<i32>().ok())
    else {
        return false;
    };
    if u32::try_from(pid).ok() == Some(std::process::id()) {
        // Our pid: ours if it is this runner's name, else an earlier process that had our pid
        // (pids are reused) and is therefore gone.
        return !owner.starts_with(own_prefix);
    }
    process_is_gone(pid)
}

/// Whether the process `pid` still runs (unknown on other platforms: assumed so).
pub(crate) fn process_is_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    i32::try_from(pid).is_ok_and(|pid| !process_is_gone(pid))
}

#[cfg(unix)]
pub(super) fn process_is_gone(pid: i32) -> bool {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    // Signal 0 checks existence without sending anything.
    matches!(kill(Pid::from_raw(pid), None), Err(Errno::ESRCH))
}

#[cfg(not(unix))]
pub(super) fn process_is_gone(_pid: i32) -> bool {
    false
}
