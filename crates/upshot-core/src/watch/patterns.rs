//! Which paths below a watched folder are uploaded: include patterns on the file name, ignore
//! patterns on every part of the path, recursion, and the after-upload subfolder (never
//! watched, or moved files would come straight back).

use super::error::WatchError;
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use std::ffi::OsStr;
use std::path::{Component, Path};

/// What a folder's filter is made from: its patterns, recursion and after-upload subfolder.
/// Plain data, so this module does not import the saved list's types (`config` builds one
/// from a `WatchedFolder`, and imports this module).
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// File-name patterns to take.
    pub include: &'a [String],
    /// Patterns of any part of the path to skip.
    pub ignore: &'a [String],
    /// Look into subfolders.
    pub recursive: bool,
    /// The after-upload subfolder's name (directly under the folder), if files move there.
    pub move_subfolder: Option<&'a str>,
}

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
    /// Compiles a folder's patterns (a `&WatchedFolder` will do); a bad one is named in the
    /// error.
    pub fn new<'a>(rules: impl Into<Rules<'a>>) -> Result<Self, WatchError> {
        let rules = rules.into();
        Ok(Self {
            include: compile(rules.include, "include pattern")?,
            ignore: compile(rules.ignore, "ignore pattern")?,
            recursive: rules.recursive,
            move_subfolder: rules.move_subfolder.map(Into::into),
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
