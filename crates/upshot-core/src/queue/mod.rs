//! The persistent upload queue: jobs in SQLite, claimed by workers under leases.
//!
//! A [`JobQueue`] borrows one connection (each thread or worker opens its own with
//! [`Database::connect`](crate::store::Database::connect)); several queues in several processes
//! over one database file are safe: [`JobQueue::claim`] runs in a `BEGIN IMMEDIATE` transaction,
//! so SQLite lets one claimer at a time pick and take a job. Time is passed in (`now`, ms since
//! the epoch) rather than read here, so callers use their clock and tests use theirs.
//!
//! Cancelling a job that is being uploaded sets it `cancelled` at once (the UI shows it so);
//! the worker still holds the lease and learns it at its next [`JobQueue::renew_lease`] or
//! [`JobQueue::record_progress`], which answer [`LeaseCheck::Cancelled`]: it stops sending. A
//! worker whose job was taken over or retried meanwhile gets [`LeaseCheck::Lost`].

mod changes;
mod enqueue;
mod faults;
mod flags;
mod lease;
mod listing;
mod rows;
mod types;
mod upkeep;

pub use faults::WorkerFault;
pub use types::{Job, JobFailure, JobFilter, JobState, LeaseCheck, ListOrder, LiveCopy, NewJob};
pub use upkeep::DEFAULT_JOB_RETENTION;
// What only the core's tests and the benchmarks name.
#[cfg(feature = "testing")]
pub use flags::PAUSED_FLAG;
#[cfg(feature = "testing")]
pub use types::{JobCounts, Waiting};
#[cfg(feature = "testing")]
pub use upkeep::Pruned;

use crate::store::{SqlContext, StoreError};
use rusqlite::{Connection, Transaction, TransactionBehavior};

/// The queue over one connection. Cheap to make: build one wherever a connection is at hand.
///
/// Its methods are spread by job over the files of this module: `enqueue` puts files in,
/// `lease` is a worker's side (claim, renew, finish), `changes` what a person does (cancel,
/// retry), `listing` reads, `flags` the pause and rate-limit flags, `upkeep` the clean-ups.
#[derive(Debug, Clone, Copy)]
pub struct JobQueue<'c> {
    conn: &'c Connection,
}

impl<'c> JobQueue<'c> {
    /// The queue stored in `conn`'s database (opened through
    /// [`Database`](crate::store::Database), so the schema is there).
    pub fn new(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// The connection underneath, e.g. for a [`History`](crate::history::History) beside it.
    #[cfg(any(test, feature = "testing"))]
    pub fn connection(&self) -> &'c Connection {
        self.conn
    }

    fn immediate(&self) -> Result<Transaction<'c>, StoreError> {
        Transaction::new_unchecked(self.conn, TransactionBehavior::Immediate).ctx(self.conn)
    }
}
