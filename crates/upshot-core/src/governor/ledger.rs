//! This governor's copy of the ledger's recent rows.
//!
//! Every decision needs our spend of the last day and the machine's POSTs of the last hour.
//! Reading them from SQLite for every request made the bookkeeping cost grow with the day's
//! uploads (a quarter of a busy upload's CPU went to re-reading the ledger), so each governor
//! keeps the rows it has seen and reads only the rows added since, by any process: ledger ids
//! only grow (writers are serialised by `BEGIN IMMEDIATE`, and the newest row is never deleted),
//! so "rows above the last id seen" is exactly what is new.

use super::budget::LedgerRow;
use super::types::RequestCost;
use crate::store::{SqlContext, StoreError};
use crate::types::DAY_MS;
use crate::types::UnixMillis;
use rusqlite::{Connection, params};

/// How long ledger rows are kept: the governor needs a day; a second one helps diagnosis.
const LEDGER_KEEP_MS: i64 = 2 * DAY_MS;

/// One ledger row as the governor needs it.
#[derive(Debug, Clone)]
struct CachedRow {
    id: i64,
    client_id: String,
    at: i64,
    credits: i64,
    is_post: bool,
}

/// The ledger rows of the last [`LEDGER_KEEP_MS`], in id order, as of the last
/// [`refresh`](Self::refresh).
#[derive(Debug, Default)]
pub(super) struct LedgerCache {
    rows: Vec<CachedRow>,
    last_id: i64,
    /// The latest `now` seen: a clock set back starts the copy afresh, since rows it already
    /// forgot as too old may count again.
    latest_now: i64,
}

impl LedgerCache {
    /// Brings the copy up to date with what `conn` sees: drops rows too old to matter and
    /// reads the rows added since the last refresh.
    pub fn refresh(&mut self, conn: &Connection, now: i64) -> Result<(), StoreError> {
        if now < self.latest_now {
            *self = Self::default();
        }
        self.latest_now = now;
        let keep_after = now - LEDGER_KEEP_MS;
        if self.rows.first().is_some_and(|row| row.at <= keep_after) {
            self.rows.retain(|row| row.at > keep_after);
        }
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, client_id, at, credits, is_post FROM ledger \
                 WHERE id > ?1 AND at > ?2 ORDER BY id",
            )
            .ctx(conn)?;
        let fresh = stmt
            .query_map([self.last_id, keep_after], |row| {
                Ok(CachedRow {
                    id: row.get(0)?,
                    client_id: row.get(1)?,
                    at: row.get(2)?,
                    credits: row.get(3)?,
                    is_post: row.get(4)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .ctx(conn)?;
        if let Some(newest) = fresh.last() {
            self.last_id = newest.id;
        }
        self.rows.extend(fresh);
        Ok(())
    }

    /// `client_id`'s spends strictly after `after`, in time order.
    pub fn own_after(&self, client_id: &str, after: i64) -> Vec<LedgerRow> {
        let mut own: Vec<LedgerRow> = self
            .rows
            .iter()
            .filter(|row| row.client_id == client_id && row.at > after)
            .map(|row| LedgerRow {
                at: row.at,
                credits: row.credits,
            })
            .collect();
        own.sort_by_key(|row| row.at);
        own
    }

    /// The times of every POST (any Client ID: the budget is the IP's) strictly after `after`,
    /// in order.
    pub fn posts_after(&self, after: i64) -> Vec<i64> {
        let mut posts: Vec<i64> = self
            .rows
            .iter()
            .filter(|row| row.is_post && row.at > after)
            .map(|row| row.at)
            .collect();
        posts.sort_unstable();
        posts
    }

    /// Credits `client_id` spent in rows above `mark`.
    pub fn credits_above(&self, client_id: &str, mark: i64) -> i64 {
        self.above(mark)
            .filter(|row| row.client_id == client_id)
            .map(|row| row.credits)
            .sum()
    }

    /// POSTs (any Client ID) in rows above `mark`.
    pub fn posts_above(&self, mark: i64) -> i64 {
        self.above(mark).filter(|row| row.is_post).count() as i64
    }

    /// Credits `client_id` spent from `start` in rows up to `mark`, or `None` when `start` is
    /// older than the copy keeps.
    pub fn credits_from_up_to(&self, client_id: &str, start: i64, mark: i64) -> Option<i64> {
        (start > self.latest_now - LEDGER_KEEP_MS).then(|| {
            self.rows
                .iter()
                .take_while(|row| row.id <= mark)
                .filter(|row| row.client_id == client_id && row.at >= start)
                .map(|row| row.credits)
                .sum()
        })
    }

    fn above(&self, mark: i64) -> impl Iterator<Item = &CachedRow> {
        let first = self.rows.partition_point(|row| row.id <= mark);
        self.rows[first..].iter()
    }
}

/// Writes the ledger row of an admitted request, then forgets rows too old to matter (in that
/// order: the newest row is never deleted, so row ids keep growing and readings' marks stay
/// meaningful).
pub(super) fn record_spend(
    conn: &Connection,
    client_id: &str,
    now: UnixMillis,
    cost: RequestCost,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO ledger (client_id, at, credits, is_post, is_upload) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            client_id,
            now.as_millis(),
            cost.credits,
            cost.is_post,
            cost.is_upload
        ])
    })
    .ctx(conn)?;
    conn.prepare_cached("DELETE FROM ledger WHERE at < ?1")
        .and_then(|mut stmt| stmt.execute([now.as_millis() - LEDGER_KEEP_MS]))
        .ctx(conn)?;
    Ok(())
}
