//! The server's memory: uploads, albums, accounts and tokens, and where they live on disk.
//!
//! Uploaded bytes are files under `files/<id>`; the records are `state.json` plus a journal of
//! the changes made since (see [`crate::journal`]) when a data directory is set.
//!
//! Tokens are kept as SHA-256 digests only: a token is shown once, to the client it is issued
//! to, and neither the state snapshot nor the files on disk can give it back.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::FakeImgurError;
use crate::ids;
use crate::journal::{Change, Journal};
use crate::quota::Quota;
use crate::records::{AccountRecord, AlbumRecord, TokenRecord, UploadRecord};

/// The first account id handed out; later accounts count up from it.
const FIRST_ACCOUNT_ID: u64 = 100_000_001;

/// A user account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Account {
    pub id: u64,
    pub username: String,
    pub created: u64,
}

/// Lower-case hex SHA-256 of a token: how tokens are kept and shown.
pub(crate) fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An access token (by digest) and whom it speaks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccessGrant {
    #[serde(default)]
    pub token_sha256: String,
    /// Only in state saved by older versions, which kept tokens in clear; replaced by the
    /// digest on load.
    #[serde(default, skip_serializing)]
    pub token: Option<String>,
    pub client_id: String,
    pub username: String,
    pub expires_at: u64,
    pub revoked: bool,
}

/// A refresh token (by digest). Imgur's never expire; they die by revocation only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RefreshGrant {
    #[serde(default)]
    pub token_sha256: String,
    /// As [`AccessGrant::token`].
    #[serde(default, skip_serializing)]
    pub token: Option<String>,
    pub client_id: String,
    pub username: String,
    pub revoked: bool,
}

/// What an approval or a refresh hands out.
#[derive(Debug, Clone)]
pub(crate) struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub account_id: u64,
    pub username: String,
}

/// All records, in creation order. Change them only through the methods here: each one notes
/// the records it changed, for the journal.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Store {
    pub uploads: Vec<UploadRecord>,
    pub albums: Vec<AlbumRecord>,
    pub accounts: Vec<Account>,
    pub access_tokens: Vec<AccessGrant>,
    pub refresh_tokens: Vec<RefreshGrant>,
    /// Records changed since the journal last took them.
    #[serde(skip)]
    changes: Vec<Change>,
}

impl Store {
    /// The records changed since the last call, in the order they changed.
    pub(crate) fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// Replaces clear tokens from state saved by older versions with their digests.
    pub(crate) fn digest_legacy_tokens(&mut self) {
        for grant in &mut self.access_tokens {
            if let Some(token) = grant.token.take() {
                grant.token_sha256 = token_digest(&token);
            }
        }
        for grant in &mut self.refresh_tokens {
            if let Some(token) = grant.token.take() {
                grant.token_sha256 = token_digest(&token);
            }
        }
    }

    /// Stores a new upload.
    pub(crate) fn add_upload(&mut self, record: UploadRecord) {
        self.changes.push(Change::Upload(record.clone()));
        self.uploads.push(record);
    }

    /// Stores a new album.
    pub(crate) fn add_album(&mut self, record: AlbumRecord) {
        self.changes.push(Change::Album(record.clone()));
        self.albums.push(record);
    }

    /// Marks an album deleted, by id. Its images stay.
    pub(crate) fn delete_album(&mut self, id: &str) {
        if let Some(album) = self.albums.iter_mut().find(|a| a.id == id) {
            album.deleted = true;
            self.changes.push(Change::Album(album.clone()));
        }
    }
    /// A new random id of `len` characters used by no image and no album.
    pub(crate) fn fresh_id(&self, len: usize) -> String {
        loop {
            let id = ids::alphanumeric(len);
            let taken = self
                .uploads
                .iter()
                .any(|u| u.id == id || u.deletehash == id)
                || self.albums.iter().any(|a| a.id == id || a.deletehash == id);
            if !taken {
                return id;
            }
        }
    }

    /// A live (not deleted) image by id.
    pub(crate) fn image(&self, id: &str) -> Option<&UploadRecord> {
        self.uploads.iter().find(|u| u.id == id && !u.deleted)
    }

    /// A live image by deletehash.
    pub(crate) fn image_by_deletehash(&self, deletehash: &str) -> Option<&UploadRecord> {
        self.uploads
            .iter()
            .find(|u| u.deletehash == deletehash && !u.deleted)
    }

    /// Marks a live image deleted, by id. Returns whether it existed.
    pub(crate) fn delete_image(&mut self, id: &str) -> bool {
        match self.uploads.iter_mut().find(|u| u.id == id && !u.deleted) {
            Some(upload) => {
                upload.deleted = true;
                self.changes.push(Change::Upload(upload.clone()));
                true
            }
            None => false,
        }
    }

    /// A live album by id.
    pub(crate) fn album(&self, id: &str) -> Option<&AlbumRecord> {
        self.albums.iter().find(|a| a.id == id && !a.deleted)
    }

    /// A live album by deletehash.
    pub(crate) fn album_by_deletehash(&self, deletehash: &str) -> Option<&AlbumRecord> {
        self.albums
            .iter()
            .find(|a| a.deletehash == deletehash && !a.deleted)
    }

    /// Appends images (by id) to a live album, skipping ones already in it, and records the
    /// album on each image.
    pub(crate) fn add_to_album(&mut self, album_id: &str, image_ids: &[String]) {
        let Some(album) = self
            .albums
            .iter_mut()
            .find(|a| a.id == album_id && !a.deleted)
        else {
            return;
        };
        for id in image_ids {
            if !album.images.contains(id) {
                album.images.push(id.clone());
            }
        }
        if album.cover.is_none() {
            album.cover = album.images.first().cloned();
        }
        self.changes.push(Change::Album(album.clone()));
        for upload in self
            .uploads
            .iter_mut()
            .filter(|u| image_ids.contains(&u.id))
        {
            upload.album = Some(album_id.to_owned());
            self.changes.push(Change::Upload(upload.clone()));
        }
    }

    /// The live images of an album, in album order.
    pub(crate) fn album_images(&self, album: &AlbumRecord) -> Vec<&UploadRecord> {
        album
            .images
            .iter()
            .filter_map(|id| self.image(id))
            .collect()
    }

    /// An account by username.
    pub(crate) fn account(&self, username: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.username == username)
    }

    /// The account with this username, created now if it does not exist yet.
    pub(crate) fn ensure_account(&mut self, username: &str, now: u64) -> Account {
        if let Some(account) = self.account(username) {
            return account.clone();
        }
        let id = self
            .accounts
            .iter()
            .map(|a| a.id + 1)
            .max()
            .unwrap_or(FIRST_ACCOUNT_ID);
        let account = Account {
            id,
            username: username.to_owned(),
            created: now,
        };
        self.accounts.push(account.clone());
        self.changes.push(Change::Account(account.clone()));
        account
    }

    /// A fresh access token (and, unless `refresh_token` is given, a fresh refresh token) for
    /// `username` on behalf of `client_id`.
    pub(crate) fn issue_tokens(
        &mut self,
        client_id: &str,
        account: &Account,
        refresh_token: Option<String>,
        lifetime_secs: u64,
        now: u64,
    ) -> IssuedTokens {
        let access_token = ids::hex_token();
        let access = AccessGrant {
            token_sha256: token_digest(&access_token),
            token: None,
            client_id: client_id.to_owned(),
            username: account.username.clone(),
            expires_at: now.saturating_add(lifetime_secs),
            revoked: false,
        };
        self.changes.push(Change::Access(access.clone()));
        self.access_tokens.push(access);
        let refresh_token = refresh_token.unwrap_or_else(|| {
            let token = ids::hex_token();
            let refresh = RefreshGrant {
                token_sha256: token_digest(&token),
                token: None,
                client_id: client_id.to_owned(),
                username: account.username.clone(),
                revoked: false,
            };
            self.changes.push(Change::Refresh(refresh.clone()));
            self.refresh_tokens.push(refresh);
            token
        });
        IssuedTokens {
            access_token,
            refresh_token,
            expires_in: lifetime_secs,
            account_id: account.id,
            username: account.username.clone(),
        }
    }

    /// The grant behind a usable access token: known, not revoked, not expired at `now`.
    pub(crate) fn valid_access(&self, token: &str, now: u64) -> Option<&AccessGrant> {
        let digest = token_digest(token);
        self.access_tokens
            .iter()
            .find(|g| g.token_sha256 == digest && !g.revoked && g.expires_at > now)
    }

    /// The grant behind an access token, usable or not.
    pub(crate) fn any_access(&self, token: &str) -> Option<&AccessGrant> {
        let digest = token_digest(token);
        self.access_tokens.iter().find(|g| g.token_sha256 == digest)
    }

    /// A usable refresh token issued to `client_id`.
    pub(crate) fn valid_refresh(&self, token: &str, client_id: &str) -> Option<&RefreshGrant> {
        let digest = token_digest(token);
        self.refresh_tokens
            .iter()
            .find(|g| g.token_sha256 == digest && g.client_id == client_id && !g.revoked)
    }

    /// Revokes one refresh token. Access tokens already issued stay valid until they expire,
    /// so tests can separate "token expired" from "login revoked". Returns how many were revoked.
    pub(crate) fn revoke_refresh(&mut self, token: &str) -> usize {
        let digest = token_digest(token);
        let mut count = 0;
        for grant in self
            .refresh_tokens
            .iter_mut()
            .filter(|g| g.token_sha256 == digest && !g.revoked)
        {
            grant.revoked = true;
            self.changes.push(Change::Refresh(grant.clone()));
            count += 1;
        }
        count
    }

    /// Revokes every access and refresh token of an account. Returns how many were revoked.
    pub(crate) fn revoke_account(&mut self, username: &str) -> usize {
        let mut count = 0;
        for grant in self
            .access_tokens
            .iter_mut()
            .filter(|g| g.username == username && !g.revoked)
        {
            grant.revoked = true;
            self.changes.push(Change::Access(grant.clone()));
            count += 1;
        }
        for grant in self
            .refresh_tokens
            .iter_mut()
            .filter(|g| g.username == username && !g.revoked)
        {
            grant.revoked = true;
            self.changes.push(Change::Refresh(grant.clone()));
            count += 1;
        }
        count
    }

    /// Accounts with their tokens, for the state snapshot.
    pub(crate) fn account_records(&self) -> Vec<AccountRecord> {
        self.accounts
            .iter()
            .map(|account| AccountRecord {
                id: account.id,
                username: account.username.clone(),
                created: account.created,
                access_tokens: self
                    .access_tokens
                    .iter()
                    .filter(|g| g.username == account.username)
                    .map(|g| TokenRecord {
                        token_sha256: g.token_sha256.clone(),
                        client_id: g.client_id.clone(),
                        expires_at: Some(g.expires_at),
                        revoked: g.revoked,
                    })
                    .collect(),
                refresh_tokens: self
                    .refresh_tokens
                    .iter()
                    .filter(|g| g.username == account.username)
                    .map(|g| TokenRecord {
                        token_sha256: g.token_sha256.clone(),
                        client_id: g.client_id.clone(),
                        expires_at: None,
                        revoked: g.revoked,
                    })
                    .collect(),
            })
            .collect()
    }
}

/// What `state.json` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct SavedState {
    /// The virtual clock's lead over real time, so expiries survive a restart.
    pub clock_offset_millis: u64,
    pub store: Store,
    pub quota: Quota,
}

/// The lock file's name in a data directory.
const LOCK_FILE: &str = "lock";

/// Where files and state live: the data directory, or a temporary one.
#[derive(Debug)]
pub(crate) struct Storage {
    /// The data directory, or the temporary directory standing in for it.
    pub root: PathBuf,
    /// Stored uploads, one file per image id.
    pub files_dir: PathBuf,
    /// Uploads in progress; emptied at start.
    pub spool_dir: PathBuf,
    /// `Some` only with a data directory: temporary servers keep state in memory.
    journal: Option<Mutex<Journal>>,
    /// With a data directory: its lock file, locked while this server runs, so two servers
    /// never write one journal.
    lock: Mutex<Option<std::fs::File>>,
    /// Keeps the temporary directory alive; removing it is its `Drop`.
    _temp: Option<tempfile::TempDir>,
}

fn dir_error(path: &Path) -> impl FnOnce(std::io::Error) -> FakeImgurError + '_ {
    move |source| FakeImgurError::DataDir {
        path: path.to_owned(),
        source,
    }
}

/// Locks `dir` for this server, or says which directory is in use.
fn lock_dir(dir: &Path) -> Result<std::fs::File, FakeImgurError> {
    std::fs::create_dir_all(dir).map_err(dir_error(dir))?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(dir_error(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(FakeImgurError::InUse {
            path: dir.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(FakeImgurError::DataDir { path, source }),
    }
}

impl Storage {
    /// Locks the data directory, prepares its directories and reads saved state if there is
    /// any. Without a data directory, a temporary one is made in `temp_parent` (or the
    /// system's temporary directory).
    pub(crate) fn open(
        data_dir: Option<&Path>,
        temp_parent: Option<&Path>,
    ) -> Result<(Self, Option<SavedState>), FakeImgurError> {
        let lock = data_dir.map(lock_dir).transpose()?;
        let (root, temp) = match data_dir {
            Some(dir) => (dir.to_owned(), None),
            None => {
                let mut builder = tempfile::Builder::new();
                builder.prefix("fake-imgur-");
                let temp = match temp_parent {
                    Some(parent) => builder.tempdir_in(parent).map_err(dir_error(parent)),
                    None => builder
                        .tempdir()
                        .map_err(dir_error(Path::new("<temporary directory>"))),
                }?;
                (temp.path().to_owned(), Some(temp))
            }
        };
        let files_dir = root.join("files");
        let spool_dir = root.join("spool");
        std::fs::create_dir_all(&files_dir).map_err(dir_error(&files_dir))?;
        // Leftovers of uploads cut short by a crash are useless: start the spool empty.
        if spool_dir.exists() {
            std::fs::remove_dir_all(&spool_dir).map_err(dir_error(&spool_dir))?;
        }
        std::fs::create_dir_all(&spool_dir).map_err(dir_error(&spool_dir))?;

        let (journal, saved) = match data_dir {
            Some(dir) => {
                let (journal, saved) = Journal::open(dir)?;
                (Some(Mutex::new(journal)), Some(saved))
            }
            None => (None, None),
        };
        Ok((
            Self {
                root,
                files_dir,
                spool_dir,
                journal,
                lock: Mutex::new(lock),
                _temp: temp,
            },
            saved,
        ))
    }

    /// Where the bytes of image `id` are kept.
    pub(crate) fn file_path(&self, id: &str) -> PathBuf {
        self.files_dir.join(id)
    }

    /// The journal, locked (`None` without a data directory). Whoever holds it may take the
    /// records lock too, never the other way round.
    pub(crate) fn journal(&self) -> Option<MutexGuard<'_, Journal>> {
        self.journal
            .as_ref()
            .map(|journal| journal.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Unlocks the data directory, for a server that has stopped.
    pub(crate) fn release(&self) {
        let mut lock = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        *lock = None;
    }
}
