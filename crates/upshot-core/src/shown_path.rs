//! Paths as people read them: `--json`, the CSV export and the UI show every path as text,
//! with `\u{FFFD}` for bytes that are not UTF-8, instead of failing on one odd file name (serde
//! refuses to serialize such a `PathBuf`). The path itself is kept exactly elsewhere (see
//! [`crate::store::os_path`]).

use std::path::{Path, PathBuf};

/// Serializes a path as readable text. For `#[serde(serialize_with = "…")]`.
pub fn lossy<S: serde::Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

/// [`lossy`] for an optional path.
pub fn lossy_opt<S: serde::Serializer>(
    path: &Option<PathBuf>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => serializer.serialize_some(&*path.to_string_lossy()),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize)]
    struct Shown(#[serde(serialize_with = "super::lossy")] std::path::PathBuf);

    #[cfg(unix)]
    #[test]
    fn a_name_that_is_not_utf8_is_shown_with_a_replacement_character() {
        use std::os::unix::ffi::OsStrExt;
        let odd = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b"/photos/caf\xe9.png"));
        let json = serde_json::to_string(&Shown(odd)).expect("json");
        assert_eq!(json, "\"/photos/caf\u{fffd}.png\"");
    }
}
