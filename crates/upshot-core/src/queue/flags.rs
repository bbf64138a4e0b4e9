//! The queue-wide flags in `queue_flags`: the pause switch and each client id's rate limit.

use super::JobQueue;
use crate::store::{SqlContext, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// The `queue_flags` key that pauses the whole queue (value `'1'`).
pub const PAUSED_FLAG: &str = "paused";
/// The `queue_flags` key prefix of a client id's rate limit: `rate_limited_until:<client_id>`,
/// value ms since the epoch.
pub const RATE_LIMITED_FLAG_PREFIX: &str = "rate_limited_until:";

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
    pub fn is_paused(&self) -> Result<bool, StoreError> {
        read_paused(self.conn)
    }

    /// Pauses every job of `client_id` until `until` (ms): Imgur answered 429. Later calls
    /// replace the time. Claims clear it once it has passed.
    pub fn set_rate_limited(&self, client_id: &str, until: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO queue_flags (key, value) VALUES (?1, ?2)",
                params![
                    format!("{RATE_LIMITED_FLAG_PREFIX}{client_id}"),
                    until.to_string()
                ],
            )
            .ctx(self.conn)
            .map(drop)
    }

    /// Until when `client_id` is rate limited, if it still is at `now`.
    pub fn rate_limited_until(&self, client_id: &str, now: i64) -> Result<Option<i64>, StoreError> {
        Ok(read_rate_limits(self.conn)?
            .get(client_id)
            .copied()
            .filter(|until| *until > now))
    }
}

pub(super) fn read_paused(conn: &Connection) -> Result<bool, StoreError> {
    let value: Option<String> = conn
        .prepare_cached("SELECT value FROM queue_flags WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([PAUSED_FLAG], |row| row.get(0)).optional())
        .ctx(conn)?;
    Ok(value.as_deref() == Some("1"))
}

/// Every client id with a rate-limit flag, with its time (unparseable values are ignored: the
/// flag only ever delays work).
pub(super) fn read_rate_limits(conn: &Connection) -> Result<HashMap<String, i64>, StoreError> {
    let rows: Vec<(String, String)> = conn
        .prepare_cached("SELECT key, value FROM queue_flags WHERE key LIKE 'rate_limited_until:%'")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .ctx(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(key, value)| {
            let client = key.strip_prefix(RATE_LIMITED_FLAG_PREFIX)?;
            Some((client.to_owned(), value.parse().ok()?))
        })
        .collect())
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
