//! The schema, as numbered migrations tracked in `PRAGMA user_version`.
//!
//! Migration `n` (1-based) is `MIGRATIONS[n - 1]`; a database at version `v` has had the first `v`
//! applied. They run in one `BEGIN IMMEDIATE` transaction, so two processes opening a fresh file
//! at once cannot both apply them, and a crash midway leaves the file as it was. Never edit a
//! migration that has shipped: add the next one.
//!
//! Versioned by hand rather than with `rusqlite_migration`: its latest release pins an older
//! rusqlite and a newer Rust than the workspace's, and only one `libsqlite3-sys` can be linked.

use super::error::{SqlContext, StoreError};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::Path;

/// Migration 1: the queue, the history, the governor's ledger and headers, the queue's flags
/// (docs/QUEUE.md, "Schema").
const MIGRATION_1: &str = r#"
CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY,
  source_path   TEXT    NOT NULL,
  origin        TEXT    NOT NULL,
  priority      INTEGER NOT NULL,
  client_id     TEXT    NOT NULL,
  account       TEXT,
  album         TEXT, title TEXT, description TEXT,
  state         TEXT    NOT NULL,
  run_after     INTEGER,
  wait_reason   TEXT,
  attempts      INTEGER NOT NULL DEFAULT 0,
  error_kind    TEXT, error_message TEXT,
  bytes_sent    INTEGER NOT NULL DEFAULT 0,
  bytes_total   INTEGER NOT NULL DEFAULT 0,
  marker        TEXT    NOT NULL UNIQUE,
  lease_owner   TEXT, lease_expires INTEGER,
  spooled       INTEGER NOT NULL DEFAULT 0,
  history_id    INTEGER,
  created_at    INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_next ON jobs(state, priority, id);
CREATE TABLE history (
  id INTEGER PRIMARY KEY, job_id INTEGER, imgur_id TEXT NOT NULL, link TEXT NOT NULL,
  deletehash TEXT, mime_type TEXT NOT NULL, size INTEGER NOT NULL, width INTEGER, height INTEGER,
  album TEXT, account TEXT, title TEXT, source_path TEXT, origin TEXT NOT NULL,
  api_base TEXT NOT NULL, uploaded_at INTEGER NOT NULL, deleted_at INTEGER
);
CREATE INDEX history_time ON history(uploaded_at);
CREATE INDEX history_imgur_id ON history(imgur_id);
CREATE TABLE ledger (
  id INTEGER PRIMARY KEY, client_id TEXT NOT NULL, at INTEGER NOT NULL,
  credits INTEGER NOT NULL, is_post INTEGER NOT NULL, is_upload INTEGER NOT NULL
);
CREATE INDEX ledger_client_time ON ledger(client_id, at);
CREATE TABLE rate_headers (
  client_id TEXT PRIMARY KEY, observed_at INTEGER NOT NULL, snapshot TEXT NOT NULL
);
CREATE TABLE queue_flags (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#;

/// Migration 2: the ledger by time alone, so forgetting old rows after each spend and reading
/// the last hour's POSTs are range probes rather than scans of two days of rows.
const MIGRATION_2: &str = "CREATE INDEX ledger_time ON ledger(at);";

/// Migration 3: logging in. The `state` of each login under way (single use, expiring), and
/// the account logged in per Client ID. Tokens are not here: they live in the keychain.
const MIGRATION_3: &str = r#"
CREATE TABLE login_states (
  state TEXT PRIMARY KEY, client_id TEXT NOT NULL, created_at INTEGER NOT NULL, used_at INTEGER
);
CREATE TABLE accounts (
  client_id TEXT PRIMARY KEY, username TEXT NOT NULL, account_id INTEGER,
  expires_at INTEGER NOT NULL, logged_in_at INTEGER NOT NULL, logged_out_reason TEXT
);
"#;

/// Migration 4: watched folders. Each job may carry its content's BLAKE3, so the same content
/// is recognised under another name, after a restart or in a copy; `watch_files` remembers
/// every file a watched folder handed over (its size and modification time, so a rescan
/// recognises it without reading it again), the job it went to, and whether the after-upload
/// action (move, delete) was carried out.
const MIGRATION_4: &str = r#"
ALTER TABLE jobs ADD COLUMN content_hash TEXT;
CREATE INDEX jobs_content_hash ON jobs(content_hash) WHERE content_hash IS NOT NULL;
CREATE TABLE watch_files (
  path         TEXT PRIMARY KEY,
  folder       TEXT    NOT NULL,
  size         INTEGER NOT NULL,
  mtime_ns     INTEGER NOT NULL,
  content_hash TEXT    NOT NULL,
  job_id       INTEGER NOT NULL,
  duplicate    INTEGER NOT NULL DEFAULT 0,
  action_done  INTEGER NOT NULL DEFAULT 0,
  seen_at      INTEGER NOT NULL
);
CREATE INDEX watch_files_folder ON watch_files(folder);
CREATE INDEX watch_files_job ON watch_files(job_id);
"#;

/// Migration 5: preflight. Each job keeps what preflight found and did (JSON), and the fitted
/// copy it sends instead of the original, when there is one; the history keeps the report.
const MIGRATION_5: &str = r#"
ALTER TABLE jobs ADD COLUMN preflight TEXT;
ALTER TABLE jobs ADD COLUMN upload_path TEXT;
ALTER TABLE history ADD COLUMN preflight TEXT;
"#;

/// Migration 6: the workers keep their promises. `unknown_sends` counts the sends of a job whose
/// answer never came (it may already be on Imgur: an anonymous job is sent again at most once);
/// `worker_faults` holds one row per running runner (reserved when it starts, so a fault can be
/// written in place even when the database cannot grow), which `upshot queue list` in any process
/// shows; `spool_refused` remembers spool orphans preflight refused, so each is reported once.
const MIGRATION_6: &str = r#"
ALTER TABLE jobs ADD COLUMN unknown_sends INTEGER NOT NULL DEFAULT 0;
CREATE TABLE worker_faults (
  runner TEXT PRIMARY KEY, pid INTEGER NOT NULL, code TEXT, message TEXT, since INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE TABLE spool_refused (path TEXT PRIMARY KEY, reported_at INTEGER NOT NULL);
"#;

/// Migration 7: an upload keeps standing in for its content after its job is pruned. Each
/// history entry keeps the Client ID and content hash of the job that uploaded it (backfilled
/// from that job where it is still there: the job pointing at the entry, else the job the entry
/// names if it was queued before the upload, so a job id reused after pruning is not taken; an
/// entry whose job is gone already keeps the hash of its preflight report and no Client ID, so
/// it stands in for nothing). `jobs_history` finds the job of an entry. A watched file whose
/// content stands in through a history entry alone has `watch_files.job_id` 0 (no job has that
/// id) and `history_id` set.
const MIGRATION_7: &str = r#"
ALTER TABLE history ADD COLUMN client_id TEXT;
ALTER TABLE history ADD COLUMN content_hash TEXT;
CREATE INDEX jobs_history ON jobs(history_id) WHERE history_id IS NOT NULL;
UPDATE history SET
  client_id = COALESCE(
    (SELECT j.client_id FROM jobs j WHERE j.history_id = history.id),
    (SELECT j.client_id FROM jobs j
      WHERE j.id = history.job_id AND j.created_at <= history.uploaded_at)),
  content_hash = COALESCE(
    (SELECT j.content_hash FROM jobs j WHERE j.history_id = history.id),
    (SELECT j.content_hash FROM jobs j
      WHERE j.id = history.job_id AND j.created_at <= history.uploaded_at),
    CASE WHEN json_valid(preflight) THEN json_extract(preflight, '$.content_hash') END);
CREATE INDEX history_content ON history(content_hash, client_id) WHERE content_hash IS NOT NULL;
ALTER TABLE watch_files ADD COLUMN history_id INTEGER;
"#;

/// Migration 8: the 429 hold is the governor's alone. It moves out of `queue_flags` (where the
/// governor wrote it under `rate_limited_until:<client_id>` and the queue wrote and pruned a copy)
/// into the governor's own table; the queue only reads it, to skip and to say why jobs wait.
const MIGRATION_8: &str = r#"
CREATE TABLE IF NOT EXISTS rate_limit_holds (client_id TEXT PRIMARY KEY, until INTEGER NOT NULL);
INSERT OR REPLACE INTO rate_limit_holds (client_id, until)
  SELECT substr(key, length('rate_limited_until:') + 1), CAST(value AS INTEGER)
  FROM queue_flags WHERE key LIKE 'rate_limited_until:%';
DELETE FROM queue_flags WHERE key LIKE 'rate_limited_until:%';
"#;

/// Migration 9: a failed or deferred job keeps its error's stable code (docs/ERROR_CODES.md)
/// beside its kind and message, so `--json` and the app say `imgur_refused` or `too_large`
/// rather than only "the upload failed". Rows written before have none (`NULL`).
const MIGRATION_9: &str = "ALTER TABLE jobs ADD COLUMN error_code TEXT;";

/// Every migration, in order.
const MIGRATIONS: &[&str] = &[
    MIGRATION_1,
    MIGRATION_2,
    MIGRATION_3,
    MIGRATION_4,
    MIGRATION_5,
    MIGRATION_6,
    MIGRATION_7,
    MIGRATION_8,
    MIGRATION_9,
];

/// The schema version this build writes: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn user_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .ctx(conn)
}

/// Brings the database at `path` up to [`SCHEMA_VERSION`]; refuses one from a newer Upshot.
pub(crate) fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let too_new = |found| StoreError::TooNew {
        path: path.to_path_buf(),
        found,
        supported: SCHEMA_VERSION,
    };
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(too_new(found));
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate).ctx(conn)?;
    // Another process may have migrated between the read above and the lock.
    let found = user_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(too_new(found));
    }
    let start = usize::try_from(found).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        tx.execute_batch(sql).ctx(&tx)?;
        tracing::info!(version = index + 1, path = %path.display(), "database migrated");
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .ctx(&tx)?;
    tx.commit().ctx(conn)
}
