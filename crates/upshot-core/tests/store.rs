//! The database file: creation, migrations, permissions, and the errors that say what to do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use upshot_core::store::{Database, SCHEMA_VERSION, StoreError};

fn tables(db: &Database) -> Vec<String> {
    let conn = db.connect().unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    stmt.query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn user_version(db: &Database) -> i64 {
    db.connect()
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

#[test]
fn migrates_an_empty_file_and_reopens_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path()).unwrap();
    assert_eq!(db.path(), dir.path().join("upshot.db"));
    assert_eq!(user_version(&db), SCHEMA_VERSION);
    assert_eq!(
        tables(&db),
        [
            "accounts",
            "history",
            "jobs",
            "ledger",
            "login_states",
            "queue_flags",
            "rate_headers",
            "rate_limit_holds",
            "spool_refused",
            "watch_files",
            "worker_faults"
        ]
    );
    // Rows survive a reopen, and reopening applies nothing twice.
    db.connect()
        .unwrap()
        .execute(
            "INSERT INTO queue_flags (key, value) VALUES ('paused', '1')",
            [],
        )
        .unwrap();
    drop(db);
    let again = Database::open_in(dir.path()).unwrap();
    assert_eq!(user_version(&again), SCHEMA_VERSION);
    let value: String = again
        .connect()
        .unwrap()
        .query_row(
            "SELECT value FROM queue_flags WHERE key = 'paused'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(value, "1");
}

#[test]
fn every_connection_is_configured_alike() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("upshot.db")).unwrap();
    let conn = db.connect().unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    let foreign_keys: i64 = conn
        .pragma_query_value(None, "foreign_keys", |row| row.get(0))
        .unwrap();
    let busy: i64 = conn
        .pragma_query_value(None, "busy_timeout", |row| row.get(0))
        .unwrap();
    let synchronous: i64 = conn
        .pragma_query_value(None, "synchronous", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(foreign_keys, 1);
    assert_eq!(busy, 5000);
    assert_eq!(
        synchronous, 1,
        "NORMAL: durable across crashes of the process"
    );
}

#[test]
fn open_with_two_threads_at_once_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("upshot.db");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || Database::open(path).map(|_| ()))
        })
        .collect();
    for handle in handles {
        handle.join().unwrap().unwrap();
    }
    let db = Database::open(&path).unwrap();
    assert_eq!(user_version(&db), SCHEMA_VERSION);
}

#[cfg(unix)]
#[test]
fn the_file_and_the_directories_it_creates_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("a").join("b");
    let db = Database::open_in(&data_dir).unwrap();
    // Write something so the WAL exists.
    db.connect()
        .unwrap()
        .execute("INSERT INTO queue_flags (key, value) VALUES ('x', 'y')", [])
        .unwrap();
    let _keep_open = db.connect().unwrap();
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(db.path()), 0o600);
    let wal = data_dir.join("upshot.db-wal");
    assert!(wal.exists(), "WAL mode keeps a -wal file");
    assert_eq!(mode(&wal), 0o600);
    assert_eq!(mode(&data_dir), 0o700);
    assert_eq!(mode(&dir.path().join("a")), 0o700);
}

#[cfg(unix)]
#[test]
fn an_existing_file_readable_by_others_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upshot.db");
    Database::open(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    Database::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_database_from_a_newer_upshot_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path()).unwrap();
    db.connect()
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 3)
        .unwrap();
    let error = Database::open_in(dir.path()).unwrap_err();
    match &error {
        StoreError::TooNew {
            path,
            found,
            supported,
        } => {
            assert_eq!(path, db.path());
            assert_eq!(*found, SCHEMA_VERSION + 3);
            assert_eq!(*supported, SCHEMA_VERSION);
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
    let json = serde_json::to_value(&error).unwrap();
    assert_eq!(json["code"], "database_too_new");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("newer version of Upshot"), "{message}");
    assert!(message.contains("Update Upshot"), "{message}");
}

#[test]
fn a_file_that_is_not_a_database_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upshot.db");
    std::fs::write(&path, b"this is not SQLite, just some text that is long enough to have a header page..........................................................").unwrap();
    let error = Database::open(&path).unwrap_err();
    assert!(
        matches!(&error, StoreError::Corrupt { path: p, .. } if p == &path),
        "{error:?}"
    );
    assert_eq!(error.code(), "database_corrupt");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("Move it aside"), "{message}");
}

#[test]
fn a_directory_that_cannot_be_created_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let error = Database::open(blocker.join("sub").join("upshot.db")).unwrap_err();
    assert_eq!(error.code(), "io", "{error:?}");
    assert!(error.to_string().contains("Could not create"), "{error}");
}

/// Migration 7 fills the Client ID and content hash of existing history entries from their job
/// (so an upload keeps standing in for its content once its job is pruned); an entry whose job
/// is gone, or whose job id now belongs to a newer job, gets no Client ID and stands in for
/// nothing.
#[test]
fn existing_uploads_get_the_client_id_and_hash_of_their_job() {
    use upshot_core::queue::JobQueue;
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path()).unwrap();
    let conn = db.connect().unwrap();
    // The database as version 6 left it.
    conn.execute_batch(
        "DROP INDEX history_content; DROP INDEX jobs_history; \
         ALTER TABLE history DROP COLUMN client_id; ALTER TABLE history DROP COLUMN content_hash; \
         ALTER TABLE watch_files DROP COLUMN history_id; ALTER TABLE jobs DROP COLUMN error_code; \
         PRAGMA user_version = 6;",
    )
    .unwrap();
    let report = |hash: &str| {
        format!(
            r#"{{"mime_type":"image/png","original_type":"image/png","kind":"image","original_bytes":1,"final_bytes":1,"duration_ms":null,"strip_metadata":true,"content_hash":"{hash}","original_mtime_ns":0}}"#
        )
    };
    let job = |id: i64, hash: &str, history: i64, created: i64| {
        conn.execute(
            "INSERT INTO jobs (id, source_path, origin, priority, client_id, state, marker, \
             history_id, created_at, updated_at, content_hash, preflight) \
             VALUES (?1, '/a.png', 'cli', 0, 'client', 'done', ?2, ?3, ?4, ?4, ?5, ?6)",
            rusqlite::params![id, format!("m{id}"), history, created, hash, report(hash)],
        )
        .unwrap();
    };
    let entry =
        |id: i64, job: i64, hash: &str| {
            conn.execute(
            "INSERT INTO history (id, job_id, imgur_id, link, mime_type, size, origin, api_base, \
             uploaded_at, preflight) VALUES (?1, ?2, ?3, ?4, 'image/png', 1, 'cli', 'x', 100, ?5)",
            rusqlite::params![id, job, format!("i{id}"), format!("https://i/{id}"), report(hash)],
        )
        .unwrap();
        };
    entry(1, 1, "linked");
    job(1, "linked", 1, 50);
    entry(2, 2, "pruned");
    entry(3, 3, "reused");
    job(3, "newer", 99, 200); // Its id was reused by a job queued after the upload.
    drop(conn);
    drop(db);

    let db = Database::open_in(dir.path()).unwrap();
    let conn = db.connect().unwrap();
    let read = |id: i64| -> (Option<String>, Option<String>) {
        conn.query_row(
            "SELECT client_id, content_hash FROM history WHERE id = ?1",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(read(1), (Some("client".into()), Some("linked".into())));
    assert_eq!(read(2), (None, Some("pruned".into())));
    assert_eq!(read(3), (None, Some("reused".into())));

    // Once job 1 is pruned, its upload stands in alone; the others stand in for nothing.
    conn.execute("DELETE FROM jobs WHERE id = 1", []).unwrap();
    let queue = JobQueue::new(&conn);
    let live = queue.live_with_content("client", "linked").unwrap();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0].job, None);
    assert_eq!(live[0].link.as_deref(), Some("https://i/1"));
    assert!(
        queue
            .live_with_content("client", "pruned")
            .unwrap()
            .is_empty()
    );
    assert!(
        queue
            .live_with_content("client", "reused")
            .unwrap()
            .is_empty()
    );
}

/// Migration 8: a 429 hold written by an older Upshot (a `queue_flags` row the queue kept a copy
/// of) becomes the governor's own hold, and the flag is gone.
#[test]
fn an_older_429_flag_becomes_the_governors_hold() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path()).unwrap();
    let conn = db.connect().unwrap();
    // The database as version 7 left it, holding a 429 flag.
    conn.execute_batch(
        "DROP TABLE rate_limit_holds; ALTER TABLE jobs DROP COLUMN error_code; \
         PRAGMA user_version = 7; \
         INSERT INTO queue_flags (key, value) VALUES ('rate_limited_until:client-a', '1700000060000'); \
         INSERT INTO queue_flags (key, value) VALUES ('paused', '1');",
    )
    .unwrap();
    drop(conn);
    drop(db);

    let db = Database::open_in(dir.path()).unwrap();
    assert_eq!(user_version(&db), SCHEMA_VERSION);
    let conn = db.connect().unwrap();
    let held: Vec<(String, i64)> = conn
        .prepare("SELECT client_id, until FROM rate_limit_holds")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(held, [("client-a".to_owned(), 1_700_000_060_000)]);
    let flags: Vec<String> = conn
        .prepare("SELECT key FROM queue_flags ORDER BY key")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        flags,
        ["paused"],
        "the pause stays; the copy of the hold is gone"
    );
}

/// Migration 9: a job keeps its error's code. A failed job written by an older Upshot keeps its
/// kind and message and has no code (`NULL`), and a new failure records one.
#[test]
fn an_older_failed_job_has_no_error_code_and_a_new_one_does() {
    use upshot_core::queue::{JobFailure, JobQueue, JobState, LeaseCheck, NewJob};
    use upshot_core::types::Origin;
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path()).unwrap();
    let conn = db.connect().unwrap();
    // The database as version 8 left it, with a job that failed then.
    conn.execute_batch(
        "ALTER TABLE jobs DROP COLUMN error_code; PRAGMA user_version = 8; \
         INSERT INTO jobs (id, source_path, origin, priority, client_id, state, marker, \
         error_kind, error_message, created_at, updated_at) VALUES (1, '/a.png', 'cli', 0, \
         'client', 'failed', 'm1', 'permanent', 'refused', 1, 1);",
    )
    .unwrap();
    drop(conn);
    drop(db);

    let db = Database::open_in(dir.path()).unwrap();
    assert_eq!(user_version(&db), SCHEMA_VERSION);
    let conn = db.connect().unwrap();
    let queue = JobQueue::new(&conn);
    let old = queue.get(upshot_core::types::JobId(1)).unwrap().unwrap();
    assert_eq!(old.state, JobState::Failed);
    assert_eq!(old.error_message.as_deref(), Some("refused"));
    assert_eq!(old.error_code, None);

    let id = queue
        .enqueue(&NewJob::new("/b.png", Origin::Cli, "client"), 2)
        .unwrap();
    queue.claim("w", 2, 60_000, &[]).unwrap().unwrap();
    let failure = JobFailure {
        kind: upshot_imgur::ErrorKind::Permanent,
        code: "too_large",
        message: "too large",
    };
    assert_eq!(queue.fail(id, "w", 3, failure).unwrap(), LeaseCheck::Held);
    let new = queue.get(id).unwrap().unwrap();
    assert_eq!(new.error_code.as_deref(), Some("too_large"));
}
