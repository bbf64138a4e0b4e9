//! The database side of "exactly once": which files a watched folder handed over, with what
//! content, to which job. Every decision is one `BEGIN IMMEDIATE` transaction, so the app and
//! `upshot watch` watching the same folder never queue a file twice.

use super::settle::FileStamp;
use crate::history::History;
use crate::queue::{JobQueue, NewJob};
use crate::store::os_path::{SqlPath, StoredPath};
use crate::store::{SqlContext, StoreError};
use crate::types::HistoryId;
use crate::types::JobId;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A complete file, hashed, ready to be handed over.
#[derive(Debug, Clone)]
pub struct ReadyFile {
    /// The file.
    pub path: PathBuf,
    /// The watched folder's key ([`WatchedFolder::key`](super::WatchedFolder::key)).
    pub folder: String,
    /// Size and modification time when hashed.
    pub stamp: FileStamp,
    /// BLAKE3 of the content.
    pub hash: String,
    /// The job to queue if the content is new (origin, Client ID, account, album).
    pub job: NewJob,
    /// Queue it even when the same content was uploaded or queued before.
    pub upload_copies: bool,
}

/// What became of a ready file handed to the queue (named apart from the governor's
/// [`crate::governor::Admission`], which says whether a request may be sent now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FileAdmission {
    /// Queued as a new job.
    Queued {
        /// The job.
        job: JobId,
    },
    /// The same content is uploaded or queued already: reported, not sent again.
    Duplicate {
        /// The job with that content; `None` when it was uploaded by a job pruned since (the
        /// history entry stands in).
        job: Option<JobId>,
        /// Its link, when it is uploaded.
        link: Option<String>,
    },
    /// Handed over before, unchanged (a rescan or a restart found it again).
    Known,
    /// Its record could not be written (the others were); it is left where it is.
    Failed {
        /// Why, in words.
        reason: String,
    },
}

/// What removing a file did to its job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Removal {
    /// Nothing to do: not handed over, or already uploaded.
    Nothing,
    /// Its job had not started and was cancelled, with the reason.
    Cancelled {
        /// The job.
        job: JobId,
    },
    /// Its job now sends a copy of the same content that is still there.
    Repointed {
        /// The job.
        job: JobId,
        /// The copy.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        to: PathBuf,
    },
}

/// `watch_files.job_id` of a file whose content stands in through a history entry alone (its
/// job was pruned): no job has this id.
const NO_JOB: i64 = 0;

/// The reason a cancelled job shows.
pub const REMOVED_REASON: &str = "removed from the watched folder before it was uploaded";

/// `watch_files` over one connection.
#[derive(Debug, Clone, Copy)]
pub struct WatchRecords<'c> {
    conn: &'c Connection,
}

impl<'c> WatchRecords<'c> {
    /// The records in `conn`'s database.
    pub fn new(conn: &'c Connection) -> Self {
        Self { conn }
    }

    fn immediate(&self) -> Result<Transaction<'c>, StoreError> {
        Transaction::new_unchecked(self.conn, TransactionBehavior::Immediate).ctx(self.conn)
    }

    /// Every file of a folder the database knows, with its stamp when handed over (for scans).
    pub fn known_stamps(&self, folder: &str) -> Result<HashMap<PathBuf, FileStamp>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path, size, mtime_ns FROM watch_files WHERE folder = ?1")
            .ctx(self.conn)?;
        let rows = stmt
            .query_map([folder], |row| {
                let path: StoredPath = row.get(0)?;
                let size: i64 = row.get(1)?;
                Ok((
                    path.0,
                    FileStamp {
                        size: u64::try_from(size).unwrap_or(0),
                        mtime_ns: row.get(2)?,
                    },
                ))
            })
            .ctx(self.conn)?;
        rows.collect::<Result<HashMap<_, _>, _>>().ctx(self.conn)
    }

    /// Hands over ready files in one transaction: each is queued, reported as a duplicate of
    /// the job with the same content, or recognised as handed over already. A failure that
    /// concerns one file (not the database as a whole) is undone for that file alone and
    /// reported as [`FileAdmission::Failed`]: one odd file never holds the others back.
    pub fn admit(&self, files: &[ReadyFile], now: i64) -> Result<Vec<FileAdmission>, StoreError> {
        let tx = self.immediate()?;
        let queue = JobQueue::new(&tx);
        let mut admissions = Vec::with_capacity(files.len());
        for file in files {
            tx.execute_batch("SAVEPOINT admit_one").ctx(&tx)?;
            match admit_one(&tx, &queue, file, now) {
                Ok(admission) => {
                    tx.execute_batch("RELEASE admit_one").ctx(&tx)?;
                    admissions.push(admission);
                }
                Err(error) if concerns_one_file(&error) => {
                    tx.execute_batch("ROLLBACK TO admit_one; RELEASE admit_one")
                        .ctx(&tx)?;
                    tracing::warn!(path = %file.path.display(), "could not hand over: {error}");
                    admissions.push(FileAdmission::Failed {
                        reason: error.to_string(),
                    });
                }
                Err(error) => return Err(error),
            }
        }
        tx.commit().ctx(self.conn)?;
        Ok(admissions)
    }

    /// A file (or a directory, for everything below it) left the folder. A job that has not
    /// started is given to a remaining copy of the same content, or cancelled with
    /// [`REMOVED_REASON`]; an upload under way or done is left alone.
    pub fn removed(&self, path: &Path, now: i64) -> Result<Vec<(PathBuf, Removal)>, StoreError> {
        let tx = self.immediate()?;
        let text = SqlPath(path);
        // Everything below it, compared as bytes: a UTF-8 folder may hold a name that is not
        // (a TEXT prefix of a BLOB path).
        let mut below = crate::store::os_path::bytes(path);
        while below.last() == Some(&b'/') {
            below.pop();
        }
        below.extend(std::path::MAIN_SEPARATOR.to_string().as_bytes());
        let rows: Vec<(StoredPath, i64, bool)> = tx
            .prepare_cached(
                "SELECT path, job_id, duplicate FROM watch_files \
                 WHERE path = ?1 OR substr(CAST(path AS BLOB), 1, length(?2)) = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![text, below], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?
                .collect()
            })
            .ctx(&tx)?;
        let queue = JobQueue::new(&tx);
        let mut outcomes = Vec::new();
        for (gone, job, duplicate) in rows {
            let gone_path = gone.0;
            if gone_path.exists() {
                continue;
            }
            let job = JobId(job);
            let state: Option<String> = tx
                .prepare_cached("SELECT state FROM jobs WHERE id = ?1")
                .and_then(|mut stmt| stmt.query_row([job.0], |row| row.get(0)).optional())
                .ctx(&tx)?;
            let unstarted = matches!(state.as_deref(), Some("queued" | "deferred"));
            if !unstarted {
                // Uploaded (or under way): the row keeps the content known.
                outcomes.push((gone_path, Removal::Nothing));
                continue;
            }
            tx.prepare_cached("DELETE FROM watch_files WHERE path = ?1")
                .and_then(|mut stmt| stmt.execute([SqlPath(&gone_path)]))
                .ctx(&tx)?;
            if duplicate {
                outcomes.push((gone_path, Removal::Nothing));
                continue;
            }
            let copies: Vec<StoredPath> = tx
                .prepare_cached(
                    "SELECT path FROM watch_files WHERE job_id = ?1 AND duplicate = 1 \
                     ORDER BY seen_at, path",
                )
                .and_then(|mut stmt| stmt.query_map([job.0], |row| row.get(0))?.collect())
                .ctx(&tx)?;
            let copy = copies
                .into_iter()
                .map(PathBuf::from)
                .find(|copy| copy.is_file());
            let outcome = match copy {
                Some(copy) if queue.repoint_unstarted(job, &copy, now)? => {
                    tx.prepare_cached("UPDATE watch_files SET duplicate = 0 WHERE path = ?1")
                        .and_then(|mut stmt| stmt.execute([SqlPath(&copy)]))
                        .ctx(&tx)?;
                    Removal::Repointed { job, to: copy }
                }
                _ => {
                    if queue.cancel_unstarted(job, REMOVED_REASON, now)? {
                        Removal::Cancelled { job }
                    } else {
                        Removal::Nothing
                    }
                }
            };
            outcomes.push((gone_path, outcome));
        }
        tx.commit().ctx(self.conn)?;
        Ok(outcomes)
    }

    /// A file was renamed within watched folders: its record (and its job, if not started)
    /// follows it, so the rename neither uploads it again nor cancels it.
    pub fn renamed(
        &self,
        from: &Path,
        to: &Path,
        folder: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let tx = self.immediate()?;
        let from_text = SqlPath(from);
        let to_text = SqlPath(to);
        let row: Option<(i64, bool)> = tx
            .prepare_cached("SELECT job_id, duplicate FROM watch_files WHERE path = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([from_text], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .ctx(&tx)?;
        let Some((job, duplicate)) = row else {
            return Ok(false);
        };
        tx.prepare_cached("DELETE FROM watch_files WHERE path = ?1")
            .and_then(|mut stmt| stmt.execute([to_text]))
            .ctx(&tx)?;
        tx.prepare_cached("UPDATE watch_files SET path = ?2, folder = ?3 WHERE path = ?1")
            .and_then(|mut stmt| stmt.execute(params![from_text, to_text, folder]))
            .ctx(&tx)?;
        if !duplicate {
            JobQueue::new(&tx).repoint_unstarted(JobId(job), to, now)?;
        }
        tx.commit().ctx(self.conn)?;
        Ok(true)
    }

    /// Files whose content is confirmed uploaded (by a job holding that same content, or by
    /// the history entry of one pruned since, whose image is not deleted since) and whose
    /// after-upload action is not carried out yet (also after a crash), optionally only those
    /// of one job.
    pub fn actions_due(&self, job: Option<JobId>) -> Result<Vec<DueAction>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT w.path, w.folder, w.size, w.mtime_ns, w.job_id, w.content_hash, \
                 w.duplicate, h.id, h.imgur_id, h.link, h.api_base \
                 FROM watch_files w JOIN jobs j ON j.id = w.job_id \
                 LEFT JOIN history h ON h.id = j.history_id \
                 WHERE w.action_done = 0 AND j.state = 'done' AND (?1 IS NULL OR w.job_id = ?1) \
                 AND w.history_id IS NULL \
                 AND j.content_hash = w.content_hash AND h.deleted_at IS NULL \
                 UNION ALL \
                 SELECT w.path, w.folder, w.size, w.mtime_ns, w.job_id, w.content_hash, \
                 w.duplicate, h.id, h.imgur_id, h.link, h.api_base \
                 FROM watch_files w JOIN history h ON h.id = w.history_id \
                 WHERE w.action_done = 0 AND ?1 IS NULL AND w.job_id = ?2 \
                 AND h.content_hash = w.content_hash AND h.deleted_at IS NULL",
            )
            .ctx(self.conn)?;
        let rows = stmt
            .query_map(params![job.map(|id| id.0), NO_JOB], |row| {
                let path: StoredPath = row.get(0)?;
                let size: i64 = row.get(2)?;
                Ok(DueAction {
                    path: path.0,
                    folder: row.get(1)?,
                    stamp: FileStamp {
                        size: u64::try_from(size).unwrap_or(0),
                        mtime_ns: row.get(3)?,
                    },
                    job: Some(JobId(row.get(4)?)).filter(|job| job.0 != NO_JOB),
                    hash: row.get(5)?,
                    stand_in: if row.get::<_, bool>(6)? {
                        Some(StandIn {
                            history: row.get::<_, Option<i64>>(7)?.map(HistoryId),
                            imgur_id: row.get(8)?,
                            link: row.get(9)?,
                            api_base: row.get(10)?,
                        })
                    } else {
                        None
                    },
                })
            })
            .ctx(self.conn)?;
        rows.collect::<Result<Vec<_>, _>>().ctx(self.conn)
    }

    /// The upload a duplicate stood in for is gone from Imgur (deleted on the website): its
    /// history entry is marked deleted, so it stands in for nothing any more, and the file's
    /// record is dropped, so the file is looked at afresh and queued as a new upload. One
    /// transaction; `false` when the record changed meanwhile (another process dealt with it).
    pub fn stand_in_gone(
        &self,
        path: &Path,
        history: HistoryId,
        now: i64,
    ) -> Result<bool, StoreError> {
        let tx = self.immediate()?;
        let dropped = tx
            .prepare_cached(
                "DELETE FROM watch_files WHERE path = ?1 AND duplicate = 1 AND action_done = 0",
            )
            .and_then(|mut stmt| stmt.execute([SqlPath(path)]))
            .ctx(&tx)?;
        match History::new(&tx).mark_deleted(history, now) {
            Ok(()) | Err(StoreError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
        tx.commit().ctx(self.conn)?;
        Ok(dropped > 0)
    }

    /// Marks a file's after-upload action as carried out (or as nothing to do).
    pub fn action_done(&self, path: &Path) -> Result<(), StoreError> {
        let text = SqlPath(path);
        self.conn
            .prepare_cached("UPDATE watch_files SET action_done = 1 WHERE path = ?1")
            .and_then(|mut stmt| stmt.execute([text]))
            .ctx(self.conn)?;
        Ok(())
    }
}

/// One file of [`WatchRecords::admit`], inside its transaction.
fn admit_one(
    tx: &Transaction<'_>,
    queue: &JobQueue<'_>,
    file: &ReadyFile,
    now: i64,
) -> Result<FileAdmission, StoreError> {
    let path = SqlPath(&file.path);
    let stored: Option<(i64, i64, String)> = tx
        .prepare_cached("SELECT size, mtime_ns, content_hash FROM watch_files WHERE path = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([path], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()
        })
        .ctx(tx)?;
    let size = i64::try_from(file.stamp.size).unwrap_or(i64::MAX);
    if stored.as_ref() == Some(&(size, file.stamp.mtime_ns, file.hash.clone())) {
        return Ok(FileAdmission::Known);
    }
    let existing = if file.upload_copies {
        None
    } else {
        queue
            .live_with_content(&file.job.client_id, &file.hash)?
            .into_iter()
            .find(|live| live.stands_in_for(&file.job))
    };
    // A copy whose job was pruned is recorded by its history entry, with job id 0 (no job).
    let (job, history, duplicate, admission) = match existing {
        Some(live) => (
            live.job.unwrap_or(JobId(NO_JOB)),
            live.job.is_none().then_some(live.history).flatten(),
            true,
            FileAdmission::Duplicate {
                job: live.job,
                link: live.link,
            },
        ),
        None => {
            let mut new_job = file.job.clone();
            new_job.source_path = file.path.clone();
            if new_job.bytes_total == 0 {
                new_job.bytes_total = file.stamp.size;
            }
            new_job.content_hash = Some(file.hash.clone());
            let job = queue.enqueue(&new_job, now)?;
            (job, None, false, FileAdmission::Queued { job })
        }
    };
    tx.prepare_cached(
        "INSERT INTO watch_files (path, folder, size, mtime_ns, content_hash, job_id, \
         duplicate, action_done, seen_at, history_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9) \
         ON CONFLICT(path) DO UPDATE SET folder = ?2, size = ?3, mtime_ns = ?4, \
         content_hash = ?5, job_id = ?6, duplicate = ?7, action_done = 0, seen_at = ?8, \
         history_id = ?9",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            path,
            file.folder,
            size,
            file.stamp.mtime_ns,
            file.hash,
            job.0,
            duplicate,
            now,
            history.map(|id| id.0)
        ])
    })
    .ctx(tx)?;
    Ok(admission)
}

/// Whether a store error is about one file's record (undone and reported for that file while
/// the others go on) rather than the database as a whole (busy, full, read-only, damaged:
/// then nothing can be recorded and the whole batch is tried again later).
pub(super) fn concerns_one_file(error: &StoreError) -> bool {
    !matches!(
        error,
        StoreError::Busy { .. }
            | StoreError::DiskFull { .. }
            | StoreError::ReadOnly { .. }
            | StoreError::Corrupt { .. }
            | StoreError::TooNew { .. }
            | StoreError::Io { .. }
    )
}

/// A file whose after-upload action is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAction {
    /// The file.
    pub path: PathBuf,
    /// Its folder's key.
    pub folder: String,
    /// What it was when handed over: a file changed since is left alone.
    pub stamp: FileStamp,
    /// The job that uploaded its content; `None` when that job was pruned (its history entry
    /// stands in).
    pub job: Option<JobId>,
    /// BLAKE3 of the content that job uploaded: the file is only deleted or moved while its
    /// content is still that.
    pub hash: String,
    /// Set when the file is a duplicate: the upload that stands in for it was made for another
    /// file, maybe long ago, and may have been deleted on imgur.com since (which the history
    /// does not know). It is confirmed on Imgur before the file is deleted or moved.
    pub stand_in: Option<StandIn>,
}

/// The upload a duplicate's action relies on, as the history has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandIn {
    /// Its history entry (`None` only for a done job with no entry: nothing to confirm, so
    /// the file is left alone).
    pub history: Option<HistoryId>,
    /// The image's id on Imgur.
    pub imgur_id: Option<String>,
    /// Its link.
    pub link: Option<String>,
    /// The API it was uploaded to.
    pub api_base: Option<String>,
}
