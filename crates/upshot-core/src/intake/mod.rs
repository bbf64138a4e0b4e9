//! The one intake path: every source (the CLI's files, the app's drop, pick, paste and capture,
//! and the watched folders) hands its files to the same [`Planner`], which runs preflight on
//! each, applies the duplicate rule, fits what needs fitting, and says what to queue. The
//! [`UploadService`](crate::service::UploadService) then queues the planned jobs in one
//! transaction (the watcher does so through the service too, with its own records beside them).
//!
//! Below the service, above the queue and preflight: it imports neither the service nor any
//! source.
//!
//! # The duplicate rule
//!
//! A file is not sent again when a *live copy* of its content stands in for it:
//!
//! - **live**: a job of the same Client ID with the same content hash (BLAKE3 of the original
//!   file) that is queued, uploading, deferred, or done with an image not deleted since; or a
//!   history entry with that content whose job was pruned, not deleted;
//! - **stands in**: it went (or goes) to the same place, the same account (`None`: anonymous)
//!   and the same album, and it does not keep metadata this file is to be sent without (its
//!   link would show what the user now wants removed). This is
//!   [`LiveCopy::stands_in_for`], the very predicate the queue's transaction applies.
//!
//! The rule is waived by `--force` (a file's [`Candidate::force`]), by the
//! `upload_duplicates` setting, and by a watched folder's `upload_copies`. It is checked twice:
//! here, before fitting (so a duplicate costs no re-encode), and again inside the transaction
//! that queues, which is the one that counts (the same content twice in one batch, or queued
//! meanwhile by another process, is queued once).
//!
//! Before this module the two sources wrote the pre-check differently: the service compared the
//! account and album and the *setting* `strip_metadata`, the watcher asked
//! [`LiveCopy::stands_in_for`] with the preflight report, whose `strip_metadata` is the setting
//! for the types that can be cleaned. They only differed for types that cannot be cleaned,
//! whose live copies never keep metadata either, so the outcome was the same; the one predicate
//! is kept because it is the one the transaction uses.

use crate::media::FileRejected;
use crate::preflight::{self, PreflightSettings};
use crate::queue::{JobQueue, LiveCopy, NewJob};
use crate::spool::Spool;
use crate::store::{Database, StoreError};
use crate::types::{HistoryId, JobId, PreflightReport};
use rusqlite::Connection;
use serde::Serialize;
use std::path::PathBuf;

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
    /// Send it even if the same content was uploaded before (`--force`).
    pub force: bool,
    /// Fit it if oversize (`--fit`/`--no-fit`); `None` follows the settings.
    pub fit: Option<bool>,
    /// Remove its metadata (`--keep-metadata` says no); `None` follows the settings.
    pub strip_metadata: Option<bool>,
}

/// What became of one file handed to the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Enqueued {
    /// Queued, with what preflight found and did.
    Queued {
        /// Its job.
        job: JobId,
        /// Preflight's report.
        report: Box<PreflightReport>,
    },
    /// The same content is uploaded (or queued) already, and was not sent again.
    Duplicate {
        /// The job that holds it; `None` when it was uploaded by a job pruned since (the
        /// history entry stands in).
        job: Option<JobId>,
        /// Its link, once uploaded.
        link: Option<String>,
        /// Its history entry, once uploaded.
        history: Option<HistoryId>,
    },
    /// Refused before any request, with the reason.
    Rejected {
        /// Why.
        rejected: FileRejected,
    },
}

impl From<LiveCopy> for Enqueued {
    fn from(live: LiveCopy) -> Self {
        Self::Duplicate {
            job: live.job,
            link: live.link,
            history: live.history,
        }
    }
}

impl Enqueued {
    /// The job, when it was queued.
    pub fn queued(&self) -> Option<JobId> {
        match self {
            Self::Queued { job, .. } => Some(*job),
            _ => None,
        }
    }
}

/// One file a source hands over, before preflight.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// The job the source wants: the file, origin (hence priority), Client ID, account, album,
    /// title. The planner adds what preflight found (report, content, size, fitted copy).
    pub job: NewJob,
    /// Send it whatever copy is live (see the module's duplicate rule).
    pub force: bool,
    /// Fit it if oversize; `None` follows the settings for its origin.
    pub fit: Option<bool>,
    /// Remove its metadata; `None` follows the settings.
    pub strip_metadata: Option<bool>,
    /// The content the source judged complete (the watcher hashes a file to know it is still):
    /// a file whose content is not that any more changed since, and is
    /// [`PlannedFile::Changed`].
    pub expected_hash: Option<String>,
}

impl Candidate {
    /// A candidate for `job`, following the settings.
    pub fn new(job: NewJob) -> Self {
        Self {
            job,
            force: false,
            fit: None,
            strip_metadata: None,
            expected_hash: None,
        }
    }
}

/// What the planner made of one file.
#[derive(Debug)]
pub(crate) enum PlannedFile {
    /// Refused by preflight; it never enters the queue.
    Rejected(FileRejected),
    /// Its content is not what the source judged complete: look again later.
    Changed,
    /// A live copy stands in for it: not fitted. `job` carries the preflight report, so a
    /// source that records duplicates in the queue's transaction can check again there.
    Duplicate {
        /// The copy found.
        live: LiveCopy,
        /// The job it would have been.
        job: Box<NewJob>,
    },
    /// Its fitted copy could not be kept (the disk): what the source does is its own call.
    CopyFailed(StoreError),
    /// To queue (unless the queue's transaction finds a live copy meanwhile).
    Queue {
        /// The job, with the report and any fitted copy.
        job: Box<NewJob>,
        /// Queue it whatever is live.
        force: bool,
    },
}

/// The one planner: preflight, the duplicate rule, fitting. Runs on a blocking thread with one
/// connection for a whole batch.
pub(crate) struct Planner<'a> {
    queue: JobQueue<'a>,
    prepared: &'a Spool,
    settings: &'a PreflightSettings,
}

impl<'a> Planner<'a> {
    /// A planner reading the queue through `queue`, keeping fitted copies in `prepared`,
    /// checking with `settings`.
    pub fn new(queue: JobQueue<'a>, prepared: &'a Spool, settings: &'a PreflightSettings) -> Self {
        Self {
            queue,
            prepared,
            settings,
        }
    }

    /// Plans one file. A store error reading the queue is returned as is: whether it sinks the
    /// batch or only this file is the source's call.
    pub fn plan(&self, candidate: Candidate) -> Result<PlannedFile, StoreError> {
        let Candidate {
            mut job,
            force,
            fit,
            strip_metadata,
            expected_hash,
        } = candidate;
        let mut options = self.settings.options_for(job.origin);
        if let Some(fit) = fit {
            options.fit_oversize = fit;
        }
        if let Some(strip) = strip_metadata {
            options.strip_metadata = strip;
        }
        let force = force || self.settings.upload_duplicates;
        let plan = match preflight::check(&job.source_path, &options) {
            Ok(plan) => plan,
            Err(rejected) => return Ok(PlannedFile::Rejected(rejected)),
        };
        if expected_hash.is_some_and(|hash| hash != plan.report.content_hash) {
            return Ok(PlannedFile::Changed);
        }
        job.content_hash = Some(plan.report.content_hash.clone());
        job.preflight = Some(plan.report.clone());
        if !force {
            let live = self
                .queue
                .live_with_content(&job.client_id, &plan.report.content_hash)?
                .into_iter()
                .find(|live| live.stands_in_for(&job));
            if let Some(live) = live {
                return Ok(PlannedFile::Duplicate {
                    live,
                    job: Box::new(job),
                });
            }
        }
        let ready = match plan.fit() {
            Ok(ready) => ready,
            Err(rejected) => return Ok(PlannedFile::Rejected(rejected)),
        };
        // The job outlives the caller's working directory.
        job.source_path =
            std::path::absolute(&ready.checked.path).unwrap_or_else(|_| ready.checked.path.clone());
        if let Some(bytes) = &ready.fitted {
            match self.prepared.store(bytes, "jpg") {
                Ok(copy) => job.upload_path = Some(copy),
                Err(error) => return Ok(PlannedFile::CopyFailed(error)),
            }
        }
        job.bytes_total = ready.report.final_bytes;
        job.preflight = Some(ready.report);
        Ok(PlannedFile::Queue {
            job: Box::new(job),
            force,
        })
    }
}

/// What the service lends a source that keeps its own records beside the queue (the watcher:
/// which file was handed over, exactly once) for one blocking trip: the database, the planner
/// with the settings in force, and the time. The source plans with [`Desk::planner`] and queues
/// in its own transaction; the service announces what it queued
/// ([`UploadService::announce_queued`](crate::service::UploadService::announce_queued)).
#[derive(Debug)]
pub(crate) struct Desk {
    db: Database,
    prepared: Spool,
    settings: PreflightSettings,
    now: i64,
}

impl Desk {
    /// A desk over the service's parts (see [`UploadService`](crate::service::UploadService)).
    pub fn new(db: Database, prepared: Spool, settings: PreflightSettings, now: i64) -> Self {
        Self {
            db,
            prepared,
            settings,
            now,
        }
    }

    /// A connection to the service's database.
    pub fn connect(&self) -> Result<Connection, StoreError> {
        self.db.connect()
    }

    /// The one planner, reading the queue through `conn`.
    pub fn planner<'c>(&'c self, conn: &'c Connection) -> Planner<'c> {
        Planner::new(JobQueue::new(conn), &self.prepared, &self.settings)
    }

    /// Drops a fitted copy the planner made for a job that was not queued after all.
    pub fn drop_copy(&self, job: &NewJob) {
        if let Some(copy) = &job.upload_path
            && let Err(error) = self.prepared.remove(copy)
        {
            tracing::debug!(
                "could not remove the fitted copy {}: {error}",
                copy.display()
            );
        }
    }

    /// The service's time when the trip began (ms since the epoch).
    pub fn now(&self) -> i64 {
        self.now
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::types::Origin;

    /// A real database and real files: the rule as both sources meet it.
    struct Bench {
        dir: tempfile::TempDir,
        db: Database,
        prepared: Spool,
        settings: PreflightSettings,
    }

    impl Bench {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let db = Database::open_in(dir.path()).unwrap();
            let prepared = Spool::prepared(dir.path());
            Self {
                dir,
                db,
                prepared,
                settings: PreflightSettings::default(),
            }
        }

        fn file(&self, name: &str, shade: u8) -> PathBuf {
            let path = self.dir.path().join(name);
            std::fs::write(&path, fake_imgur::samples::png(8, 8, shade)).unwrap();
            path
        }

        fn plan(&self, candidate: Candidate) -> PlannedFile {
            let conn = self.db.connect().unwrap();
            Planner::new(JobQueue::new(&conn), &self.prepared, &self.settings)
                .plan(candidate)
                .unwrap()
        }

        fn queue(&self, planned: PlannedFile) -> JobId {
            let PlannedFile::Queue { job, .. } = planned else {
                panic!("expected a job to queue: {planned:?}");
            };
            let conn = self.db.connect().unwrap();
            JobQueue::new(&conn).enqueue(&job, 1).unwrap()
        }
    }

    fn job(path: &std::path::Path, album: Option<&str>) -> NewJob {
        let mut job = NewJob::new(path, Origin::Cli, "client");
        job.album = album.map(str::to_owned);
        job
    }

    #[test]
    fn the_same_content_in_the_same_place_is_a_duplicate_unless_forced() {
        let bench = Bench::new();
        let first = bench.file("a.png", 1);
        let queued = bench.queue(bench.plan(Candidate::new(job(&first, None))));

        let copy = bench.file("copy of a.png", 1);
        match bench.plan(Candidate::new(job(&copy, None))) {
            PlannedFile::Duplicate { live, job } => {
                assert_eq!(live.job, Some(queued));
                assert!(job.preflight.is_some(), "the report rides along");
                assert!(job.upload_path.is_none(), "a duplicate is not fitted");
            }
            other => panic!("expected a duplicate: {other:?}"),
        }
        let forced = Candidate {
            force: true,
            ..Candidate::new(job(&copy, None))
        };
        assert!(matches!(
            bench.plan(forced),
            PlannedFile::Queue { force: true, .. }
        ));
    }

    #[test]
    fn another_album_or_other_content_is_not_a_duplicate() {
        let bench = Bench::new();
        let first = bench.file("a.png", 1);
        bench.queue(bench.plan(Candidate::new(job(&first, None))));
        assert!(matches!(
            bench.plan(Candidate::new(job(&first, Some("album")))),
            PlannedFile::Queue { force: false, .. }
        ));
        let other = bench.file("b.png", 2);
        assert!(matches!(
            bench.plan(Candidate::new(job(&other, None))),
            PlannedFile::Queue { .. }
        ));
    }

    #[test]
    fn a_file_changed_since_it_was_judged_or_refused_is_not_queued() {
        let bench = Bench::new();
        let file = bench.file("a.png", 1);
        let judged = Candidate {
            expected_hash: Some("not its content".to_owned()),
            ..Candidate::new(job(&file, None))
        };
        assert!(matches!(bench.plan(judged), PlannedFile::Changed));
        let missing = bench.dir.path().join("gone.png");
        assert!(matches!(
            bench.plan(Candidate::new(job(&missing, None))),
            PlannedFile::Rejected(FileRejected::Missing { .. })
        ));
    }
}
