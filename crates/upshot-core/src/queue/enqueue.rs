//! Putting files in the queue: one, many in one transaction, or one unless the same content is
//! already waiting or being sent.

use super::JobQueue;
use super::types::{LiveCopy, NewJob};
use crate::store::os_path::SqlPath;
use crate::store::{SqlContext, StoreError};
use crate::types::HistoryId;
use crate::types::JobId;
use rusqlite::{Connection, params};

impl<'c> JobQueue<'c> {
    /// Queues one file: state `queued`, priority from its origin, a fresh marker.
    pub fn enqueue(&self, job: &NewJob, now: i64) -> Result<JobId, StoreError> {
        insert_job(self.conn, job, now)
    }

    /// Queues many files in one transaction (10,000 take a fraction of a second); all or none.
    /// The ids come back in the order of `jobs`.
    #[cfg(any(test, feature = "testing"))]
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
                    let report: Option<crate::types::PreflightReport> =
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
