//! One handle on everything the CLI and the desktop app do with uploads: the database, the
//! governor, the workers, the history. Both faces open an [`UploadService`] and call it; neither
//! touches SQL or HTTP itself.

use crate::auth::AuthSession;
use crate::governor::{GovernorStatus, Pending, Priority, QuotaGovernor, RequestCost};
use crate::history::{History, HistoryEntry};
use crate::intake::Desk;
use crate::preflight::{self, PreflightSettings};
use crate::queue::JobQueue;
use crate::runner::Runner;
use crate::spool::Spool;
use crate::store::{Database, SqlContext};
use crate::types::{HistoryId, JobId};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use upshot_imgur::{Auth, Credits, ImgurClient, ImgurError};

mod account;
mod endpoint;
mod enqueue;
mod error;
mod open;
mod workers;
pub use endpoint::{Endpoint, config_dir, login_options};
pub use error::ServiceError;
pub use open::LoginOptions;
// The queue's and the workers' words the faces show or pass back (a job, its state, a filter,
// a worker's fault, when a run stops, the errors inside `ServiceError`): their homes are
// crate-private, so the service is the one path to them.
pub use crate::queue::{Job, JobFilter, JobState, ListOrder, WorkerFault};
pub use crate::runner::{RunnerError, StopWhen};
pub use crate::store::StoreError;
// The faces' words for what they hand over and what became of it: part of the service's API.
pub use crate::intake::{Enqueued, FileUpload};
mod notices;
pub use notices::Attention;

/// The uploader service of one data directory, talking to one API with one Client ID.
#[derive(Debug, Clone)]
pub struct UploadService {
    db: Database,
    client: ImgurClient,
    client_id: String,
    governor: Arc<QuotaGovernor>,
    runner: Runner,
    spool: Spool,
    /// Fitted copies waiting for their upload.
    prepared: Spool,
    /// The login, when the service was opened with one.
    auth: Option<Arc<AuthSession>>,
    /// What new jobs are checked with; shared by every clone (the watcher's too).
    preflight: Arc<RwLock<PreflightSettings>>,
    /// What the user must be told about the start ([`UploadService::startup_notices`]).
    notices: Arc<std::sync::Mutex<Vec<crate::config_file::ConfigNotice>>>,
}

impl UploadService {
    /// The time on the service's clock (ms since the epoch): what jobs and records are stamped
    /// with, so a test clock reaches every source.
    pub fn now_millis(&self) -> i64 {
        self.runner.now_millis()
    }

    /// Lends `f` the [`Desk`] for one blocking trip (see [`crate::intake`]): a source that
    /// records what it hands over beside the queue (the watcher) plans and queues in its own
    /// transaction, then calls [`announce_queued`](Self::announce_queued).
    pub(crate) async fn with_desk<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Desk) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let desk = Desk::new(
            self.db.clone(),
            self.prepared.clone(),
            self.preflight_settings(),
            self.now_millis(),
        );
        tokio::task::spawn_blocking(move || f(&desk))
            .await
            .map_err(|error| ServiceError::Task(error.to_string()))
    }

    /// Tells the workers (and subscribers) about jobs a source queued in its own transaction
    /// through [`with_desk`](Self::with_desk), so they start at once instead of at the next poll.
    pub(crate) fn announce_queued(&self, jobs: &[JobId]) {
        self.runner.announce(jobs);
    }

    /// The Client ID uploads spend.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Upshot's own copies: clipboard images, screenshots, fitted pictures.
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// The database, for tests that fill the disk under the service (its page cap is shared by
    /// every clone). Not for the faces: they go through the service's calls.
    #[cfg(feature = "testing")]
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The preflight settings new jobs are checked with.
    pub fn preflight_settings(&self) -> PreflightSettings {
        *self
            .preflight
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Changes the preflight settings for jobs queued from now on (the app's settings panel;
    /// queued jobs keep what they were checked with).
    pub fn set_preflight_settings(&self, settings: PreflightSettings) {
        *self
            .preflight
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = settings;
    }

    /// Jobs matching the filter.
    pub async fn jobs(&self, filter: JobFilter) -> Result<Vec<Job>, ServiceError> {
        Ok(self
            .blocking(move |db| {
                let conn = db.connect()?;
                JobQueue::new(&conn).list(&filter)
            })
            .await??)
    }

    /// One job.
    pub async fn job(&self, id: JobId) -> Result<Option<Job>, ServiceError> {
        Ok(self.runner.job(id).await?)
    }

    /// When each waiting job of this Client ID is expected to start, per the governor.
    pub async fn expected_starts(&self) -> Result<Vec<(JobId, i64)>, ServiceError> {
        let client_id = self.client_id.clone();
        let governor = self.governor.clone();
        self.blocking(move |db| -> Result<Vec<(JobId, i64)>, ServiceError> {
            let conn = db.connect()?;
            let now = governor.clock().now().as_millis();
            let pending: Vec<Pending<JobId>> = JobQueue::new(&conn)
                .pending_for_client(&client_id, now)?
                .into_iter()
                .map(|job| Pending {
                    id: job.id,
                    priority: Priority::from_level(job.priority),
                    not_before: job.run_after.map(crate::types::UnixMillis),
                })
                .collect();
            Ok(governor
                .expected_starts(&client_id, &pending)?
                .into_iter()
                .map(|(id, at)| (id, at.as_millis()))
                .collect())
        })
        .await?
    }

    /// Pauses the whole queue (every process sharing the data directory).
    pub async fn pause(&self) -> Result<(), ServiceError> {
        self.with_queue(|queue, _| queue.pause()).await
    }

    /// Resumes the queue.
    pub async fn resume(&self) -> Result<(), ServiceError> {
        self.with_queue(|queue, _| queue.resume()).await
    }

    /// Cancels a job that is not uploaded yet. Its fitted copy goes with it (a worker sending
    /// it removes the copy itself once it stops); a spooled clipboard image or screenshot stays
    /// until the job is pruned, so a retry still has it.
    pub async fn cancel(&self, id: JobId) -> Result<Job, ServiceError> {
        let job = self
            .with_queue(move |queue, now| queue.cancel(id, now))
            .await?;
        if job.lease_owner.is_none()
            && let Some(copy) = &job.upload_path
            && let Err(error) = self.prepared.remove(copy)
        {
            tracing::warn!(job = %job.id, "could not remove the fitted copy: {error}");
        }
        Ok(job)
    }

    /// Queues a failed or cancelled job again. A fitted copy removed when the job ended is
    /// made again from the original first.
    pub async fn retry(&self, id: JobId) -> Result<Job, ServiceError> {
        let job = self
            .with_queue(move |queue, now| queue.retry(id, now))
            .await?;
        let Some(copy) = job.upload_path.clone().filter(|copy| !copy.exists()) else {
            return Ok(job);
        };
        let mut options = self.preflight_settings().options_for(job.origin);
        options.fit_oversize = true;
        let source = job.source_path.clone();
        let prepared = self.prepared.clone();
        let now = self.governor.clock().now().as_millis();
        let refitted = self
            .blocking(move |db| -> Result<Option<PathBuf>, StoreError> {
                let fitted = preflight::check(&source, &options)
                    .and_then(preflight::Planned::fit)
                    .ok()
                    .and_then(|ready| ready.fitted);
                let Some(bytes) = fitted else {
                    return Ok(None);
                };
                let path = prepared.store(&bytes, "jpg")?;
                let conn = db.connect()?;
                JobQueue::new(&conn).set_upload_path(id, &path, now)?;
                Ok(Some(path))
            })
            .await??;
        if refitted.is_none() {
            tracing::warn!(job = %id, "could not fit {} again; the worker will report why", copy.display());
        }
        Ok(self.job(id).await?.unwrap_or(job))
    }

    /// The faults of the workers of every live process on this data directory (a database that
    /// is full, busy or read-only), for `upshot queue list` and the app to show.
    pub async fn worker_faults(&self) -> Result<Vec<WorkerFault>, ServiceError> {
        let faults = self
            .blocking(|db| {
                let conn = db.connect()?;
                JobQueue::new(&conn).worker_faults()
            })
            .await??;
        Ok(faults
            .into_iter()
            .filter(|fault| crate::runner::process_is_alive(fault.pid))
            .collect())
    }

    /// The governor's view for this Client ID.
    pub async fn quota(&self) -> Result<GovernorStatus, ServiceError> {
        let governor = self.governor.clone();
        let client_id = self.client_id.clone();
        Ok(
            tokio::task::spawn_blocking(move || governor.status(&client_id))
                .await
                .map_err(|error| RunnerError::Task(error.to_string()))??,
        )
    }

    /// Asks Imgur for the credits left (`/3/credits`), spending one credit through the governor.
    pub async fn server_credits(&self) -> Result<Credits, ServiceError> {
        self.spend(RequestCost::CALL).await?;
        let auth = Auth::client_id(&self.client_id);
        let response = self.client.credits(&auth).await;
        self.observe(&response).await;
        Ok(response?.data)
    }

    /// History entries, newest first.
    pub async fn history(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<HistoryEntry>, ServiceError> {
        Ok(self
            .blocking(move |db| {
                let conn = db.connect()?;
                History::new(&conn).list(limit, offset)
            })
            .await??)
    }

    /// History entries whose title, file, link or id contain `text`.
    pub async fn search_history(
        &self,
        text: String,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>, ServiceError> {
        Ok(self
            .blocking(move |db| {
                let conn = db.connect()?;
                History::new(&conn).search(&text, limit)
            })
            .await??)
    }

    /// Writes the whole history as JSON or CSV.
    pub async fn export_history(
        &self,
        csv: bool,
        writer: impl std::io::Write + Send + 'static,
    ) -> Result<usize, ServiceError> {
        Ok(self
            .blocking(move |db| {
                let conn = db.connect()?;
                let history = History::new(&conn);
                if csv {
                    history.export_csv(writer)
                } else {
                    history.export_json(writer)
                }
            })
            .await??)
    }

    /// Each job with its history entry once it is done, read in one snapshot: what a caller
    /// reports after a batch (one connection and one transaction for the whole batch, not two
    /// per job). Jobs that no longer exist are left out.
    pub async fn outcomes(
        &self,
        ids: Vec<JobId>,
    ) -> Result<Vec<(Job, Option<HistoryEntry>)>, ServiceError> {
        Ok(self
            .blocking(move |db| {
                let conn = db.connect()?;
                let tx = rusqlite::Transaction::new_unchecked(
                    &conn,
                    rusqlite::TransactionBehavior::Deferred,
                )
                .ctx(&conn)?;
                let queue = JobQueue::new(&tx);
                let history = History::new(&tx);
                let mut outcomes = Vec::with_capacity(ids.len());
                for id in ids {
                    let Some(job) = queue.get(id)? else { continue };
                    let entry = match job.history_id {
                        Some(history_id) => history.get(history_id)?,
                        None => None,
                    };
                    outcomes.push((job, entry));
                }
                Ok::<_, StoreError>(outcomes)
            })
            .await??)
    }

    /// One history entry.
    pub async fn history_entry(&self, id: HistoryId) -> Result<Option<HistoryEntry>, ServiceError> {
        Ok(self
            .blocking(move |db| {
                let conn = db.connect()?;
                History::new(&conn).get(id)
            })
            .await??)
    }

    /// The newest history entry that is not deleted.
    pub async fn last_upload(&self) -> Result<Option<HistoryEntry>, ServiceError> {
        let recent = self.history(50, 0).await?;
        Ok(recent.into_iter().find(|entry| entry.deleted_at.is_none()))
    }

    /// Finds a history entry by Imgur id (or by history row id, as a number).
    pub async fn find_upload(&self, id: &str) -> Result<HistoryEntry, ServiceError> {
        let wanted = id.to_owned();
        let found = self
            .blocking(move |db| -> Result<Option<HistoryEntry>, StoreError> {
                let conn = db.connect()?;
                let history = History::new(&conn);
                if let Some(entry) = history.find_by_imgur_id(&wanted)?.into_iter().next() {
                    return Ok(Some(entry));
                }
                match wanted.parse::<i64>() {
                    Ok(row) => history.get(HistoryId(row)),
                    Err(_) => Ok(None),
                }
            })
            .await??;
        found.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "No upload {id} in the history; `upshot history list` shows what is there."
            ))
        })
    }

    /// Deletes an upload on Imgur and marks it deleted in the history: by its deletehash
    /// anonymously, or, without one, by its id as the logged-in account that owns it.
    pub async fn delete_upload(&self, entry: &HistoryEntry) -> Result<HistoryEntry, ServiceError> {
        let using = self.client.api_base().as_str().to_owned();
        if entry.api_base.trim_end_matches('/') != using.trim_end_matches('/') {
            return Err(ServiceError::OtherServer {
                made_on: entry.api_base.clone(),
                using,
            });
        }
        let (auth, handle) = match &entry.deletehash {
            Some(hash) => (Auth::client_id(&self.client_id), hash.clone()),
            None => (self.bearer().await?, entry.imgur_id.clone()),
        };
        self.spend(RequestCost::CALL).await?;
        let response = self.client.delete_image(&auth, &handle).await;
        self.observe(&response).await;
        match response {
            Ok(_) => {}
            // Already gone on Imgur: the history should say so too.
            Err(error) if error.status == Some(404) => {}
            Err(error) => return Err(error.into()),
        }
        let id = entry.id;
        let now = self.governor.clock().now().as_millis();
        let updated = self
            .blocking(move |db| -> Result<Option<HistoryEntry>, StoreError> {
                let conn = db.connect()?;
                let history = History::new(&conn);
                history.mark_deleted(id, now)?;
                history.get(id)
            })
            .await??;
        updated.ok_or_else(|| ServiceError::NotFound(format!("History entry {id} vanished.")))
    }

    /// Whether an image uploaded to `made_on` is still on Imgur (`GET /3/image/{id}` as the
    /// Client ID). `Ok(false)` only when Imgur answers 404: it was deleted, perhaps on the
    /// website, which the history cannot know. Anything short of an answer (no connection,
    /// a refusal, the budget, another server) is an error: a caller about to delete a local
    /// file on the strength of that image must leave the file alone and ask again later.
    /// Spent from the backlog's budget, as it runs for watched folders.
    pub async fn image_exists(&self, imgur_id: &str, made_on: &str) -> Result<bool, ServiceError> {
        let using = self.client.api_base().as_str().to_owned();
        if made_on.trim_end_matches('/') != using.trim_end_matches('/') {
            return Err(ServiceError::OtherServer {
                made_on: made_on.to_owned(),
                using,
            });
        }
        self.spend_as(Priority::Backlog, RequestCost::CALL).await?;
        let response = self
            .client
            .image(&Auth::client_id(&self.client_id), imgur_id)
            .await;
        self.observe(&response).await;
        match response {
            Ok(_) => Ok(true),
            Err(error) if error.status == Some(404) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    async fn spend(&self, cost: RequestCost) -> Result<(), ServiceError> {
        self.spend_as(Priority::Interactive, cost).await
    }

    async fn spend_as(&self, priority: Priority, cost: RequestCost) -> Result<(), ServiceError> {
        let governor = self.governor.clone();
        let client_id = self.client_id.clone();
        let admission =
            tokio::task::spawn_blocking(move || governor.try_spend(&client_id, priority, cost))
                .await
                .map_err(|error| RunnerError::Task(error.to_string()))??;
        match admission {
            crate::governor::Admission::Now => Ok(()),
            crate::governor::Admission::Wait { until, reason } => Err(ServiceError::Budget {
                reason: reason.as_str(),
                when: crate::human_time::describe(until, self.governor.clock().now()),
            }),
        }
    }

    async fn observe<T>(&self, response: &Result<upshot_imgur::Response<T>, ImgurError>) {
        let snapshot = match response {
            Ok(response) => response.rate_limits.clone(),
            Err(error) => (*error.rate_limits).clone(),
        };
        let governor = self.governor.clone();
        let client_id = self.client_id.clone();
        let _ = tokio::task::spawn_blocking(move || governor.observe(&client_id, &snapshot)).await;
    }

    async fn with_queue<T: Send + 'static>(
        &self,
        f: impl FnOnce(JobQueue<'_>, i64) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let now = self.governor.clock().now().as_millis();
        Ok(self
            .blocking(move |db| {
                let conn = db.connect()?;
                f(JobQueue::new(&conn), now)
            })
            .await??)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|error| ServiceError::Task(error.to_string()))
    }
}
