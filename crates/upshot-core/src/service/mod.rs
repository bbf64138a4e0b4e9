//! One handle on everything the CLI and the desktop app do with uploads: the database, the
//! governor, the workers, the history. Both faces open an [`UploadService`] and call it; neither
//! touches SQL or HTTP itself.

use crate::auth::{AuthError, AuthSession, SecretVault, VaultChoice};
use crate::clock::{Clock, SystemClock};
use crate::error::CoreError;
use crate::governor::{
    GovernorConfig, GovernorStatus, Pending, Priority, QuotaGovernor, RequestCost,
};
use crate::history::{History, HistoryEntry, HistoryId};
use crate::media::{FileRejected, check_file};
use crate::paths::AppPaths;
use crate::queue::{Job, JobFilter, JobId, JobQueue, NewJob, Origin};
use crate::runner::{Credentials, NoAccounts, Runner, RunnerConfig, RunnerError};
use crate::spool::Spool;
use crate::store::{Database, SqlContext, StoreError};
use std::path::PathBuf;
use std::sync::Arc;
use upshot_imgur::{Auth, ClientConfig, Credits, ImgurClient, ImgurError};
use url::Url;

/// A file to queue with what the user said about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileUpload {
    /// The file.
    pub path: PathBuf,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Album: its deletehash when anonymous, its id when logged in.
    pub album: Option<String>,
    /// Upload anonymously even when an account is logged in (`--anonymous`).
    pub anonymous: bool,
}

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Setting up failed.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The workers failed.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// Imgur refused or failed a request.
    #[error(transparent)]
    Imgur(#[from] ImgurError),
    /// The governor says the request must wait; nothing was sent.
    #[error("Imgur's budget for this Client ID is spent for now ({reason}); try again {when}.")]
    Budget {
        /// Why.
        reason: &'static str,
        /// When it may go, in words.
        when: String,
    },
    /// A background task stopped (a bug, or the runtime shutting down).
    #[error("an internal task stopped unexpectedly: {0}")]
    Task(String),
    /// An upload made through another server (the sandbox or Imgur) cannot be changed here.
    #[error(
        "This upload was made through {made_on}, not {using}; run the command with the same \
         server (for the sandbox: --sandbox)."
    )]
    OtherServer {
        /// Where it was uploaded.
        made_on: String,
        /// Where this command talks to.
        using: String,
    },
    /// No such entry.
    #[error("{0}")]
    NotFound(String),
    /// Logging in, or the logged-in account, failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A watched-folder setting or the folder list failed.
    #[error(transparent)]
    Watch(#[from] crate::watch::WatchError),
}

impl From<crate::governor::GovernorError> for ServiceError {
    fn from(error: crate::governor::GovernorError) -> Self {
        Self::Runner(RunnerError::Governor(error))
    }
}

mod account;

/// The uploader service of one data directory, talking to one API with one Client ID.
#[derive(Debug, Clone)]
pub struct UploadService {
    db: Database,
    client: ImgurClient,
    client_id: String,
    governor: Arc<QuotaGovernor>,
    runner: Runner,
    spool: Spool,
    /// The login, when the service was opened with one.
    auth: Option<Arc<AuthSession>>,
}

/// How a service logs in (see [`UploadService::open_with_login`]).
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// Keychain or file for the tokens and the client secret.
    pub vault: VaultChoice,
    /// The client secret given on the command line or in the environment.
    pub client_secret: Option<upshot_imgur::Secret>,
    /// The registered callbacks a login may come back to.
    pub callbacks: Vec<Url>,
}

impl UploadService {
    /// Opens (creating if needed) the database in the data directory and sets up the workers.
    pub fn open(
        paths: &AppPaths,
        api_base: Url,
        client_id: &str,
        config: RunnerConfig,
    ) -> Result<Self, ServiceError> {
        Self::open_with(
            paths,
            api_base,
            client_id,
            config,
            Arc::new(SystemClock),
            Arc::new(NoAccounts),
        )
    }

    /// [`open`](Self::open) with a clock and credentials of the caller's choosing.
    pub fn open_with(
        paths: &AppPaths,
        api_base: Url,
        client_id: &str,
        config: RunnerConfig,
        clock: Arc<dyn Clock>,
        credentials: Arc<dyn Credentials>,
    ) -> Result<Self, ServiceError> {
        AppPaths::ensure_private_dir(&paths.data_dir)?;
        let db = Database::open_in(&paths.data_dir)?;
        let client = ImgurClient::new(ClientConfig::new(api_base)).map_err(CoreError::from)?;
        let governor = Arc::new(QuotaGovernor::open(&db, clock, GovernorConfig::default())?);
        let runner = Runner::new(
            &db,
            governor.clone(),
            client.clone(),
            credentials,
            &paths.data_dir,
            config,
        );
        Ok(Self {
            db,
            client,
            client_id: client_id.to_owned(),
            governor,
            runner,
            spool: Spool::new(&paths.data_dir),
            auth: None,
        })
    }

    /// [`open_with`](Self::open_with) whose credentials are the logged-in account of
    /// `client_id` (tokens in the keychain, refreshed when due). Uploads go to that account
    /// unless a file says `anonymous`.
    pub fn open_with_login(
        paths: &AppPaths,
        api_base: Url,
        client_id: &str,
        config: RunnerConfig,
        clock: Arc<dyn Clock>,
        login: LoginOptions,
    ) -> Result<Self, ServiceError> {
        AppPaths::ensure_private_dir(&paths.data_dir)?;
        let db = Database::open_in(&paths.data_dir)?;
        let client =
            ImgurClient::new(ClientConfig::new(api_base.clone())).map_err(CoreError::from)?;
        let vault = Arc::new(SecretVault::open(&paths.data_dir, login.vault));
        let session = Arc::new(AuthSession::new(
            client,
            client_id,
            db,
            vault,
            clock.clone(),
            login.client_secret,
            login.callbacks,
        ));
        let mut service =
            Self::open_with(paths, api_base, client_id, config, clock, session.clone())?;
        service.auth = Some(session);
        Ok(service)
    }

    /// The workers (run them, subscribe to their events).
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// The Client ID uploads spend.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The database file.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Checks each file and queues those that pass, in one transaction. A refused file never
    /// enters the queue: its reason comes back at once. Outcomes are in the order given.
    pub async fn enqueue_files(
        &self,
        files: &[FileUpload],
        origin: Origin,
    ) -> Result<Vec<(PathBuf, Result<JobId, FileRejected>)>, ServiceError> {
        let account = if files.iter().any(|file| !file.anonymous) {
            self.upload_account().await?
        } else {
            None
        };
        let mut checked_files = Vec::with_capacity(files.len());
        let mut jobs = Vec::new();
        for file in files {
            let checked = check_file(&file.path).map(|checked| {
                let absolute = std::path::absolute(&checked.path).unwrap_or(checked.path);
                let mut job = NewJob::new(absolute, origin, &self.client_id);
                job.title = file.title.clone();
                job.description = file.description.clone();
                job.album = file.album.clone();
                job.bytes_total = checked.size;
                if !file.anonymous {
                    job.account = account.clone();
                }
                jobs.push(job);
            });
            checked_files.push((file.path.clone(), checked));
        }
        let mut ids = self.runner.enqueue(jobs).await?.into_iter();
        let mut outcomes = Vec::with_capacity(checked_files.len());
        for (path, checked) in checked_files {
            let outcome = match checked {
                Err(rejected) => Err(rejected),
                Ok(()) => Ok(ids.next().ok_or_else(|| {
                    ServiceError::Task("the queue returned fewer ids than jobs".to_owned())
                })?),
            };
            outcomes.push((path, outcome));
        }
        Ok(outcomes)
    }

    /// Queues image bytes that exist nowhere on disk (a clipboard image, a screenshot): they are
    /// first written durably to the spool in the data directory, so a crash right after this
    /// call loses nothing; the spooled file is removed once the upload is confirmed.
    pub async fn enqueue_bytes(
        &self,
        bytes: Vec<u8>,
        origin: Origin,
        title: Option<String>,
    ) -> Result<Result<JobId, FileRejected>, ServiceError> {
        let spool = self.spool.clone();
        let head = bytes.get(..512).unwrap_or(&bytes).to_vec();
        let extension = match crate::media::sniff(&head) {
            Some((_, mime)) => mime
                .rsplit('/')
                .next()
                .unwrap_or("bin")
                .replace("jpeg", "jpg"),
            None => {
                return Ok(Err(FileRejected::UnsupportedType {
                    path: PathBuf::from(format!("({} from {})", "data", origin.as_str())),
                    found: "data that is not an image or video".to_owned(),
                }));
            }
        };
        let extension: String = extension
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        let path = tokio::task::spawn_blocking(move || spool.store(&bytes, &extension))
            .await
            .map_err(|error| ServiceError::Task(error.to_string()))??;
        let checked = match check_file(&path) {
            Ok(checked) => checked,
            Err(rejected) => {
                let _ = self.spool.remove(&path);
                return Ok(Err(rejected));
            }
        };
        let mut job = NewJob::new(&path, origin, &self.client_id);
        job.spooled = true;
        job.title = title;
        job.account = self.upload_account().await?;
        job.bytes_total = checked.size;
        let ids = self.runner.enqueue(vec![job]).await?;
        ids.into_iter()
            .next()
            .map(Ok)
            .ok_or_else(|| ServiceError::Task("the queue returned no id".to_owned()))
    }

    /// Queues spooled files that no job knows: a crash came between writing a clipboard image
    /// or screenshot to the spool and queueing it. Nothing the user handed over is lost; they are
    /// queued as clipboard uploads (which of the two they were is not recorded). Returns how many.
    pub async fn recover_spool(&self) -> Result<usize, ServiceError> {
        let spool = self.spool.clone();
        let orphans = self
            .blocking(move |db| -> Result<Vec<PathBuf>, StoreError> {
                spool.sweep_partial()?;
                let conn = db.connect()?;
                let known: std::collections::HashSet<PathBuf> =
                    JobQueue::new(&conn).spooled_paths()?.into_iter().collect();
                Ok(spool
                    .files()?
                    .into_iter()
                    .filter(|path| !known.contains(path))
                    .collect())
            })
            .await??;
        let mut jobs = Vec::new();
        for path in orphans {
            match check_file(&path) {
                Ok(checked) => {
                    let mut job = NewJob::new(&path, Origin::Clipboard, &self.client_id);
                    job.spooled = true;
                    job.bytes_total = checked.size;
                    jobs.push(job);
                }
                Err(rejected) => {
                    tracing::warn!("leaving {} in the spool: {rejected}", path.display())
                }
            }
        }
        let count = jobs.len();
        if count > 0 {
            tracing::info!(count, "queued spooled files a crash left unqueued");
            self.runner.enqueue(jobs).await?;
        }
        Ok(count)
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
                    not_before: job.run_after.map(crate::clock::UnixMillis),
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

    /// Cancels a job that is not uploaded yet.
    pub async fn cancel(&self, id: JobId) -> Result<Job, ServiceError> {
        self.with_queue(move |queue, now| queue.cancel(id, now))
            .await
    }

    /// Queues a failed or cancelled job again.
    pub async fn retry(&self, id: JobId) -> Result<Job, ServiceError> {
        self.with_queue(move |queue, now| queue.retry(id, now))
            .await
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

    async fn spend(&self, cost: RequestCost) -> Result<(), ServiceError> {
        let governor = self.governor.clone();
        let client_id = self.client_id.clone();
        let admission = tokio::task::spawn_blocking(move || {
            governor.try_spend(&client_id, Priority::Interactive, cost)
        })
        .await
        .map_err(|error| RunnerError::Task(error.to_string()))??;
        match admission {
            crate::governor::Admission::Now => Ok(()),
            crate::governor::Admission::Wait { until, reason } => Err(ServiceError::Budget {
                reason: reason.as_str(),
                when: crate::when::describe(until, self.governor.clock().now()),
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
