//! The upload workers: claim a job, ask the governor, send it, record what happened.
//!
//! A [`Runner`] owns no state of its own that matters after a crash: every decision is written to
//! the database (the job's state, the ledger, the history) before or as it takes effect, so a
//! process killed at any point leaves a queue that the next run picks up. Workers are tokio
//! tasks; SQLite work runs on the blocking pool through a small connection pool.
//!
//! What happens on failure follows the error's kind (docs/QUEUE.md): `retry_later` backs off
//! with full jitter, `rate_limited` holds the whole Client ID until the reset, `reauth` holds the
//! account's jobs until the user logs in again, `permanent` fails the job with its reason.

mod parked;

use crate::auth::TokenAnswer;
use crate::clock::{Clock, UnixMillis};
use crate::governor::{Admission, GovernorError, Priority, QuotaGovernor, RequestCost};
use crate::history::{HistoryId, NewHistoryEntry};
use crate::media::{CheckedFile, check_file, inspect};
use crate::preflight::cleaned_for_sending;
use crate::queue::{Job, JobId, JobQueue, JobState, LeaseCheck, LiveCopy, NewJob, WaitReason};
use crate::spool::Spool;
use crate::store::{Database, StoreError};
use futures_util::future::BoxFuture;
use rand::Rng;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use upshot_imgur::{
    Auth, ErrorKind, Image, ImgurClient, ImgurError, ProgressFn, Secret, UploadProgress,
    UploadRequest,
};

/// How the workers behave.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Uploads at once.
    pub workers: usize,
    /// How long a claim holds a job without renewal; a dead worker's job is taken over after it.
    pub lease: Duration,
    /// The first back-off after a passing failure (doubles with every attempt).
    pub backoff_base: Duration,
    /// The longest back-off.
    pub backoff_cap: Duration,
    /// How often an idle worker looks for work another process may have queued.
    pub poll_interval: Duration,
    /// How long finished jobs are kept (their history stays); `None` keeps them forever.
    /// Pruned when the runner starts and then every [`PRUNE_EVERY`].
    pub job_retention: Option<Duration>,
}

/// How many more times a stopping runner tries to write Imgur's answer before parking it.
const STOPPING_ATTEMPTS: u32 = 3;

/// How often a running runner prunes finished jobs past their retention.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// A worker that fails this many times in a row is given up on unless it runs for good
/// ([`StopWhen::Never`]): a one-off command then reports the error instead of retrying forever.
const UNATTENDED_FAILURES: u32 = 6;

/// A worker that ran this long before failing was healthy: its failures start counting afresh.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            lease: Duration::from_secs(60),
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(600),
            poll_interval: Duration::from_secs(1),
            job_retention: Some(crate::queue::DEFAULT_JOB_RETENTION),
        }
    }
}

/// What the queue tells its watchers (the CLI's progress bars, the desktop UI).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum QueueEvent {
    /// A job entered the queue.
    Queued {
        /// The job.
        job: JobId,
    },
    /// A worker started sending it.
    Started {
        /// The job.
        job: JobId,
        /// Which attempt this is (1 for the first).
        attempt: u32,
        /// The file's size.
        total: u64,
    },
    /// Bytes handed to the network.
    Progress {
        /// The job.
        job: JobId,
        /// Bytes sent so far.
        sent: u64,
        /// The file's size.
        total: u64,
    },
    /// It waits, and why, until when (`None`: until an event such as a login).
    Waiting {
        /// The job.
        job: JobId,
        /// Why.
        reason: WaitReason,
        /// Until when (ms since the epoch).
        until: Option<i64>,
        /// The failure that caused the wait, if one did.
        error: Option<String>,
    },
    /// Uploaded.
    Done {
        /// The job.
        job: JobId,
        /// Its history entry.
        history: HistoryId,
        /// The uploaded image.
        image: Box<Image>,
    },
    /// Failed for good (kept listed with the reason).
    Failed {
        /// The job.
        job: JobId,
        /// The error's kind.
        kind: ErrorKind,
        /// The reason in words.
        message: String,
    },
    /// Cancelled while it was being sent.
    Cancelled {
        /// The job.
        job: JobId,
    },
}

/// Where the tokens of logged-in accounts come from. The anonymous Client ID needs none.
pub trait Credentials: Send + Sync {
    /// A token to upload as `account` with (refreshed first when it is about to expire).
    fn access_token<'a>(&'a self, account: &'a str) -> BoxFuture<'a, TokenAnswer>;

    /// Imgur refused `rejected` as invalid: refresh once and answer the new token, or that the
    /// account is logged out. Credentials that cannot refresh keep this default: logged out.
    fn token_rejected<'a>(
        &'a self,
        _account: &'a str,
        _rejected: &'a Secret,
    ) -> BoxFuture<'a, TokenAnswer> {
        Box::pin(async { TokenAnswer::LoggedOut })
    }
}

/// No accounts: every logged-in job waits for a login.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAccounts;

impl Credentials for NoAccounts {
    fn access_token<'a>(&'a self, _account: &'a str) -> BoxFuture<'a, TokenAnswer> {
        Box::pin(async { TokenAnswer::LoggedOut })
    }
}

/// Tokens held in memory, never refreshed (tests).
#[derive(Debug, Default)]
pub struct StaticCredentials(Mutex<HashMap<String, Secret>>);

impl StaticCredentials {
    /// Sets (or with `None` removes) an account's token.
    pub fn set(&self, account: &str, token: Option<Secret>) {
        let mut tokens = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match token {
            Some(token) => tokens.insert(account.to_owned(), token),
            None => tokens.remove(account),
        };
    }

    fn answer(&self, account: &str) -> TokenAnswer {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(account)
            .cloned()
            .map_or(TokenAnswer::LoggedOut, TokenAnswer::Token)
    }
}

impl Credentials for StaticCredentials {
    fn access_token<'a>(&'a self, account: &'a str) -> BoxFuture<'a, TokenAnswer> {
        Box::pin(async move { self.answer(account) })
    }
}

impl Credentials for crate::auth::AuthSession {
    fn access_token<'a>(&'a self, account: &'a str) -> BoxFuture<'a, TokenAnswer> {
        Box::pin(self.token_for(account))
    }

    fn token_rejected<'a>(
        &'a self,
        account: &'a str,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, TokenAnswer> {
        Box::pin(crate::auth::AuthSession::token_rejected(
            self, account, rejected,
        ))
    }
}

/// Why the runner could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The governor failed (its database).
    #[error(transparent)]
    Governor(#[from] GovernorError),
    /// A blocking task died (a bug, or the runtime shutting down).
    #[error("an internal task stopped unexpectedly: {0}")]
    Task(String),
}

/// When [`Runner::run`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopWhen {
    /// Once every one of these jobs is done, failed or cancelled.
    Finished(Vec<JobId>),
    /// Once none of these jobs is queued or being sent: each is finished or waits with a reason
    /// (`upshot upload --no-wait`: at most one attempt now).
    Settled(Vec<JobId>),
    /// Once no job is queued, waiting or being sent (`upshot queue run`).
    Empty,
    /// Only when shut down (`upshot queue run --follow`, the desktop app).
    Never,
}

/// The queue's workers. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Runner {
    shared: Arc<Shared>,
}

struct Shared {
    pool: ConnectionPool,
    governor: Arc<QuotaGovernor>,
    client: ImgurClient,
    credentials: Arc<dyn Credentials>,
    clock: Arc<dyn Clock>,
    spool: Spool,
    prepared: Spool,
    config: RunnerConfig,
    /// Names this process's leases, so a crash's leftovers are told apart from live claims.
    owner: String,
    events: broadcast::Sender<QueueEvent>,
    /// Wakes idle workers when this process queues something.
    wake: Notify,
    /// Per Client ID: the lowest priority the governor holds back, and until when. Saves asking
    /// again for every job of a paced backlog.
    held: Mutex<HashMap<String, (Priority, UnixMillis)>>,
    /// The worker whose fault is recorded in the database, if any. Only that worker's next
    /// success clears it: another worker's idle look (a read that a full disk still answers)
    /// says nothing about the write that failed, and clearing on it made the fault flicker.
    fault_recorder: Mutex<Option<String>>,
    /// When finished jobs were last pruned (ms).
    last_prune: AtomicI64,
    /// The token of the current [`Runner::run_until`]: once it is cancelled, a write of Imgur's
    /// answer is tried a bounded number of times, then parked in a file (see [`parked`]).
    stopping: Mutex<CancellationToken>,
    /// Where answers that could not be written at a stop are parked.
    parked_dir: std::path::PathBuf,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("owner", &self.shared.owner)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner over `db`, spending through `governor`, sending through `client`.
    pub fn new(
        db: &Database,
        governor: Arc<QuotaGovernor>,
        client: ImgurClient,
        credentials: Arc<dyn Credentials>,
        data_dir: &std::path::Path,
        config: RunnerConfig,
    ) -> Self {
        let clock = governor.clock().clone();
        let (events, _) = broadcast::channel(4096);
        let suffix: u32 = rand::rng().random();
        Self {
            shared: Arc::new(Shared {
                pool: ConnectionPool::new(db.clone()),
                governor,
                client,
                credentials,
                clock,
                spool: Spool::new(data_dir),
                prepared: Spool::prepared(data_dir),
                owner: format!("pid{}-{suffix:08x}", std::process::id()),
                config,
                events,
                wake: Notify::new(),
                held: Mutex::new(HashMap::new()),
                fault_recorder: Mutex::new(None),
                last_prune: AtomicI64::new(0),
                stopping: Mutex::new(CancellationToken::new()),
                parked_dir: parked::dir(data_dir),
            }),
        }
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<QueueEvent> {
        self.shared.events.subscribe()
    }

    /// The governor the runner spends through.
    pub fn governor(&self) -> &Arc<QuotaGovernor> {
        &self.shared.governor
    }

    /// Queues jobs in one transaction and wakes the workers.
    pub async fn enqueue(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>, RunnerError> {
        let now = self.now();
        let ids = self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).enqueue_many(&jobs, now))
            .await??;
        for id in &ids {
            self.emit(QueueEvent::Queued { job: *id });
        }
        self.shared.wake.notify_waiters();
        Ok(ids)
    }

    /// Queues jobs whose content is not live already (see
    /// [`JobQueue::enqueue_unless_live`]) and wakes the workers.
    pub async fn enqueue_unless_live(
        &self,
        jobs: Vec<(NewJob, bool)>,
    ) -> Result<Vec<Result<JobId, LiveCopy>>, RunnerError> {
        let now = self.now();
        let outcomes = self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).enqueue_unless_live(&jobs, now))
            .await??;
        let queued: Vec<JobId> = outcomes
            .iter()
            .filter_map(|outcome| outcome.as_ref().ok().copied())
            .collect();
        self.announce(&queued);
        Ok(outcomes)
    }

    /// Tells the workers (and subscribers) about jobs queued through another handle on the same
    /// database (a watched folder's own transaction), so they start at once instead of at the
    /// next poll.
    pub fn announce(&self, ids: &[JobId]) {
        for id in ids {
            self.emit(QueueEvent::Queued { job: *id });
        }
        if !ids.is_empty() {
            self.shared.wake.notify_waiters();
        }
    }

    /// The time on the runner's clock (ms since the epoch).
    pub fn now_millis(&self) -> i64 {
        self.now()
    }

    /// Looks a job up.
    pub async fn job(&self, id: JobId) -> Result<Option<Job>, RunnerError> {
        Ok(self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).get(id))
            .await??)
    }

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
    async fn supervise(
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
    async fn record_fault(&self, error: &dyn RunnerFault, worker: &str) {
        *self
            .shared
            .fault_recorder
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(worker.to_owned());
        let runner = self.shared.owner.clone();
        let code = error.fault_code().to_owned();
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
    async fn clear_fault(&self, worker: &str) {
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
    async fn durably<T: Send + 'static>(
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
                Ok(Err(error)) | Err(RunnerError::Store(error)) => RunnerError::Store(error),
                // The runtime is going away: nothing more can be done here.
                Err(error) => return Err(error),
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
    async fn apply_parked_answers(&self) {
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
    async fn prune_if_due(&self) {
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

    /// Removes a job's fitted copy once the job has ended (done, failed or cancelled): it is
    /// derived from the user's file, and a retry makes it again.
    fn remove_fitted(&self, job: &Job) {
        if let Some(copy) = &job.upload_path
            && let Err(error) = self.shared.prepared.remove(copy)
        {
            tracing::warn!(job = %job.id, "could not remove the fitted copy: {error}");
        }
    }

    /// Jobs left `uploading` by a process that no longer exists (killed, crashed) are freed at
    /// once rather than after their lease runs out. A holder that may still be alive is left
    /// alone: its lease protects its upload.
    async fn reclaim_from_dead_processes(&self) -> Result<(), RunnerError> {
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

    async fn worker(
        &self,
        index: usize,
        stop: &StopWhen,
        cancel: CancellationToken,
    ) -> Result<(), RunnerError> {
        let owner = self.worker_owner(index);
        let mut ahead: Option<Box<Prepared>> = None;
        loop {
            if cancel.is_cancelled() {
                if let Some(prepared) = ahead.take() {
                    self.release(&owner, &prepared.job).await?;
                }
                return Ok(());
            }
            // Listening before looking: a job that finishes or arrives after the look wakes
            // this worker even if it is still on its way to sleep.
            let woken = self.shared.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let next = match ahead.take() {
                // Claimed while the last job's answer was awaited, which may have taken longer
                // than the lease: sent only if it is still ours.
                Some(prepared) => match self.renew(&owner, prepared.job.id).await? {
                    LeaseCheck::Held => Next::Job(prepared),
                    LeaseCheck::Cancelled | LeaseCheck::Lost => {
                        tracing::info!(job = %prepared.job.id, "a job claimed ahead was cancelled or taken over meanwhile; not sent");
                        continue;
                    }
                },
                None => self.next(&owner, stop).await?,
            };
            // The database answered this worker: a fault it recorded is over.
            self.clear_fault(&owner).await;
            match next {
                Next::Stop => return Ok(()),
                Next::Job(prepared) => {
                    ahead = self.process_preparing_next(&owner, *prepared, stop).await?;
                }
                Next::Idle => {
                    // `--no-wait`: nothing can go now, so each job is as settled as it gets now:
                    // waiting with a reason, or held behind the governor's answer.
                    if matches!(stop, StopWhen::Settled(_)) {
                        return Ok(());
                    }
                    self.prune_if_due().await;
                    let pause = self.idle_wait().await?;
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = woken => {}
                        _ = cancel.cancelled() => {}
                    }
                }
            }
        }
    }

    /// Processes `prepared` and, once its body has been handed to the connection and only
    /// Imgur's answer is awaited, prepares the worker's next job meanwhile: the bookkeeping
    /// between two uploads (claim, checks, admission) then costs no time on the wire. Returns
    /// the job prepared ahead, if any.
    async fn process_preparing_next(
        &self,
        owner: &str,
        prepared: Prepared,
        stop: &StopWhen,
    ) -> Result<Option<Box<Prepared>>, RunnerError> {
        let body_sent = Arc::new(BodySent::default());
        let process = self.process(owner, prepared, Some(body_sent.clone()));
        let prepare = async {
            body_sent.notify.notified().await;
            self.next(owner, stop).await
        };
        tokio::pin!(process, prepare);
        let mut prepared_next = None;
        let processed = loop {
            tokio::select! {
                result = &mut process => break result,
                next = &mut prepare, if prepared_next.is_none() => prepared_next = Some(next),
            }
        };
        // A preparation under way must finish: it may have claimed a job.
        if prepared_next.is_none() && body_sent.sent.load(Ordering::Acquire) {
            prepared_next = Some(prepare.await);
        }
        let ahead = match prepared_next {
            Some(Ok(Next::Job(prepared))) => Some(prepared),
            // Stopping or idling was decided while this job was still running: decide again.
            Some(Ok(Next::Stop | Next::Idle)) | None => None,
            Some(Err(error)) => {
                processed?;
                return Err(error);
            }
        };
        if let Err(error) = processed {
            if let Some(prepared) = ahead {
                let _ = self.release(owner, &prepared.job).await;
            }
            return Err(error);
        }
        Ok(ahead)
    }

    /// Renews `owner`'s lease on job `id`, saying whether it is still ours.
    async fn renew(&self, owner: &str, id: JobId) -> Result<LeaseCheck, RunnerError> {
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
    async fn release(&self, owner: &str, job: &Job) -> Result<(), RunnerError> {
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

    /// How long an idle worker sleeps: until the next deferred job or governor slot is due,
    /// but no longer than the poll interval (another process may queue work meanwhile).
    async fn idle_wait(&self) -> Result<Duration, RunnerError> {
        let now = self.now();
        let next_due = self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).next_run_after(now))
            .await??;
        let held_until = self.held_until_min();
        let due = [next_due, held_until.map(UnixMillis::as_millis)]
            .into_iter()
            .flatten()
            .min();
        let poll = self.shared.config.poll_interval;
        Ok(match due {
            Some(due) => Duration::from_millis(u64::try_from(due - now).unwrap_or(0)).min(poll),
            None => poll,
        })
    }

    /// Everything a worker does between two uploads, in one trip to the blocking pool (each
    /// trip costs two thread wake-ups, which on a busy machine cost more than the SQL): whether
    /// to stop, which job is next, whether its file and login are usable, and whether the
    /// governor lets it go now.
    async fn next(&self, owner: &str, stop: &StopWhen) -> Result<Next, RunnerError> {
        let now = self.now();
        let lease = duration_ms(self.shared.config.lease);
        let held = self.held_snapshot(now);
        let owner = owner.to_owned();
        let stop = stop.clone();
        let governor = self.shared.governor.clone();
        self.shared
            .pool
            .run(move |conn| -> Result<Next, RunnerError> {
                let queue = JobQueue::new(conn);
                if stop_now(&queue, &stop)? {
                    return Ok(Next::Stop);
                }
                let skip_all: Vec<&str> = held
                    .iter()
                    .filter(|(_, priority)| *priority == Priority::Interactive)
                    .map(|(client, _)| client.as_str())
                    .collect();
                let skip_backlog: Vec<&str> = held
                    .iter()
                    .filter(|(_, priority)| *priority == Priority::Backlog)
                    .map(|(client, _)| client.as_str())
                    .collect();
                let Some(job) =
                    queue.claim_filtered(&owner, now, lease, &skip_all, &skip_backlog)?
                else {
                    return Ok(Next::Idle);
                };
                // Preflight applied the user's limits when the job was queued; a job from
                // before preflight gets Imgur's.
                let path = job.upload_path.as_ref().unwrap_or(&job.source_path);
                let checked = match &job.preflight {
                    Some(_) => inspect(path),
                    None => check_file(path),
                };
                let mut prepared = Prepared {
                    checked,
                    auth: None,
                    admission: None,
                    job,
                };
                if prepared.checked.is_err() {
                    return Ok(Next::Job(Box::new(prepared)));
                }
                // A logged-in job's token may need a refresh (a request): `process` gets it.
                if prepared.job.account.is_none() {
                    prepared.auth = Some(Auth::client_id(&prepared.job.client_id));
                    let priority = Priority::from_level(prepared.job.priority);
                    let cost = governor.config().upload_request();
                    prepared.admission =
                        Some(governor.try_spend(&prepared.job.client_id, priority, cost)?);
                }
                Ok(Next::Job(Box::new(prepared)))
            })
            .await?
    }

    /// Acts on what [`next`](Self::next) found: a file that cannot be sent fails, a job whose
    /// login is gone waits for one, a job the governor holds back waits for its slot (none of
    /// these cost a request), and an admitted job is sent.
    async fn process(
        &self,
        owner: &str,
        prepared: Prepared,
        body_sent: Option<Arc<BodySent>>,
    ) -> Result<(), RunnerError> {
        let Prepared {
            job,
            checked,
            auth,
            admission,
        } = prepared;
        let checked = match checked {
            Ok(checked) => checked,
            Err(rejected) => {
                return self
                    .finish_failed(owner, &job, ErrorKind::Permanent, &rejected.to_string())
                    .await;
            }
        };
        let (auth, admission) = match (auth, &job.account) {
            (Some(auth), _) => (auth, admission),
            (None, None) => return self.hold_for_login(owner, &job, None).await,
            (None, Some(account)) => match self.shared.credentials.access_token(account).await {
                TokenAnswer::Token(token) => {
                    let admission = self.admit(&job).await?;
                    (Auth::bearer(token), Some(admission))
                }
                TokenAnswer::LoggedOut => return self.hold_for_login(owner, &job, None).await,
                TokenAnswer::TryLater(reason) => {
                    let message = format!("Could not refresh the login: {reason}");
                    return self.back_off(owner, &job, &message, false).await;
                }
            },
        };
        if let Some(Admission::Wait { until, reason }) = admission {
            let priority = Priority::from_level(job.priority);
            self.hold(&job.client_id, priority, until);
            let reason = WaitReason::from(reason);
            self.put_back(owner, &job, Some(until.as_millis()), reason, None, false)
                .await?;
            return Ok(());
        }
        // Admitted ahead of time, then Imgur said 429 to the upload before it: wait with the rest.
        if let Some(until) = self.held_for_all(&job.client_id) {
            let until = Some(until.as_millis());
            self.put_back(owner, &job, until, WaitReason::RateLimited, None, false)
                .await?;
            return Ok(());
        }
        self.send(owner, job, checked, auth, body_sent, false).await
    }

    /// Asks the governor whether `job`'s upload may go now (recording it when it may).
    async fn admit(&self, job: &Job) -> Result<Admission, RunnerError> {
        let cost = self.shared.governor.config().upload_request();
        self.admit_as(job, Priority::from_level(job.priority), cost)
            .await
    }

    /// Asks the governor whether a request of `cost` for `job`'s Client ID may go now.
    async fn admit_as(
        &self,
        job: &Job,
        priority: Priority,
        cost: RequestCost,
    ) -> Result<Admission, RunnerError> {
        let governor = self.shared.governor.clone();
        let client_id = job.client_id.clone();
        Ok(
            tokio::task::spawn_blocking(move || governor.try_spend(&client_id, priority, cost))
                .await
                .map_err(|error| RunnerError::Task(error.to_string()))??,
        )
    }

    /// Sends an admitted job and records the outcome.
    async fn send(
        &self,
        owner: &str,
        job: Job,
        checked: CheckedFile,
        auth: Auth,
        body_sent: Option<Arc<BodySent>>,
        refreshed: bool,
    ) -> Result<(), RunnerError> {
        if job.account.is_some() && Self::may_have_arrived_before(&job) {
            match self.find_earlier_upload(&auth, &job).await? {
                Lookup::Found(image) => return self.finish_done(owner, &job, *image, None).await,
                Lookup::NotThere => {}
                // Not known whether an earlier attempt arrived: never send blindly, wait.
                Lookup::Deferred { until, reason } => {
                    self.hold(&job.client_id, Priority::Interactive, until);
                    let until = Some(until.as_millis());
                    return self
                        .put_back(owner, &job, until, WaitReason::from(reason), None, false)
                        .await;
                }
                Lookup::Failed(error)
                    if error.kind == ErrorKind::RetryLater
                        || error.kind == ErrorKind::Permanent =>
                {
                    let message = format!(
                        "Could not check whether an earlier attempt already reached Imgur \
                         ({error}); it is not sent again until Upshot can check."
                    );
                    return self.back_off(owner, &job, &message, true).await;
                }
                Lookup::Failed(error) => return self.handle_failure(owner, &job, *error).await,
            }
        }

        let cleaned = {
            let path = checked.path.clone();
            let report = job.preflight.clone();
            tokio::task::spawn_blocking(move || cleaned_for_sending(&path, report.as_ref()))
                .await
                .map_err(|error| RunnerError::Task(error.to_string()))?
        };
        let mut request = match cleaned {
            Ok(None) => UploadRequest::file(&checked.path, checked.kind, checked.mime_type),
            Ok(Some(bytes)) => {
                // A camera's file name (`IMG_20240501_143022.jpg`, `passport_jane.jpg`) says as
                // much as its Exif: a cleaned picture goes under the job's neutral name.
                let extension = checked.mime_type.rsplit('/').next().unwrap_or("bin");
                let file_name =
                    format!("{}.{}", job.upload_name(), extension.replace("jpeg", "jpg"));
                UploadRequest::bytes(bytes, file_name, checked.kind, checked.mime_type)
            }
            Err(rejected) => {
                return self
                    .finish_failed(owner, &job, ErrorKind::Permanent, &rejected.to_string())
                    .await;
            }
        };
        request.title = job.title.clone();
        request.description = job.description.clone();
        request.album = job.album.clone();
        request.name = Some(job.upload_name());
        let total = match &request.source {
            upshot_imgur::UploadSource::Bytes { bytes, .. } => bytes.len() as u64,
            _ => checked.size,
        };
        self.emit(QueueEvent::Started {
            job: job.id,
            attempt: job.attempts,
            total,
        });

        let sent = Arc::new(AtomicU64::new(0));
        // Once the whole body is handed over, Imgur may be storing the upload: from then on its
        // answer is awaited and recorded whatever happens to the job meanwhile.
        let all_sent = Arc::new(AtomicBool::new(false));
        let progress: ProgressFn = {
            let sent = sent.clone();
            let all_sent = all_sent.clone();
            let events = self.shared.events.clone();
            let id = job.id;
            let last_reported = Arc::new(AtomicU64::new(0));
            Arc::new(move |progress: UploadProgress| {
                sent.store(progress.sent, Ordering::Relaxed);
                if progress.sent == progress.total {
                    all_sent.store(true, Ordering::Release);
                }
                if progress.sent == progress.total
                    && let Some(body_sent) = &body_sent
                    && !body_sent.sent.swap(true, Ordering::AcqRel)
                {
                    body_sent.notify.notify_one();
                }
                // Report every 64 KiB step and the end, not every chunk.
                let previous = last_reported.load(Ordering::Relaxed);
                if progress.sent >= previous + 65_536 || progress.sent == progress.total {
                    last_reported.store(progress.sent, Ordering::Relaxed);
                    let _ = events.send(QueueEvent::Progress {
                        job: id,
                        sent: progress.sent,
                        total: progress.total,
                    });
                }
            })
        };

        let upload = self.shared.client.upload(&auth, &request, Some(progress));
        let watch_lease = self.watch_lease(owner, job.id, sent, total);
        tokio::pin!(upload);
        let result = tokio::select! {
            result = &mut upload => result,
            check = watch_lease => {
                if !all_sent.load(Ordering::Acquire) {
                    // Dropping a request whose body is not all sent: Imgur never stores it.
                    if check == LeaseCheck::Cancelled {
                        self.remove_fitted(&job);
                        self.emit(QueueEvent::Cancelled { job: job.id });
                    }
                    return Ok(());
                }
                // Cancelled or taken over with the body on the wire: the image may exist now,
                // and its deletehash is only in the answer. Await it (the client bounds the
                // wait by its answer deadline) and record it.
                tracing::info!(job = %job.id, ?check,
                    "the job changed hands after its body was sent; awaiting Imgur's answer");
                upload.await
            }
        };
        let body_sent = all_sent.load(Ordering::Acquire);
        match result {
            Ok(response) => {
                self.finish_done(owner, &job, response.data, Some(response.rate_limits))
                    .await
            }
            Err(error) if answer_lost(&error, body_sent) => {
                self.answer_lost(owner, &job, &auth, error).await
            }
            Err(error) if error.kind == ErrorKind::Reauth && !refreshed => {
                self.retry_with_fresh_token(owner, job, checked, auth.clone(), error)
                    .await
            }
            Err(error) => self.handle_failure(owner, &job, error).await,
        }
    }

    /// Imgur refused the login's token (`403 The access token provided is invalid.`): refresh
    /// it once and send again once. A login Imgur no longer accepts holds the account's jobs.
    async fn retry_with_fresh_token(
        &self,
        owner: &str,
        job: Job,
        checked: CheckedFile,
        auth: Auth,
        error: ImgurError,
    ) -> Result<(), RunnerError> {
        let (Some(account), Auth::Bearer { access_token }) = (job.account.clone(), &auth) else {
            return self.handle_failure(owner, &job, error).await;
        };
        match self
            .shared
            .credentials
            .token_rejected(&account, access_token)
            .await
        {
            TokenAnswer::Token(token) => match self.admit(&job).await? {
                Admission::Now => {
                    tracing::info!(job = %job.id, "login refreshed after Imgur refused its token; sending again");
                    Box::pin(self.send(owner, job, checked, Auth::bearer(token), None, true)).await
                }
                Admission::Wait { until, reason } => {
                    self.hold(&job.client_id, Priority::from_level(job.priority), until);
                    self.put_back(
                        owner,
                        &job,
                        Some(until.as_millis()),
                        WaitReason::from(reason),
                        None,
                        true,
                    )
                    .await
                }
            },
            TokenAnswer::LoggedOut => self.handle_failure(owner, &job, error).await,
            TokenAnswer::TryLater(reason) => {
                let message = format!("{error} Could not refresh the login: {reason}");
                self.back_off(owner, &job, &message, true).await
            }
        }
    }

    /// Renews the lease while the upload runs and records progress; returns only when the job
    /// is no longer ours (cancelled or taken over).
    async fn watch_lease(
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

    /// A logged-in retry: did an earlier attempt reach Imgur (before a crash, or when its
    /// answer never came)? The upload carried the job's marker as its name; look for it among
    /// the account's newest images. When the governor defers the look-up or the network fails,
    /// the answer is "not known", never "not there".
    async fn find_earlier_upload(&self, auth: &Auth, job: &Job) -> Result<Lookup, RunnerError> {
        let name = job.upload_name();
        for page in 0..3 {
            if let Admission::Wait { until, reason } = self
                .admit_as(job, Priority::Interactive, RequestCost::CALL)
                .await?
            {
                return Ok(Lookup::Deferred { until, reason });
            }
            let images = match self.shared.client.account_images(auth, page, 100).await {
                Ok(images) => images,
                Err(error) => {
                    self.observe(&job.client_id, &error.rate_limits).await;
                    return Ok(Lookup::Failed(Box::new(error)));
                }
            };
            self.observe(&job.client_id, &images.rate_limits).await;
            if let Some(found) = images
                .data
                .iter()
                .find(|image| image.name.as_deref() == Some(name.as_str()))
            {
                tracing::info!(job = %job.id, image = %found.id, "found the upload an earlier attempt made");
                return Ok(Lookup::Found(Box::new(found.clone())));
            }
            if images.data.len() < 100 {
                return Ok(Lookup::NotThere);
            }
        }
        Ok(Lookup::NotThere)
    }

    /// Whether an earlier send of `job` may have reached Imgur: it was sent before in this run
    /// of attempts, or an answer was ever lost (which `queue retry` does not forget: it resets
    /// the attempts, and skipping the look-up then sent a second copy to the account).
    fn may_have_arrived_before(job: &Job) -> bool {
        job.attempts > 1 || job.unknown_sends > 0
    }

    /// The body was sent and no usable answer came: the upload may already be on Imgur. The
    /// job waits ("may already be on Imgur") and is retried after a back-off: a logged-in job
    /// looks its marker up first; an anonymous job, which cannot be looked up, is sent again
    /// at most once, then fails with a reason that says to check before retrying.
    async fn answer_lost(
        &self,
        owner: &str,
        job: &Job,
        auth: &Auth,
        error: ImgurError,
    ) -> Result<(), RunnerError> {
        self.observe(&job.client_id, &error.rate_limits).await;
        let id = job.id;
        // Read when the job was claimed; only this worker changes it while the lease holds.
        if job.account.is_none() && job.unknown_sends >= 1 {
            let message = format!(
                "{error} Imgur's answer never came, twice, so this upload may already be on \
                 Imgur (up to two copies; anonymous uploads cannot be looked up). Check before \
                 sending it again with `upshot queue retry {id}`."
            );
            let check = self
                .fail_job(owner, job, ErrorKind::RetryLater, &message)
                .await?;
            if check == LeaseCheck::Cancelled {
                return self.cancelled_answer_lost(owner, job, auth, &error).await;
            }
            return Ok(());
        }
        let until = self.now() + duration_ms(self.backoff(job.attempts));
        let message = if job.account.is_some() {
            format!(
                "{error} The upload may already be on Imgur; Upshot looks for it in the account \
                 before sending it again."
            )
        } else {
            format!(
                "{error} The upload may already be on Imgur; Upshot sends it again once (an \
                 anonymous upload cannot be looked up)."
            )
        };
        let owner_name = owner.to_owned();
        let text = message.clone();
        let now = self.now();
        let check = self
            .durably(
                "record an upload whose answer never came",
                (owner, id),
                move |conn| JobQueue::new(conn).defer_unknown(id, &owner_name, now, until, &text),
            )
            .await?;
        match check {
            LeaseCheck::Held => self.emit(QueueEvent::Waiting {
                job: id,
                reason: WaitReason::MayBeOnImgur,
                until: Some(until),
                error: Some(message),
            }),
            // Nothing was written: the job is the user's cancelled one, still under our lease.
            LeaseCheck::Cancelled => {
                return self.cancelled_answer_lost(owner, job, auth, &error).await;
            }
            LeaseCheck::Lost => {}
        }
        Ok(())
    }

    /// The user cancelled `job` once its body was on the wire, and Imgur's answer never came:
    /// the image may be public on Imgur with nothing to say so. A logged-in job's marker is
    /// looked up once (found: recorded as uploaded, deletehash kept, as an answer would have
    /// been); otherwise the job stays cancelled, one more unknown send is counted (a retry looks
    /// the marker up before sending again) and its reason says where to check.
    async fn cancelled_answer_lost(
        &self,
        owner: &str,
        job: &Job,
        auth: &Auth,
        error: &ImgurError,
    ) -> Result<(), RunnerError> {
        let id = job.id;
        let message = match &job.account {
            Some(account) => {
                let looked = match self.find_earlier_upload(auth, job).await? {
                    Lookup::Found(image) => {
                        return self.finish_done(owner, job, *image, None).await;
                    }
                    Lookup::NotThere => "Upshot looked for it in the account and did not find \
                                         it yet"
                        .to_owned(),
                    Lookup::Deferred { .. } => "Upshot could not look for it in the account \
                                                now (the request budget is spent)"
                        .to_owned(),
                    Lookup::Failed(lookup) => {
                        format!("Upshot could not look for it in the account ({lookup})")
                    }
                };
                format!(
                    "{error} You cancelled this upload after it was sent and Imgur's answer never \
                     came, so it may already be on Imgur. {looked}: check the images of account \
                     {account} on imgur.com. `upshot queue retry {id}` looks for it in the \
                     account before sending it again."
                )
            }
            None => format!(
                "{error} You cancelled this upload after it was sent and Imgur's answer never \
                 came, so it may already be on Imgur, public, without a deletehash Upshot could \
                 remove it with (anonymous uploads cannot be looked up). `upshot queue retry \
                 {id}` sends it again."
            ),
        };
        let owner_name = owner.to_owned();
        let now = self.now();
        let recorded = self
            .durably(
                "record a cancelled upload whose answer never came",
                (owner, id),
                move |conn| JobQueue::new(conn).cancelled_unknown(id, &owner_name, now, &message),
            )
            .await?;
        if recorded {
            self.remove_fitted(job);
            self.emit(QueueEvent::Cancelled { job: id });
        }
        Ok(())
    }

    async fn handle_failure(
        &self,
        owner: &str,
        job: &Job,
        error: ImgurError,
    ) -> Result<(), RunnerError> {
        let message = format!("{error} {}", error.advice());
        match error.kind {
            ErrorKind::RetryLater => {
                self.observe(&job.client_id, &error.rate_limits).await;
                self.back_off(owner, job, &message, true).await
            }
            ErrorKind::RateLimited => {
                let governor = self.shared.governor.clone();
                let client_id = job.client_id.clone();
                let held = error.clone();
                let until = tokio::task::spawn_blocking(move || {
                    governor.rate_limited_by(&client_id, &held)
                })
                .await
                .map_err(|error| RunnerError::Task(error.to_string()))??;
                self.hold(&job.client_id, Priority::Interactive, until);
                self.put_back(
                    owner,
                    job,
                    Some(until.as_millis()),
                    WaitReason::RateLimited,
                    Some((error.kind, &message)),
                    true,
                )
                .await
            }
            ErrorKind::Reauth if job.account.is_some() => {
                self.observe(&job.client_id, &error.rate_limits).await;
                self.hold_for_login(owner, job, Some(&message)).await
            }
            ErrorKind::Reauth | ErrorKind::Permanent => {
                self.observe(&job.client_id, &error.rate_limits).await;
                // The kind recorded is the classification (an anonymous `reauth` stays one):
                // the message and its advice say what fits.
                self.finish_failed(owner, job, error.kind, &message).await
            }
        }
    }

    /// Full jitter: a random wait between zero and the capped exponential back-off, so many
    /// clients failing together do not come back together.
    fn backoff(&self, attempts: u32) -> Duration {
        let ceiling = backoff_ceiling(&self.shared.config, attempts);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis.max(1)))
    }

    /// Puts `job` back to wait its back-off (by its attempts) as `retry_later`, saying why.
    async fn back_off(
        &self,
        owner: &str,
        job: &Job,
        message: &str,
        attempted: bool,
    ) -> Result<(), RunnerError> {
        let until = self.now() + duration_ms(self.backoff(job.attempts));
        let error = Some((ErrorKind::RetryLater, message));
        self.put_back(
            owner,
            job,
            Some(until),
            WaitReason::Backoff,
            error,
            attempted,
        )
        .await
    }

    async fn put_back(
        &self,
        owner: &str,
        job: &Job,
        until: Option<i64>,
        reason: WaitReason,
        error: Option<(ErrorKind, &str)>,
        attempted: bool,
    ) -> Result<(), RunnerError> {
        let now = self.now();
        let owner = owner.to_owned();
        let id = job.id;
        let stored_error = error.map(|(kind, message)| (kind, message.to_owned()));
        let error_text = stored_error.as_ref().map(|(_, message)| message.clone());
        let check = self
            .shared
            .pool
            .run(move |conn| {
                let queue = JobQueue::new(conn);
                let error = stored_error
                    .as_ref()
                    .map(|(kind, message)| (*kind, message.as_str()));
                if attempted {
                    queue.defer(id, &owner, now, until, reason, error)
                } else {
                    queue.postpone(id, &owner, now, until, reason)
                }
            })
            .await??;
        if check == LeaseCheck::Held {
            self.emit(QueueEvent::Waiting {
                job: id,
                reason,
                until,
                error: error_text,
            });
        }
        Ok(())
    }

    async fn hold_for_login(
        &self,
        owner: &str,
        job: &Job,
        message: Option<&str>,
    ) -> Result<(), RunnerError> {
        let account = job.account.clone().unwrap_or_default();
        let now = self.now();
        self.put_back(
            owner,
            job,
            None,
            WaitReason::LogInAgain,
            message.map(|message| (ErrorKind::Reauth, message)),
            message.is_some(),
        )
        .await?;
        self.shared
            .pool
            .run(move |conn| JobQueue::new(conn).hold_for_login(&account, now))
            .await??;
        Ok(())
    }

    /// Records a job as uploaded (and, in the same trip to the blocking pool, what the answer's
    /// rate-limit headers say, when there was an answer).
    async fn finish_done(
        &self,
        owner: &str,
        job: &Job,
        image: Image,
        rate_limits: Option<upshot_imgur::RateLimitSnapshot>,
    ) -> Result<(), RunnerError> {
        let now = self.now();
        let mut entry = NewHistoryEntry::from_image(
            &image,
            job.origin,
            self.shared.client.api_base().as_str(),
            now,
        );
        entry.album = job.album.clone();
        entry.account = job.account.clone();
        entry.source_path = Some(job.source_path.clone());
        entry.preflight = job.preflight.clone();
        if entry.title.is_none() {
            entry.title = job.title.clone();
        }
        let owner_name = owner.to_owned();
        let id = job.id;
        let parked_entry = entry.clone();
        // Imgur's answer first, and until it holds: the deletehash exists nowhere else.
        let written = self
            .durably("record the uploaded image", (owner, id), move |conn| {
                JobQueue::new(conn).complete(id, &owner_name, now, &entry)
            })
            .await;
        let history = match written {
            Ok(history) => history,
            // Stopping with a database that does not take it: parked where the next start
            // finds it.
            Err(RunnerError::Store(error)) => {
                let answer = parked::Answer {
                    job: id,
                    owner: owner.to_owned(),
                    entry: parked_entry,
                };
                parked::park(&self.shared.parked_dir, &answer).map_err(|park| {
                    tracing::error!(job = %id, "could not park Imgur's answer: {park}");
                    RunnerError::Store(error)
                })?;
                tracing::warn!(job = %id, "stopping: Imgur's answer is parked until the next start");
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        if let Some(snapshot) = rate_limits {
            self.observe(&job.client_id, &snapshot).await;
        }
        if job.spooled
            && let Err(error) = self.shared.spool.remove(&job.source_path)
        {
            tracing::warn!(job = %job.id, "could not remove the spooled file: {error}");
        }
        self.remove_fitted(job);
        self.emit(QueueEvent::Done {
            job: job.id,
            history,
            image: Box::new(image),
        });
        Ok(())
    }

    async fn finish_failed(
        &self,
        owner: &str,
        job: &Job,
        kind: ErrorKind,
        message: &str,
    ) -> Result<(), RunnerError> {
        self.fail_job(owner, job, kind, message).await.map(drop)
    }

    /// Fails the job, saying where its lease stood (a cancelled job stays cancelled).
    async fn fail_job(
        &self,
        owner: &str,
        job: &Job,
        kind: ErrorKind,
        message: &str,
    ) -> Result<LeaseCheck, RunnerError> {
        let now = self.now();
        let owner = owner.to_owned();
        let id = job.id;
        let text = message.to_owned();
        let check = self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).fail(id, &owner, now, kind, &text))
            .await??;
        if check != LeaseCheck::Lost {
            self.remove_fitted(job);
        }
        if check == LeaseCheck::Held {
            self.emit(QueueEvent::Failed {
                job: job.id,
                kind,
                message: message.to_owned(),
            });
        }
        Ok(check)
    }

    async fn observe(&self, client_id: &str, snapshot: &upshot_imgur::RateLimitSnapshot) {
        let governor = self.shared.governor.clone();
        let client_id = client_id.to_owned();
        let snapshot = snapshot.clone();
        let result =
            tokio::task::spawn_blocking(move || governor.observe(&client_id, &snapshot)).await;
        if let Ok(Err(error)) = result {
            tracing::warn!("could not record the rate-limit headers: {error}");
        }
    }

    fn hold(&self, client_id: &str, priority: Priority, until: UnixMillis) {
        let mut held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = held
            .entry(client_id.to_owned())
            .or_insert((priority, until));
        // Interactive held means everything is held; keep the stricter, later hold.
        entry.0 = entry.0.min(priority);
        entry.1 = entry.1.max(until);
    }

    /// The holds still in force, as (client id, lowest held priority).
    fn held_snapshot(&self, now: i64) -> Vec<(String, Priority)> {
        let mut held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.retain(|_, (_, until)| until.as_millis() > now);
        held.iter()
            .map(|(client, (priority, _))| (client.clone(), *priority))
            .collect()
    }

    /// Until when every job of `client_id` is held (a 429), if it is now.
    fn held_for_all(&self, client_id: &str) -> Option<UnixMillis> {
        let now = self.now();
        let held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.get(client_id)
            .filter(|(priority, until)| {
                *priority == Priority::Interactive && until.as_millis() > now
            })
            .map(|(_, until)| *until)
    }

    fn held_until_min(&self) -> Option<UnixMillis> {
        let held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.values().map(|(_, until)| *until).min()
    }

    fn emit(&self, event: QueueEvent) {
        // A job that stopped running may be what an idle worker's stop condition waits for.
        if !matches!(
            event,
            QueueEvent::Progress { .. } | QueueEvent::Started { .. }
        ) {
            self.shared.wake.notify_waiters();
        }
        // Nobody listening is fine: events are for watchers, the database is the record.
        let _ = self.shared.events.send(event);
    }

    /// The lease owner name of worker `index` of this runner.
    fn worker_owner(&self, index: usize) -> String {
        format!("{}-w{index}", self.shared.owner)
    }

    fn now(&self) -> i64 {
        self.shared.clock.now().as_millis()
    }
}

/// A failure a supervisor records: its words, and a stable code for `--json`.
trait RunnerFault: std::fmt::Display + Send + Sync {
    /// The code shown beside the message (`disk_full`, `database_busy`, …).
    fn fault_code(&self) -> &'static str;
}

impl RunnerFault for StoreError {
    fn fault_code(&self) -> &'static str {
        self.code()
    }
}

impl RunnerFault for RunnerError {
    fn fault_code(&self) -> &'static str {
        match self {
            Self::Store(error) => error.code(),
            Self::Governor(error) => error.code(),
            Self::Task(_) => "internal",
        }
    }
}

/// A pool call's two layers of failure as one.
fn flatten<T>(result: Result<Result<T, StoreError>, RunnerError>) -> Result<T, RunnerError> {
    result.and_then(|value| value.map_err(RunnerError::from))
}

/// The wait before retrying a failing database or restarting a failed worker: 250 ms doubling
/// to 30 s (a busy database clears in seconds, a full disk when the user frees space).
fn store_backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(7);
    Duration::from_millis(250u64 << exponent).min(Duration::from_secs(30))
}

/// Signalled once an upload's whole body has been handed to the connection.
#[derive(Debug, Default)]
struct BodySent {
    sent: AtomicBool,
    notify: Notify,
}

/// Whether a failed upload's answer was lost after its body was sent: the client says so
/// (`outcome_unknown`), or the body was all handed over and what came back was no answer (the
/// connection failed or timed out) or an unreadable success.
fn answer_lost(error: &ImgurError, body_sent: bool) -> bool {
    error.outcome_unknown
        || (body_sent
            && error.kind == ErrorKind::RetryLater
            && error
                .status
                .is_none_or(|status| (200..300).contains(&status)))
}

/// Whether an earlier attempt of a logged-in job is on Imgur.
enum Lookup {
    /// It is: this image.
    Found(Box<Image>),
    /// It is not (the account's newest images were searched).
    NotThere,
    /// Not known: the governor holds the look-up back until then.
    Deferred {
        until: UnixMillis,
        reason: crate::governor::WaitReason,
    },
    /// Not known: the look-up failed.
    Failed(Box<ImgurError>),
}

/// What a worker does next.
enum Next {
    /// Its stop condition is met.
    Stop,
    /// Nothing can be claimed now.
    Idle,
    /// A claimed job, prepared.
    Job(Box<Prepared>),
}

/// A claimed job and what was found out about it before anything is sent.
struct Prepared {
    job: Job,
    /// The file's check (type, size); an `Err` is not worth a request.
    checked: Result<CheckedFile, crate::media::FileRejected>,
    /// How to authenticate; `None` when the job's account is logged out.
    auth: Option<Auth>,
    /// The governor's answer; `None` when it was not asked (bad file, no login).
    admission: Option<Admission>,
}

/// Whether a worker with this stop condition is done.
fn stop_now(queue: &JobQueue<'_>, stop: &StopWhen) -> Result<bool, StoreError> {
    match stop {
        StopWhen::Never => Ok(false),
        StopWhen::Empty => Ok(queue.counts()?.pending() == 0),
        StopWhen::Finished(ids) => Ok(queue.unfinished_among(ids, false)? == 0),
        StopWhen::Settled(ids) => Ok(queue.unfinished_among(ids, true)? == 0),
    }
}

/// Whether the process named in a lease owner (`pid<N>-…`) is gone. Unknown formats and other
/// platforms answer "not known to be gone", which keeps the lease.
fn holder_is_gone(owner: &str, own_prefix: &str) -> bool {
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
fn process_is_gone(pid: i32) -> bool {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    // Signal 0 checks existence without sending anything.
    matches!(kill(Pid::from_raw(pid), None), Err(Errno::ESRCH))
}

#[cfg(not(unix))]
fn process_is_gone(_pid: i32) -> bool {
    false
}

/// The capped exponential ceiling of the `attempts`-th back-off: base, 2·base, 4·base, … up to
/// the cap. The wait itself is drawn uniformly below it.
fn backoff_ceiling(config: &RunnerConfig, attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(20);
    config
        .backoff_base
        .saturating_mul(1u32 << exponent)
        .min(config.backoff_cap)
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A few SQLite connections reused across blocking tasks (opening one per call would cost more
/// than the queries).
struct ConnectionPool {
    db: Database,
    /// Idle connections, each with the page cap last applied to it.
    idle: Mutex<Vec<(Connection, u64)>>,
}

impl ConnectionPool {
    fn new(db: Database) -> Self {
        Self {
            db,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` with a connection on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> Result<T, RunnerError> {
        let (connection, applied) = self.take()?;
        let limit = self.db.page_limit();
        let db = self.db.clone();
        let (connection, applied, value) = tokio::task::spawn_blocking(move || {
            // A cap set on the database handle since this connection last ran reaches it here.
            let applied = if applied == limit {
                Ok(applied)
            } else {
                db.apply_page_limit(&connection, limit).map(|()| limit)
            };
            match applied {
                Ok(applied) => {
                    let value = f(&connection);
                    (connection, applied, Ok(value))
                }
                Err(error) => (connection, u64::MAX, Err(error)),
            }
        })
        .await
        .map_err(|error| RunnerError::Task(error.to_string()))?;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((connection, applied));
        Ok(value?)
    }

    fn take(&self) -> Result<(Connection, u64), RunnerError> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match reused {
            Some(reused) => Ok(reused),
            None => Ok((self.db.connect()?, self.db.page_limit())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
