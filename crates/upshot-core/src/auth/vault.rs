//! Where the client secret and the tokens are kept: the OS keychain (Secret Service, Keychain,
//! Credential Manager, through `keyring`), or where none is available, a file only the user
//! can read. Never the settings, never a log.

use crate::config_file::{self, ConfigFileError, FileLock};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use upshot_imgur::Secret;

/// The keychain's service name for Upshot's entries.
const KEYCHAIN_SERVICE: &str = "app.upshot.desktop";

/// The file used when there is no keychain.
pub const SECRETS_FILE: &str = "secrets.json";

/// Held (as `<name>.lock`, next to the secrets file) by the process refreshing the tokens.
const TOKENS_LOCK_NAME: &str = "tokens-refresh";

/// Which store holds the secrets (shown to the user: a file is less safe than a keychain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum VaultKind {
    /// The OS keychain.
    Keychain,
    /// `secrets.json` in the data directory, readable only by the user (0600).
    File,
}

/// Which store to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultChoice {
    /// The keychain when one answers, else the file.
    Auto,
    /// The file, even when a keychain exists (`UPSHOT_SECRET_STORE=file`; tests).
    File,
}

/// The keychain or the file failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The keychain refused or failed.
    #[error("the system keychain failed: {0}; unlock it, or set UPSHOT_SECRET_STORE=file")]
    Keychain(String),
    /// The secrets file could not be read or written.
    #[error("cannot use the secrets file {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong (never its content).
        reason: String,
    },
}

impl VaultError {
    /// A stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Keychain(_) => "keychain_failed",
            Self::File { .. } => "secrets_file_failed",
        }
    }
}

impl crate::error::ErrorCode for VaultError {
    fn code(&self) -> &'static str {
        VaultError::code(self)
    }
}

crate::error::serialize_as_coded!(VaultError);

/// The secrets store. Which store it is gets decided at its first use, not when it is opened:
/// most commands (anonymous uploads, the history) never touch a secret, and asking for a
/// keychain costs a D-Bus round trip (~5 ms and ~1.6 MB at every `upshot` start, measured).
#[derive(Debug)]
pub struct SecretVault {
    choice: VaultChoice,
    kind: OnceLock<VaultKind>,
    file: PathBuf,
}

impl SecretVault {
    /// The store for `data_dir`: the keychain when `choice` allows and one answers, else the
    /// file. Nothing is asked until a secret is read or written.
    pub fn open(data_dir: &Path, choice: VaultChoice) -> Self {
        Self {
            choice,
            kind: OnceLock::new(),
            file: data_dir.join(SECRETS_FILE),
        }
    }

    /// Where the secrets are. The first call may ask the keychain (D-Bus): call it, like every
    /// method here, from a blocking context.
    pub fn kind(&self) -> VaultKind {
        *self.kind.get_or_init(|| match self.choice {
            VaultChoice::File => VaultKind::File,
            VaultChoice::Auto if keychain_answers() => VaultKind::Keychain,
            VaultChoice::Auto => {
                tracing::warn!(
                    "no system keychain answered; secrets are kept in a file only you can read"
                );
                VaultKind::File
            }
        })
    }

    /// The secrets file (used when [`kind`](Self::kind) is [`VaultKind::File`]).
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The secret stored under `key`.
    pub fn get(&self, key: &str) -> Result<Option<Secret>, VaultError> {
        match self.kind() {
            VaultKind::Keychain => match entry(key)?.get_password() {
                Ok(value) => Ok(Some(Secret::new(value))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(error) => Err(VaultError::Keychain(error.to_string())),
            },
            // Written whole and renamed over: a read needs no lock.
            VaultKind::File => Ok(self.read_file()?.remove(key).map(Secret::new)),
        }
    }

    /// Stores `value` under `key`, replacing what was there.
    pub fn set(&self, key: &str, value: &Secret) -> Result<(), VaultError> {
        match self.kind() {
            VaultKind::Keychain => entry(key)?
                .set_password(value.expose())
                .map_err(|error| VaultError::Keychain(error.to_string())),
            VaultKind::File => config_file::with_lock(&self.file, |lock| {
                let mut secrets = self.read_file()?;
                secrets.insert(key.to_owned(), value.expose().to_owned());
                self.write_file(lock, &secrets)
            }),
        }
    }

    /// Forgets `key` (nothing happens when it is not there).
    pub fn delete(&self, key: &str) -> Result<(), VaultError> {
        match self.kind() {
            VaultKind::Keychain => match entry(key)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(error) => Err(VaultError::Keychain(error.to_string())),
            },
            VaultKind::File => config_file::with_lock(&self.file, |lock| {
                let mut secrets = self.read_file()?;
                if secrets.remove(key).is_some() {
                    self.write_file(lock, &secrets)?;
                }
                Ok(())
            }),
        }
    }

    /// Takes the lock every process holds while it refreshes the tokens kept here (whichever
    /// store keeps them): with rotating refresh tokens, two processes refreshing at once would
    /// log the loser out. Blocks until the lock is free; released when dropped.
    pub fn lock_tokens(&self) -> Result<FileLock, VaultError> {
        FileLock::acquire(&self.file.with_file_name(TOKENS_LOCK_NAME)).map_err(VaultError::from)
    }

    fn file_error(&self, reason: impl ToString) -> VaultError {
        VaultError::File {
            path: self.file.clone(),
            reason: reason.to_string(),
        }
    }

    fn read_file(&self) -> Result<BTreeMap<String, String>, VaultError> {
        match std::fs::read(&self.file) {
            Ok(bytes) if bytes.is_empty() => Ok(BTreeMap::new()),
            Ok(bytes) => serde_json::from_slice(&bytes)
                // serde's message may quote the content: say only where it broke.
                .map_err(|error| {
                    self.file_error(format!(
                        "it is not valid JSON (line {}, column {}); remove it and log in again",
                        error.line(),
                        error.column()
                    ))
                }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(error) => Err(self.file_error(error)),
        }
    }

    /// Writes the whole map through the held lock: atomically, synced, 0600.
    fn write_file(
        &self,
        lock: &FileLock,
        secrets: &BTreeMap<String, String>,
    ) -> Result<(), VaultError> {
        let json = serde_json::to_vec_pretty(secrets).map_err(|error| self.file_error(error))?;
        lock.write(&json).map_err(VaultError::from)
    }
}

impl From<ConfigFileError> for VaultError {
    fn from(error: ConfigFileError) -> Self {
        // The OS error only: never any content.
        Self::File {
            reason: format!("could not {}: {}", error.action, error.source),
            path: error.path,
        }
    }
}

fn entry(key: &str) -> Result<keyring::Entry, VaultError> {
    keyring::Entry::new(KEYCHAIN_SERVICE, key)
        .map_err(|error| VaultError::Keychain(error.to_string()))
}

/// Whether a keychain answers: reading an entry that does not exist must say "no entry".
fn keychain_answers() -> bool {
    match entry("probe").map(|entry| entry.get_password()) {
        Ok(Ok(_)) | Ok(Err(keyring::Error::NoEntry)) => true,
        Ok(Err(error)) => {
            tracing::debug!("the system keychain does not answer: {error}");
            false
        }
        Err(error) => {
            tracing::debug!("the system keychain does not answer: {error}");
            false
        }
    }
}
