//! The service's side of the one intake path ([`crate::intake`]): the faces' files, bytes and
//! the spool's orphans go through the one [`Planner`], then into the queue in one transaction.

use super::{ServiceError, UploadService};
use crate::intake::{Candidate, Enqueued, FileUpload, PlannedFile, Planner};
use crate::media::FileRejected;
use crate::preflight::PreflightSettings;
use crate::queue::{JobQueue, NewJob};
use crate::spool::Spool;
use crate::store::{Database, StoreError};
use crate::types::Origin;
use std::path::PathBuf;

/// One file's way through the planner, before the queue's transaction.
enum Step {
    /// Settled already: refused, or a duplicate.
    Done { path: PathBuf, outcome: Enqueued },
    /// To queue (unless the transaction finds its content live).
    Queue {
        path: PathBuf,
        job: Box<NewJob>,
        force: bool,
    },
}

/// The planner over a batch of the faces' files, off the async runtime: a refusal or a duplicate
/// is settled at once; a fitted copy that cannot be kept fails the batch (the user is told).
fn plan_uploads(
    db: &Database,
    prepared: &Spool,
    settings: &PreflightSettings,
    client_id: &str,
    origin: Origin,
    account: Option<String>,
    files: Vec<FileUpload>,
) -> Result<Vec<Step>, StoreError> {
    let conn = db.connect()?;
    let planner = Planner::new(JobQueue::new(&conn), prepared, settings);
    let mut planned = Vec::with_capacity(files.len());
    for file in files {
        let mut job = NewJob::new(&file.path, origin, client_id);
        job.title = file.title;
        job.description = file.description;
        job.album = file.album;
        if !file.anonymous {
            job.account = account.clone();
        }
        let candidate = Candidate {
            force: file.force,
            fit: file.fit,
            strip_metadata: file.strip_metadata,
            ..Candidate::new(job)
        };
        let path = file.path;
        let done = |outcome| Step::Done {
            path: path.clone(),
            outcome,
        };
        let step = match planner.plan(candidate)? {
            PlannedFile::Rejected(rejected) => done(Enqueued::Rejected { rejected }),
            PlannedFile::Duplicate { live, .. } => done(Enqueued::from(live)),
            // Only a source that names the content it expects sees this; said all the same.
            PlannedFile::Changed => done(Enqueued::Rejected {
                rejected: FileRejected::Unreadable {
                    path: path.clone(),
                    reason: "it changed while it was checked; try again".to_owned(),
                },
            }),
            PlannedFile::CopyFailed(error) => return Err(error),
            PlannedFile::Queue { job, force } => Step::Queue { path, job, force },
        };
        planned.push(step);
    }
    Ok(planned)
}

impl UploadService {
    /// Runs preflight on each file and queues those that pass, in one transaction. A refused
    /// file never enters the queue, and a file whose content is uploaded (or queued) already is
    /// not queued again unless forced: both come back at once. Outcomes are in the order given.
    pub async fn enqueue_files(
        &self,
        files: &[FileUpload],
        origin: Origin,
    ) -> Result<Vec<(PathBuf, Enqueued)>, ServiceError> {
        let account = if files.iter().any(|file| !file.anonymous) {
            self.upload_account().await?
        } else {
            None
        };
        let planned = self.plan(origin, account, files.to_vec()).await?;
        self.queue_planned(planned).await
    }

    /// Queues image bytes that exist nowhere on disk (a clipboard image, a screenshot): they are
    /// first written durably to the spool in the data directory, so a crash right after this
    /// call loses nothing; the spooled file is removed once the upload is confirmed.
    pub async fn enqueue_bytes(
        &self,
        bytes: Vec<u8>,
        origin: Origin,
        title: Option<String>,
    ) -> Result<Enqueued, ServiceError> {
        let head = bytes.get(..512).unwrap_or(&bytes);
        let Some((_, mime)) = crate::media::sniff(head) else {
            return Ok(Enqueued::Rejected {
                rejected: FileRejected::UnsupportedType {
                    path: PathBuf::from(format!("(data from {})", origin.as_str())),
                    found: "data that is not an image or video".to_owned(),
                },
            });
        };
        let extension: String = mime
            .rsplit('/')
            .next()
            .unwrap_or("bin")
            .replace("jpeg", "jpg")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        let spool = self.spool.clone();
        let path = tokio::task::spawn_blocking(move || spool.store(&bytes, &extension))
            .await
            .map_err(|error| ServiceError::Task(error.to_string()))??;
        let file = FileUpload {
            path: path.clone(),
            title,
            ..FileUpload::default()
        };
        let account = self.upload_account().await?;
        let mut planned = self.plan(origin, account, vec![file]).await?;
        for plan in &mut planned {
            if let Step::Queue { job, .. } = plan {
                job.spooled = true;
            }
        }
        let outcome = self
            .queue_planned(planned)
            .await?
            .into_iter()
            .next()
            .map(|(_, outcome)| outcome)
            .ok_or_else(|| ServiceError::Task("the queue returned no outcome".to_owned()))?;
        // Upshot's own copy is only kept while a job needs it.
        if !matches!(outcome, Enqueued::Queued { .. }) {
            let _ = self.spool.remove(&path);
        }
        Ok(outcome)
    }

    /// [`plan_uploads`] off the async runtime, with the settings in force.
    async fn plan(
        &self,
        origin: Origin,
        account: Option<String>,
        files: Vec<FileUpload>,
    ) -> Result<Vec<Step>, ServiceError> {
        let settings = self.preflight_settings();
        let client_id = self.client_id.clone();
        let prepared = self.prepared.clone();
        Ok(self
            .blocking(move |db| {
                plan_uploads(db, &prepared, &settings, &client_id, origin, account, files)
            })
            .await??)
    }

    /// Queues what [`plan_uploads`] let through; a job that turns out to be a duplicate in the
    /// transaction (the same content twice in the batch, or queued meanwhile by another
    /// process) drops its fitted copy.
    async fn queue_planned(
        &self,
        planned: Vec<Step>,
    ) -> Result<Vec<(PathBuf, Enqueued)>, ServiceError> {
        let jobs: Vec<(NewJob, bool)> = planned
            .iter()
            .filter_map(|plan| match plan {
                Step::Queue { job, force, .. } => Some(((**job).clone(), *force)),
                Step::Done { .. } => None,
            })
            .collect();
        let mut queued = self.runner.enqueue_unless_live(jobs).await?.into_iter();
        let mut outcomes = Vec::with_capacity(planned.len());
        for plan in planned {
            let (path, outcome) = match plan {
                Step::Done { path, outcome } => (path, outcome),
                Step::Queue { path, job, .. } => {
                    let result = queued.next().ok_or_else(|| {
                        ServiceError::Task("the queue returned fewer outcomes than jobs".to_owned())
                    })?;
                    let outcome = match result {
                        Ok(id) => Enqueued::Queued {
                            job: id,
                            report: Box::new(job.preflight.clone().unwrap_or_default()),
                        },
                        Err(live) => {
                            if let Some(copy) = &job.upload_path {
                                let _ = self.prepared.remove(copy);
                            }
                            Enqueued::from(live)
                        }
                    };
                    (path, outcome)
                }
            };
            outcomes.push((path, outcome));
        }
        Ok(outcomes)
    }

    /// Queues spooled files that no job knows: a crash came between writing a clipboard image
    /// or screenshot to the spool and queueing it. Nothing the user handed over is lost; they are
    /// queued as clipboard uploads (which of the two they were is not recorded). Returns how many.
    pub async fn recover_spool(&self) -> Result<usize, ServiceError> {
        let spool = self.spool.clone();
        let prepared = self.prepared.clone();
        let orphans = self
            .blocking(move |db| -> Result<Vec<PathBuf>, StoreError> {
                spool.sweep_partial()?;
                let conn = db.connect()?;
                // Fitted copies no job refers to are derived files: removed, never uploaded.
                let referenced = JobQueue::new(&conn).prepared_paths()?.into_iter().collect();
                let swept =
                    prepared.sweep_unreferenced(&referenced, crate::spool::PREPARED_GRACE)?;
                if swept > 0 {
                    tracing::info!(swept, "removed fitted copies no job refers to");
                }
                let queue = JobQueue::new(&conn);
                let known: std::collections::HashSet<PathBuf> =
                    queue.spooled_paths()?.into_iter().collect();
                let files = spool.files()?;
                // Orphans refused before were reported then: kept, not planned again.
                queue.forget_spool_refused(&files.iter().cloned().collect())?;
                let refused = queue.spool_refused()?;
                Ok(files
                    .into_iter()
                    .filter(|path| !known.contains(path) && !refused.contains(path))
                    .collect())
            })
            .await??;
        let files: Vec<FileUpload> = orphans
            .into_iter()
            .map(|path| FileUpload {
                path,
                ..FileUpload::default()
            })
            .collect();
        if files.is_empty() {
            return Ok(0);
        }
        let mut planned = self.plan(Origin::Clipboard, None, files).await?;
        let mut refused = Vec::new();
        for plan in &mut planned {
            match plan {
                Step::Queue { job, .. } => job.spooled = true,
                // Its content is uploaded or queued already: this copy is not needed.
                Step::Done {
                    path,
                    outcome: Enqueued::Duplicate { .. },
                } => {
                    let _ = self.spool.remove(path);
                }
                // Kept, so nothing the user handed over is lost; the log says why, once.
                Step::Done { path, outcome } => {
                    tracing::warn!("leaving {} in the spool: {outcome:?}", path.display());
                    refused.push(path.clone());
                }
            }
        }
        if !refused.is_empty() {
            let now = self.governor.clock().now().as_millis();
            self.blocking(move |db| -> Result<(), StoreError> {
                let conn = db.connect()?;
                let queue = JobQueue::new(&conn);
                for path in &refused {
                    queue.note_spool_refused(path, now)?;
                }
                Ok(())
            })
            .await??;
        }
        let outcomes = self.queue_planned(planned).await?;
        let count = outcomes
            .iter()
            .filter(|(_, outcome)| matches!(outcome, Enqueued::Queued { .. }))
            .count();
        if count > 0 {
            tracing::info!(count, "queued spooled files a crash left unqueued");
        }
        Ok(count)
    }
}
