//! The account logged in for a Client ID: starting and completing a login, keeping its tokens
//! fresh, and logging out. The CLI and the desktop app share it (and the database and
//! keychain behind it), so a login made in one is seen by the other.

use super::callback::{Grant, parse_callback};
use super::state::LoginStates;
use super::vault::{SecretVault, VaultError, VaultKind};
use super::{AuthError, TokenAnswer};
use crate::clock::Clock;
use crate::store::{ConnectionPool, Database, PoolError, SqlContext, StoreError};
use crate::types::UnixMillis;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use upshot_imgur::{ErrorKind, ImgurClient, Secret};
use url::Url;

/// Tokens are refreshed this long before they expire, so no upload starts with a token that
/// runs out on the way.
pub const REFRESH_AHEAD_MS: i64 = 5 * 60 * 1000;

/// What happens to an account's uploads as its login comes and goes. The session knows logins,
/// not jobs: the runner's side (`runner::LoginHolds`) holds and releases them, called on the
/// same connection right after the session's own write, so the session never imports the queue.
pub trait AccountJobs: Send + Sync + std::fmt::Debug {
    /// `username` logged in (again): its jobs that waited for a login are queued again.
    fn logged_in(&self, conn: &Connection, username: &str, now: i64) -> Result<usize, StoreError>;

    /// `username` logged out (or Imgur no longer accepts its login): its jobs wait for a login.
    fn logged_out(&self, conn: &Connection, username: &str, now: i64) -> Result<usize, StoreError>;
}

/// The logged-in account (no secrets: those stay in the vault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Account {
    /// Imgur username.
    pub username: String,
    /// Imgur account id.
    pub account_id: Option<u64>,
    /// When the access token expires (it is refreshed before).
    pub expires_at: UnixMillis,
    /// When the login was completed.
    pub logged_in_at: UnixMillis,
    /// Set when Imgur no longer accepts the login: why, and that the user must log in again.
    pub logged_out_reason: Option<String>,
    /// Where the tokens are kept.
    pub secret_store: VaultKind,
}

impl Account {
    /// Whether uploads can go to this account now.
    pub fn is_active(&self) -> bool {
        self.logged_out_reason.is_none()
    }
}

/// A login under way: the page to open and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginStart {
    /// Imgur's authorize page for this login.
    pub url: Url,
    /// The state the callback must carry back.
    pub state: String,
}

/// The two tokens, kept together as one vault entry.
#[derive(Serialize, Deserialize)]
struct StoredTokens {
    access_token: String,
    refresh_token: String,
}

/// The login of one Client ID against one API.
#[derive(Debug)]
pub struct AuthSession {
    client: ImgurClient,
    client_id: String,
    /// The database, through the store's pool: each call reuses a connection.
    db: ConnectionPool,
    vault: Arc<SecretVault>,
    clock: Arc<dyn Clock>,
    /// From `--client-secret` or `UPSHOT_CLIENT_SECRET`; else the vault's.
    client_secret: Option<Secret>,
    callbacks: Vec<Url>,
    /// One refresh at a time: two workers finding the token stale refresh it once.
    refresh_lock: tokio::sync::Mutex<()>,
    /// The current access token, so an upload does not ask the keychain each time. It belongs
    /// to the grant whose expiry it is stored with: the database's `expires_at` changes with
    /// every grant in any process, so a grant made elsewhere is noticed and read afresh.
    current: std::sync::Mutex<Option<(i64, Secret)>>,
    /// Holds and releases the account's jobs as the login comes and goes (none: jobs untouched).
    jobs: Option<Arc<dyn AccountJobs>>,
}

impl AuthSession {
    /// A session for `client_id`. `callbacks` are the registered callback addresses a login may
    /// come back to.
    pub fn new(
        client: ImgurClient,
        client_id: &str,
        db: Database,
        vault: Arc<SecretVault>,
        clock: Arc<dyn Clock>,
        client_secret: Option<Secret>,
        callbacks: Vec<Url>,
    ) -> Self {
        Self {
            client,
            client_id: client_id.to_owned(),
            db: ConnectionPool::new(db),
            vault,
            clock,
            client_secret,
            callbacks,
            refresh_lock: tokio::sync::Mutex::new(()),
            current: std::sync::Mutex::new(None),
            jobs: None,
        }
    }

    /// This session, holding and releasing its account's jobs through `jobs` as the login
    /// comes and goes (the service passes the runner's).
    pub fn with_account_jobs(mut self, jobs: Arc<dyn AccountJobs>) -> Self {
        self.jobs = Some(jobs);
        self
    }

    /// The Client ID.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The callbacks a login may come back to.
    pub fn callbacks(&self) -> &[Url] {
        &self.callbacks
    }

    /// Starts a login: a fresh state and the authorize page's address, after checking that the
    /// page works (Imgur's has been seen broken; then this says so and nothing changes).
    pub async fn start_login(&self) -> Result<LoginStart, AuthError> {
        let now = self.now();
        let client_id = self.client_id.clone();
        let state = self
            .blocking(move |conn| LoginStates::new(conn).start(&client_id, now))
            .await??;
        let url = self.client.authorize_url(&self.client_id, &state);
        self.client
            .check_authorize_page(&url)
            .await
            .map_err(|error| AuthError::AuthorizePageBroken {
                message: error.message,
            })?;
        Ok(LoginStart { url, state })
    }

    /// Completes a login from the callback address (deep link, loopback or pasted): checks it
    /// and its state, then keeps the tokens. Jobs that waited for this account to log in again
    /// are queued again.
    pub async fn complete_login(&self, callback: &str) -> Result<Account, AuthError> {
        let parsed = parse_callback(callback, &self.callbacks)?;
        let now = self.now();
        let client_id = self.client_id.clone();
        let state = parsed.state.clone();
        self.blocking(move |conn| LoginStates::new(conn).consume(&state, &client_id, now))
            .await??
            .map_err(AuthError::State)?;
        let _in_turn = self.lock_tokens().await?;
        self.keep_grant(&parsed.grant, now).await
    }

    /// Stores a client secret in the vault (so refreshes work without the flag next time).
    pub async fn remember_client_secret(&self, secret: Secret) -> Result<(), AuthError> {
        let key = client_secret_key(&self.client_id);
        self.in_vault(move |vault| vault.set(&key, &secret)).await
    }

    /// The account logged in (or logged out by Imgur, with the reason), if any.
    pub async fn account(&self) -> Result<Option<Account>, AuthError> {
        let client_id = self.client_id.clone();
        let vault = self.vault.clone();
        Ok(self
            .blocking(move |conn| read_account(conn, &client_id, &vault))
            .await??)
    }

    /// The account uploads go to by default: the logged-in one, unless Imgur logged it out.
    pub async fn active_username(&self) -> Result<Option<String>, AuthError> {
        Ok(self
            .account()
            .await?
            .filter(Account::is_active)
            .map(|account| account.username))
    }

    /// Logs out: forgets the tokens and the account. Returns who was logged in. The account's
    /// queued uploads stay queued, waiting for a login.
    pub async fn logout(&self) -> Result<Option<String>, AuthError> {
        let _in_turn = self.lock_tokens().await?;
        let account = self.account().await?;
        self.forget_tokens().await?;
        let client_id = self.client_id.clone();
        let now = self.now();
        let username = account.as_ref().map(|account| account.username.clone());
        let held = username.clone();
        let jobs = self.jobs.clone();
        self.blocking(move |conn| -> Result<(), StoreError> {
            conn.execute("DELETE FROM accounts WHERE client_id = ?1", [&client_id])
                .ctx(conn)?;
            if let (Some(username), Some(jobs)) = (held, jobs) {
                jobs.logged_out(conn, &username, now)?;
            }
            Ok(())
        })
        .await??;
        if let Some(username) = &username {
            tracing::info!(account = %username, "logged out");
        }
        Ok(username)
    }

    /// A token to upload as `username` with: refreshed first when it expires within
    /// [`REFRESH_AHEAD_MS`].
    pub async fn token_for(&self, username: &str) -> TokenAnswer {
        match self.try_token_for(username).await {
            Ok(answer) => answer,
            Err(error) => TokenAnswer::TryLater(error.to_string()),
        }
    }

    /// Imgur refused `rejected` as invalid: refresh once (unless another task already did).
    pub async fn token_rejected(&self, username: &str, rejected: &Secret) -> TokenAnswer {
        match self.refresh(username, Some(rejected)).await {
            Ok(token) => TokenAnswer::Token(token),
            Err(AuthError::LoggedOut { .. } | AuthError::NotLoggedIn) => TokenAnswer::LoggedOut,
            Err(error) => TokenAnswer::TryLater(error.to_string()),
        }
    }

    /// The access token for account calls (whoami, albums), refreshed when due.
    pub async fn bearer(&self) -> Result<(Account, Secret), AuthError> {
        let account = self
            .account()
            .await?
            .filter(Account::is_active)
            .ok_or(AuthError::NotLoggedIn)?;
        match self.try_token_for(&account.username).await? {
            TokenAnswer::Token(token) => Ok((account, token)),
            TokenAnswer::LoggedOut => Err(AuthError::LoggedOut {
                username: account.username,
            }),
            TokenAnswer::TryLater(reason) => Err(AuthError::RefreshFailed { reason }),
        }
    }

    async fn try_token_for(&self, username: &str) -> Result<TokenAnswer, AuthError> {
        let Some(account) = self.account().await? else {
            return Ok(TokenAnswer::LoggedOut);
        };
        if account.username != username || !account.is_active() {
            return Ok(TokenAnswer::LoggedOut);
        }
        let Some(access) = self.access_token_of(account.expires_at.as_millis()).await? else {
            return Ok(TokenAnswer::LoggedOut);
        };
        if account.expires_at.as_millis() - self.now() > REFRESH_AHEAD_MS {
            return Ok(TokenAnswer::Token(access));
        }
        match self.refresh(username, None).await {
            Ok(token) => Ok(TokenAnswer::Token(token)),
            Err(AuthError::LoggedOut { .. } | AuthError::NotLoggedIn) => Ok(TokenAnswer::LoggedOut),
            // Not expired yet: use it while a refresh cannot be made.
            Err(error) if account.expires_at.as_millis() > self.now() => {
                tracing::warn!("could not refresh the login ahead of time: {error}");
                Ok(TokenAnswer::Token(access))
            }
            Err(error) => Ok(TokenAnswer::TryLater(error.to_string())),
        }
    }

    /// Trades the refresh token for a new access token (keeping a rotated refresh token).
    /// `stale`: the token found wanting; when the stored one differs, another task refreshed
    /// meanwhile and its token is returned without asking Imgur again. `Invalid refresh token`
    /// logs the account out: its jobs wait for a new login and the user is told.
    ///
    /// One refresh at a time across every process sharing the tokens (the CLI and the app):
    /// with rotating refresh tokens, the second of two refreshes sent with the same refresh
    /// token is refused and would log the account out. So the tokens are read again once the
    /// lock is held, and when another process refreshed meanwhile (the stored refresh token
    /// changed, or the stored grant is fresh) its tokens are used as they are.
    async fn refresh(&self, username: &str, stale: Option<&Secret>) -> Result<Secret, AuthError> {
        let _one_at_a_time = self.refresh_lock.lock().await;
        let before = self.tokens().await?.ok_or(AuthError::NotLoggedIn)?;
        let _across_processes = self.lock_tokens().await?;
        let tokens = self.tokens().await?.ok_or(AuthError::NotLoggedIn)?;
        if tokens.refresh_token != before.refresh_token {
            tracing::debug!(account = %username, "the login was refreshed by another process");
            *self.lock_current() = None;
            return Ok(Secret::new(tokens.access_token));
        }
        if let Some(stale) = stale
            && stale.expose() != tokens.access_token
        {
            return Ok(Secret::new(tokens.access_token));
        }
        let account = self.account().await?.ok_or(AuthError::NotLoggedIn)?;
        if stale.is_none() && account.expires_at.as_millis() - self.now() > REFRESH_AHEAD_MS {
            // Refreshed by another task while this one waited for the lock.
            return Ok(Secret::new(tokens.access_token));
        }
        let secret = self
            .client_secret()
            .await?
            .ok_or(AuthError::NoClientSecret)?;
        let refresh_token = Secret::new(tokens.refresh_token);
        match self
            .client
            .refresh_token(&self.client_id, &secret, &refresh_token)
            .await
        {
            Ok(answer) => {
                let grant = answer.data;
                let refreshed = Grant {
                    access_token: grant.access_token.clone(),
                    refresh_token: grant.refresh_token,
                    expires_in: grant.expires_in,
                    account_username: grant
                        .account_username
                        .unwrap_or_else(|| username.to_owned()),
                    account_id: grant.account_id.or(account.account_id),
                };
                self.keep_grant(&refreshed, self.now()).await?;
                tracing::info!(account = %username, "login refreshed");
                Ok(grant.access_token)
            }
            Err(error) if error.kind == ErrorKind::Reauth => {
                let reason = format!(
                    "Imgur no longer accepts this login ({}); log in again",
                    error.message.trim_end_matches('.')
                );
                self.logged_out_by_imgur(username, &reason).await?;
                Err(AuthError::LoggedOut {
                    username: username.to_owned(),
                })
            }
            Err(error) => Err(AuthError::RefreshFailed {
                reason: error.to_string(),
            }),
        }
    }

    /// Keeps a grant: tokens into the vault, the account into the database, and the account's
    /// jobs that waited for a login queued again.
    async fn keep_grant(&self, grant: &Grant, now: i64) -> Result<Account, AuthError> {
        let tokens = StoredTokens {
            access_token: grant.access_token.expose().to_owned(),
            refresh_token: grant.refresh_token.expose().to_owned(),
        };
        let json =
            serde_json::to_string(&tokens).map_err(|error| AuthError::Task(error.to_string()))?;
        let key = tokens_key(&self.client_id);
        self.in_vault(move |vault| vault.set(&key, &Secret::new(json)))
            .await?;
        let client_id = self.client_id.clone();
        let username = grant.account_username.clone();
        let account_id = grant.account_id.and_then(|id| i64::try_from(id).ok());
        let expires_at = now.saturating_add(
            i64::try_from(grant.expires_in)
                .unwrap_or(i64::MAX / 2_000)
                .saturating_mul(1000),
        );
        *self.lock_current() = Some((expires_at, grant.access_token.clone()));
        let vault = self.vault.clone();
        let jobs = self.jobs.clone();
        let account = self
            .blocking(move |conn| -> Result<Option<Account>, StoreError> {
                let previous: Option<i64> = conn
                    .query_row(
                        "SELECT logged_in_at FROM accounts WHERE client_id = ?1 AND username = ?2",
                        params![client_id, username],
                        |row| row.get(0),
                    )
                    .optional()
                    .ctx(conn)?;
                conn.execute(
                    "INSERT OR REPLACE INTO accounts \
                     (client_id, username, account_id, expires_at, logged_in_at, logged_out_reason) \
                     VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
                    params![
                        client_id,
                        username,
                        account_id,
                        expires_at,
                        previous.unwrap_or(now)
                    ],
                )
                .ctx(conn)?;
                if let Some(jobs) = jobs {
                    jobs.logged_in(conn, &username, now)?;
                }
                read_account(conn, &client_id, &vault)
            })
            .await??;
        account.ok_or(AuthError::NotLoggedIn)
    }

    async fn logged_out_by_imgur(&self, username: &str, reason: &str) -> Result<(), AuthError> {
        self.forget_tokens().await?;
        let client_id = self.client_id.clone();
        let username_owned = username.to_owned();
        let reason = reason.to_owned();
        let now = self.now();
        let jobs = self.jobs.clone();
        let held = self
            .blocking(move |conn| -> Result<usize, StoreError> {
                conn.execute(
                    "UPDATE accounts SET logged_out_reason = ?3 WHERE client_id = ?1 AND username = ?2",
                    params![client_id, username_owned, reason],
                )
                .ctx(conn)?;
                match jobs {
                    Some(jobs) => jobs.logged_out(conn, &username_owned, now),
                    None => Ok(0),
                }
            })
            .await??;
        tracing::warn!(account = %username, held, "Imgur logged the account out; its uploads wait for a new login");
        Ok(())
    }

    /// Holds the cross-process lock on the tokens (see [`refresh`](Self::refresh)). Waiting
    /// for it blocks, so it is taken off the async threads.
    async fn lock_tokens(&self) -> Result<crate::config_file::FileLock, AuthError> {
        self.in_vault(SecretVault::lock_tokens).await
    }

    async fn forget_tokens(&self) -> Result<(), AuthError> {
        *self.lock_current() = None;
        let key = tokens_key(&self.client_id);
        self.in_vault(move |vault| vault.delete(&key)).await
    }

    /// The access token of the grant that expires at `expires_at`: from memory when that grant
    /// is the one held, else from the vault (and then held).
    async fn access_token_of(&self, expires_at: i64) -> Result<Option<Secret>, AuthError> {
        if let Some((held_for, token)) = self.lock_current().as_ref()
            && *held_for == expires_at
        {
            return Ok(Some(token.clone()));
        }
        let Some(tokens) = self.tokens().await? else {
            return Ok(None);
        };
        let token = Secret::new(tokens.access_token);
        *self.lock_current() = Some((expires_at, token.clone()));
        Ok(Some(token))
    }

    fn lock_current(&self) -> std::sync::MutexGuard<'_, Option<(i64, Secret)>> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn tokens(&self) -> Result<Option<StoredTokens>, AuthError> {
        let key = tokens_key(&self.client_id);
        let stored = self.in_vault(move |vault| vault.get(&key)).await?;
        match stored {
            None => Ok(None),
            Some(json) => serde_json::from_str(json.expose())
                .map(Some)
                // Never quote the content: it is the tokens.
                .map_err(|_| AuthError::CorruptTokens),
        }
    }

    async fn client_secret(&self) -> Result<Option<Secret>, AuthError> {
        if let Some(secret) = &self.client_secret {
            return Ok(Some(secret.clone()));
        }
        let key = client_secret_key(&self.client_id);
        self.in_vault(move |vault| vault.get(&key)).await
    }

    /// Runs `f` on the vault off the async threads (the keychain may block on D-Bus).
    async fn in_vault<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SecretVault) -> Result<T, VaultError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let vault = self.vault.clone();
        Ok(tokio::task::spawn_blocking(move || f(&vault))
            .await
            .map_err(|error| AuthError::Task(error.to_string()))??)
    }

    /// Runs `f` on the blocking pool with one of the store's pooled connections.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        self.db.run(f).await.map_err(|error| match error {
            PoolError::Store(error) => AuthError::Store(error),
            PoolError::Task(reason) => AuthError::Task(reason),
        })
    }

    fn now(&self) -> i64 {
        self.clock.now().as_millis()
    }
}

fn tokens_key(client_id: &str) -> String {
    format!("tokens:{client_id}")
}

fn client_secret_key(client_id: &str) -> String {
    format!("client-secret:{client_id}")
}

/// The account row of `client_id`; the vault is asked where it keeps secrets only when there
/// is one (asking may mean a D-Bus round trip).
fn read_account(
    conn: &rusqlite::Connection,
    client_id: &str,
    vault: &SecretVault,
) -> Result<Option<Account>, StoreError> {
    conn.query_row(
        "SELECT username, account_id, expires_at, logged_in_at, logged_out_reason \
         FROM accounts WHERE client_id = ?1",
        [client_id],
        |row| {
            Ok(Account {
                username: row.get(0)?,
                account_id: row
                    .get::<_, Option<i64>>(1)?
                    .and_then(|id| u64::try_from(id).ok()),
                expires_at: UnixMillis(row.get(2)?),
                logged_in_at: UnixMillis(row.get(3)?),
                logged_out_reason: row.get(4)?,
                secret_store: vault.kind(),
            })
        },
    )
    .optional()
    .ctx(conn)
}
