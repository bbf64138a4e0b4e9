//! The window's half of the service: what the desktop shell's commands call. Each method is the
//! whole of a command's work, so a command in the shell is a line or two.

use super::batches::{BatchEntry, BatchNews, Batches, FileStatus};
use super::event::WindowEvent;
use super::expand::{ASK_ABOVE_FILES, expand};
use super::items::{file_name, history_item, job_name, queue_item, quota};
use super::throttle::ProgressThrottle;
use super::views::{
    BatchQueued, DropOutcome, HistoryItem, QueueItem, QueueRemoved, Quota, RejectedPath,
};
use crate::history::HistoryEntry;
use crate::link_format::LinkFormat;
use crate::service::{Enqueued, FileUpload, Job, JobFilter, JobState, ServiceError, UploadService};
use crate::settings::SettingsFile;
use crate::types::{JobId, Origin};
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

/// How long the link format read from `settings.json` is used before it is read again (a drop
/// of 200 files would otherwise read the file for each of its events).
const LINK_FORMAT_FRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Thumbnails kept in memory (about 5 KB each).
const THUMBNAILS_KEPT: usize = 1000;

/// The window's session over the upload service: batches, the files the user removed from the
/// list, thumbnails and the progress throttle. Cheap to clone.
#[derive(Clone)]
pub struct WindowSession {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) service: UploadService,
    settings_file: PathBuf,
    /// Ended jobs older than this are history, not queue.
    started_at: i64,
    pub(super) state: Mutex<SessionState>,
    pub(super) events: mpsc::UnboundedSender<WindowEvent>,
    /// Jobs whose thumbnail is to be made.
    pub(super) thumbnails_wanted: mpsc::UnboundedSender<(JobId, PathBuf)>,
}

#[derive(Default)]
pub(super) struct SessionState {
    pub(super) batches: Batches,
    /// Every job that came with a batch, for the queue items (batches themselves are forgotten
    /// once reported and ended).
    pub(super) batch_of: HashMap<JobId, String>,
    /// Ended jobs the user removed from the list (their history stays).
    hidden: HashSet<JobId>,
    thumbnails: HashMap<JobId, Option<String>>,
    thumbnail_order: VecDeque<JobId>,
    pub(super) throttle: ProgressThrottle,
    /// The link format last read, and when.
    link_format: Option<(LinkFormat, std::time::Instant)>,
}

impl SessionState {
    /// A job's thumbnail: `Some(None)` when made (or not makeable), `None` when not yet asked.
    pub(super) fn thumbnail(&self, job: JobId) -> Option<Option<String>> {
        self.thumbnails.get(&job).cloned()
    }

    pub(super) fn keep_thumbnail(&mut self, job: JobId, thumbnail: Option<String>) {
        if self.thumbnails.insert(job, thumbnail).is_none() {
            self.thumbnail_order.push_back(job);
        }
        while self.thumbnail_order.len() > THUMBNAILS_KEPT {
            if let Some(oldest) = self.thumbnail_order.pop_front() {
                self.thumbnails.remove(&oldest);
            }
        }
    }
}

impl WindowSession {
    /// The session and the receiving ends of its channels: the window's events, and the jobs
    /// whose thumbnails are wanted. [`WindowSession::start`] (in the feed) runs the rest.
    pub(super) fn new(
        service: UploadService,
        settings_file: PathBuf,
    ) -> (
        Self,
        mpsc::UnboundedReceiver<WindowEvent>,
        mpsc::UnboundedReceiver<(JobId, PathBuf)>,
    ) {
        let (events, received) = mpsc::unbounded_channel();
        let (thumbnails_wanted, thumbnail_jobs) = mpsc::unbounded_channel();
        let started_at = service.now_millis();
        let session = Self {
            inner: Arc::new(Inner {
                service,
                settings_file,
                started_at,
                state: Mutex::new(SessionState::default()),
                events,
                thumbnails_wanted,
            }),
        };
        (session, received, thumbnail_jobs)
    }

    pub(super) fn state(&self) -> MutexGuard<'_, SessionState> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn send(&self, event: WindowEvent) {
        let _ = self.inner.events.send(event);
    }

    /// The service the session works on.
    pub fn service(&self) -> &UploadService {
        &self.inner.service
    }

    /// The format links are copied in (`settings.json`, shared with the CLI; read each time,
    /// so `upshot config set link-format` applies at once).
    pub fn link_format(&self) -> LinkFormat {
        let now = std::time::Instant::now();
        if let Some((format, read_at)) = self.state().link_format
            && now.duration_since(read_at) < LINK_FORMAT_FRESH
        {
            return format;
        }
        let format = SettingsFile::load(&self.inner.settings_file)
            .ok()
            .and_then(|settings| settings.link_format)
            .unwrap_or_default();
        self.state().link_format = Some((format, now));
        format
    }

    /// Queues what was dropped, picked or pasted as one interactive batch: folders are opened
    /// for their images and videos (asked first, through [`DropOutcome::Confirm`], when they
    /// hold more than [`ASK_ABOVE_FILES`] files and `confirmed` is false); every file goes
    /// through preflight; a refused file is named in the answer and in the batch's report.
    pub async fn upload_paths(
        &self,
        paths: Vec<PathBuf>,
        origin: Origin,
        confirmed: bool,
    ) -> Result<DropOutcome, ServiceError> {
        let given = paths.len();
        let expanded = tokio::task::spawn_blocking(move || expand(&paths))
            .await
            .map_err(|error| ServiceError::Task(error.to_string()))?;
        let from_folders = expanded.files.len() > given || expanded.skipped > 0;
        if expanded.files.is_empty() {
            return Ok(DropOutcome::Nothing);
        }
        if from_folders && expanded.files.len() > ASK_ABOVE_FILES && !confirmed {
            return Ok(DropOutcome::Confirm {
                files: u32::try_from(expanded.files.len()).unwrap_or(u32::MAX),
            });
        }
        let uploads: Vec<FileUpload> = expanded
            .files
            .iter()
            .map(|path| FileUpload {
                path: path.clone(),
                ..FileUpload::default()
            })
            .collect();
        let outcomes = self.inner.service.enqueue_files(&uploads, origin).await?;
        self.open_batch(outcomes).await
    }

    /// Queues image bytes from the clipboard as a batch of one.
    pub async fn upload_bytes(
        &self,
        bytes: Vec<u8>,
        origin: Origin,
    ) -> Result<DropOutcome, ServiceError> {
        let name = PathBuf::from(format!("{} image", origin.as_str()));
        let outcome = self
            .inner
            .service
            .enqueue_bytes(bytes, origin, None)
            .await?;
        self.open_batch(vec![(name, outcome)]).await
    }

    async fn open_batch(
        &self,
        outcomes: Vec<(PathBuf, Enqueued)>,
    ) -> Result<DropOutcome, ServiceError> {
        let format = self.link_format();
        let mut entries = Vec::with_capacity(outcomes.len());
        let mut rejected = Vec::new();
        let mut jobs = Vec::new();
        for (path, outcome) in outcomes {
            let name = file_name(&path);
            let (job, status) = match outcome {
                Enqueued::Queued { job, .. } => (Some(job), FileStatus::Pending),
                Enqueued::Duplicate { job, history, .. } => match history {
                    Some(history) => {
                        let entry = self.inner.service.history_entry(history).await?;
                        let link = entry
                            .map(|entry| format.render_entry(&entry))
                            .unwrap_or_default();
                        (None, FileStatus::Done { link })
                    }
                    // The same content is on its way in another job: this batch follows it.
                    None => (job, FileStatus::Pending),
                },
                Enqueued::Rejected { rejected: why } => {
                    let message = why.to_string();
                    let shown = path.display().to_string();
                    // The report names the file already: its path is not said twice there.
                    let reported = match message.strip_prefix(&shown) {
                        Some(rest) => format!("it{rest}"),
                        None => message.clone(),
                    };
                    rejected.push(RejectedPath {
                        path: shown,
                        message,
                    });
                    (None, FileStatus::Failed { message: reported })
                }
            };
            jobs.extend(job);
            entries.push(BatchEntry { name, job, status });
        }
        let queued = u32::try_from(entries.len() - rejected.len()).unwrap_or(u32::MAX);
        let now = self.inner.service.now_millis();
        let (batch, news) = {
            let mut state = self.state();
            let (batch, news) = state.batches.open(entries, now);
            for job in &jobs {
                state.batch_of.insert(*job, batch.clone());
            }
            (batch, news)
        };
        self.publish(news);
        // A job may have moved before the batch was open: its events found no batch, and the
        // window got its item without the batch's id. Its stored state is applied now (an
        // update that changes nothing is ignored) and its item told again, with the batch.
        let mut items = Vec::with_capacity(jobs.len());
        for (job, entry) in self.inner.service.outcomes(jobs).await? {
            let status = file_status(&job, entry.as_ref(), format);
            let news = self.state().batches.update(job.id, status, now);
            self.publish(news);
            items.push(self.item(&job, entry.as_ref(), format, false));
        }
        if !items.is_empty() {
            self.send(WindowEvent::QueueChanged(items));
        }
        Ok(DropOutcome::Queued(BatchQueued {
            batch,
            queued,
            rejected,
        }))
    }

    pub(super) fn publish(&self, news: impl IntoIterator<Item = BatchNews>) {
        for news in news {
            match news {
                BatchNews::Ended(report) => self.send(WindowEvent::BatchEnded(report)),
                BatchNews::Late(link) => self.send(WindowEvent::LateLink(link)),
            }
        }
    }

    /// The queue view: every job not ended, and the jobs that ended since the window opened
    /// (unless removed), oldest first.
    pub async fn queue_list(&self) -> Result<Vec<QueueItem>, ServiceError> {
        let filter = JobFilter {
            order: crate::service::ListOrder::OldestFirst,
            ..JobFilter::default()
        };
        let started_at = self.inner.started_at;
        let jobs: Vec<JobId> = {
            let listed = self.inner.service.jobs(filter).await?;
            let state = self.state();
            listed
                .into_iter()
                .filter(|job| !state.hidden.contains(&job.id))
                .filter(|job| !ended(job.state) || job.updated_at >= started_at)
                .map(|job| job.id)
                .collect()
        };
        let format = self.link_format();
        let outcomes = self.inner.service.outcomes(jobs).await?;
        Ok(outcomes
            .iter()
            .map(|(job, entry)| self.item(job, entry.as_ref(), format, true))
            .collect())
    }

    /// A job as the queue view shows it; asks for its thumbnail the first time. The thumbnail
    /// goes with the item only `with_thumbnail` (the list, and the change that says it was
    /// made): a change of state leaves it out, and the view keeps the one it has, so a
    /// 200-file drop does not send every thumbnail again with every change.
    pub(super) fn item(
        &self,
        job: &Job,
        entry: Option<&HistoryEntry>,
        format: LinkFormat,
        with_thumbnail: bool,
    ) -> QueueItem {
        let (batch, thumbnail) = {
            let state = self.state();
            (
                state.batch_of.get(&job.id).cloned(),
                state.thumbnail(job.id),
            )
        };
        let thumbnail = match thumbnail {
            Some(made) => made,
            None => {
                self.state().keep_thumbnail(job.id, None);
                let source = job
                    .upload_path
                    .clone()
                    .unwrap_or_else(|| job.source_path.clone());
                let _ = self.inner.thumbnails_wanted.send((job.id, source));
                None
            }
        };
        let thumbnail = thumbnail.filter(|_| with_thumbnail);
        queue_item(job, entry, format, batch, thumbnail)
    }

    /// A failed or cancelled job is queued again. The window sees it queued at once (the
    /// service sends no event for it; the workers' events follow when one takes it).
    pub async fn retry(&self, job: &str) -> Result<(), ServiceError> {
        let id = parse_job(job)?;
        self.inner.service.retry(id).await?;
        self.show_stored(id, false).await
    }

    /// A queued, waiting or running job is cancelled. The window sees it cancelled at once and
    /// its batch counts it (only a running job's worker sends an event when it stops).
    pub async fn cancel(&self, job: &str) -> Result<(), ServiceError> {
        let id = parse_job(job)?;
        self.inner.service.cancel(id).await?;
        self.show_stored(id, false).await
    }

    /// An ended job leaves the list (its history entry stays); a job still to send must be
    /// cancelled first, so nothing handed over disappears unsaid.
    pub async fn remove(&self, job: &str) -> Result<(), ServiceError> {
        let id = parse_job(job)?;
        let found = self
            .inner
            .service
            .job(id)
            .await?
            .ok_or_else(|| not_in_queue(job))?;
        if !ended(found.state) {
            return Err(ServiceError::StillToSend {
                name: job_name(&found),
            });
        }
        self.state().hidden.insert(id);
        self.send(WindowEvent::QueueRemoved(QueueRemoved {
            job: id.to_string(),
        }));
        Ok(())
    }

    /// History entries, newest first, matching `query` (name, link or id; empty for all).
    pub async fn history_list(
        &self,
        query: String,
        limit: u32,
    ) -> Result<Vec<HistoryItem>, ServiceError> {
        let limit = limit.clamp(1, 5000);
        let entries = if query.trim().is_empty() {
            self.inner.service.history(limit, 0).await?
        } else {
            self.inner
                .service
                .search_history(query.trim().to_owned(), limit)
                .await?
        };
        Ok(entries.iter().map(history_item).collect())
    }

    /// Deletes uploads from Imgur (with their deletion links) and marks them deleted in the
    /// history, in order; stops at the first Imgur refuses, with why (those before it are
    /// deleted, the rest untouched). Answers the ids deleted.
    pub async fn history_delete(&self, ids: Vec<String>) -> Result<Vec<String>, ServiceError> {
        let mut deleted = Vec::with_capacity(ids.len());
        for id in ids {
            let entry = self.inner.service.find_upload(&id).await?;
            if entry.deleted_at.is_none() {
                self.inner.service.delete_upload(&entry).await?;
            }
            deleted.push(id);
        }
        Ok(deleted)
    }

    /// Writes the whole history to `path`: CSV when its name ends in `.csv`, else JSON.
    /// Answers how many entries were written.
    pub async fn history_export(&self, path: PathBuf) -> Result<usize, ServiceError> {
        let csv = path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
        let file = std::fs::File::create(&path).map_err(|error| ServiceError::ExportFailed {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
        self.inner
            .service
            .export_history(csv, std::io::BufWriter::new(file))
            .await
    }

    /// Today's budget as the governor sees it.
    pub async fn quota(&self) -> Result<Quota, ServiceError> {
        Ok(quota(&self.inner.service.quota().await?))
    }
}

fn ended(state: JobState) -> bool {
    matches!(
        state,
        JobState::Done | JobState::Failed | JobState::Cancelled
    )
}

fn not_in_queue(job: &str) -> ServiceError {
    ServiceError::NotFound(format!(
        "No upload {job} in the queue; it may have been removed already."
    ))
}

fn parse_job(job: &str) -> Result<JobId, ServiceError> {
    job.trim()
        .parse::<i64>()
        .map(JobId)
        .map_err(|_| not_in_queue(job))
}

/// Where a job stands, for its batch.
pub(super) fn file_status(
    job: &Job,
    entry: Option<&HistoryEntry>,
    format: LinkFormat,
) -> FileStatus {
    match job.state {
        JobState::Done => FileStatus::Done {
            link: entry
                .map(|entry| format.render_entry(entry))
                .unwrap_or_default(),
        },
        JobState::Failed => FileStatus::Failed {
            message: job
                .error_message
                .clone()
                .unwrap_or_else(|| "The upload failed.".to_owned()),
        },
        JobState::Cancelled => FileStatus::Cancelled,
        JobState::Deferred | JobState::Queued => match job.waiting {
            Some(waiting) if job.state == JobState::Deferred || waiting.until.is_some() => {
                FileStatus::Waiting {
                    message: waiting.reason.explain().to_owned(),
                    until: waiting.until,
                }
            }
            _ => FileStatus::Pending,
        },
        JobState::Uploading => FileStatus::Pending,
    }
}
