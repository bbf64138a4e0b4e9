//! The persistent upload queue: jobs in SQLite, claimed by workers under leases.
//!
//! A [`JobQueue`] borrows one connection (each thread or worker opens its own with
//! [`Database::connect`](crate::store::Database::connect)); several queues in several processes
//! over one database file are safe: [`JobQueue::claim`] runs in a `BEGIN IMMEDIATE` transaction,
//! so SQLite lets one claimer at a time pick and take a job. Time is passed in (`now`, ms since
//! the epoch) rather than read here, so callers use their clock and tests use theirs.
//!
//! Cancelling a job that is being uploaded sets it `cancelled` at once (the UI shows it so);
//! the worker still holds the lease and learns it at its next [`JobQueue::renew_lease`] or
//! [`JobQueue::record_progress`], which answer [`LeaseCheck::Cancelled`]: it stops sending. A
//! worker whose job was taken over or retried meanwhile gets [`LeaseCheck::Lost`].

mod faults;
mod types;
mod upkeep;

pub use faults::WorkerFault;
pub use types::{
    Job, JobCounts, JobFilter, JobId, JobState, LeaseCheck, ListOrder, LiveCopy, NewJob, Origin,
    PRIORITY_BACKLOG, PRIORITY_INTERACTIVE, WaitReason, Waiting,
};
pub use upkeep::{DEFAULT_JOB_RETENTION, Pruned};

use crate::history::{self, HistoryId, NewHistoryEntry};
use crate::store::os_path::{SqlPath, StoredPath};
use crate::store::{SqlContext, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use std::collections::HashMap;
use std::path::PathBuf;
use upshot_imgur::ErrorKind;

/// The `queue_flags` key that pauses the whole queue (value `'1'`).
pub const PAUSED_FLAG: &str = "paused";

/// Every column of `jobs`, in the order [`RawJob::read`] reads them.
const JOB_COLUMNS: &str = "id, source_path, origin, priority, client_id, account, album, title, \
    description, state, run_after, wait_reason, attempts, error_kind, error_message, bytes_sent, \
    bytes_total, marker, lease_owner, lease_expires, spooled, history_id, created_at, updated_at, content_hash, \
    preflight, upload_path, unknown_sends";

/// The queue over one connection. Cheap to make: build one wherever a connection is at hand.
#[derive(Debug, Clone, Copy)]
pub struct JobQueue<'c> {
    conn: &'c Connection,
}

impl<'c> JobQueue<'c> {
    /// The queue stored in `conn`'s database (opened through
    /// [`Database`](crate::store::Database), so the schema is there).
    pub fn new(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// The connection underneath, e.g. for a [`History`](crate::history::History) beside it.
    pub fn connection(&self) -> &'c Connection {
        self.conn
    }

    fn immediate(&self) -> Result<Transaction<'c>, StoreError> {
        Transaction::new_unchecked(self.conn, TransactionBehavior::Immediate).ctx(self.conn)
    }

    /// Queues one file: state `queued`, priority from its origin, a fresh marker.
    pub fn enqueue(&self, job: &NewJob, now: i64) -> Result<JobId, StoreError> {
        insert_job(self.conn, job, now)
    }

    /// Queues many files in one transaction (10,000 take a fraction of a second); all or none.
    /// The ids come back in the order of `jobs`.
    pub fn enqueue_many(&self, jobs: &[NewJob], now: i64) -> Result<Vec<JobId>, StoreError> {
        let tx = self.immediate()?;
        let mut ids = Vec::with_capacity(jobs.len());
        for job in jobs {
            ids.push(insert_job(&tx, job, now)?);
        }
        tx.commit().ctx(self.conn)?;
        Ok(ids)
    }

    /// The copies of this content that `client_id` will not need to send again: its jobs that
    /// are queued, under way, waiting, or done with the image not deleted (with its link then),
    /// oldest first; then its uploads that no job points at any more (their job was pruned
    /// after `job-retention-days`) and whose image is not deleted, oldest first, with no job. Another Client ID may be another
    /// server (the sandbox), where a link means nothing. The caller picks one that
    /// [stands in](LiveCopy::stands_in_for) for its upload.
    pub fn live_with_content(
        &self,
        client_id: &str,
        hash: &str,
    ) -> Result<Vec<LiveCopy>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT j.id, h.link, h.id, j.preflight, j.account, j.album, 0 AS alone, j.id AS seq \
                 FROM jobs j LEFT JOIN history h ON h.id = j.history_id \
                 WHERE j.content_hash = ?1 AND j.client_id = ?2 \
                 AND (j.state IN ('queued', 'uploading', 'deferred') \
                 OR (j.state = 'done' AND h.deleted_at IS NULL)) \
                 UNION ALL \
                 SELECT NULL, h.link, h.id, h.preflight, h.account, h.album, 1, h.id FROM history h \
                 WHERE h.content_hash = ?1 AND h.client_id = ?2 AND h.deleted_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.history_id = h.id) \
                 ORDER BY alone, seq LIMIT 16",
            )
            .and_then(|mut stmt| {
                stmt.query_map([hash, client_id], |row| {
                    let report: Option<String> = row.get(3)?;
                    let report: Option<crate::preflight::PreflightReport> =
                        report.and_then(|text| serde_json::from_str(&text).ok());
                    Ok(LiveCopy {
                        job: row.get::<_, Option<i64>>(0)?.map(JobId),
                        link: row.get(1)?,
                        history: row.get::<_, Option<i64>>(2)?.map(HistoryId),
                        kept_metadata: report.is_some_and(|report| report.kept_metadata()),
                        account: row.get(4)?,
                        album: row.get(5)?,
                    })
                })?
                .collect()
            })
            .ctx(self.conn)
    }

    /// Queues jobs in one transaction, except those whose content is live already (see
    /// [`live_with_content`](Self::live_with_content)); checked inside the transaction, so the
    /// same content twice in one batch, or from two processes at once, is queued once. A job
    /// with `force` is queued whatever is live.
    pub fn enqueue_unless_live(
        &self,
        jobs: &[(NewJob, bool)],
        now: i64,
    ) -> Result<Vec<Result<JobId, LiveCopy>>, StoreError> {
        let tx = self.immediate()?;
        let queue = JobQueue::new(&tx);
        let mut outcomes = Vec::with_capacity(jobs.len());
        for (job, force) in jobs {
            let live = match (&job.content_hash, force) {
                (Some(hash), false) => queue
                    .live_with_content(&job.client_id, hash)?
                    .into_iter()
                    .find(|live| live.stands_in_for(job)),
                _ => None,
            };
            outcomes.push(match live {
                Some(live) => Err(live),
                None => Ok(insert_job(&tx, job, now)?),
            });
        }
        tx.commit().ctx(self.conn)?;
        Ok(outcomes)
    }

    /// Takes the next job for `owner` (a name unique to the worker, e.g. `<pid>-<n>-<random>`)
    /// under a lease of `lease_ms`, or `None` when nothing can run now.
    ///
    /// Candidates: `queued` jobs, `deferred` jobs whose `run_after` has come, and `uploading`
    /// jobs whose lease has run out (their worker died); the first by `priority, id` wins.
    /// Nothing is claimed while the queue is paused, and jobs of a client id that the governor
    /// holds after a 429 (its `rate_limit_holds` table, read here, written only by the
    /// governor) or listed in `skip_client_ids` (e.g. the governor says its budget is spent)
    /// are left alone.
    /// The job becomes `uploading` with `attempts + 1` and `bytes_sent = 0`. One
    /// `BEGIN IMMEDIATE` transaction: two workers, in one process or two, never get the same job.
    pub fn claim(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
        skip_client_ids: &[&str],
    ) -> Result<Option<Job>, StoreError> {
        self.claim_filtered(owner, now, lease_ms, skip_client_ids, &[])
    }

    /// [`claim`](Self::claim), also leaving alone the backlog (priority above interactive) of
    /// `skip_backlog_of`: the governor is pacing their backlog while interactive jobs may go.
    pub fn claim_filtered(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
        skip_client_ids: &[&str],
        skip_backlog_of: &[&str],
    ) -> Result<Option<Job>, StoreError> {
        let tx = self.immediate()?;
        if read_paused(&tx)? {
            return Ok(None);
        }
        let mut skipped: Vec<String> = skip_client_ids.iter().map(|id| id.to_string()).collect();
        skipped.extend(
            read_rate_limits(&tx)?
                .into_iter()
                .filter(|(_, until)| *until > now)
                .map(|(client, _)| client),
        );
        let skipped = serde_json::Value::from(skipped).to_string();
        let skipped_backlog = serde_json::Value::from(skip_backlog_of.to_vec()).to_string();
        // One indexed probe per kind of candidate, each the first by (priority, id).
        const CANDIDATES: [&str; 3] = [
            "SELECT priority, id FROM jobs WHERE state = 'queued' \
             AND client_id NOT IN (SELECT value FROM json_each(?1)) AND ?2 = ?2 \
             AND NOT (priority > 0 AND client_id IN (SELECT value FROM json_each(?3))) \
             ORDER BY priority, id LIMIT 1",
            "SELECT priority, id FROM jobs WHERE state = 'deferred' AND run_after <= ?2 \
             AND client_id NOT IN (SELECT value FROM json_each(?1)) \
             AND NOT (priority > 0 AND client_id IN (SELECT value FROM json_each(?3))) \
             ORDER BY priority, id LIMIT 1",
            "SELECT priority, id FROM jobs WHERE state = 'uploading' AND lease_expires < ?2 \
             AND client_id NOT IN (SELECT value FROM json_each(?1)) \
             AND NOT (priority > 0 AND client_id IN (SELECT value FROM json_each(?3))) \
             ORDER BY priority, id LIMIT 1",
        ];
        let mut best: Option<(i64, i64)> = None;
        for sql in CANDIDATES {
            let found: Option<(i64, i64)> = tx
                .prepare_cached(sql)
                .and_then(|mut stmt| {
                    let read = |row: &Row<'_>| Ok((row.get(0)?, row.get(1)?));
                    stmt.query_row(params![skipped, now, skipped_backlog], read)
                        .optional()
                })
                .ctx(&tx)?;
            best = match (best, found) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let Some((_, id)) = best else {
            return Ok(None);
        };
        let raw = tx
            .prepare_cached(&format!(
                "UPDATE jobs SET state = 'uploading', lease_owner = ?2, lease_expires = ?3, \
                 attempts = attempts + 1, bytes_sent = 0, run_after = NULL, wait_reason = NULL, \
                 updated_at = ?4 WHERE id = ?1 RETURNING {JOB_COLUMNS}"
            ))
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![id, owner, now.saturating_add(lease_ms), now],
                    RawJob::read,
                )
            })
            .ctx(&tx)?;
        tx.commit().ctx(self.conn)?;
        raw.into_job(&Flags::default()).map(Some)
    }

    /// Extends the lease of a job `owner` is sending to `now + lease_ms`. Call it every third of
    /// the lease; stop sending unless it answers [`LeaseCheck::Held`].
    pub fn renew_lease(
        &self,
        id: JobId,
        owner: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<LeaseCheck, StoreError> {
        self.update_held(
            id,
            owner,
            "lease_expires = ?3 + ?4, updated_at = ?3",
            params![id.0, owner, now, lease_ms],
        )
    }

    /// Records how far the upload got (shown by the UI and `upshot queue`). Does not renew the
    /// lease. Stop sending unless it answers [`LeaseCheck::Held`].
    pub fn record_progress(
        &self,
        id: JobId,
        owner: &str,
        now: i64,
        bytes_sent: u64,
        bytes_total: u64,
    ) -> Result<LeaseCheck, StoreError> {
        self.update_held(
            id,
            owner,
            "bytes_sent = ?4, bytes_total = ?5, updated_at = ?3",
            params![
                id.0,
                owner,
                now,
                i64::try_from(bytes_sent).unwrap_or(i64::MAX),
                i64::try_from(bytes_total).unwrap_or(i64::MAX)
            ],
        )
    }

    /// Records a finished upload: the history entry is written and the job becomes `done`
    /// pointing at it, in one transaction (a crash leaves both or neither).
    ///
    /// The entry is written whatever happened to the job meanwhile, because the image exists on
    /// Imgur and its deletehash must not be lost: a job cancelled during the upload becomes
    /// `done` all the same (it was uploaded), while a job another worker took over is left to
    /// that worker. `entry.job_id` is set to `id`. If the job was spooled, remove its file
    /// afterwards ([`Spool::remove`](crate::spool::Spool::remove)).
    pub fn complete(
        &self,
        id: JobId,
        owner: &str,
        now: i64,
        entry: &NewHistoryEntry,
    ) -> Result<HistoryId, StoreError> {
        let tx = self.immediate()?;
        let mut entry = entry.clone();
        entry.job_id = Some(id);
        let uploaded_by: Option<(String, Option<String>)> = tx
            .prepare_cached("SELECT client_id, content_hash FROM jobs WHERE id = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([id.0], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .ctx(&tx)?;
        let by = history::UploadedBy {
            client_id: uploaded_by.as_ref().map(|(client, _)| client.as_str()),
            content_hash: uploaded_by.as_ref().and_then(|(_, hash)| hash.as_deref()),
        };
        let history_id = history::insert(&tx, &entry, by)?;
        let changed = tx
            .prepare_cached(
                "UPDATE jobs SET state = 'done', history_id = ?3, lease_owner = NULL, \
                 lease_expires = NULL, run_after = NULL, wait_reason = NULL, error_kind = NULL, \
                 error_message = NULL, bytes_sent = MAX(bytes_sent, bytes_total), updated_at = ?4 \
                 WHERE id = ?1 AND lease_owner = ?2 AND state IN ('uploading', 'cancelled')",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, owner, history_id.0, now]))
            .ctx(&tx)?;
        tx.commit().ctx(self.conn)?;
        if changed == 0 {
            tracing::warn!(job = %id, owner, history = %history_id,
                "uploaded a job this worker no longer held; history kept, job left alone");
        }
        Ok(history_id)
    }

    /// Marks the job `failed` with the reason (kept listed until retried or cancelled). A job the
    /// user cancelled meanwhile stays cancelled.
    pub fn fail(
        &self,
        id: JobId,
        owner: &str,
        now: i64,
        kind: ErrorKind,
        message: &str,
    ) -> Result<LeaseCheck, StoreError> {
        self.update_held(
            id,
            owner,
            "state = 'failed', error_kind = ?4, error_message = ?5, lease_owner = NULL, \
             lease_expires = NULL, run_after = NULL, wait_reason = NULL, updated_at = ?3",
            params![id.0, owner, now, kind.as_str(), message],
        )
    }

    /// Puts back a job that was attempted (a request was made) to run again at `until`
    /// (`None`: when told, e.g. [`release_login`](Self::release_login)), for `reason`, keeping
    /// `attempts` (the back-off grows with it) and recording the failure if there was one.
    pub fn defer(
        &self,
        id: JobId,
        owner: &str,
        now: i64,
        until: Option<i64>,
        reason: WaitReason,
        error: Option<(ErrorKind, &str)>,
    ) -> Result<LeaseCheck, StoreError> {
        let (kind, message) = match error {
            Some((kind, message)) => (Some(kind.as_str()), Some(message)),
            None => (None, None),
        };
        self.update_held(
            id,
            owner,
            "state = 'deferred', run_after = ?4, wait_reason = ?5, \
             error_kind = COALESCE(?6, error_kind), error_message = COALESCE(?7, error_message), \
             lease_owner = NULL, lease_expires = NULL, bytes_sent = 0, updated_at = ?3",
            params![id.0, owner, now, until, reason.as_str(), kind, message],
        )
    }

    /// Puts back a claimed job that was not attempted (the governor said wait before any request
    /// was made): like [`defer`](Self::defer), but the claim's attempt is given back.
    pub fn postpone(
        &self,
        id: JobId,
        owner: &str,
        now: i64,
        until: Option<i64>,
        reason: WaitReason,
    ) -> Result<LeaseCheck, StoreError> {
        self.update_held(
            id,
            owner,
            "state = 'deferred', run_after = ?4, wait_reason = ?5, \
             attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_expires = NULL, \
             bytes_sent = 0, updated_at = ?3",
            params![id.0, owner, now, until, reason.as_str()],
        )
    }

    /// Gives a claimed job back untouched (it was claimed ahead and its worker is stopping):
    /// queued again in its place, the claim's attempt given back.
    pub fn release(&self, id: JobId, owner: &str, now: i64) -> Result<LeaseCheck, StoreError> {
        self.update_held(
            id,
            owner,
            "state = 'queued', run_after = NULL, wait_reason = NULL, \
             attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_expires = NULL, \
             bytes_sent = 0, updated_at = ?3",
            params![id.0, owner, now],
        )
    }

    /// Holds every queued or deferred job of `account` until the user logs in again (`deferred`,
    /// no `run_after`, reason `log_in_again`). Jobs being uploaded are deferred by their own
    /// workers. Returns how many were held.
    pub fn hold_for_login(&self, account: &str, now: i64) -> Result<usize, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE jobs SET state = 'deferred', run_after = NULL, \
                 wait_reason = 'log_in_again', updated_at = ?2 \
                 WHERE account = ?1 AND state IN ('queued', 'deferred')",
            )
            .and_then(|mut stmt| stmt.execute(params![account, now]))
            .ctx(self.conn)
    }

    /// Queues again every job of `account` held for a login. Returns how many.
    pub fn release_login(&self, account: &str, now: i64) -> Result<usize, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE jobs SET state = 'queued', run_after = NULL, wait_reason = NULL, \
                 updated_at = ?2 \
                 WHERE account = ?1 AND state = 'deferred' AND wait_reason = 'log_in_again'",
            )
            .and_then(|mut stmt| stmt.execute(params![account, now]))
            .ctx(self.conn)
    }

    /// Cancels a job that has not been uploaded: queued, deferred, failed or uploading.
    /// An uploading job becomes `cancelled` at once and keeps its `lease_owner`; its worker
    /// learns it from its next lease renewal or progress report ([`LeaseCheck::Cancelled`]) and
    /// stops. Cancelling a cancelled job does nothing; a done job cannot be cancelled (delete
    /// the image instead).
    pub fn cancel(&self, id: JobId, now: i64) -> Result<Job, StoreError> {
        let tx = self.immediate()?;
        let state = read_state(&tx, id)?;
        match state {
            JobState::Done => {
                return Err(StoreError::InvalidTransition {
                    id: id.0,
                    state: state.to_string(),
                    hint: "it is already uploaded; delete the image instead.",
                });
            }
            JobState::Cancelled => {}
            _ => {
                tx.prepare_cached(
                    "UPDATE jobs SET state = 'cancelled', run_after = NULL, wait_reason = NULL, \
                     updated_at = ?2 WHERE id = ?1",
                )
                .and_then(|mut stmt| stmt.execute(params![id.0, now]))
                .ctx(&tx)?;
            }
        }
        tx.commit().ctx(self.conn)?;
        self.require(id)
    }

    /// Cancels a job that has not started sending (queued or deferred) and records why, e.g.
    /// "removed from the watched folder before upload". Returns `false`, changing nothing, when
    /// the job is being sent or is already finished: a worker holding it decides its fate.
    pub fn cancel_unstarted(&self, id: JobId, reason: &str, now: i64) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE jobs SET state = 'cancelled', run_after = NULL, wait_reason = NULL, \
                 error_kind = NULL, error_message = ?2, updated_at = ?3 \
                 WHERE id = ?1 AND state IN ('queued', 'deferred')",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, reason, now]))
            .ctx(self.conn)?;
        Ok(changed == 1)
    }

    /// Points a job that has not started sending at another file with the same content (the
    /// file was renamed, or the original was removed and a copy remains). Returns `false` when
    /// the job is being sent or finished.
    pub fn repoint_unstarted(
        &self,
        id: JobId,
        path: &std::path::Path,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.point_unstarted(
            "UPDATE jobs SET source_path = ?2, updated_at = ?3 \
             WHERE id = ?1 AND state IN ('queued', 'deferred')",
            id,
            path,
            now,
        )
    }

    /// Runs one of the statements that point a job not yet sending at another file (`?1` the
    /// job, `?2` the path, `?3` now); `true` when the job was changed.
    pub(crate) fn point_unstarted(
        &self,
        update: &str,
        id: JobId,
        path: &std::path::Path,
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached(update)
            .and_then(|mut stmt| stmt.execute(params![id.0, SqlPath(path), now]))
            .ctx(self.conn)?;
        Ok(changed == 1)
    }

    /// Queues a failed or cancelled job again from scratch (attempts, error and lease cleared).
    /// A worker still sending it (cancelled mid-upload) gets [`LeaseCheck::Lost`] and stops.
    pub fn retry(&self, id: JobId, now: i64) -> Result<Job, StoreError> {
        let tx = self.immediate()?;
        let state = read_state(&tx, id)?;
        if !matches!(state, JobState::Failed | JobState::Cancelled) {
            return Err(StoreError::InvalidTransition {
                id: id.0,
                state: state.to_string(),
                hint: "only failed or cancelled jobs can be retried.",
            });
        }
        tx.prepare_cached(
            "UPDATE jobs SET state = 'queued', attempts = 0, error_kind = NULL, \
             error_message = NULL, lease_owner = NULL, lease_expires = NULL, run_after = NULL, \
             wait_reason = NULL, bytes_sent = 0, updated_at = ?2 WHERE id = ?1",
        )
        .and_then(|mut stmt| stmt.execute(params![id.0, now]))
        .ctx(&tx)?;
        tx.commit().ctx(self.conn)?;
        self.require(id)
    }

    /// Pauses the whole queue: [`claim`](Self::claim) returns nothing until
    /// [`resume`](Self::resume). Uploads already running finish. Survives restarts.
    pub fn pause(&self) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO queue_flags (key, value) VALUES (?1, '1')",
                [PAUSED_FLAG],
            )
            .ctx(self.conn)
            .map(drop)
    }

    /// Lets workers claim jobs again.
    pub fn resume(&self) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM queue_flags WHERE key = ?1", [PAUSED_FLAG])
            .ctx(self.conn)
            .map(drop)
    }

    /// Whether the queue is paused.
    pub fn is_paused(&self) -> Result<bool, StoreError> {
        read_paused(self.conn)
    }

    /// Ends the lease of a job whose holder is known to be dead (its process is gone), so it can
    /// be claimed at once instead of when the lease would have run out.
    pub fn expire_lease(&self, id: JobId, owner: &str, now: i64) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE jobs SET lease_expires = ?3 - 1, updated_at = ?3 \
                 WHERE id = ?1 AND lease_owner = ?2 AND state = 'uploading'",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, owner, now]))
            .map(|changed| changed > 0)
            .ctx(self.conn)
    }

    /// How many of `ids` are still to do: queued, uploading or (unless `deferred_counts_as_done`)
    /// deferred. One query, so a runner can ask before every claim.
    pub fn unfinished_among(
        &self,
        ids: &[JobId],
        deferred_counts_as_done: bool,
    ) -> Result<u64, StoreError> {
        let ids =
            serde_json::Value::from(ids.iter().map(|id| id.0).collect::<Vec<_>>()).to_string();
        let states = if deferred_counts_as_done {
            "('queued', 'uploading')"
        } else {
            "('queued', 'uploading', 'deferred')"
        };
        self.conn
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM jobs WHERE id IN (SELECT value FROM json_each(?1)) \
                 AND state IN {states}"
            ))
            .and_then(|mut stmt| stmt.query_row([ids], |row| row.get::<_, i64>(0)))
            .map(|count| u64::try_from(count).unwrap_or(0))
            .ctx(self.conn)
    }

    /// The files of every spooled job, whatever its state: the spool's files not among them
    /// are orphans of a crash between writing the file and queueing it.
    pub fn spooled_paths(&self) -> Result<Vec<PathBuf>, StoreError> {
        self.conn
            .prepare_cached("SELECT source_path FROM jobs WHERE spooled = 1")
            .and_then(|mut stmt| {
                stmt.query_map([], |row| row.get::<_, StoredPath>(0))?
                    .map(|path| path.map(PathBuf::from))
                    .collect()
            })
            .ctx(self.conn)
    }

    /// Every fitted copy a job refers to (`upload_path`).
    pub fn prepared_paths(&self) -> Result<Vec<PathBuf>, StoreError> {
        self.conn
            .prepare_cached("SELECT upload_path FROM jobs WHERE upload_path IS NOT NULL")
            .and_then(|mut stmt| {
                stmt.query_map([], |row| row.get::<_, StoredPath>(0))?
                    .map(|path| path.map(PathBuf::from))
                    .collect()
            })
            .ctx(self.conn)
    }

    /// The earliest `run_after` of a deferred job still to come (ms), so idle workers sleep
    /// exactly until something is due.
    pub fn next_run_after(&self, now: i64) -> Result<Option<i64>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT MIN(run_after) FROM jobs WHERE state = 'deferred' AND run_after > ?1",
            )
            .and_then(|mut stmt| stmt.query_row([now], |row| row.get::<_, Option<i64>>(0)))
            .ctx(self.conn)
    }

    /// One job, or `None` if there is no such id.
    pub fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let raw = self
            .conn
            .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"))
            .and_then(|mut stmt| stmt.query_row([id.0], RawJob::read).optional())
            .ctx(self.conn)?;
        match raw {
            Some(raw) => raw.into_job(&Flags::read(self.conn)?).map(Some),
            None => Ok(None),
        }
    }

    fn require(&self, id: JobId) -> Result<Job, StoreError> {
        self.get(id)?.ok_or(StoreError::NotFound {
            what: "job",
            id: id.0,
        })
    }

    /// Jobs in the filter's states, in the order it asks (by when they were queued).
    pub fn list(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError> {
        let states: Vec<&str> = filter.states.iter().map(|state| state.as_str()).collect();
        let order = match filter.order {
            ListOrder::NewestFirst => "DESC",
            ListOrder::OldestFirst => "ASC",
        };
        let limit = filter.limit.map_or(-1, i64::from);
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs \
             WHERE ?1 = '[]' OR state IN (SELECT value FROM json_each(?1)) \
             ORDER BY id {order} LIMIT ?2 OFFSET ?3"
        );
        let params = params![
            serde_json::Value::from(states).to_string(),
            limit,
            filter.offset
        ];
        self.select(&sql, params)
    }

    /// How many jobs are in each state.
    pub fn counts(&self) -> Result<JobCounts, StoreError> {
        let rows: Vec<(String, i64)> = self
            .conn
            .prepare_cached("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            .and_then(|mut stmt| {
                stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .ctx(self.conn)?;
        let mut counts = JobCounts::default();
        for (state, count) in rows {
            let count = u64::try_from(count).unwrap_or(0);
            match JobState::parse(&state) {
                Some(JobState::Queued) => counts.queued = count,
                Some(JobState::Uploading) => counts.uploading = count,
                Some(JobState::Done) => counts.done = count,
                Some(JobState::Failed) => counts.failed = count,
                Some(JobState::Cancelled) => counts.cancelled = count,
                Some(JobState::Deferred) => counts.deferred = count,
                None => {
                    return Err(StoreError::BadValue {
                        table: "jobs",
                        column: "state",
                        row: 0,
                        value: state,
                    });
                }
            }
        }
        Ok(counts)
    }

    /// The jobs of `client_id` still to start, in the order they are expected to: by priority,
    /// then by when they may run (now for queued jobs and deferred ones whose time has come,
    /// `run_after` for the others), then first queued first. This is the claim order whenever
    /// the jobs' times have come; the governor's projection walks it. Jobs held for a login
    /// (no time) and jobs being uploaded are not included.
    pub fn pending_for_client(&self, client_id: &str, now: i64) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE client_id = ?1 \
             AND (state = 'queued' OR (state = 'deferred' AND run_after IS NOT NULL)) \
             ORDER BY priority, MAX(COALESCE(run_after, ?2), ?2), id"
        );
        self.select(&sql, params![client_id, now])
    }

    fn select(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Job>, StoreError> {
        let raws: Vec<RawJob> = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.query_map(params, RawJob::read)?.collect())
            .ctx(self.conn)?;
        let flags = Flags::read(self.conn)?;
        raws.into_iter().map(|raw| raw.into_job(&flags)).collect()
    }

    /// Runs `UPDATE jobs SET <set> WHERE id = ?1 AND lease_owner = ?2 AND state = 'uploading'`
    /// and tells the worker where it stands.
    fn update_held(
        &self,
        id: JobId,
        owner: &str,
        set: &str,
        params: impl rusqlite::Params,
    ) -> Result<LeaseCheck, StoreError> {
        let sql = format!(
            "UPDATE jobs SET {set} WHERE id = ?1 AND lease_owner = ?2 AND state = 'uploading'"
        );
        let changed = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.execute(params))
            .ctx(self.conn)?;
        if changed > 0 {
            return Ok(LeaseCheck::Held);
        }
        let found: Option<(String, Option<String>)> = self
            .conn
            .prepare_cached("SELECT state, lease_owner FROM jobs WHERE id = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([id.0], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .ctx(self.conn)?;
        Ok(match found {
            Some((state, Some(holder))) if state == "cancelled" && holder == owner => {
                LeaseCheck::Cancelled
            }
            _ => LeaseCheck::Lost,
        })
    }
}

fn insert_job(conn: &Connection, job: &NewJob, now: i64) -> Result<JobId, StoreError> {
    let path = SqlPath(&job.source_path);
    let marker = format!("{:032x}", rand::random::<u128>());
    let upload_path = job.upload_path.as_deref().map(SqlPath);
    let preflight = job
        .preflight
        .as_ref()
        .and_then(|report| serde_json::to_string(report).ok());
    conn.prepare_cached(
        "INSERT INTO jobs (source_path, origin, priority, client_id, account, album, title, \
         description, state, bytes_total, marker, spooled, created_at, updated_at, content_hash, \
         preflight, upload_path) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10, ?11, ?12, ?12, ?13, ?14, ?15)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            path,
            job.origin.as_str(),
            job.origin.priority(),
            job.client_id,
            job.account,
            job.album,
            job.title,
            job.description,
            i64::try_from(job.bytes_total).unwrap_or(i64::MAX),
            marker,
            job.spooled,
            now,
            job.content_hash,
            preflight,
            upload_path
        ])
    })
    .ctx(conn)?;
    Ok(JobId(conn.last_insert_rowid()))
}

fn read_state(conn: &Connection, id: JobId) -> Result<JobState, StoreError> {
    let word: Option<String> = conn
        .prepare_cached("SELECT state FROM jobs WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([id.0], |row| row.get(0)).optional())
        .ctx(conn)?;
    let word = word.ok_or(StoreError::NotFound {
        what: "job",
        id: id.0,
    })?;
    JobState::parse(&word).ok_or(StoreError::BadValue {
        table: "jobs",
        column: "state",
        row: id.0,
        value: word,
    })
}

fn read_paused(conn: &Connection) -> Result<bool, StoreError> {
    let value: Option<String> = conn
        .prepare_cached("SELECT value FROM queue_flags WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([PAUSED_FLAG], |row| row.get(0)).optional())
        .ctx(conn)?;
    Ok(value.as_deref() == Some("1"))
}

/// Every client id the governor holds after a 429, with until when (ms). The hold is the
/// governor's (`rate_limit_holds`, which only it writes and prunes); the queue reads it to leave
/// those jobs alone and to say why they wait.
fn read_rate_limits(conn: &Connection) -> Result<HashMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = conn
        .prepare_cached("SELECT client_id, until FROM rate_limit_holds")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .ctx(conn)?;
    Ok(rows.into_iter().collect())
}

/// The queue-wide facts that decide why a waiting job waits.
#[derive(Debug, Default)]
struct Flags {
    paused: bool,
    rate_limited: HashMap<String, i64>,
}

impl Flags {
    fn read(conn: &Connection) -> Result<Self, StoreError> {
        Ok(Self {
            paused: read_paused(conn)?,
            rate_limited: read_rate_limits(conn)?,
        })
    }
}

/// A `jobs` row as SQLite gives it, before its words are checked.
struct RawJob {
    id: i64,
    source_path: StoredPath,
    origin: String,
    priority: i64,
    client_id: String,
    account: Option<String>,
    album: Option<String>,
    title: Option<String>,
    description: Option<String>,
    state: String,
    run_after: Option<i64>,
    wait_reason: Option<String>,
    attempts: i64,
    error_kind: Option<String>,
    error_message: Option<String>,
    bytes_sent: i64,
    bytes_total: i64,
    marker: String,
    lease_owner: Option<String>,
    lease_expires: Option<i64>,
    spooled: bool,
    history_id: Option<i64>,
    created_at: i64,
    updated_at: i64,
    content_hash: Option<String>,
    preflight: Option<String>,
    upload_path: Option<StoredPath>,
    unknown_sends: u32,
}

impl RawJob {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            source_path: row.get(1)?,
            origin: row.get(2)?,
            priority: row.get(3)?,
            client_id: row.get(4)?,
            account: row.get(5)?,
            album: row.get(6)?,
            title: row.get(7)?,
            description: row.get(8)?,
            state: row.get(9)?,
            run_after: row.get(10)?,
            wait_reason: row.get(11)?,
            attempts: row.get(12)?,
            error_kind: row.get(13)?,
            error_message: row.get(14)?,
            bytes_sent: row.get(15)?,
            bytes_total: row.get(16)?,
            marker: row.get(17)?,
            lease_owner: row.get(18)?,
            lease_expires: row.get(19)?,
            spooled: row.get(20)?,
            history_id: row.get(21)?,
            created_at: row.get(22)?,
            updated_at: row.get(23)?,
            content_hash: row.get(24)?,
            preflight: row.get(25)?,
            upload_path: row.get(26)?,
            unknown_sends: row.get(27)?,
        })
    }

    fn into_job(self, flags: &Flags) -> Result<Job, StoreError> {
        let id = self.id;
        let bad = |column: &'static str, value: String| StoreError::BadValue {
            table: "jobs",
            column,
            row: id,
            value,
        };
        let origin =
            Origin::parse(&self.origin).ok_or_else(|| bad("origin", self.origin.clone()))?;
        let state = JobState::parse(&self.state).ok_or_else(|| bad("state", self.state.clone()))?;
        let wait_reason = match self.wait_reason {
            Some(word) => Some(WaitReason::parse(&word).ok_or_else(|| bad("wait_reason", word))?),
            None => None,
        };
        let error_kind = match self.error_kind {
            Some(word) => {
                Some(types::parse_error_kind(&word).ok_or_else(|| bad("error_kind", word))?)
            }
            None => None,
        };
        let count = |column: &'static str, value: i64| {
            u64::try_from(value).map_err(|_| bad(column, value.to_string()))
        };
        let attempts =
            u32::try_from(self.attempts).map_err(|_| bad("attempts", self.attempts.to_string()))?;
        let waiting = match state {
            JobState::Queued | JobState::Deferred if flags.paused => Some(Waiting {
                reason: WaitReason::Paused,
                until: None,
            }),
            JobState::Deferred => Some(Waiting {
                reason: wait_reason.unwrap_or(WaitReason::InLine),
                until: self.run_after,
            }),
            JobState::Queued => Some(match flags.rate_limited.get(&self.client_id) {
                Some(until) => Waiting {
                    reason: WaitReason::RateLimited,
                    until: Some(*until),
                },
                None => Waiting {
                    reason: WaitReason::InLine,
                    until: None,
                },
            }),
            _ => None,
        };
        Ok(Job {
            id: JobId(id),
            source_path: PathBuf::from(self.source_path),
            origin,
            priority: self.priority,
            client_id: self.client_id,
            account: self.account,
            album: self.album,
            title: self.title,
            description: self.description,
            state,
            run_after: self.run_after,
            wait_reason,
            attempts,
            error_kind,
            error_message: self.error_message,
            bytes_sent: count("bytes_sent", self.bytes_sent)?,
            bytes_total: count("bytes_total", self.bytes_total)?,
            marker: self.marker,
            lease_owner: self.lease_owner,
            lease_expires: self.lease_expires,
            spooled: self.spooled,
            history_id: self.history_id.map(HistoryId),
            created_at: self.created_at,
            updated_at: self.updated_at,
            content_hash: self.content_hash,
            // The report only informs and decides cleaning, which defaults to on without it.
            preflight: self
                .preflight
                .and_then(|text| serde_json::from_str(&text).ok()),
            upload_path: self.upload_path.map(PathBuf::from),
            unknown_sends: self.unknown_sends,
            waiting,
        })
    }
}
