//! The saved watched folders: `watch.json` in the config directory, shared by the CLI and the
//! desktop app. A running watcher watches this file, so `upshot watch add` takes effect in the
//! app at once.
//!
//! Changes go through [`WatchList::update`], which holds an advisory lock on `watch.json.lock`
//! across read-modify-write and replaces the file atomically ([`crate::config_file`]), so two
//! processes editing at once never lose each other's folders and a reader never sees half a
//! file. At start, a list that cannot be read is set aside and the start goes on without it
//! ([`WatchList::load_or_set_aside`]).

use super::error::WatchError;
use super::patterns::{FolderFilter, Rules};
use crate::config_file::{self, ConfigNotice};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file name of the saved folders, in the config directory.
pub const WATCH_FILE: &str = "watch.json";

/// The settle window when none is set: a file must be still this long before it is uploaded.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(1);

/// File names uploaded by default: every image and video type Imgur takes.
pub const DEFAULT_INCLUDE: &[&str] = &[
    "*.jpg", "*.jpeg", "*.jpe", "*.png", "*.apng", "*.gif", "*.tif", "*.tiff", "*.webp", "*.mp4",
    "*.m4v", "*.webm", "*.mkv", "*.mov", "*.flv", "*.avi", "*.wmv", "*.mpeg", "*.mpg",
];

/// Names skipped by default: dotfiles (and dot-directories), and the names browsers, editors and
/// sync tools give files they are still writing, or backups.
pub const DEFAULT_IGNORE: &[&str] = &[".*", "*.tmp", "*.part", "*.crdownload", "*~"];

/// What happens to a file once its upload is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(tag = "then", rename_all = "snake_case")]
pub enum AfterUpload {
    /// Leave it where it is.
    #[default]
    Keep,
    /// Move it into this subfolder of the watched folder (created when needed; never watched).
    Move {
        /// The subfolder's name, relative to the watched folder.
        subfolder: String,
    },
    /// Delete it.
    Delete,
}

impl AfterUpload {
    /// Parses `keep`, `delete` or `move:<subfolder>` (the CLI's `--after`).
    pub fn parse(text: &str) -> Result<Self, WatchError> {
        match text {
            "keep" => Ok(Self::Keep),
            "delete" => Ok(Self::Delete),
            _ => match text.strip_prefix("move:") {
                Some(subfolder) => {
                    let candidate = Path::new(subfolder);
                    let plain = candidate.components().count() == 1
                        && matches!(
                            candidate.components().next(),
                            Some(std::path::Component::Normal(_))
                        );
                    if plain {
                        Ok(Self::Move {
                            subfolder: subfolder.to_owned(),
                        })
                    } else {
                        Err(WatchError::BadSetting {
                            what: "after-upload action",
                            value: text.to_owned(),
                            expected: "move:<name>, with a plain folder name such as move:uploaded",
                        })
                    }
                }
                None => Err(WatchError::BadSetting {
                    what: "after-upload action",
                    value: text.to_owned(),
                    expected: "keep, delete or move:<subfolder>",
                }),
            },
        }
    }
}

impl std::fmt::Display for AfterUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Keep => f.write_str("keep"),
            Self::Delete => f.write_str("delete"),
            Self::Move { subfolder } => write!(f, "move:{subfolder}"),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_include() -> Vec<String> {
    DEFAULT_INCLUDE
        .iter()
        .map(|glob| (*glob).to_owned())
        .collect()
}

fn default_ignore() -> Vec<String> {
    DEFAULT_IGNORE
        .iter()
        .map(|glob| (*glob).to_owned())
        .collect()
}

/// One watched folder and what to do with what lands in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct WatchedFolder {
    /// Short id for the CLI (`upshot watch pause 2`); unique within the list.
    pub id: String,
    /// The folder, absolute.
    pub path: PathBuf,
    /// Subfolders too.
    #[serde(default)]
    pub recursive: bool,
    /// File-name patterns to upload (case-insensitive globs).
    #[serde(default = "default_include")]
    pub include: Vec<String>,
    /// Names to skip, matched against every part of the path below the folder.
    #[serde(default = "default_ignore")]
    pub ignore: Vec<String>,
    /// Album to upload into: its deletehash when anonymous, its id when logged in.
    #[serde(default)]
    pub album: Option<String>,
    /// What to do with a file once its upload is confirmed.
    #[serde(default)]
    pub after_upload: AfterUpload,
    /// `false` while paused: not watched, nothing queued, no catch-up until resumed.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Upload a file whose content was uploaded before (a copy) instead of reporting the
    /// existing link.
    #[serde(default)]
    pub upload_copies: bool,
}

impl WatchedFolder {
    /// A folder with the defaults: not recursive, images and videos, the usual ignores, kept
    /// after upload, enabled. `path` should be absolute.
    pub fn new(id: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self {
            id: id.into(),
            path: path.into(),
            recursive: false,
            include: default_include(),
            ignore: default_ignore(),
            album: None,
            after_upload: AfterUpload::Keep,
            enabled: true,
            upload_copies: false,
        }
    }

    /// The subfolder uploaded files are moved into, if any: never watched or scanned.
    pub fn move_subfolder(&self) -> Option<PathBuf> {
        match &self.after_upload {
            AfterUpload::Move { subfolder } => Some(self.path.join(subfolder)),
            _ => None,
        }
    }

    /// The key files are remembered under in the database: the folder's path.
    pub fn key(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

/// Every saved folder and the settle window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchList {
    /// A file must be still this long (ms) before it is uploaded.
    #[serde(default = "default_settle_ms")]
    pub settle_ms: u64,
    /// The folders.
    #[serde(default)]
    pub folders: Vec<WatchedFolder>,
}

fn default_settle_ms() -> u64 {
    u64::try_from(DEFAULT_SETTLE.as_millis()).unwrap_or(1_000)
}

impl Default for WatchList {
    fn default() -> Self {
        Self {
            settle_ms: default_settle_ms(),
            folders: Vec::new(),
        }
    }
}

impl WatchList {
    /// The settle window.
    pub fn settle(&self) -> Duration {
        Duration::from_millis(self.settle_ms)
    }

    /// Reads the list; a missing file is an empty list.
    pub fn load(file: &Path) -> Result<Self, WatchError> {
        match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| WatchError::BadFile {
                path: file.to_path_buf(),
                reason: error.to_string(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(WatchError::io("read", file, error)),
        }
    }

    /// Reads the list for a start: a missing file is an empty list, and so is a file that
    /// cannot be parsed, which is first set aside (renamed with the time) so the user's folders
    /// are kept and Upshot still starts; the notice says so.
    pub fn load_or_set_aside(file: &Path) -> Result<(Self, Option<ConfigNotice>), WatchError> {
        Ok(config_file::read_json_or_set_aside(
            file,
            "No folder is watched until you add them again (`upshot watch add DIR`, or in the \
             app), or fix the moved file and move it back.",
        )?)
    }

    /// Reads, changes and writes the list under a lock; returns what `change` returned.
    pub fn update<T>(
        file: &Path,
        change: impl FnOnce(&mut WatchList) -> Result<T, WatchError>,
    ) -> Result<T, WatchError> {
        config_file::with_lock(file, |lock| {
            let mut list = Self::load(file)?;
            let answer = change(&mut list)?;
            let text =
                serde_json::to_string_pretty(&list).map_err(|error| WatchError::BadFile {
                    path: file.to_path_buf(),
                    reason: error.to_string(),
                })?;
            lock.write((text + "\n").as_bytes())?;
            Ok(answer)
        })
    }

    /// Adds a folder (made absolute) with a fresh id. A folder already in the list is refused.
    pub fn add(&mut self, mut folder: WatchedFolder) -> Result<&WatchedFolder, WatchError> {
        folder.path = absolute(&folder.path)?;
        if self.folders.iter().any(|known| known.path == folder.path) {
            return Err(WatchError::AlreadyWatched { path: folder.path });
        }
        FolderFilter::new(&folder)?;
        folder.id = self.next_id();
        self.folders.push(folder);
        let index = self.folders.len() - 1;
        self.folders
            .get(index)
            .ok_or_else(|| WatchError::Internal("the folder just added is missing".to_owned()))
    }

    /// The folder named by id or by path.
    pub fn find_mut(&mut self, key: &str) -> Result<&mut WatchedFolder, WatchError> {
        let index = self.position(key)?;
        self.folders
            .get_mut(index)
            .ok_or_else(|| WatchError::NotWatched {
                key: key.to_owned(),
            })
    }

    /// Removes the folder named by id or path; returns it.
    pub fn remove(&mut self, key: &str) -> Result<WatchedFolder, WatchError> {
        let index = self.position(key)?;
        Ok(self.folders.remove(index))
    }

    fn position(&self, key: &str) -> Result<usize, WatchError> {
        let as_path = absolute(Path::new(key)).ok();
        self.folders
            .iter()
            .position(|folder| folder.id == key || Some(&folder.path) == as_path.as_ref())
            .ok_or_else(|| WatchError::NotWatched {
                key: key.to_owned(),
            })
    }

    fn next_id(&self) -> String {
        let highest = self
            .folders
            .iter()
            .filter_map(|folder| folder.id.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        (highest + 1).to_string()
    }
}

/// `path` made absolute against the current directory, without resolving symlinks (the user's
/// name for the folder is kept; it may not exist yet).
pub fn absolute(path: &Path) -> Result<PathBuf, WatchError> {
    std::path::absolute(path).map_err(|error| WatchError::io("resolve", path, error))
}

impl<'a> From<&'a WatchedFolder> for Rules<'a> {
    fn from(folder: &'a WatchedFolder) -> Self {
        Rules {
            include: &folder.include,
            ignore: &folder.ignore,
            recursive: folder.recursive,
            move_subfolder: match &folder.after_upload {
                AfterUpload::Move { subfolder } => Some(subfolder),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_upload_parses_and_refuses_paths_outside_the_folder() {
        assert_eq!(AfterUpload::parse("keep").ok(), Some(AfterUpload::Keep));
        assert_eq!(AfterUpload::parse("delete").ok(), Some(AfterUpload::Delete));
        assert_eq!(
            AfterUpload::parse("move:done").ok(),
            Some(AfterUpload::Move {
                subfolder: "done".to_owned()
            })
        );
        for bad in ["move:../x", "move:a/b", "move:", "move:/tmp", "archive"] {
            assert!(AfterUpload::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn folders_get_ids_and_are_found_by_id_or_path_across_updates() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join(WATCH_FILE);
        let first = dir.path().join("shots");
        let id = WatchList::update(&file, |list| {
            Ok(list.add(WatchedFolder::new("", &first))?.id.clone())
        })
        .expect("add");
        assert_eq!(id, "1");
        let again = WatchList::update(&file, |list| {
            list.add(WatchedFolder::new("", &first)).map(|_| ())
        });
        assert!(matches!(again, Err(WatchError::AlreadyWatched { .. })));
        WatchList::update(&file, |list| {
            list.find_mut(first.to_str().unwrap_or_default())?.enabled = false;
            Ok(())
        })
        .expect("pause");
        let list = WatchList::load(&file).expect("load");
        assert!(!list.folders[0].enabled);
        assert_eq!(list.folders[0].include, default_include());
        WatchList::update(&file, |list| list.remove("1").map(|_| ())).expect("remove");
        assert!(WatchList::load(&file).expect("load").folders.is_empty());
    }

    // The filter a folder's settings make (the `patterns` module compiles them).
    fn filter(recursive: bool) -> FolderFilter {
        let mut folder = WatchedFolder::new("1", "/w");
        folder.recursive = recursive;
        folder.after_upload = AfterUpload::Move {
            subfolder: "uploaded".to_owned(),
        };
        FolderFilter::new(&folder).expect("default patterns compile")
    }

    #[test]
    fn defaults_take_media_and_skip_partial_and_hidden_files() {
        let filter = filter(true);
        for wanted in ["a.png", "B.JPG", "clip.mp4", "sub/deeper/x.webp"] {
            assert!(filter.wants_file(Path::new(wanted)), "{wanted}");
        }
        for skipped in [
            ".hidden.png",
            "a.png.part",
            "a.png.crdownload",
            "a.png.tmp",
            "a.png~",
            "notes.txt",
            ".sync/a.png",
            "uploaded/a.png",
        ] {
            assert!(!filter.wants_file(Path::new(skipped)), "{skipped}");
        }
        assert!(filter.wants_file(Path::new("sub/uploaded/a.png")));
    }

    #[test]
    fn without_recursion_only_direct_children_count() {
        let filter = filter(false);
        assert!(filter.wants_file(Path::new("a.png")));
        assert!(!filter.wants_file(Path::new("sub/a.png")));
        assert!(!filter.enters_dir(Path::new("sub")));
        assert!(filter.enters_dir(Path::new("")));
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let mut folder = WatchedFolder::new("1", "/w");
        folder.include = vec!["*.{png".to_owned()];
        let error = FolderFilter::new(&folder).expect_err("unclosed brace");
        assert!(error.to_string().contains("*.{png"), "{error}");
    }
}
