//! Upshot's own copies of images that exist nowhere else yet: clipboard pastes and screenshots.
//!
//! Their bytes are written to `<data_dir>/spool/<random>.<ext>` (a temporary file, fsync, then a
//! rename, so a file with the final name is always complete) and only then queued with
//! `spooled = true`, so a crash at any point loses nothing: either the file is not there yet, or
//! it is, complete, and its job is queued (or it is an orphan that [`Spool::files`] finds). The
//! runner removes the file once the upload is confirmed.

use crate::store::StoreError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The spool directory's name inside the data directory.
pub const SPOOL_DIR: &str = "spool";
/// Where fitted copies wait for their upload: apart from the spool, so the crash recovery of
/// clipboard images never mistakes one for a picture the user handed over.
pub const PREPARED_DIR: &str = "prepared";
/// An unreferenced fitted copy younger than this may belong to a job another process is about
/// to queue; older ones are leftovers of a crash or an aborted run.
pub const PREPARED_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Names of files still being written start with this (and are never queued).
const PARTIAL_PREFIX: &str = ".partial-";

/// The spool directory of one data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// The spool of `data_dir` (created on first [`store`](Self::store)).
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join(SPOOL_DIR),
        }
    }

    /// The directory of fitted copies, `<data_dir>/prepared`: the same durable, private writes,
    /// but never recovered as uploads (see [`sweep_unreferenced`](Self::sweep_unreferenced)).
    pub fn prepared(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join(PREPARED_DIR),
        }
    }

    /// Removes complete files that no job refers to and that are older than `grace` (a crash
    /// or an aborted run left them; they are derived copies, never the user's only copy).
    /// Returns how many.
    pub fn sweep_unreferenced(
        &self,
        referenced: &std::collections::HashSet<PathBuf>,
        grace: std::time::Duration,
    ) -> Result<usize, StoreError> {
        self.sweep_partial()?;
        let mut removed = 0;
        for path in self.files()? {
            if referenced.contains(&path) {
                continue;
            }
            let old_enough = std::fs::metadata(&path)
                .and_then(|metadata| metadata.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age >= grace);
            if old_enough && self.remove(&path)? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// `<data_dir>/spool`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `bytes` durably to a new file `<random>.<extension>` (0600, in a 0700 directory:
    /// screenshots can be private) and returns its path. `extension` is e.g. `png`: letters and
    /// digits only, at most 8.
    pub fn store(&self, bytes: &[u8], extension: &str) -> Result<PathBuf, StoreError> {
        if extension.is_empty()
            || extension.len() > 8
            || !extension.bytes().all(|byte| byte.is_ascii_alphanumeric())
        {
            return Err(StoreError::BadExtension {
                extension: extension.to_owned(),
            });
        }
        crate::store::create_private_dirs(&self.dir)?;
        let name = format!("{:032x}.{extension}", rand::random::<u128>());
        let partial = self.dir.join(format!("{PARTIAL_PREFIX}{name}"));
        let path = self.dir.join(&name);
        let written = write_synced(&partial, bytes).and_then(|()| {
            std::fs::rename(&partial, &path)
                .map_err(|error| StoreError::io("rename", &partial, error))
        });
        if let Err(error) = written {
            // Best effort: the partial file is useless, and sweep_partial catches what this misses.
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
        sync_dir(&self.dir)?;
        Ok(path)
    }

    /// Whether `path` names a file directly inside the spool directory.
    pub fn contains(&self, path: &Path) -> bool {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return false;
        };
        if name == ".." || name == "." {
            return false;
        }
        match (parent.canonicalize(), self.dir.canonicalize()) {
            (Ok(parent), Ok(dir)) => parent == dir,
            _ => false,
        }
    }

    /// Removes a spooled file after its upload was confirmed. Refuses
    /// ([`StoreError::NotInSpool`]) anything outside the spool directory: Upshot never deletes a
    /// user's own files. Returns whether there was a file to remove.
    pub fn remove(&self, path: &Path) -> Result<bool, StoreError> {
        if !self.contains(path) {
            return Err(StoreError::NotInSpool {
                path: path.to_path_buf(),
                spool: self.dir.clone(),
            });
        }
        match std::fs::remove_file(path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(StoreError::io("remove", path, error)),
        }
    }

    /// Every complete file in the spool (partial ones left by a crash are not listed), sorted:
    /// compare with the queued jobs to find orphans.
    pub fn files(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut files: Vec<PathBuf> = self
            .entries()?
            .into_iter()
            .filter(|path| !is_partial(path))
            .collect();
        files.sort();
        Ok(files)
    }

    /// Removes partial files a crash left behind mid-write (never queued, so never needed).
    /// Returns how many.
    pub fn sweep_partial(&self) -> Result<usize, StoreError> {
        let mut removed = 0;
        for path in self.entries()?.into_iter().filter(|path| is_partial(path)) {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(StoreError::io("remove", &path, error)),
            }
        }
        Ok(removed)
    }

    fn entries(&self) -> Result<Vec<PathBuf>, StoreError> {
        let read = match std::fs::read_dir(&self.dir) {
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(StoreError::io("list", &self.dir, error)),
        };
        let mut paths = Vec::new();
        for entry in read {
            let entry = entry.map_err(|error| StoreError::io("list", &self.dir, error))?;
            if entry.file_type().is_ok_and(|kind| kind.is_file()) {
                paths.push(entry.path());
            }
        }
        Ok(paths)
    }
}

fn is_partial(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with(PARTIAL_PREFIX))
}

/// Creates `path` (it must not exist) readable only by the user, writes `bytes`, and fsyncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|error| StoreError::io("create", path, error))?;
    file.write_all(bytes)
        .map_err(|error| StoreError::io("write", path, error))?;
    file.sync_all()
        .map_err(|error| StoreError::io("sync", path, error))
}

/// Makes a rename inside `dir` durable (unix; elsewhere the rename is as durable as it gets).
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|error| StoreError::io("sync", dir, error))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
