//! The upload workers: claim a job, ask the governor, send it, record what happened.
//!
//! A [`Runner`] owns no state of its own that matters after a crash: every decision is written to
//! the database (the job's state, the ledger, the history) before or as it takes effect, so a
//! process killed at any point leaves a queue that the next run picks up. Workers are tokio
//! tasks; SQLite work runs on the blocking pool through the store's connection pool
//! (`store::ConnectionPool`).
//!
//! What happens on failure follows the error's kind (docs/QUEUE.md): `retry_later` backs off
//! with full jitter, `rate_limited` holds the whole Client ID until the reset, `reauth` holds the
//! account's jobs until the user logs in again, `permanent` fails the job with its reason.
//!
//! One job per file: `worker` (the loop: claim, check, admit), `sending` (one upload over the
//! wire), `outcomes` (what an attempt leaves behind), `leases` (renew, give back, reclaim),
//! `credentials` (tokens, and an account's jobs as its login comes and goes), `supervision`
//! (one cancellation token and task tracker, restarts, faults, durable writes) and `parked`. What the workers tell the faces is [`crate::events`].

mod credentials;
mod leases;
mod outcomes;
mod parked;
mod sending;
mod supervision;
#[cfg(test)]
mod tests;
mod worker;

use crate::events::QueueEvent;
pub use credentials::{Credentials, LoginHolds};
#[cfg(feature = "testing")]
pub use credentials::{NoAccounts, StaticCredentials};
pub(crate) use leases::process_is_alive;

use crate::clock::Clock;
use crate::governor::{GovernorError, Priority, QuotaGovernor};
use crate::queue::{Job, JobQueue, LiveCopy, NewJob};
use crate::spool::Spool;
use crate::store::{ConnectionPool, Database, PoolError, StoreError};
use crate::types::JobId;
use crate::types::UnixMillis;
use rand::Rng;
use std::collections::HashMap;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use upshot_imgur::ImgurClient;

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

/// The code a job's wait records when its login could not be refreshed for a passing reason
/// (the credentials say only why, in words): [`crate::auth::AuthError`]'s code for the same.
const REFRESH_FAILED: &str = "refresh_failed";

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
    #[cfg(any(test, feature = "testing"))]
    pub fn governor(&self) -> &Arc<QuotaGovernor> {
        &self.shared.governor
    }

    /// Queues jobs in one transaction and wakes the workers.
    #[cfg(any(test, feature = "testing"))]
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

/// A pool call's two layers of failure as one.
fn flatten<T, E: Into<RunnerError>>(
    result: Result<Result<T, StoreError>, E>,
) -> Result<T, RunnerError> {
    result
        .map_err(Into::into)
        .and_then(|value| value.map_err(RunnerError::from))
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A runner error has its source's code: a full disk under a worker is `disk_full`.
impl crate::error::ErrorCode for RunnerError {
    fn code(&self) -> &'static str {
        match self {
            Self::Store(error) => error.code(),
            Self::Governor(error) => error.code(),
            Self::Task(_) => "internal",
        }
    }
}

crate::error::serialize_as_coded!(RunnerError);

impl From<PoolError> for RunnerError {
    fn from(error: PoolError) -> Self {
        match error {
            PoolError::Store(error) => Self::Store(error),
            PoolError::Task(reason) => Self::Task(reason),
        }
    }
}
