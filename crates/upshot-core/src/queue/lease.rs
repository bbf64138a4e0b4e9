//! A worker's side of a job: claiming it under a lease, renewing the lease and reporting
//! progress, then finishing it (done, failed, put back to wait) or giving it back.

use super::JobQueue;
use super::flags::{Flags, read_paused, read_rate_limits};
use super::rows::{JOB_COLUMNS, RawJob};
use super::types::{Job, JobFailure, LeaseCheck};
use crate::history::{self, NewHistoryEntry};
use crate::store::{SqlContext, StoreError};
use crate::types::HistoryId;
use crate::types::{JobId, WaitReason};
use rusqlite::{OptionalExtension, Row, params};

impl<'c> JobQueue<'c> {
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
    #[cfg(any(test, feature = "testing"))]
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
                 error_message = NULL, error_code = NULL, bytes_sent = MAX(bytes_sent, bytes_total), \
                 updated_at = ?4 \
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
        failure: JobFailure<'_>,
    ) -> Result<LeaseCheck, StoreError> {
        self.update_held(
            id,
            owner,
            "state = 'failed', error_kind = ?4, error_message = ?5, error_code = ?6, \
             lease_owner = NULL, lease_expires = NULL, run_after = NULL, wait_reason = NULL, \
             updated_at = ?3",
            params![
                id.0,
                owner,
                now,
                failure.kind.as_str(),
                failure.message,
                failure.code
            ],
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
        error: Option<JobFailure<'_>>,
    ) -> Result<LeaseCheck, StoreError> {
        self.update_held(
            id,
            owner,
            "state = 'deferred', run_after = ?4, wait_reason = ?5, \
             error_kind = COALESCE(?6, error_kind), error_message = COALESCE(?7, error_message), \
             error_code = COALESCE(?8, error_code), lease_owner = NULL, lease_expires = NULL, \
             bytes_sent = 0, updated_at = ?3",
            params![
                id.0,
                owner,
                now,
                until,
                reason.as_queued().as_str(),
                error.map(|error| error.kind.as_str()),
                error.map(|error| error.message),
                error.map(|error| error.code)
            ],
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
            params![id.0, owner, now, until, reason.as_queued().as_str()],
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

    /// Runs `UPDATE jobs SET <set> WHERE id = ?1 AND lease_owner = ?2 AND state = 'uploading'`
    /// and tells the worker where it stands.
    pub(super) fn update_held(
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
