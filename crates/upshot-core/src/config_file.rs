//! The one way Upshot writes its config and secrets files (`settings.json`, `watch.json`,
//! `secrets.json`), and what it does with one it cannot read.
//!
//! The CLI and the desktop app share these files and may run at once, and a crash or a full disk
//! may stop a write half-way. So every write goes to a temporary file in the same folder, is
//! synced, made readable only by the user, and renamed over the old file (the folder is synced
//! too): a reader sees the old file or the new one, never half of one. Writes, and every
//! read-modify-write, hold an advisory lock on a sibling `<name>.lock` file, shared by every
//! process ([`std::fs::File::lock`]), so two processes never lose each other's change.
//!
//! A file that exists but cannot be parsed would otherwise stop the app from starting: it is
//! renamed aside with the time (`settings.json.corrupt-20261124T153000Z`), the defaults are
//! used, and a [`ConfigNotice`] says so to the user.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A config or secrets file could not be locked, written or set aside.
#[derive(Debug, thiserror::Error)]
#[error(
    "Could not {action} {path}: {source}. Check that the folder exists, is yours and has free space."
)]
pub struct ConfigFileError {
    /// What was being done ("write", "lock", "set aside").
    pub action: &'static str,
    /// The file.
    pub path: PathBuf,
    /// The operating system's error.
    #[source]
    pub source: std::io::Error,
}

/// `io`, like the I/O errors of the layers that wrap it (settings, watched folders).
impl crate::error::ErrorCode for ConfigFileError {
    fn code(&self) -> &'static str {
        "io"
    }
}

crate::error::serialize_as_coded!(ConfigFileError);

impl ConfigFileError {
    fn new(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What to tell the user about a config file that was set aside: serializes as
/// `{code, message, file, set_aside_as}` for the app; the CLI prints `message` on stderr.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ConfigNotice {
    /// Always `config_set_aside`.
    pub code: &'static str,
    /// What happened and what to do, in words.
    pub message: String,
    /// The file that could not be read.
    pub file: PathBuf,
    /// Where its content is now.
    pub set_aside_as: PathBuf,
}

/// The advisory lock of one config file, held until dropped. While it is held the holder may
/// [`write`](Self::write) the file; no other process (or thread) holds it meanwhile.
#[derive(Debug)]
pub struct FileLock {
    _lock: File,
    path: PathBuf,
}

impl FileLock {
    /// Waits for the lock of `path` (the sibling `<name>.lock`, created 0600 when missing;
    /// the folder is created 0700 when missing).
    pub fn acquire(path: &Path) -> Result<Self, ConfigFileError> {
        let dir = parent_of(path);
        create_private_dirs(dir)?;
        let lock_path = lock_path(path);
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(&lock_path)
            .map_err(|error| ConfigFileError::new("open the lock", &lock_path, error))?;
        file.lock()
            .map_err(|error| ConfigFileError::new("lock", &lock_path, error))?;
        Ok(Self {
            _lock: file,
            path: path.to_path_buf(),
        })
    }

    /// Replaces the locked file with `bytes`: a temporary file in the same folder is written,
    /// synced, made 0600 and renamed over it, then the folder is synced. On any failure the old
    /// file is left as it was and the temporary file is removed. Temporary files left by a
    /// writer that died are removed first (they cannot be in use: their writer held this lock).
    pub fn write(&self, bytes: &[u8]) -> Result<(), ConfigFileError> {
        let path = &self.path;
        let dir = parent_of(path);
        let prefix = temp_prefix(path);
        remove_leftovers(dir, &prefix);
        let mut temp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|error| ConfigFileError::new("write", path, error))?;
        temp.write_all(bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|error| ConfigFileError::new("write", path, error))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|error| ConfigFileError::new("set permissions on", path, error))?;
        }
        temp.persist(path)
            .map_err(|error| ConfigFileError::new("write", path, error.error))?;
        sync_dir(dir).map_err(|error| ConfigFileError::new("sync the folder of", path, error))
    }
}

/// Runs `f` holding the lock of `path`: for a read-modify-write (`f` writes through the lock).
pub fn with_lock<T, E: From<ConfigFileError>>(
    path: &Path,
    f: impl FnOnce(&FileLock) -> Result<T, E>,
) -> Result<T, E> {
    let lock = FileLock::acquire(path)?;
    f(&lock)
}

/// Replaces `path` with `bytes` atomically, owner-only, under its lock.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ConfigFileError> {
    FileLock::acquire(path)?.write(bytes)
}

/// Reads the JSON file at `path`: a missing file is `T::default()`; a file that cannot be parsed
/// is set aside (see [`set_aside`]) and `T::default()` used, with the notice to show. `then`
/// says what the user can do next (it ends the notice's message).
pub fn read_json_or_set_aside<T: DeserializeOwned + Default>(
    path: &Path,
    then: &str,
) -> Result<(T, Option<ConfigNotice>), ConfigFileError> {
    if let Ok(value) = read_json(path)? {
        return Ok((value, None));
    }
    // Look again under the lock, so a file another process is replacing right now is not set
    // aside, and two processes do not both set it aside.
    with_lock(path, |_| match read_json(path)? {
        Ok(value) => Ok((value, None)),
        Err(reason) => {
            let moved_to = set_aside(path)?;
            let notice = notice(path, &moved_to, &reason, then);
            tracing::info!("{}", notice.message);
            Ok((T::default(), Some(notice)))
        }
    })
}

/// The file parsed (`Ok(Ok)`), missing (the default), or not parseable (`Ok(Err(why))`, in
/// words that never quote the content).
fn read_json<T: DeserializeOwned + Default>(
    path: &Path,
) -> Result<Result<T, String>, ConfigFileError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).map_err(|error| describe(&error))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Ok(T::default())),
        Err(error) => Err(ConfigFileError::new("read", path, error)),
    }
}

/// Where a parse failed, without serde's message (which may quote the file).
fn describe(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Eof if error.line() <= 1 && error.column() == 0 => return "it is empty".into(),
        Category::Eof => "it ends too early",
        Category::Data => "a value has the wrong type",
        Category::Syntax | Category::Io => "it is not valid JSON",
    };
    format!("{what} (line {}, column {})", error.line(), error.column())
}

fn notice(file: &Path, moved_to: &Path, reason: &str, then: &str) -> ConfigNotice {
    ConfigNotice {
        code: "config_set_aside",
        message: format!(
            "{} could not be read ({reason}); it was moved to {} and Upshot started from the \
             defaults. {then}",
            file.display(),
            moved_to.display()
        ),
        file: file.to_path_buf(),
        set_aside_as: moved_to.to_path_buf(),
    }
}

/// Renames `path` to `<name>.corrupt-<UTC time>` (with `-2`, `-3`… when that name is taken)
/// and returns the new name.
pub fn set_aside(path: &Path) -> Result<PathBuf, ConfigFileError> {
    let stamp: String = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = format!("{name}.corrupt-{stamp}");
    let mut candidate = path.with_file_name(&base);
    let mut n = 2;
    while candidate.exists() {
        candidate = path.with_file_name(format!("{base}-{n}"));
        n += 1;
    }
    std::fs::rename(path, &candidate)
        .map_err(|error| ConfigFileError::new("set aside", path, error))?;
    // Best effort: the rename is what matters, the folder's sync makes it last.
    let _ = sync_dir(parent_of(path));
    Ok(candidate)
}

/// The lock file of `path`: `<name>.lock` next to it.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

fn temp_prefix(path: &Path) -> String {
    format!(
        ".{}.",
        path.file_name().unwrap_or_default().to_string_lossy()
    )
}

/// Removes `<prefix>*.tmp` files in `dir`: what a writer killed mid-write left.
fn remove_leftovers(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(prefix) && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Creates `dir` and its missing parents, 0700 on unix (an existing folder is left as it is).
fn create_private_dirs(dir: &Path) -> Result<(), ConfigFileError> {
    crate::paths::create_private_dirs(dir)
        .map_err(|error| ConfigFileError::new("create", dir, error))
}

/// Makes a rename in `dir` durable (unix; elsewhere the rename is all there is).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_failures_are_described_without_quoting_the_file() {
        let error = serde_json::from_str::<serde_json::Value>("{\"k\": secret-words").unwrap_err();
        let text = describe(&error);
        assert!(text.contains("not valid JSON"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        let error = serde_json::from_str::<serde_json::Value>("").unwrap_err();
        assert_eq!(describe(&error), "it is empty");
    }
}
