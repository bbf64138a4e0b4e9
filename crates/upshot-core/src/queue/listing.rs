//! Reading jobs: one by id, lists by filter, counts by state, what a client id has pending, and
//! the paths and times the upkeep and the runner need.

use super::JobQueue;
use super::flags::Flags;
use super::rows::{JOB_COLUMNS, RawJob};
use super::types::{Job, JobCounts, JobFilter, JobState, ListOrder};
use crate::store::os_path::StoredPath;
use crate::store::{SqlContext, StoreError};
use crate::types::JobId;
use rusqlite::{OptionalExtension, params};
use std::path::PathBuf;

impl<'c> JobQueue<'c> {
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

    pub(super) fn require(&self, id: JobId) -> Result<Job, StoreError> {
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

    pub(super) fn select(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Job>, StoreError> {
        let raws: Vec<RawJob> = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.query_map(params, RawJob::read)?.collect())
            .ctx(self.conn)?;
        let flags = Flags::read(self.conn)?;
        raws.into_iter().map(|raw| raw.into_job(&flags)).collect()
    }
}
