//! The server's memory: uploads, albums, accounts and tokens, and where they live on disk.
//!
//! Uploaded bytes are files under `files/<id>`; everything else is one `state.json`, rewritten
//! atomically (temporary file, then rename) after every change when a data directory is set.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::FakeImgurError;
use crate::ids;
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

/// An access token and whom it speaks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccessGrant {
    pub token: String,
    pub client_id: String,
    pub username: String,
    pub expires_at: u64,
    pub revoked: bool,
}

/// A refresh token. Imgur's never expire; they die by revocation only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RefreshGrant {
    pub token: String,
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

/// All records, in creation order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Store {
    pub uploads: Vec<UploadRecord>,
    pub albums: Vec<AlbumRecord>,
    pub accounts: Vec<Account>,
    pub access_tokens: Vec<AccessGrant>,
    pub refresh_tokens: Vec<RefreshGrant>,
}

impl Store {
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
        for upload in self
            .uploads
            .iter_mut()
            .filter(|u| image_ids.contains(&u.id))
        {
            upload.album = Some(album_id.to_owned());
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
        self.access_tokens.push(AccessGrant {
            token: access_token.clone(),
            client_id: client_id.to_owned(),
            username: account.username.clone(),
            expires_at: now.saturating_add(lifetime_secs),
            revoked: false,
        });
        let refresh_token = refresh_token.unwrap_or_else(|| {
            let token = ids::hex_token();
            self.refresh_tokens.push(RefreshGrant {
                token: token.clone(),
                client_id: client_id.to_owned(),
                username: account.username.clone(),
                revoked: false,
            });
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
        self.access_tokens
            .iter()
            .find(|g| g.token == token && !g.revoked && g.expires_at > now)
    }

    /// A usable refresh token issued to `client_id`.
    pub(crate) fn valid_refresh(&self, token: &str, client_id: &str) -> Option<&RefreshGrant> {
        self.refresh_tokens
            .iter()
            .find(|g| g.token == token && g.client_id == client_id && !g.revoked)
    }

    /// Revokes one refresh token. Access tokens already issued stay valid until they expire,
    /// so tests can separate "token expired" from "login revoked". Returns how many were revoked.
    pub(crate) fn revoke_refresh(&mut self, token: &str) -> usize {
        let mut count = 0;
        for grant in self
            .refresh_tokens
            .iter_mut()
            .filter(|g| g.token == token && !g.revoked)
        {
            grant.revoked = true;
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
            count += 1;
        }
        for grant in self
            .refresh_tokens
            .iter_mut()
            .filter(|g| g.username == username && !g.revoked)
        {
            grant.revoked = true;
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
                        token: g.token.clone(),
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
                        token: g.token.clone(),
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
    state_file: Option<PathBuf>,
    /// Keeps the temporary directory alive; removing it is its `Drop`.
    _temp: Option<tempfile::TempDir>,
}

fn dir_error(path: &Path) -> impl FnOnce(std::io::Error) -> FakeImgurError + '_ {
    move |source| FakeImgurError::DataDir {
        path: path.to_owned(),
        source,
    }
}

impl Storage {
    /// Prepares the directories and reads saved state if there is any. Without a data
    /// directory, a temporary one is made in `temp_parent` (or the system's temporary directory).
    pub(crate) fn open(
        data_dir: Option<&Path>,
        temp_parent: Option<&Path>,
    ) -> Result<(Self, Option<SavedState>), FakeImgurError> {
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

        let state_file = data_dir.map(|dir| dir.join("state.json"));
        let saved = match &state_file {
            Some(path) if path.exists() => {
                let text = std::fs::read(path).map_err(dir_error(path))?;
                let saved = serde_json::from_slice(&text).map_err(|source| {
                    FakeImgurError::CorruptState {
                        path: path.clone(),
                        source,
                    }
                })?;
                Some(saved)
            }
            _ => None,
        };
        Ok((
            Self {
                root,
                files_dir,
                spool_dir,
                state_file,
                _temp: temp,
            },
            saved,
        ))
    }

    /// Where the bytes of image `id` are kept.
    pub(crate) fn file_path(&self, id: &str) -> PathBuf {
        self.files_dir.join(id)
    }

    /// Whether state is written to disk at all.
    pub(crate) fn persistent(&self) -> bool {
        self.state_file.is_some()
    }

    /// Writes `state` atomically: a reader (or a restart after the process was killed) sees
    /// the old file or the new one, never half of one. There is deliberately no fsync: this
    /// runs after every change, and surviving a power cut is not a test server's job.
    pub(crate) fn save(&self, state: &SavedState) -> Result<(), FakeImgurError> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let json = serde_json::to_vec(state).map_err(|source| FakeImgurError::CorruptState {
            path: path.clone(),
            source,
        })?;
        let temp = path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&temp).map_err(dir_error(&temp))?;
        file.write_all(&json).map_err(dir_error(&temp))?;
        std::fs::rename(&temp, path).map_err(dir_error(path))?;
        Ok(())
    }
}
