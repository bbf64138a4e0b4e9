//! Logging in with Imgur: the implicit grant through a callback (deep link, loopback listener
//! or pasted address), tokens in the keychain, and their refresh.
//!
//! - [`callback`]: the one parser every way a callback arrives goes through.
//! - [`state`]: the single-use, expiring `state` of each login under way (in the database, so
//!   one process may start a login and another complete it).
//! - [`vault`]: the keychain, or a file only the user can read where there is none.
//! - [`session`]: [`AuthSession`], which ties them together and keeps tokens fresh.
//! - [`loopback`]: the one-shot listener for applications registered with a loopback callback.

pub mod callback;
pub mod loopback;
pub mod session;
pub mod state;
pub mod vault;

pub use callback::{Callback, CallbackError, DEEP_LINK_CALLBACK, Grant, parse_callback};
pub use session::{Account, AccountJobs, AuthSession, LoginStart};
pub use state::{LOGIN_STATE_TTL_MS, LoginStates, StateRejected};
pub use vault::{SecretVault, VaultChoice, VaultError, VaultKind};

use crate::store::StoreError;
use upshot_imgur::Secret;

/// What the credentials of a logged-in account answer a worker about to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenAnswer {
    /// Upload with this token.
    Token(Secret),
    /// The account is logged out: its jobs wait for a new login.
    LoggedOut,
    /// A token cannot be had right now (the refresh failed for a passing reason): try later.
    TryLater(String),
}

/// Why a login, logout or token operation failed. Messages never carry a token or a secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The callback address was refused.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// The callback's state was refused; nothing was kept.
    #[error(transparent)]
    State(StateRejected),
    /// No account is logged in.
    #[error("not logged in; run `upshot login` (or use Log in in the app) first")]
    NotLoggedIn,
    /// Imgur no longer accepts the login.
    #[error(
        "Imgur logged {username} out (the login was revoked or expired); log in again. Uploads for the account wait until then"
    )]
    LoggedOut {
        /// The account.
        username: String,
    },
    /// A refresh needs the application's client secret, which is not known.
    #[error(
        "the client secret is needed to keep the login fresh; give it once with --client-secret or UPSHOT_CLIENT_SECRET (it is kept in the keychain)"
    )]
    NoClientSecret,
    /// A refresh failed for a passing reason.
    #[error("could not refresh the login: {reason}")]
    RefreshFailed {
        /// Why (Imgur's or the network's message).
        reason: String,
    },
    /// Imgur's authorize page answers an error page.
    #[error("{message}")]
    AuthorizePageBroken {
        /// What Imgur answered, in words.
        message: String,
    },
    /// The stored tokens cannot be read.
    #[error("the stored login cannot be read; log out and log in again")]
    CorruptTokens,
    /// The keychain or secrets file failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A request to Imgur failed.
    #[error(transparent)]
    Imgur(#[from] upshot_imgur::ImgurError),
    /// The loopback callback listener failed or nothing came back.
    #[error(transparent)]
    Loopback(#[from] loopback::LoopbackError),
    /// A background task stopped.
    #[error("an internal task stopped unexpectedly: {0}")]
    Task(String),
}

impl AuthError {
    /// A stable code for the UI and `--json`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Callback(error) => error.code(),
            Self::State(rejected) => rejected.code(),
            Self::NotLoggedIn => "not_logged_in",
            Self::LoggedOut { .. } => "logged_out",
            Self::NoClientSecret => "no_client_secret",
            Self::RefreshFailed { .. } => "refresh_failed",
            Self::AuthorizePageBroken { .. } => "authorize_page_broken",
            Self::CorruptTokens => "corrupt_tokens",
            Self::Vault(error) => error.code(),
            Self::Store(error) => error.code(),
            Self::Imgur(error) => error.error_code(),
            Self::Loopback(error) => crate::error::ErrorCode::code(error),
            Self::Task(_) => "internal",
        }
    }
}

impl crate::error::ErrorCode for AuthError {
    fn code(&self) -> &'static str {
        AuthError::code(self)
    }
}

crate::error::serialize_as_coded!(AuthError);
