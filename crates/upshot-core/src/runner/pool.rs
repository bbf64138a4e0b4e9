//! The runner's small pool of SQLite connections for the blocking pool.

use super::RunnerError;
use crate::store::Database;
use rusqlite::Connection;
use std::sync::{Mutex, PoisonError};

/// A few SQLite connections reused across blocking tasks (opening one per call would cost more
/// than the queries).
pub(super) struct ConnectionPool {
    db: Database,
    /// Idle connections, each with the page cap last applied to it.
    idle: Mutex<Vec<(Connection, u64)>>,
}

impl ConnectionPool {
    pub(super) fn new(db: Database) -> Self {
        Self {
            db,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` with a connection on the blocking pool.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> Result<T, RunnerError> {
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
        .map_err(|error| RunnerError::Task(error.to_string()))?;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((connection, applied));
        Ok(value?)
    }

    pub(super) fn take(&self) -> Result<(Connection, u64), RunnerError> {
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
