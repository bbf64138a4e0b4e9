//! Credentials: where the workers get the tokens of logged-in accounts.

use crate::auth::{AccountJobs, TokenAnswer};
use crate::queue::JobQueue;
use crate::store::StoreError;
use futures_util::future::BoxFuture;
use rusqlite::Connection;
#[cfg(any(test, feature = "testing"))]
use std::collections::HashMap;
#[cfg(any(test, feature = "testing"))]
use std::sync::{Mutex, PoisonError};
use upshot_imgur::Secret;

/// Where the tokens of logged-in accounts come from. The anonymous Client ID needs none.
pub trait Credentials: Send + Sync {
    /// A token to upload as `account` with (refreshed first when it is about to expire).
    fn access_token<'a>(&'a self, account: &'a str) -> BoxFuture<'a, TokenAnswer>;

    /// Imgur refused `rejected` as invalid: refresh once and answer the new token, or that the
    /// account is logged out. Credentials that cannot refresh keep this default: logged out.
    fn token_rejected<'a>(
        &'a self,
        _account: &'a str,
        _rejected: &'a Secret,
    ) -> BoxFuture<'a, TokenAnswer> {
        Box::pin(async { TokenAnswer::LoggedOut })
    }
}

/// No accounts: every logged-in job waits for a login.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAccounts;

#[cfg(any(test, feature = "testing"))]
impl Credentials for NoAccounts {
    fn access_token<'a>(&'a self, _account: &'a str) -> BoxFuture<'a, TokenAnswer> {
        Box::pin(async { TokenAnswer::LoggedOut })
    }
}

/// Tokens held in memory, never refreshed (tests).
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Default)]
pub struct StaticCredentials(Mutex<HashMap<String, Secret>>);

#[cfg(any(test, feature = "testing"))]
impl StaticCredentials {
    /// Sets (or with `None` removes) an account's token.
    pub fn set(&self, account: &str, token: Option<Secret>) {
        let mut tokens = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match token {
            Some(token) => tokens.insert(account.to_owned(), token),
            None => tokens.remove(account),
        };
    }

    fn answer(&self, account: &str) -> TokenAnswer {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(account)
            .cloned()
            .map_or(TokenAnswer::LoggedOut, TokenAnswer::Token)
    }
}

#[cfg(any(test, feature = "testing"))]
impl Credentials for StaticCredentials {
    fn access_token<'a>(&'a self, account: &'a str) -> BoxFuture<'a, TokenAnswer> {
        Box::pin(async move { self.answer(account) })
    }
}

impl Credentials for crate::auth::AuthSession {
    fn access_token<'a>(&'a self, account: &'a str) -> BoxFuture<'a, TokenAnswer> {
        Box::pin(self.token_for(account))
    }

    fn token_rejected<'a>(
        &'a self,
        account: &'a str,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, TokenAnswer> {
        Box::pin(crate::auth::AuthSession::token_rejected(
            self, account, rejected,
        ))
    }
}

/// The runner's side of a login coming and going: an account's jobs wait while it is logged
/// out and are queued again when it logs in (the session calls it; it knows no jobs itself).
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginHolds;

impl AccountJobs for LoginHolds {
    fn logged_in(&self, conn: &Connection, username: &str, now: i64) -> Result<usize, StoreError> {
        JobQueue::new(conn).release_login(username, now)
    }

    fn logged_out(&self, conn: &Connection, username: &str, now: i64) -> Result<usize, StoreError> {
        JobQueue::new(conn).hold_for_login(username, now)
    }
}
