//! Which paths below a watched folder are uploaded: include patterns on the file name, ignore
//! patterns on every part of the path, recursion, and the after-upload subfolder (never
//! watched, or moved files would come straight back).

use super::config::WatchedFolder;
use super::error::WatchError;
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use std::ffi::OsStr;
use std::path::{Component, Path};

/// One folder's rules, compiled once.
#[derive(Debug, Clone)]
pub struct FolderFilter {
    include: GlobSet,
    ignore: GlobSet,
    recursive: bool,
    /// The after-upload subfolder's name (directly under the folder), if any.
    move_subfolder: Option<std::ffi::OsString>,
}

fn compile(patterns: &[String], what: &'static str) -> Result<GlobSet, WatchError> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob: Glob = GlobBuilder::new(pattern)
            .case_insensitive(true)
            .literal_separator(true)
            .build()
            .map_err(|_| WatchError::BadSetting {
                what,
                value: pattern.clone(),
                expected: "a file-name pattern such as *.png or IMG_*",
            })?;
        set.add(glob);
    }
    set.build()
        .map_err(|error| WatchError::Internal(error.to_string()))
}

impl FolderFilter {
    /// Compiles a folder's patterns; a bad one is named in the error.
    pub fn new(folder: &WatchedFolder) -> Result<Self, WatchError> {
        Ok(Self {
            include: compile(&folder.include, "include pattern")?,
            ignore: compile(&folder.ignore, "ignore pattern")?,
            recursive: folder.recursive,
            move_subfolder: match &folder.after_upload {
                super::config::AfterUpload::Move { subfolder } => Some(subfolder.into()),
                _ => None,
            },
        })
    }

    fn ignored_name(&self, name: &OsStr) -> bool {
        self.ignore.is_match(Path::new(name))
    }

    /// Whether a directory at `relative` (below the folder) is looked into.
    pub fn enters_dir(&self, relative: &Path) -> bool {
        let mut depth = 0;
        for component in relative.components() {
            let Component::Normal(name) = component else {
                return false;
            };
            if depth == 0 && self.move_subfolder.as_deref() == Some(name) {
                return false;
            }
            if self.ignored_name(name) {
                return false;
            }
            depth += 1;
        }
        depth == 0 || self.recursive
    }

    /// Whether a file at `relative` (below the folder) is uploaded.
    pub fn wants_file(&self, relative: &Path) -> bool {
        let Some(name) = relative.file_name() else {
            return false;
        };
        let parent = relative.parent().unwrap_or(Path::new(""));
        self.enters_dir(parent)
            && !self.ignored_name(name)
            && self.include.is_match(Path::new(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::config::AfterUpload;

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
