//! Worker faults, kept in the database so every process sees them.
//!
//! A runner reserves its row when it starts (`worker_faults`, keyed by its name), so that when
//! the database cannot grow (a full disk) the fault is still written: an update in place needs
//! no new page. `upshot queue list` and the app read the rows of runners whose process is alive.

use super::JobQueue;
use crate::store::{SqlContext, StoreError};
use rusqlite::params;
use serde::Serialize;

/// A runner that cannot do its work: its workers hit a database error and are retrying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct WorkerFault {
    /// The runner's name (`pid<N>-<random>`).
    pub runner: String,
    /// Its process id.
    pub pid: u32,
    /// The error's code (`disk_full`, `database_busy`, …).
    pub code: String,
    /// The error in words, saying what to do.
    pub message: String,
    /// Since when it has failed (ms since the epoch).
    pub since: i64,
    /// When it last failed (ms since the epoch).
    pub updated_at: i64,
}

impl JobQueue<'_> {
    /// Reserves `runner`'s fault row (empty), so a later fault can be written in place.
    pub fn reserve_fault_row(&self, runner: &str, pid: u32, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO worker_faults (runner, pid, code, message, since, \
                 updated_at) VALUES (?1, ?2, NULL, NULL, NULL, ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![runner, pid, now]))
            .ctx(self.conn)
            .map(drop)
    }

    /// Records that `runner`'s workers fail with `code`/`message` (keeping when it began).
    pub fn record_worker_fault(
        &self,
        runner: &str,
        pid: u32,
        code: &str,
        message: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE worker_faults SET code = ?2, message = ?3, since = COALESCE(since, ?4), \
                 updated_at = ?4 WHERE runner = ?1",
            )
            .and_then(|mut stmt| stmt.execute(params![runner, code, message, now]))
            .ctx(self.conn)?;
        if changed == 0 {
            self.conn
                .prepare_cached(
                    "INSERT INTO worker_faults (runner, pid, code, message, since, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                )
                .and_then(|mut stmt| stmt.execute(params![runner, pid, code, message, now]))
                .ctx(self.conn)?;
        }
        Ok(())
    }

    /// `runner`'s workers work again: its fault is cleared (the row stays reserved).
    pub fn clear_worker_fault(&self, runner: &str, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE worker_faults SET code = NULL, message = NULL, since = NULL, \
                 updated_at = ?2 WHERE runner = ?1 AND code IS NOT NULL",
            )
            .and_then(|mut stmt| stmt.execute(params![runner, now]))
            .ctx(self.conn)
            .map(drop)
    }

    /// Forgets `runner`'s row (it stopped).
    pub fn drop_fault_row(&self, runner: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM worker_faults WHERE runner = ?1")
            .and_then(|mut stmt| stmt.execute([runner]))
            .ctx(self.conn)
            .map(drop)
    }

    /// Every reserved row as (runner, pid), so rows left by processes that died can be removed.
    pub fn fault_rows(&self) -> Result<Vec<(String, u32)>, StoreError> {
        self.conn
            .prepare_cached("SELECT runner, pid FROM worker_faults")
            .and_then(|mut stmt| {
                stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .ctx(self.conn)
    }

    /// Every recorded fault, oldest first (whether each runner's process is still alive is
    /// for the caller to tell).
    pub fn worker_faults(&self) -> Result<Vec<WorkerFault>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT runner, pid, code, message, since, updated_at FROM worker_faults \
                 WHERE code IS NOT NULL ORDER BY since, runner",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |row| {
                    Ok(WorkerFault {
                        runner: row.get(0)?,
                        pid: row.get(1)?,
                        code: row.get(2)?,
                        message: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
                        since: row.get::<_, Option<i64>>(4)?.unwrap_or_default(),
                        updated_at: row.get(5)?,
                    })
                })?
                .collect()
            })
            .ctx(self.conn)
    }
}
