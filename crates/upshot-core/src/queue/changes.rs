//! What a person (or the login) does to jobs: cancel, retry, repoint a job not yet started, hold
//! an account's jobs until the user logs in again and release them.

use super::JobQueue;
use super::rows::read_state;
use super::types::{Job, JobState};
use crate::store::os_path::SqlPath;
use crate::store::{SqlContext, StoreError};
use crate::types::JobId;
use rusqlite::params;

impl<'c> JobQueue<'c> {
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
    /// learns it from its next lease renewal or progress report ([`LeaseCheck::Cancelled`](super::LeaseCheck::Cancelled)) and
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
                 error_kind = NULL, error_message = ?2, error_code = NULL, updated_at = ?3 \
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
    /// A worker still sending it (cancelled mid-upload) gets [`LeaseCheck::Lost`](super::LeaseCheck::Lost) and stops.
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
             error_message = NULL, error_code = NULL, lease_owner = NULL, lease_expires = NULL, \
             run_after = NULL, wait_reason = NULL, bytes_sent = 0, updated_at = ?2 WHERE id = ?1",
        )
        .and_then(|mut stmt| stmt.execute(params![id.0, now]))
        .ctx(&tx)?;
        tx.commit().ctx(self.conn)?;
        self.require(id)
    }
}
