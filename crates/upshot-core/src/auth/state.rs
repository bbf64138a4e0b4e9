//! The `state` of each login under way: random, single use, and good for ten minutes.
//!
//! Kept in the database rather than in memory because a login may be started by one process
//! (`upshot login` prints the address) and completed by another (`upshot login --callback`, or
//! the desktop app receiving the deep link).

use crate::store::{SqlContext, StoreError};
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};

/// How long a login may take between its start and its callback.
pub const LOGIN_STATE_TTL_MS: i64 = 10 * 60 * 1000;

/// Bytes of randomness in a state (256 bits; at least 128 are required).
const STATE_BYTES: usize = 32;

/// Why a callback's `state` was refused. No token is kept when this happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateRejected {
    /// No login with this state was started here (a forged or foreign callback).
    #[error(
        "this callback does not belong to a login started by Upshot (its state does not match); start the login again from Upshot"
    )]
    Unknown,
    /// The login was already completed with it.
    #[error("this login was already completed; each login works once, so start a new one")]
    Reused,
    /// Started more than ten minutes ago.
    #[error("this login was started more than 10 minutes ago and has expired; start it again")]
    Expired,
}

impl crate::error::ErrorCode for StateRejected {
    fn code(&self) -> &'static str {
        StateRejected::code(self)
    }
}

impl StateRejected {
    /// A stable code for the UI and `--json` (see [`crate::error::ErrorCode`]).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unknown => "unknown_state",
            Self::Reused => "reused_state",
            Self::Expired => "expired_state",
        }
    }
}

crate::error::serialize_as_coded!(StateRejected);

/// The logins under way, over a connection to Upshot's database.
#[derive(Debug, Clone, Copy)]
pub struct LoginStates<'c> {
    conn: &'c Connection,
}

impl<'c> LoginStates<'c> {
    /// Over `conn` (the `login_states` table must exist: see the store's migrations).
    pub fn new(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Starts a login for `client_id`: a fresh random state, remembered until it is used or
    /// expires. States of long-finished logins are forgotten here.
    pub fn start(&self, client_id: &str, now: i64) -> Result<String, StoreError> {
        let mut bytes = [0u8; STATE_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let state: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        self.conn
            .prepare_cached("DELETE FROM login_states WHERE created_at < ?1")
            .and_then(|mut stmt| stmt.execute([now - 24 * 60 * 60 * 1000]))
            .ctx(self.conn)?;
        self.conn
            .prepare_cached(
                "INSERT INTO login_states (state, client_id, created_at) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![state, client_id, now]))
            .ctx(self.conn)?;
        Ok(state)
    }

    /// Uses `state` for `client_id`: succeeds once, within [`LOGIN_STATE_TTL_MS`] of the start.
    /// The check and the marking are one statement, so two callbacks racing cannot both pass.
    pub fn consume(
        &self,
        state: &str,
        client_id: &str,
        now: i64,
    ) -> Result<Result<(), StateRejected>, StoreError> {
        let used = self
            .conn
            .prepare_cached(
                "UPDATE login_states SET used_at = ?3 WHERE state = ?1 AND client_id = ?2 \
                 AND used_at IS NULL AND created_at >= ?4",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![state, client_id, now, now - LOGIN_STATE_TTL_MS])
            })
            .ctx(self.conn)?;
        if used == 1 {
            return Ok(Ok(()));
        }
        let found: Option<(i64, Option<i64>)> = self
            .conn
            .prepare_cached(
                "SELECT created_at, used_at FROM login_states WHERE state = ?1 AND client_id = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![state, client_id], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()
            })
            .ctx(self.conn)?;
        Ok(Err(match found {
            None => StateRejected::Unknown,
            Some((_, Some(_))) => StateRejected::Reused,
            Some(_) => StateRejected::Expired,
        }))
    }
}
