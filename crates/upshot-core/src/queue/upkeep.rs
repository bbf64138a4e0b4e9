//! Keeping the queue small and honest: sends whose answer never came, finished jobs past their
//! retention, and spool orphans preflight refused (reported once, not planned at every start).

use super::{JobQueue, LeaseCheck};
use crate::store::os_path::{SqlPath, StoredPath};
use crate::store::{SqlContext, StoreError};
#[cfg(any(test, feature = "testing"))]
use rusqlite::OptionalExtension;
use rusqlite::params;
use std::collections::HashSet;
use std::path::PathBuf;

/// How long finished jobs are kept by default (`job-retention-days`): 30 days.
pub const DEFAULT_JOB_RETENTION: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// What [`JobQueue::prune_finished`] removed: the jobs, and the files of Upshot's own that only
/// they referred to (for the caller to delete).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// How many jobs were removed.
    pub jobs: usize,
    /// Spooled files (clipboard images, screenshots) of removed jobs.
    pub spooled: Vec<PathBuf>,
    /// Fitted copies of removed jobs.
    pub fitted: Vec<PathBuf>,
}

impl JobQueue<'_> {
    /// How many sends of job `id` ended without an answer (see [`WaitReason::MayBeOnImgur`]).
    ///
    /// [`WaitReason::MayBeOnImgur`]: super::WaitReason::MayBeOnImgur
    #[cfg(any(test, feature = "testing"))]
    pub fn unknown_sends(&self, id: crate::types::JobId) -> Result<u32, StoreError> {
        let count: Option<i64> = self
            .conn
            .prepare_cached("SELECT unknown_sends FROM jobs WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([id.0], |row| row.get(0)).optional())
            .ctx(self.conn)?;
        Ok(count
            .and_then(|count| u32::try_from(count).ok())
            .unwrap_or(0))
    }

    /// Puts back a job whose body was sent and whose answer never came: `deferred` until
    /// `until` with reason `may_be_on_imgur`, the error's `code` and `message`, one more unknown
    /// send counted.
    pub fn defer_unknown(
        &self,
        id: crate::types::JobId,
        owner: &str,
        now: i64,
        until: i64,
        code: &str,
        message: &str,
    ) -> Result<LeaseCheck, StoreError> {
        self.update_held(
            id,
            owner,
            "state = 'deferred', run_after = ?4, wait_reason = 'may_be_on_imgur', \
             error_kind = 'retry_later', error_message = ?5, error_code = ?6, \
             unknown_sends = unknown_sends + 1, lease_owner = NULL, lease_expires = NULL, \
             bytes_sent = 0, updated_at = ?3",
            params![id.0, owner, now, until, message, code],
        )
    }

    /// Records, on a job the user cancelled once its body was on the wire, that the send's
    /// answer never came: the job stays `cancelled` (nothing sends it again), one more unknown
    /// send is counted (a later `queue retry` of a logged-in job then looks its marker up first),
    /// `message` says the image may be on Imgur, and `owner`'s lease is cleared. Returns `false`,
    /// changing nothing, when the job is no longer cancelled under `owner`'s lease.
    pub fn cancelled_unknown(
        &self,
        id: crate::types::JobId,
        owner: &str,
        now: i64,
        code: &str,
        message: &str,
    ) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE jobs SET error_kind = 'retry_later', error_message = ?4, error_code = ?5, \
                 unknown_sends = unknown_sends + 1, lease_owner = NULL, lease_expires = NULL, \
                 bytes_sent = 0, updated_at = ?3 \
                 WHERE id = ?1 AND lease_owner = ?2 AND state = 'cancelled'",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, owner, now, message, code]))
            .ctx(self.conn)?;
        Ok(changed > 0)
    }

    /// Removes finished jobs last changed before `before` (ms): done ones (their history
    /// stays), cancelled ones, and failed ones unless spooled (a failed clipboard image or
    /// screenshot is the user's only copy: it stays until the user cancels its job). A done job
    /// whose watched-folder action (move, delete) is still to do stays too; a failed or
    /// cancelled one has no action to do (actions follow confirmed uploads only), so it goes. The newest job row always
    /// stays: SQLite gives a new row the largest id plus one, so removing the newest would hand
    /// its id to the next job, and history entries and watched-file records naming the old job
    /// would then point at an unrelated one.
    pub fn prune_finished(&self, before: i64) -> Result<Pruned, StoreError> {
        let tx = self.immediate()?;
        let rows: Vec<(i64, bool, StoredPath, Option<StoredPath>)> = tx
            .prepare_cached(
                "DELETE FROM jobs WHERE updated_at < ?1 \
                 AND (state IN ('done', 'cancelled') OR (state = 'failed' AND spooled = 0)) \
                 AND NOT (state = 'done' \
                          AND id IN (SELECT job_id FROM watch_files WHERE action_done = 0)) \
                 AND id < (SELECT MAX(id) FROM jobs) \
                 RETURNING id, spooled, source_path, upload_path",
            )
            .and_then(|mut stmt| {
                stmt.query_map([before], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })?
                .collect()
            })
            .ctx(&tx)?;
        tx.commit().ctx(self.conn)?;
        let mut pruned = Pruned {
            jobs: rows.len(),
            ..Pruned::default()
        };
        for (_, spooled, source, fitted) in rows {
            if spooled {
                pruned.spooled.push(source.into());
            }
            pruned.fitted.extend(fitted.map(PathBuf::from));
        }
        Ok(pruned)
    }

    /// The spool orphans already reported as refused by preflight.
    pub fn spool_refused(&self) -> Result<HashSet<PathBuf>, StoreError> {
        self.conn
            .prepare_cached("SELECT path FROM spool_refused")
            .and_then(|mut stmt| {
                stmt.query_map([], |row| row.get::<_, StoredPath>(0))?
                    .map(|path| path.map(PathBuf::from))
                    .collect()
            })
            .ctx(self.conn)
    }

    /// Remembers that the spool orphan `path` was refused and reported (so it is not planned
    /// and reported again at every start).
    pub fn note_spool_refused(&self, path: &std::path::Path, now: i64) -> Result<(), StoreError> {
        let text = SqlPath(path);
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO spool_refused (path, reported_at) VALUES (?1, ?2)",
            )
            .and_then(|mut stmt| stmt.execute(params![text, now]))
            .ctx(self.conn)
            .map(drop)
    }

    /// Forgets refused orphans that are no longer in the spool (the user removed them).
    pub fn forget_spool_refused(&self, present: &HashSet<PathBuf>) -> Result<(), StoreError> {
        for path in self.spool_refused()? {
            if !present.contains(&path) {
                self.conn
                    .prepare_cached("DELETE FROM spool_refused WHERE path = ?1")
                    .and_then(|mut stmt| stmt.execute([SqlPath(&path)]))
                    .ctx(self.conn)?;
            }
        }
        Ok(())
    }

    /// Points a job that has not started sending at a new fitted copy (its old one was removed
    /// when the job ended, and the job is retried). Returns `false` when the job is under way or
    /// finished.
    pub fn set_upload_path(
        &self,
        id: crate::types::JobId,
        path: &std::path::Path,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.point_unstarted(
            "UPDATE jobs SET upload_path = ?2, updated_at = ?3 \
             WHERE id = ?1 AND state IN ('queued', 'deferred')",
            id,
            path,
            now,
        )
    }
}
