//! After a confirmed upload: keep the file, move it into a subfolder, or delete it. A file that
//! changed since it was hashed is left alone: it is not what was uploaded.

use super::config::AfterUpload;
use super::settle::FileStamp;
use std::io;
use std::path::{Path, PathBuf};

/// What was done to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionTaken {
    /// Kept (the setting, or the file is gone or changed).
    Kept,
    /// Moved here.
    Moved(PathBuf),
    /// Deleted.
    Deleted,
}

/// Carries out `action` for `path`, which was `stamp` when its content was hashed; `root` is
/// the watched folder.
pub fn carry_out(
    action: &AfterUpload,
    root: &Path,
    path: &Path,
    stamp: FileStamp,
) -> io::Result<ActionTaken> {
    if matches!(action, AfterUpload::Keep) {
        return Ok(ActionTaken::Kept);
    }
    let unchanged = match std::fs::metadata(path) {
        Ok(meta) => FileStamp::of(&meta) == stamp,
        Err(error) if error.kind() == io::ErrorKind::NotFound => false,
        Err(error) => return Err(error),
    };
    if !unchanged {
        return Ok(ActionTaken::Kept);
    }
    match action {
        AfterUpload::Keep => Ok(ActionTaken::Kept),
        AfterUpload::Delete => {
            std::fs::remove_file(path)?;
            Ok(ActionTaken::Deleted)
        }
        AfterUpload::Move { subfolder } => {
            let target_dir = root.join(subfolder);
            std::fs::create_dir_all(&target_dir)?;
            let target = free_name(&target_dir, path);
            std::fs::rename(path, &target)?;
            Ok(ActionTaken::Moved(target))
        }
    }
}

/// `dir/<name>`, or `dir/<stem> (2).<ext>` and so on when that is taken: never overwrite.
fn free_name(dir: &Path, path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default();
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let stem = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let extension = path
        .extension()
        .map(|ext| format!(".{}", ext.to_string_lossy()))
        .unwrap_or_default();
    (2..)
        .map(|n| dir.join(format!("{stem} ({n}){extension}")))
        .find(|candidate| !candidate.exists())
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_without_overwriting_and_leaves_changed_files_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let path = root.join("a.png");
        let move_to = AfterUpload::Move {
            subfolder: "uploaded".to_owned(),
        };
        std::fs::create_dir(root.join("uploaded")).expect("mkdir");
        std::fs::write(root.join("uploaded/a.png"), b"earlier").expect("write");
        std::fs::write(&path, b"one").expect("write");
        let stamp = FileStamp::of(&std::fs::metadata(&path).expect("stat"));
        let taken = carry_out(&move_to, root, &path, stamp).expect("move");
        assert_eq!(taken, ActionTaken::Moved(root.join("uploaded/a (2).png")));
        assert_eq!(
            std::fs::read(root.join("uploaded/a.png")).expect("read"),
            b"earlier"
        );

        std::fs::write(&path, b"two").expect("write");
        let stale = FileStamp { size: 99, ..stamp };
        assert_eq!(
            carry_out(&AfterUpload::Delete, root, &path, stale).expect("delete"),
            ActionTaken::Kept
        );
        assert!(path.exists());
        let stamp = FileStamp::of(&std::fs::metadata(&path).expect("stat"));
        assert_eq!(
            carry_out(&AfterUpload::Delete, root, &path, stamp).expect("delete"),
            ActionTaken::Deleted
        );
        assert!(!path.exists());
    }
}
