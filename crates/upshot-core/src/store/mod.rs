//! Upshot's one SQLite database (`<data_dir>/upshot.db`): the queue, the history, the quota
//! governor's ledger. See docs/QUEUE.md for the schema.
//!
//! [`Database`] is a cheap handle holding the path: [`Database::open`] creates and migrates the
//! file once, and [`Database::connect`] gives each thread or worker its own
//! [`rusqlite::Connection`], configured the same way (WAL, a 5 s busy timeout, foreign keys,
//! `synchronous = NORMAL`). SQLite serializes the writers, across threads and processes alike.
//! Every call here blocks: async callers run them through `tokio::task::spawn_blocking`.

mod error;
mod migrations;
pub mod os_path;
mod pool;

pub(crate) use error::SqlContext;
pub use error::StoreError;
#[cfg(feature = "testing")]
pub use migrations::SCHEMA_VERSION;
pub(crate) use pool::{ConnectionPool, PoolError};

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "upshot.db";

/// How long a connection waits for another writer before giving up with
/// [`StoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite's own ceiling on `max_page_count`: what "no cap" sets.
const NO_PAGE_LIMIT: u64 = 0xFFFF_FFFE;

/// Upshot's database file: open it once, then [`connect`](Self::connect) per thread.
#[derive(Debug, Clone)]
pub struct Database {
    path: PathBuf,
    /// The cap on the file's size in pages set by [`limit_pages`](Self::limit_pages), shared by
    /// every clone (0: none).
    page_limit: Arc<AtomicU64>,
}

impl PartialEq for Database {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

impl Eq for Database {}

impl Database {
    /// The database file inside a data directory.
    pub fn file_in(data_dir: &Path) -> PathBuf {
        data_dir.join(DATABASE_FILE)
    }

    /// Opens (creating it if needed) the database at `path` and brings its schema up to date.
    ///
    /// Missing parent directories are created readable only by the user (0700 on unix), and the
    /// file (with its WAL) is made 0600: it holds deletehashes, which delete the user's images.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            create_private_dirs(parent)?;
        }
        create_private_file(&path)?;
        // While several connections open a new file at once, SQLite answers some of them
        // SQLITE_BUSY at once, without waiting through the busy handler (switching the file to
        // WAL, reading a WAL index being rebuilt). Those are retried for as long as any other
        // lock would be waited for.
        let started = std::time::Instant::now();
        loop {
            let opened = connect_to(&path).and_then(|conn| migrations::migrate(&conn, &path));
            match opened {
                Err(StoreError::Busy { .. }) if started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(error) => return Err(error),
                Ok(()) => {
                    return Ok(Self {
                        path,
                        page_limit: Arc::default(),
                    });
                }
            }
        }
    }

    /// Opens `<data_dir>/upshot.db`.
    pub fn open_in(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open(Self::file_in(data_dir))
    }

    /// A new connection to the database, configured like every other: one per thread or worker.
    pub fn connect(&self) -> Result<Connection, StoreError> {
        let conn = connect_to(&self.path)?;
        let limit = self.page_limit();
        if limit != 0 {
            self.apply_page_limit(&conn, limit)?;
        }
        Ok(conn)
    }

    /// Caps the database file at `pages` pages (SQLite's `max_page_count`; a cap below the
    /// file's size holds it at its size) for every connection made through this handle and its
    /// clones, or lifts the cap with `None`. Why: a full disk is the store fault that must not
    /// lose an upload, and this makes a real `SQLITE_FULL` on a real file, for the tests that
    /// prove it and for an embedder that wants to bound the data directory. Connections kept
    /// open (the workers' pool) pick a change up before their next use.
    pub fn limit_pages(&self, pages: Option<u64>) {
        let pages = pages.map_or(0, |pages| pages.clamp(1, NO_PAGE_LIMIT));
        self.page_limit.store(pages, Ordering::Release);
    }

    /// The cap set by [`limit_pages`](Self::limit_pages) (0: none).
    pub(crate) fn page_limit(&self) -> u64 {
        self.page_limit.load(Ordering::Acquire)
    }

    /// Applies a cap read from [`page_limit`](Self::page_limit) (0 lifts it) to `conn`.
    pub(crate) fn apply_page_limit(&self, conn: &Connection, limit: u64) -> Result<(), StoreError> {
        let pages = if limit == 0 { NO_PAGE_LIMIT } else { limit };
        conn.pragma_update(
            None,
            "max_page_count",
            i64::try_from(pages).unwrap_or(i64::MAX),
        )
        .map_err(|error| StoreError::sqlite(&self.path, error))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens a connection and applies the settings every connection shares.
fn connect_to(path: &Path) -> Result<Connection, StoreError> {
    let sql = |error| StoreError::sqlite(path, error);
    let conn = Connection::open(path).map_err(sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    // The first statement that reads the file: a file that is not a database fails here.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(sql)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), mode, "the database could not switch to WAL");
    }
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(sql)?;
    // WAL with NORMAL: a committed transaction survives any crash of Upshot (SIGKILL included);
    // only a power cut or OS crash can roll back the last few, which the file on disk, the
    // spool's own fsync (`recover_spool`) and the server's headers make good. FULL fsynced
    // every commit and made the queue's bookkeeping cost more than the upload itself on
    // loopback (200 files of 2 MB: 2.7 s against curl's 1.0 s).
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sql)?;
    Ok(conn)
}

/// Creates `dir` and its missing parents; the ones created here are 0700 on unix.
pub(crate) fn create_private_dirs(dir: &Path) -> Result<(), StoreError> {
    crate::paths::create_private_dirs(dir).map_err(|error| StoreError::io("create", dir, error))
}

/// Creates the database file empty and 0600 before SQLite opens it (SQLite gives its `-wal` and
/// `-shm` files the database's mode), or tightens an existing file's mode to 0600.
pub(crate) fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(path)
        .map_err(|error| StoreError::io("create", path, error))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = file
            .metadata()
            .map_err(|error| StoreError::io("read the permissions of", path, error))?;
        if metadata.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|error| StoreError::io("set permissions on", path, error))?;
        }
    }
    drop(file);
    Ok(())
}
