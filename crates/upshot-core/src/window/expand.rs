//! What a drop hands over: files as they are (preflight says why one is refused), folders
//! opened recursively for the images and videos in them. A folder's other files (text, hidden
//! files) are skipped and counted, not refused one by one.

use std::io::Read;
use std::path::{Path, PathBuf};

/// A drop above this many files (from folders) is asked about first.
pub const ASK_ABOVE_FILES: usize = 100;

/// The files of a drop, in the order given (a folder's files sorted by path).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Expanded {
    /// The files to hand to preflight.
    pub files: Vec<PathBuf>,
    /// Files inside folders that are not images or videos.
    pub skipped: u32,
}

/// Opens the folders among `paths`; other paths pass as they are.
pub fn expand(paths: &[PathBuf]) -> Expanded {
    let mut expanded = Expanded::default();
    for path in paths {
        if path.is_dir() {
            add_folder(path, &mut expanded);
        } else {
            expanded.files.push(path.clone());
        }
    }
    expanded
}

fn add_folder(folder: &Path, expanded: &mut Expanded) {
    let walk = walkdir::WalkDir::new(folder)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
    for entry in walk.flatten() {
        if !entry.file_type().is_file() {
            continue;
        }
        if is_media(entry.path()) {
            expanded.files.push(entry.into_path());
        } else {
            expanded.skipped += 1;
        }
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// Whether a file's first bytes are an image or video Imgur takes.
fn is_media(path: &Path) -> bool {
    let mut head = Vec::with_capacity(512);
    match std::fs::File::open(path) {
        Ok(file) => {
            if file.take(512).read_to_end(&mut head).is_err() {
                return false;
            }
        }
        Err(_) => return false,
    }
    crate::media::sniff(&head).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn folders_open_recursively_for_their_media_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("shots");
        std::fs::create_dir_all(root.join("b/deeper")).unwrap();
        std::fs::create_dir_all(root.join(".cache")).unwrap();
        std::fs::write(root.join("a.png"), PNG).unwrap();
        std::fs::write(root.join("b/deeper/c.png"), PNG).unwrap();
        std::fs::write(root.join("b/readme.txt"), "hello").unwrap();
        std::fs::write(root.join(".cache/d.png"), PNG).unwrap();
        let loose = dir.path().join("loose.txt");
        std::fs::write(&loose, "given by name: preflight says why it is refused").unwrap();
        let expanded = expand(&[loose.clone(), root.clone()]);
        assert_eq!(
            expanded.files,
            vec![loose, root.join("a.png"), root.join("b/deeper/c.png")]
        );
        assert_eq!(expanded.skipped, 1);
    }

    #[test]
    fn a_missing_path_passes_through_for_preflight_to_explain() {
        let missing = PathBuf::from("/nonexistent/upshot/x.png");
        assert_eq!(expand(std::slice::from_ref(&missing)).files, vec![missing]);
    }
}
