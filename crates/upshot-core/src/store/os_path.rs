//! File paths in the database, kept exactly as the operating system gave them.
//!
//! A Linux file name is any bytes but `/` and NUL (`caf\xe9.png` from an old archive is legal),
//! so a path is stored as TEXT when it is valid UTF-8 (readable in the database, found by
//! text search) and as a BLOB of its raw bytes when it is not. The encoding is canonical (one
//! path, one value), so `WHERE path = ?` keeps working; reading accepts both. Only what is
//! shown to people (`--json`, CSV, the UI) is made lossy, by [`crate::shown_path`].

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A path to bind as an SQL parameter: TEXT when it is UTF-8, else a BLOB of its bytes.
#[derive(Debug, Clone, Copy)]
pub struct SqlPath<'a>(pub &'a Path);

impl ToSql for SqlPath<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0.to_str() {
            Some(text) => ToSqlOutput::from(text),
            None => ToSqlOutput::from(bytes(self.0)),
        })
    }
}

/// A path read from a column written through [`SqlPath`] (TEXT or BLOB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPath(pub PathBuf);

impl FromSql for StoredPath {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Text(text) | ValueRef::Blob(text) => Ok(Self(from_bytes(text.to_vec()))),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl From<StoredPath> for PathBuf {
    fn from(stored: StoredPath) -> Self {
        stored.0
    }
}

/// The path's raw bytes (on unix exactly the OS's; elsewhere its UTF-8, lossily).
pub fn bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

fn from_bytes(raw: Vec<u8>) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        PathBuf::from(OsString::from_vec(raw))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(OsString::from(String::from_utf8_lossy(&raw).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn keeps_utf8_as_text_and_other_bytes_as_a_blob() {
        let conn = Connection::open_in_memory().expect("db");
        conn.execute_batch("CREATE TABLE t (p TEXT PRIMARY KEY)")
            .expect("table");
        let plain = Path::new("/photos/café.png");
        #[cfg(unix)]
        let odd = {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(b"/photos/caf\xe9.png"))
        };
        #[cfg(not(unix))]
        let odd = PathBuf::from("/photos/odd.png");
        for path in [plain, odd.as_path()] {
            conn.execute("INSERT INTO t (p) VALUES (?1)", [SqlPath(path)])
                .expect("insert");
            let back: StoredPath = conn
                .query_row("SELECT p FROM t WHERE p = ?1", [SqlPath(path)], |row| {
                    row.get(0)
                })
                .expect("found");
            assert_eq!(back.0, path);
        }
        let kinds: Vec<String> = conn
            .prepare("SELECT typeof(p) FROM t ORDER BY rowid")
            .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
            .expect("types");
        #[cfg(unix)]
        assert_eq!(kinds, ["text", "blob"]);
    }
}
