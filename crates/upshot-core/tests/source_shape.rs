//! The core's shape, read from its sources: small files, and names that say one thing.
//!
//! - No source file of `upshot-core` is over [`MAX_LINES`] lines. Unit tests do not count: a
//!   module whose tests are long keeps them in its own `tests.rs` (`#[cfg(test)] mod tests;`),
//!   which is not measured, so what is measured is the code itself, honestly, line for line.
//! - No two types of the core (`pub`, `pub(crate)` or `pub(super)` structs, enums, traits and
//!   type aliases) share a name: a reader meeting `Admission` should not have to ask which one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The most lines a source file of the core may have (docs/ARCHITECTURE.md: small modules, one
/// job each).
const MAX_LINES: usize = 600;

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir` but the `tests.rs` files of unit tests, sorted.
fn source_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|name| name != "tests.rs")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn shown(path: &Path) -> String {
    path.strip_prefix(core_src())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The files over `max` lines, with their counts.
fn oversized(files: &[PathBuf], max: usize) -> Vec<(String, usize)> {
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            (shown(path), text.lines().count())
        })
        .filter(|(_, lines)| *lines > max)
        .collect()
}

/// The type names declared in `text`: `pub`, `pub(crate)`, `pub(super)`
/// `struct`/`enum`/`trait`/`type` items at any depth.
fn declared_types(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let mut rest = line.trim_start();
        let Some(after_pub) = rest.strip_prefix("pub") else {
            continue;
        };
        rest = after_pub;
        if let Some(scoped) = rest.strip_prefix('(') {
            let Some(close) = scoped.find(')') else {
                continue;
            };
            rest = &scoped[close + 1..];
        }
        let rest = rest.trim_start();
        for keyword in ["struct ", "enum ", "trait ", "type "] {
            if let Some(named) = rest.strip_prefix(keyword) {
                let name: String = named
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// Each type name declared in more than one place, with the files that declare it.
fn shared_names(files: &[PathBuf]) -> BTreeMap<String, Vec<String>> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in files {
        let text = std::fs::read_to_string(path).unwrap();
        for name in declared_types(&text) {
            seen.entry(name).or_default().push(shown(path));
        }
    }
    seen.retain(|_, places| places.len() > 1);
    seen
}

#[test]
fn no_core_source_file_is_over_600_lines() {
    let files = source_files(&core_src());
    assert!(files.len() > 50, "the scan found too few files: {files:?}");
    let big = oversized(&files, MAX_LINES);
    assert!(
        big.is_empty(),
        "core source files over {MAX_LINES} lines (split them by job, or move a long \
         `#[cfg(test)] mod tests {{ … }}` into its own tests.rs):\n{}",
        big.iter()
            .map(|(file, lines)| format!("  {file}: {lines} lines"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn no_two_types_of_the_core_share_a_name() {
    let files = source_files(&core_src());
    let shared = shared_names(&files);
    assert!(
        shared.is_empty(),
        "types of the core that share a name (rename the less central one to what it is):\n{}",
        shared
            .iter()
            .map(|(name, places)| format!("  {name}: {}", places.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_checks_see_big_files_and_shared_names_in_a_small_fake_core() {
    let dir = tempfile::tempdir().unwrap();
    let write = |relative: &str, text: &str| {
        let path = dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("a.rs", &"// line\n".repeat(601));
    write(
        "b/mod.rs",
        "pub(crate) struct Admission;\npub enum Kind {}\n",
    );
    write("b/tests.rs", &"pub struct Kind;\n".repeat(700));
    write(
        "c.rs",
        "    pub(super) enum Admission { Now }\nstruct Private;\npub type Alias = u8;\n",
    );

    let files = source_files(dir.path());
    assert_eq!(files.len(), 3, "tests.rs is not measured: {files:?}");
    let big = oversized(&files, MAX_LINES);
    assert_eq!(big.len(), 1, "{big:?}");
    assert!(big[0].0.ends_with("a.rs") && big[0].1 == 601, "{big:?}");
    let shared = shared_names(&files);
    assert_eq!(
        shared.keys().collect::<Vec<_>>(),
        ["Admission"],
        "{shared:?}"
    );
}
