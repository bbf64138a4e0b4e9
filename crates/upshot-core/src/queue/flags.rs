//! The queue-wide facts a claim and a listing read: the pause switch (`queue_flags`) and the
//! governor's 429 holds (read only; the governor owns them).

use super::JobQueue;
use crate::store::{SqlContext, StoreError};
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;

/// The `queue_flags` key that pauses the whole queue (value `'1'`).
pub const PAUSED_FLAG: &str = "paused";

impl<'c> JobQueue<'c> {
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
    #[cfg(any(test, feature = "testing"))]
    pub fn is_paused(&self) -> Result<bool, StoreError> {
        read_paused(self.conn)
    }
}

pub(super) fn read_paused(conn: &Connection) -> Result<bool, StoreError> {
    let value: Option<String> = conn
        .prepare_cached("SELECT value FROM queue_flags WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([PAUSED_FLAG], |row| row.get(0)).optional())
        .ctx(conn)?;
    Ok(value.as_deref() == Some("1"))
}

/// Every client id the governor holds after a 429, with until when (ms). The hold is the
/// governor's (`rate_limit_holds`, which only it writes and prunes); the queue reads it to leave
/// those jobs alone and to say why they wait.
pub(super) fn read_rate_limits(conn: &Connection) -> Result<HashMap<String, i64>, StoreError> {
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
pub(super) struct Flags {
    pub(super) paused: bool,
    pub(super) rate_limited: HashMap<String, i64>,
}

impl Flags {
    pub(super) fn read(conn: &Connection) -> Result<Self, StoreError> {
        Ok(Self {
            paused: read_paused(conn)?,
            rate_limited: read_rate_limits(conn)?,
        })
    }
}
