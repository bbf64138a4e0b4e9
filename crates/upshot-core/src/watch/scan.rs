//! Catch-up: walks a watched folder (or a directory moved into it) and lists the files a
//! watcher should look at, skipping those the database already knows unchanged. Runs at start,
//! when a folder comes back, when events were lost (overflow), and for directories moved in.

use super::patterns::FolderFilter;
use super::settle::FileStamp;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What a scan found.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// Files to look at: new, or changed since they were last handed over.
    pub candidates: Vec<PathBuf>,
    /// Files seen in all (wanted by the patterns), new or not.
    pub seen: usize,
    /// Problems below the folder that do not stop it: symlink loops, unreadable subfolders.
    pub warnings: Vec<String>,
}

/// Walks `dir` (the folder `root` or a directory below it) with `filter`; `known` maps the
/// files the database knows to what they were when handed over. Symlinks are followed; a loop
/// is reported as a warning and not entered.
pub fn scan(
    root: &Path,
    dir: &Path,
    filter: &FolderFilter,
    known: &HashMap<PathBuf, FileStamp>,
) -> Result<ScanReport, std::io::Error> {
    // The folder itself must be listable: otherwise the whole folder is at fault.
    std::fs::read_dir(dir)?;
    let mut report = ScanReport::default();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_entry(|entry| {
            let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
            if entry.file_type().is_dir() {
                filter.enters_dir(relative)
            } else {
                filter.wants_file(relative)
            }
        });
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let message = match (error.loop_ancestor(), error.path()) {
                    (Some(ancestor), Some(path)) => format!(
                        "symlink loop: {} leads back to {}; not followed",
                        path.display(),
                        ancestor.display()
                    ),
                    (_, Some(path)) => format!("could not read {}: {error}", path.display()),
                    _ => error.to_string(),
                };
                report.warnings.push(message);
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        report.seen += 1;
        let path = entry.into_path();
        let unchanged = match known.get(&path) {
            Some(stamp) => std::fs::metadata(&path)
                .map(|meta| FileStamp::of(&meta) == *stamp)
                .unwrap_or(false),
            None => false,
        };
        if !unchanged {
            report.candidates.push(path);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::config::WatchedFolder;

    #[test]
    fn finds_new_and_changed_files_skips_known_ones_and_reports_symlink_loops() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir(root.join("sub")).expect("mkdir");
        std::fs::write(root.join("old.png"), b"old").expect("write");
        std::fs::write(root.join("sub/new.png"), b"new").expect("write");
        std::fs::write(root.join("notes.txt"), b"text").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink(root, root.join("sub/loop")).expect("symlink");
        let mut folder = WatchedFolder::new("1", root);
        folder.recursive = true;
        let filter = FolderFilter::new(&folder).expect("filter");
        let stamp = FileStamp::of(&std::fs::metadata(root.join("old.png")).expect("stat"));
        let known = HashMap::from([(root.join("old.png"), stamp)]);
        let report = scan(root, root, &filter, &known).expect("scan");
        assert_eq!(report.candidates, vec![root.join("sub/new.png")]);
        assert_eq!(report.seen, 2);
        #[cfg(unix)]
        assert!(
            report.warnings.iter().any(|w| w.contains("symlink loop")),
            "{:?}",
            report.warnings
        );
        assert!(scan(root, &root.join("missing"), &filter, &known).is_err());
    }
}
