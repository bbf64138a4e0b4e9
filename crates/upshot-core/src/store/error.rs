//! What can go wrong with Upshot's database and spool, each case saying what to do about it.

use rusqlite::{Connection, ErrorCode};
use std::path::{Path, PathBuf};

/// A storage failure. Every message names the file involved where there is one and says what the
/// user (or the caller) can do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Creating, reading or writing a file or directory failed.
    #[error("Could not {action} {path}: {source}")]
    Io {
        /// What was being done ("create", "write", "rename", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not an SQLite database, or it is damaged.
    #[error(
        "The database {path} is damaged or is not an Upshot database ({reason}). Move it aside to \
         start with an empty queue and history, or restore it from a backup."
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// SQLite's complaint.
        reason: String,
    },
    /// The database was written by a newer Upshot whose schema this one does not know.
    #[error(
        "The database {path} was written by a newer version of Upshot (schema version {found}; this \
         version knows up to {supported}). Update Upshot, or use another data directory \
         (--data-dir or UPSHOT_DATA_DIR)."
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// Another process held the database for longer than the busy timeout.
    #[error(
        "The database {path} stayed locked by another Upshot process for more than 5 seconds. Try \
         again; if it persists, look for a stuck `upshot` process."
    )]
    Busy {
        /// The file.
        path: PathBuf,
    },
    /// The disk (or the user's quota) is full.
    #[error("The disk holding {path} is full. Free some space and try again.")]
    DiskFull {
        /// The file.
        path: PathBuf,
    },
    /// The database file or its directory cannot be written.
    #[error(
        "The database {path} cannot be written (read-only file, directory or file system). Check \
         its permissions."
    )]
    ReadOnly {
        /// The file.
        path: PathBuf,
    },
    /// Any other SQLite failure (a bug in Upshot more likely than a problem with the file).
    #[error("The database {path} failed: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A value stored in the database is not one this version understands (edited by hand, or
    /// written by a newer Upshot without a schema change).
    #[error(
        "The database holds a value this version of Upshot does not understand: {table}.{column} \
         = {value:?} (row {row}). Update Upshot, or remove that row."
    )]
    BadValue {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The row's id.
        row: i64,
        /// What was found.
        value: String,
    },
    /// No such job or history entry.
    #[error("There is no {what} with id {id}.")]
    NotFound {
        /// "job" or "history entry".
        what: &'static str,
        /// The id asked for.
        id: i64,
    },
    /// The job is in a state the action does not apply to.
    #[error("Job {id} is {state}; {hint}")]
    InvalidTransition {
        /// The job.
        id: i64,
        /// Its state now.
        state: String,
        /// What can be done instead.
        hint: &'static str,
    },
    /// `Spool::remove` was given a file outside the spool directory: Upshot only deletes files
    /// it made itself.
    #[error("{path} is not in Upshot's spool directory {spool}; it was not removed.")]
    NotInSpool {
        /// The path given.
        path: PathBuf,
        /// The spool directory.
        spool: PathBuf,
    },
    /// A spool file extension that is not a short alphanumeric word.
    #[error("{extension:?} is not a file extension Upshot writes (letters and digits, at most 8).")]
    BadExtension {
        /// What was given.
        extension: String,
    },
    /// Writing an export failed (the destination, not the database).
    #[error("Could not write the export: {reason}")]
    Export {
        /// Why.
        reason: String,
    },
}

impl StoreError {
    /// A stable machine-readable code for the UI and `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::Corrupt { .. } => "database_corrupt",
            Self::TooNew { .. } => "database_too_new",
            Self::Busy { .. } => "database_busy",
            Self::DiskFull { .. } => "disk_full",
            Self::ReadOnly { .. } => "database_read_only",
            Self::Sqlite { .. } => "database",
            Self::BadValue { .. } => "database_bad_value",
            Self::NotFound { .. } => "not_found",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::NotInSpool { .. } => "not_in_spool",
            Self::BadExtension { .. } => "bad_extension",
            Self::Export { .. } => "export",
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Classifies an SQLite error about the database at `path`.
    pub(crate) fn sqlite(path: &Path, error: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Self::Corrupt {
                path,
                reason: error.to_string(),
            },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Busy { path },
            Some(ErrorCode::DiskFull) => Self::DiskFull { path },
            Some(ErrorCode::ReadOnly) => Self::ReadOnly { path },
            _ => Self::Sqlite {
                path,
                source: error,
            },
        }
    }
}

impl crate::error::ErrorCode for StoreError {
    fn code(&self) -> &'static str {
        StoreError::code(self)
    }
}

crate::error::serialize_as_coded!(StoreError);

/// Attaches the database's path to SQLite errors. There is deliberately no
/// `From<rusqlite::Error>`: every SQLite error goes through here, so every message names its file.
pub(crate) trait SqlContext<T> {
    /// Classifies the error as being about `conn`'s database.
    fn ctx(self, conn: &Connection) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, conn: &Connection) -> Result<T, StoreError> {
        self.map_err(|error| StoreError::sqlite(Path::new(conn.path().unwrap_or("")), error))
    }
}
