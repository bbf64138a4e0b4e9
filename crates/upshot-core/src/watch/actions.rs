//! After a confirmed upload: keep the file, move it into a subfolder, or delete it. Only the
//! file itself, in the watched folder, with the content that was uploaded, is ever touched: a
//! file that changed since it was hashed is left alone (it is not what was uploaded), a symlink
//! is left alone (its target may be anywhere), and nothing reached through a symlinked
//! directory outside the folder is deleted or moved.

use super::config::AfterUpload;
use super::settle::FileStamp;
use crate::content_hash::hash_file;
use std::io;
use std::path::{Path, PathBuf};

/// What was done to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionTaken {
    /// Kept (the setting, or the file is gone or changed).
    Kept,
    /// Left alone for a reason the user should hear (a symlink, outside the folder).
    Refused(String),
    /// Moved here.
    Moved(PathBuf),
    /// Deleted.
    Deleted,
}

/// Carries out `action` for `path`, which was `stamp` with content `hash` (BLAKE3) when it was
/// handed over; `root` is the watched folder.
pub fn carry_out(
    action: &AfterUpload,
    root: &Path,
    path: &Path,
    stamp: FileStamp,
    hash: &str,
) -> io::Result<ActionTaken> {
    if matches!(action, AfterUpload::Keep) {
        return Ok(ActionTaken::Kept);
    }
    // `symlink_metadata`: the entry in the folder itself, not what a link points to.
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(ActionTaken::Kept),
        Err(error) => return Err(error),
    };
    if meta.file_type().is_symlink() {
        return Ok(ActionTaken::Refused(
            "it is a symbolic link, so it was left alone (its target was uploaded, and may \
             be outside the watched folder); remove the link yourself if you want"
                .to_owned(),
        ));
    }
    if !meta.is_file() || FileStamp::of(&meta) != stamp {
        return Ok(ActionTaken::Kept);
    }
    let canonical_root = std::fs::canonicalize(root)?;
    if !inside(&canonical_root, path)? {
        return Ok(ActionTaken::Refused(outside_message(root)));
    }
    // Size and time can stay the same while the content changes (a copy keeping the time):
    // only the content that was uploaded is deleted or moved away.
    if hash_file(path)? != hash {
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
            if !inside(&canonical_root, &target)? {
                return Ok(ActionTaken::Refused(outside_message(root)));
            }
            std::fs::rename(path, &target)?;
            Ok(ActionTaken::Moved(target))
        }
    }
}

/// Whether `path`'s directory, with every symlink resolved, is the (canonical) `root` or
/// below it: a file reached through a symlinked directory elsewhere is not in the folder.
fn inside(root: &Path, path: &Path) -> io::Result<bool> {
    let Some(parent) = path.parent() else {
        return Ok(false);
    };
    Ok(std::fs::canonicalize(parent)?.starts_with(root))
}

fn outside_message(root: &Path) -> String {
    format!(
        "it is reached through a symbolic link that leads out of the watched folder {}, so it \
         was left alone",
        root.display()
    )
}

/// `dir/<name>`, or `dir/<stem> (2).<ext>` and so on when that is taken: never overwrite.
/// Names are built from the OS strings, so a name that is not UTF-8 keeps its bytes.
fn free_name(dir: &Path, path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default();
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let stem = path.file_stem().unwrap_or_default();
    (2..)
        .map(|n| {
            let mut candidate = stem.to_os_string();
            candidate.push(format!(" ({n})"));
            if let Some(extension) = path.extension() {
                candidate.push(".");
                candidate.push(extension);
            }
            dir.join(candidate)
        })
        .find(|candidate| !candidate.exists())
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp_and_hash(path: &Path) -> (FileStamp, String) {
        let stamp = FileStamp::of(&std::fs::metadata(path).expect("stat"));
        (stamp, hash_file(path).expect("hash"))
    }

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
        let (stamp, hash) = stamp_and_hash(&path);
        let taken = carry_out(&move_to, root, &path, stamp, &hash).expect("move");
        assert_eq!(taken, ActionTaken::Moved(root.join("uploaded/a (2).png")));
        assert_eq!(
            std::fs::read(root.join("uploaded/a.png")).expect("read"),
            b"earlier"
        );

        std::fs::write(&path, b"two").expect("write");
        let (stamp, hash) = stamp_and_hash(&path);
        let stale = FileStamp { size: 99, ..stamp };
        assert_eq!(
            carry_out(&AfterUpload::Delete, root, &path, stale, &hash).expect("delete"),
            ActionTaken::Kept
        );
        assert!(path.exists());
        assert_eq!(
            carry_out(&AfterUpload::Delete, root, &path, stamp, &hash).expect("delete"),
            ActionTaken::Deleted
        );
        assert!(!path.exists());
    }
}
