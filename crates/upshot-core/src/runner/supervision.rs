//! Supervision: runs the workers under one cancellation token and task tracker, restarts a
//! failing worker after a back-off, records its fault where every process sees it, and keeps
//! the answers Imgur sent written (or parked) however the database fails.

use super::*;
use crate::error::ErrorCode;
use crate::queue::JobQueue;
use crate::store::{PoolError, StoreError};
use crate::types::JobId;
use rusqlite::Connection;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

impl Runner {
    /// Works the queue with the configured number of workers until `stop` says so or `shutdown`
    /// turns true (see [`run_until`](Self::run_until), which this bridges to).
    pub async fn run(
        &self,
        stop: StopWhen,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), RunnerError> {
        let cancel = CancellationToken::new();
        let bridge = {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                if shutdown.wait_for(|stop| *stop).await.is_ok() {
                    cancel.cancel();
                }
            })
        };
        let result = self.run_until(stop, cancel).await;
        bridge.abort();
        result
    }

    /// Works the queue with the configured number of workers until `stop` says so or `cancel`
    /// is cancelled. One token and one task tracker hold every worker: each runs under a
    /// supervisor that records a failure (a database error, a panic) in the database, where
    /// `upshot queue list` in any process shows it, and restarts the worker after a back-off.
    /// Uploads in flight are finished before it returns (an answer is awaited up to the
    /// client's answer deadline), so stopping never drops an answer Imgur is sending.
    pub async fn run_until(
        &self,
        stop: StopWhen,
        cancel: CancellationToken,
    ) -> Result<(), RunnerError> {
        *self
            .shared
            .stopping
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = cancel.clone();
        self.apply_parked_answers().await;
        if let Err(error) = self.reclaim_from_dead_processes().await {
            tracing::warn!("could not take over the jobs of stopped processes: {error}");
        }
        let runner = self.shared.owner.clone();
        let now = self.now();
        let reserved = self
            .shared
            .pool
            .run(move |conn| -> Result<(), StoreError> {
                let queue = JobQueue::new(conn);
                // Rows of processes that died (a crash skips the removal at the end).
                for (gone, pid) in queue.fault_rows()? {
                    if !process_is_alive(pid) {
                        queue.drop_fault_row(&gone)?;
                    }
                }
                queue.reserve_fault_row(&runner, std::process::id(), now)
            })
            .await;
        if let Err(error) = flatten(reserved) {
            tracing::warn!("could not reserve this runner's fault record: {error}");
        }
        self.prune_if_due().await;
        let stop = Arc::new(stop);
        let tracker = TaskTracker::new();
        let failure: Arc<Mutex<Option<RunnerError>>> = Arc::default();
        for index in 0..self.shared.config.workers.max(1) {
            let runner = self.clone();
            let stop = stop.clone();
            let cancel = cancel.clone();
            let failure = failure.clone();
            tracker.spawn(async move {
                if let Err(error) = runner.supervise(index, stop, cancel).await {
                    *failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
                }
            });
        }
        tracker.close();
        tracker.wait().await;
        let runner = self.shared.owner.clone();
        let dropped = self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).drop_fault_row(&runner))
            .await;
        if let Ok(Err(error)) = dropped {
            tracing::warn!("could not remove this runner's fault record: {error}");
        }
        let failure = failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Runs worker `index` and restarts it when it fails (an error or a panic), after a
    /// back-off, recording the fault where every process sees it. A worker that runs for good
    /// ([`StopWhen::Never`]) is restarted for as long as it fails; a one-off run gives up after
    /// [`UNATTENDED_FAILURES`] failures in a row and returns the error.
    pub(super) async fn supervise(
        &self,
        index: usize,
        stop: Arc<StopWhen>,
        cancel: CancellationToken,
    ) -> Result<(), RunnerError> {
        let mut failures: u32 = 0;
        loop {
            let started = std::time::Instant::now();
            let worker = {
                let runner = self.clone();
                let stop = stop.clone();
                let cancel = cancel.clone();
                tokio::spawn(async move { runner.worker(index, &stop, cancel).await })
            };
            let error = match worker.await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(error)) => error,
                Err(error) => RunnerError::Task(error.to_string()),
            };
            // Failures count "in a row": a worker that ran well for a while starts afresh
            // (a long run next to the app may meet a busy database now and then).
            if started.elapsed() >= HEALTHY_RUN {
                failures = 0;
            }
            failures += 1;
            tracing::error!(
                worker = index,
                failures,
                "a worker failed: {error}; restarting it"
            );
            self.record_fault(&error, &self.worker_owner(index)).await;
            if !matches!(*stop, StopWhen::Never) && failures >= UNATTENDED_FAILURES {
                return Err(error);
            }
            let pause = store_backoff(failures);
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = cancel.cancelled() => return Err(error),
            }
        }
    }

    /// Records in the database that this runner's workers are failing with `error` (best
    /// effort: the database may be what fails; the row was reserved so an update in place
    /// usually still goes through).
    pub(super) async fn record_fault(&self, error: &(dyn ErrorCode + Send + Sync), worker: &str) {
        *self
            .shared
            .fault_recorder
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(worker.to_owned());
        let runner = self.shared.owner.clone();
        let code = error.code().to_owned();
        let message = error.to_string();
        let now = self.now();
        let recorded = self
            .shared
            .pool
            .run(move |conn| {
                JobQueue::new(conn).record_worker_fault(
                    &runner,
                    std::process::id(),
                    &code,
                    &message,
                    now,
                )
            })
            .await;
        if let Err(error) = flatten(recorded) {
            tracing::warn!("could not record the worker fault: {error}");
        }
    }

    /// Clears the recorded fault once the worker that recorded it succeeds again.
    pub(super) async fn clear_fault(&self, worker: &str) {
        {
            let mut recorder = self
                .shared
                .fault_recorder
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if recorder.as_deref() != Some(worker) {
                return;
            }
            *recorder = None;
        }
        let runner = self.shared.owner.clone();
        let now = self.now();
        let cleared = self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).clear_worker_fault(&runner, now))
            .await;
        if let Err(error) = flatten(cleared) {
            self.shared
                .fault_recorder
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert_with(|| worker.to_owned());
            tracing::warn!("could not clear the worker fault: {error}");
        } else {
            tracing::info!("the workers work again");
        }
    }

    /// Runs a write that must hold (Imgur's answer, once it came) until it does: a failing
    /// database (busy, full, read-only) is retried with back-off, the fault recorded meanwhile,
    /// and the lease on `job` renewed (an update in place, which a full database still takes)
    /// so that no other worker sends the job again while its answer waits to be written. Once
    /// the runner is stopping it tries [`STOPPING_ATTEMPTS`] more times, a short pause apart,
    /// then returns the database's error (quitting must not hang on a full disk; the caller
    /// parks what it could not write).
    pub(super) async fn durably<T: Send + 'static>(
        &self,
        what: &'static str,
        job: (&str, JobId),
        write: impl Fn(&Connection) -> Result<T, StoreError> + Clone + Send + 'static,
    ) -> Result<T, RunnerError> {
        let stopping = self
            .shared
            .stopping
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut failures: u32 = 0;
        let mut since_stop: u32 = 0;
        loop {
            let attempt = write.clone();
            let error = match self.shared.pool.run(attempt).await {
                Ok(Ok(value)) => {
                    self.clear_fault(job.0).await;
                    return Ok(value);
                }
                Ok(Err(error)) | Err(PoolError::Store(error)) => RunnerError::Store(error),
                // The runtime is going away: nothing more can be done here.
                Err(error) => return Err(error.into()),
            };
            failures += 1;
            tracing::warn!(failures, "could not {what}: {error}; trying again");
            self.record_fault(&error, job.0).await;
            if stopping.is_cancelled() {
                since_stop += 1;
                if since_stop >= STOPPING_ATTEMPTS {
                    return Err(error);
                }
            }
            let (owner, id) = (job.0.to_owned(), job.1);
            let now = self.now();
            let lease = duration_ms(self.shared.config.lease);
            let renewed = self
                .shared
                .pool
                .run(move |conn| JobQueue::new(conn).renew_lease(id, &owner, now, lease))
                .await;
            if let Err(error) = flatten(renewed) {
                tracing::warn!(job = %id, "could not renew the lease: {error}");
            }
            let pause = if stopping.is_cancelled() {
                store_backoff(1)
            } else {
                store_backoff(failures)
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = stopping.cancelled(), if !stopping.is_cancelled() => {}
            }
        }
    }

    /// Records answers a stopping runner parked (see [`parked`]) and removes their files.
    /// Failing is logged and the file kept for the next start.
    pub(super) async fn apply_parked_answers(&self) {
        for (path, answer) in parked::list(&self.shared.parked_dir) {
            let now = self.now();
            let parked::Answer { job, owner, entry } = answer;
            let done = self
                .shared
                .pool
                .run(move |conn| JobQueue::new(conn).complete(job, &owner, now, &entry))
                .await;
            match flatten(done) {
                Ok(history) => {
                    tracing::info!(job = %job, history = %history, "recorded an answer parked at the last stop");
                    if let Err(error) = std::fs::remove_file(&path) {
                        tracing::warn!(job = %job, "could not remove the parked answer: {error}");
                    }
                }
                Err(error) => {
                    tracing::warn!(job = %job, "could not record an answer parked at the last stop: {error}");
                }
            }
        }
    }

    /// Removes finished jobs past their retention, and the files of Upshot's own only they
    /// referred to, when the last pruning is [`PRUNE_EVERY`] old. Failing is logged: pruning
    /// never stops the uploads.
    pub(super) async fn prune_if_due(&self) {
        let Some(retention) = self.shared.config.job_retention else {
            return;
        };
        let now = self.now();
        let last = self.shared.last_prune.load(Ordering::Acquire);
        if last != 0 && now - last < duration_ms(PRUNE_EVERY) {
            return;
        }
        self.shared.last_prune.store(now, Ordering::Release);
        let before = now.saturating_sub(duration_ms(retention));
        let pruned = self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).prune_finished(before))
            .await;
        let pruned = match flatten(pruned) {
            Ok(pruned) => pruned,
            Err(error) => {
                tracing::warn!("could not prune finished jobs: {error}");
                return;
            }
        };
        for path in &pruned.spooled {
            if let Err(error) = self.shared.spool.remove(path) {
                tracing::warn!("could not remove a pruned job's spooled file: {error}");
            }
        }
        for path in &pruned.fitted {
            if let Err(error) = self.shared.prepared.remove(path) {
                tracing::warn!("could not remove a pruned job's fitted copy: {error}");
            }
        }
        if pruned.jobs > 0 {
            tracing::info!(
                jobs = pruned.jobs,
                "pruned finished jobs past their retention"
            );
        }
    }
}

/// The wait before retrying a failing database or restarting a failed worker: 250 ms doubling
/// to 30 s (a busy database clears in seconds, a full disk when the user frees space).
pub(super) fn store_backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(7);
    Duration::from_millis(250u64 << exponent).min(Duration::from_secs(30))
}
