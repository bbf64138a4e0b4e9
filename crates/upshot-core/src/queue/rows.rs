//! A `jobs` row as SQLite gives it, and turning it into a [`Job`] (with the queue-wide flags that
//! say why it waits).

use super::flags::Flags;
use super::types::{self, Job, JobState, Waiting};
use crate::store::os_path::StoredPath;
use crate::store::{SqlContext, StoreError};
use crate::types::HistoryId;
use crate::types::{JobId, Origin, WaitReason};
use rusqlite::{Connection, OptionalExtension, Row};
use std::path::PathBuf;

/// Every column of `jobs`, in the order [`RawJob::read`] reads them.
pub(super) const JOB_COLUMNS: &str = "id, source_path, origin, priority, client_id, account, album, title, \
    description, state, run_after, wait_reason, attempts, error_kind, error_message, bytes_sent, \
    bytes_total, marker, lease_owner, lease_expires, spooled, history_id, created_at, updated_at, content_hash, \
    preflight, upload_path, unknown_sends, error_code";

pub(super) fn read_state(conn: &Connection, id: JobId) -> Result<JobState, StoreError> {
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

/// A `jobs` row as SQLite gives it, before its words are checked.
pub(super) struct RawJob {
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
    error_code: Option<String>,
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
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
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
            error_code: row.get(28)?,
        })
    }

    pub(super) fn into_job(self, flags: &Flags) -> Result<Job, StoreError> {
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
            error_code: self.error_code,
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
