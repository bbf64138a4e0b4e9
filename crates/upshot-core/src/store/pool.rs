//! A small pool of SQLite connections for async callers: each call runs on tokio's blocking pool
//! with a connection reused from an earlier call (opening one per call would cost more than the
//! queries). It lives with the store so every async user of the database can share the one way
//! of doing it: the runner's workers and the login (`AuthSession`) use it.

use super::{Database, StoreError};
use rusqlite::Connection;
use std::sync::{Mutex, PoisonError};

/// Why a pooled call failed: the database, or the blocking task that ran it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PoolError {
    /// The database failed (opening a connection, or applying the page cap to it).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blocking task died (a bug in the closure, or the runtime shutting down).
    #[error("an internal task stopped unexpectedly: {0}")]
    Task(String),
}

impl crate::error::ErrorCode for PoolError {
    fn code(&self) -> &'static str {
        match self {
            Self::Store(error) => error.code(),
            Self::Task(_) => "internal",
        }
    }
}

/// A few SQLite connections to one [`Database`], reused across blocking tasks.
#[derive(Debug)]
pub(crate) struct ConnectionPool {
    db: Database,
    /// Idle connections, each with the page cap last applied to it.
    idle: Mutex<Vec<(Connection, u64)>>,
}

impl ConnectionPool {
    pub(crate) fn new(db: Database) -> Self {
        Self {
            db,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` with a connection on the blocking pool; the connection goes back to the pool
    /// afterwards, whatever `f` returned.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let (connection, applied) = self.take()?;
        let limit = self.db.page_limit();
        let db = self.db.clone();
        let (connection, applied, value) = tokio::task::spawn_blocking(move || {
            // A cap set on the database handle since this connection last ran reaches it here.
            let applied = if applied == limit {
                Ok(applied)
            } else {
                db.apply_page_limit(&connection, limit).map(|()| limit)
            };
            match applied {
                Ok(applied) => {
                    let value = f(&connection);
                    (connection, applied, Ok(value))
                }
                Err(error) => (connection, u64::MAX, Err(error)),
            }
        })
        .await
        .map_err(|error| PoolError::Task(error.to_string()))?;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((connection, applied));
        Ok(value?)
    }

    /// An idle connection with the cap last applied to it, or a new one.
    pub(crate) fn take(&self) -> Result<(Connection, u64), StoreError> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match reused {
            Some(reused) => Ok(reused),
            None => Ok((self.db.connect()?, self.db.page_limit())),
        }
    }
}
