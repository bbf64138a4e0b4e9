//! Finished uploads: every image Upshot uploaded, with the deletehash that removes it.
//!
//! Entries are written by [`JobQueue::complete`](crate::queue::JobQueue::complete) (with the
//! job, in one transaction) or by [`History::record`] (uploads made outside the queue), and never
//! removed: deleting an image marks its entry ([`History::mark_deleted`]) so exports still show
//! what was uploaded and when it was taken down.

use crate::store::os_path::{SqlPath, StoredPath};
use crate::store::{SqlContext, StoreError};
use crate::types::{JobId, Origin, PreflightReport};
use rusqlite::{Connection, Row, params};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};
use upshot_imgur::Image;

use crate::types::HistoryId;

/// An upload to remember.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewHistoryEntry {
    /// The job that uploaded it, if it went through the queue.
    pub job_id: Option<JobId>,
    /// Imgur's id of the image.
    pub imgur_id: String,
    /// The direct link.
    pub link: String,
    /// The secret that deletes it (anonymous uploads; logged-in ones delete by id).
    pub deletehash: Option<String>,
    /// MIME type as Imgur stored it.
    pub mime_type: String,
    /// Size in bytes as Imgur stored it.
    pub size: u64,
    /// Width in pixels, where known.
    pub width: Option<u32>,
    /// Height in pixels, where known.
    pub height: Option<u32>,
    /// The album it was added to.
    pub album: Option<String>,
    /// The account it was uploaded as (`None`: anonymous).
    pub account: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// The file it came from.
    #[serde(serialize_with = "crate::shown_path::lossy_opt")]
    pub source_path: Option<PathBuf>,
    /// How the file reached Upshot.
    pub origin: Origin,
    /// The API it went to (Imgur, or the sandbox): ids and deletehashes only mean something
    /// there.
    pub api_base: String,
    /// When it was uploaded (ms since the epoch).
    pub uploaded_at: i64,
    /// What preflight found and did (metadata removed, fitted).
    pub preflight: Option<PreflightReport>,
}

impl NewHistoryEntry {
    /// The entry for an image Imgur returned; album, account, source path and job are left for
    /// the caller to fill in.
    pub fn from_image(image: &Image, origin: Origin, api_base: &str, uploaded_at: i64) -> Self {
        Self {
            job_id: None,
            imgur_id: image.id.clone(),
            link: image.link.clone(),
            deletehash: image.deletehash.clone(),
            mime_type: image.mime_type.clone(),
            size: image.size,
            width: Some(image.width).filter(|width| *width > 0),
            height: Some(image.height).filter(|height| *height > 0),
            album: None,
            account: None,
            title: image.title.clone(),
            source_path: None,
            origin,
            api_base: api_base.to_owned(),
            uploaded_at,
            preflight: None,
        }
    }
}

/// A remembered upload (every column of `history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Its row id.
    pub id: HistoryId,
    /// The job that uploaded it, if any.
    pub job_id: Option<JobId>,
    /// Imgur's id of the image.
    pub imgur_id: String,
    /// The direct link.
    pub link: String,
    /// The secret that deletes it.
    pub deletehash: Option<String>,
    /// MIME type.
    pub mime_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Width in pixels.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// Album.
    pub album: Option<String>,
    /// Account (`None`: anonymous).
    pub account: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// The file it came from.
    #[serde(serialize_with = "crate::shown_path::lossy_opt")]
    pub source_path: Option<PathBuf>,
    /// How the file reached Upshot.
    pub origin: Origin,
    /// The API it went to.
    pub api_base: String,
    /// When it was uploaded (ms).
    pub uploaded_at: i64,
    /// When it was deleted from Imgur (ms), if it was.
    pub deleted_at: Option<i64>,
    /// What preflight found and did before it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<PreflightReport>,
}

/// Every column of `history`, in the order [`read_entry`] reads them.
const HISTORY_COLUMNS: &str = "id, job_id, imgur_id, link, deletehash, mime_type, size, width, \
    height, album, account, title, source_path, origin, api_base, uploaded_at, deleted_at, preflight";

/// The history over one connection (see [`JobQueue`](crate::queue::JobQueue) for how
/// connections are shared).
#[derive(Debug, Clone, Copy)]
pub struct History<'c> {
    conn: &'c Connection,
}

impl<'c> History<'c> {
    /// The history stored in `conn`'s database.
    pub fn new(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Remembers an upload made outside the queue (the queue's uploads are recorded by
    /// [`JobQueue::complete`](crate::queue::JobQueue::complete)).
    pub fn record(&self, entry: &NewHistoryEntry) -> Result<HistoryId, StoreError> {
        insert(self.conn, entry, UploadedBy::default())
    }

    /// A page of entries, newest first.
    pub fn list(&self, limit: u32, offset: u32) -> Result<Vec<HistoryEntry>, StoreError> {
        self.select(
            &format!(
                "SELECT {HISTORY_COLUMNS} FROM history \
                 ORDER BY uploaded_at DESC, id DESC LIMIT ?1 OFFSET ?2"
            ),
            params![limit, offset],
        )
    }

    /// The newest upload that has not been deleted (`upshot last`: its link is still good).
    pub fn last(&self) -> Result<Option<HistoryEntry>, StoreError> {
        Ok(self
            .select(
                &format!(
                    "SELECT {HISTORY_COLUMNS} FROM history WHERE deleted_at IS NULL \
                     ORDER BY uploaded_at DESC, id DESC LIMIT 1"
                ),
                [],
            )?
            .pop())
    }

    /// One entry.
    pub fn get(&self, id: HistoryId) -> Result<Option<HistoryEntry>, StoreError> {
        Ok(self
            .select(
                &format!("SELECT {HISTORY_COLUMNS} FROM history WHERE id = ?1"),
                [id.0],
            )?
            .pop())
    }

    /// The entries of an Imgur id, newest first: usually one, but the same id may exist at two
    /// API bases (Imgur and the sandbox), so check `api_base`.
    pub fn find_by_imgur_id(&self, imgur_id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        self.select(
            &format!(
                "SELECT {HISTORY_COLUMNS} FROM history WHERE imgur_id = ?1 \
                 ORDER BY uploaded_at DESC, id DESC"
            ),
            [imgur_id],
        )
    }

    /// Entries whose title, source path, link or Imgur id contains `text`, ignoring case
    /// (Unicode lower case, not only ASCII), newest first, at most `limit`.
    pub fn search(&self, text: &str, limit: u32) -> Result<Vec<HistoryEntry>, StoreError> {
        register_fold(self.conn)?;
        self.select(
            &format!(
                "SELECT {HISTORY_COLUMNS} FROM history \
                 WHERE instr(upshot_fold(title), ?1) > 0 \
                    OR instr(upshot_fold(source_path), ?1) > 0 \
                    OR instr(upshot_fold(link), ?1) > 0 \
                    OR instr(upshot_fold(imgur_id), ?1) > 0 \
                 ORDER BY uploaded_at DESC, id DESC LIMIT ?2"
            ),
            params![text.to_lowercase(), limit],
        )
    }

    /// Marks an entry's image as deleted from Imgur at `when` (ms). The entry stays.
    pub fn mark_deleted(&self, id: HistoryId, when: i64) -> Result<(), StoreError> {
        let changed = self
            .conn
            .execute(
                "UPDATE history SET deleted_at = ?2 WHERE id = ?1",
                params![id.0, when],
            )
            .ctx(self.conn)?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                what: "history entry",
                id: id.0,
            });
        }
        Ok(())
    }

    /// How many entries there are.
    pub fn count(&self) -> Result<u64, StoreError> {
        let count: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM history", [], |row| row.get(0))
            .ctx(self.conn)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Writes every entry, oldest first, as a JSON array of [`HistoryEntry`] objects (times in
    /// ms since the epoch; deleted entries included with `deleted_at`). Returns how many.
    pub fn export_json<W: Write>(&self, mut writer: W) -> Result<usize, StoreError> {
        let export = |error: std::io::Error| StoreError::Export {
            reason: error.to_string(),
        };
        writer.write_all(b"[").map_err(export)?;
        let count = self.for_each_oldest_first(|index, entry| {
            writer
                .write_all(if index == 0 { b"\n" } else { b",\n" })
                .map_err(export)?;
            serde_json::to_writer(&mut writer, entry).map_err(|error| StoreError::Export {
                reason: error.to_string(),
            })
        })?;
        writer
            .write_all(if count == 0 { b"]\n" } else { b"\n]\n" })
            .map_err(export)?;
        writer.flush().map_err(export)?;
        Ok(count)
    }

    /// Writes every entry, oldest first, as CSV with a header row (see [`CsvRow`] for the
    /// columns): times both as RFC 3339 (UTC) for people and spreadsheets and as ms for
    /// programs; deleted entries included with their deletion time. Returns how many.
    pub fn export_csv<W: Write>(&self, writer: W) -> Result<usize, StoreError> {
        let export = |error: csv::Error| StoreError::Export {
            reason: error.to_string(),
        };
        let mut csv = csv::Writer::from_writer(writer);
        let count = self
            .for_each_oldest_first(|_, entry| csv.serialize(CsvRow::from(entry)).map_err(export))?;
        if count == 0 {
            // serde writes the header with the first row: write it alone for an empty history.
            csv.write_record(CsvRow::HEADER).map_err(export)?;
        }
        csv.flush().map_err(|error| StoreError::Export {
            reason: error.to_string(),
        })?;
        Ok(count)
    }

    fn for_each_oldest_first(
        &self,
        mut each: impl FnMut(usize, &HistoryEntry) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {HISTORY_COLUMNS} FROM history ORDER BY uploaded_at, id"
            ))
            .ctx(self.conn)?;
        let rows = stmt.query_map([], read_entry).ctx(self.conn)?;
        let mut count = 0;
        for row in rows {
            let entry = row.ctx(self.conn)?.check()?;
            each(count, &entry)?;
            count += 1;
        }
        Ok(count)
    }

    fn select(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let raws: Vec<RawEntry> = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.query_map(params, read_entry)?.collect())
            .ctx(self.conn)?;
        raws.into_iter().map(RawEntry::check).collect()
    }
}

/// The Client ID and content hash of the job that uploaded an entry: with them the entry keeps
/// standing in for its content once the job is pruned
/// ([`JobQueue::live_with_content`](crate::queue::JobQueue::live_with_content)).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UploadedBy<'a> {
    /// The Client ID the job spent (`None`: not uploaded through the queue; such an entry
    /// stands in for nothing).
    pub client_id: Option<&'a str>,
    /// The job's content hash (else the preflight report's is kept).
    pub content_hash: Option<&'a str>,
}

/// Inserts an entry (also used inside [`JobQueue::complete`](crate::queue::JobQueue::complete)'s
/// transaction).
pub(crate) fn insert(
    conn: &Connection,
    entry: &NewHistoryEntry,
    by: UploadedBy<'_>,
) -> Result<HistoryId, StoreError> {
    let source_path = entry.source_path.as_deref().map(SqlPath);
    let content_hash = by.content_hash.or(entry
        .preflight
        .as_ref()
        .map(|report| report.content_hash.as_str()));
    conn.prepare_cached(
        "INSERT INTO history (job_id, imgur_id, link, deletehash, mime_type, size, width, height, \
         album, account, title, source_path, origin, api_base, uploaded_at, preflight, \
         client_id, content_hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            entry.job_id.map(|id| id.0),
            entry.imgur_id,
            entry.link,
            entry.deletehash,
            entry.mime_type,
            i64::try_from(entry.size).unwrap_or(i64::MAX),
            entry.width,
            entry.height,
            entry.album,
            entry.account,
            entry.title,
            source_path,
            entry.origin.as_str(),
            entry.api_base,
            entry.uploaded_at,
            entry
                .preflight
                .as_ref()
                .and_then(|report| serde_json::to_string(report).ok()),
            by.client_id,
            content_hash
        ])
    })
    .ctx(conn)?;
    Ok(HistoryId(conn.last_insert_rowid()))
}

/// Registers `upshot_fold(text)`: Unicode lower case (SQLite's own `lower` and `LIKE` fold ASCII
/// only). NULL stays NULL; a BLOB (a path that is not UTF-8) is read lossily.
fn register_fold(conn: &Connection) -> Result<(), StoreError> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "upshot_fold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            use rusqlite::types::ValueRef;
            Ok(match ctx.get_raw(0) {
                ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                    Some(String::from_utf8_lossy(bytes).to_lowercase())
                }
                _ => None,
            })
        },
    )
    .ctx(conn)
}

/// A `history` row before its words are checked.
struct RawEntry {
    id: i64,
    job_id: Option<i64>,
    imgur_id: String,
    link: String,
    deletehash: Option<String>,
    mime_type: String,
    size: i64,
    width: Option<i64>,
    height: Option<i64>,
    album: Option<String>,
    account: Option<String>,
    title: Option<String>,
    source_path: Option<StoredPath>,
    origin: String,
    api_base: String,
    uploaded_at: i64,
    deleted_at: Option<i64>,
    preflight: Option<String>,
}

fn read_entry(row: &Row<'_>) -> rusqlite::Result<RawEntry> {
    Ok(RawEntry {
        id: row.get(0)?,
        job_id: row.get(1)?,
        imgur_id: row.get(2)?,
        link: row.get(3)?,
        deletehash: row.get(4)?,
        mime_type: row.get(5)?,
        size: row.get(6)?,
        width: row.get(7)?,
        height: row.get(8)?,
        album: row.get(9)?,
        account: row.get(10)?,
        title: row.get(11)?,
        source_path: row.get(12)?,
        origin: row.get(13)?,
        api_base: row.get(14)?,
        uploaded_at: row.get(15)?,
        deleted_at: row.get(16)?,
        preflight: row.get(17)?,
    })
}

impl RawEntry {
    fn check(self) -> Result<HistoryEntry, StoreError> {
        let id = self.id;
        let bad = |column: &'static str, value: String| StoreError::BadValue {
            table: "history",
            column,
            row: id,
            value,
        };
        let dimension = |column: &'static str, value: Option<i64>| match value {
            Some(value) => u32::try_from(value)
                .map(Some)
                .map_err(|_| bad(column, value.to_string())),
            None => Ok(None),
        };
        Ok(HistoryEntry {
            id: HistoryId(id),
            job_id: self.job_id.map(JobId),
            origin: Origin::parse(&self.origin)
                .ok_or_else(|| bad("origin", self.origin.clone()))?,
            size: u64::try_from(self.size).map_err(|_| bad("size", self.size.to_string()))?,
            width: dimension("width", self.width)?,
            height: dimension("height", self.height)?,
            imgur_id: self.imgur_id,
            link: self.link,
            deletehash: self.deletehash,
            mime_type: self.mime_type,
            album: self.album,
            account: self.account,
            title: self.title,
            source_path: self.source_path.map(PathBuf::from),
            api_base: self.api_base,
            uploaded_at: self.uploaded_at,
            deleted_at: self.deleted_at,
            preflight: self
                .preflight
                .and_then(|text| serde_json::from_str(&text).ok()),
        })
    }
}

/// One line of the CSV export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvRow {
    /// The history entry's id.
    pub id: i64,
    /// Imgur's id.
    pub imgur_id: String,
    /// The direct link.
    pub link: String,
    /// The secret that deletes it (empty if none).
    pub deletehash: Option<String>,
    /// MIME type.
    pub mime_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Width in pixels (empty if unknown).
    pub width: Option<u32>,
    /// Height in pixels (empty if unknown).
    pub height: Option<u32>,
    /// Album.
    pub album: Option<String>,
    /// Account (empty: anonymous).
    pub account: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// The source file.
    pub source_path: Option<String>,
    /// How the file reached Upshot.
    pub origin: String,
    /// The API it went to.
    pub api_base: String,
    /// Upload time, RFC 3339 UTC.
    pub uploaded_at: String,
    /// Deletion time, RFC 3339 UTC (empty if not deleted).
    pub deleted_at: Option<String>,
    /// Upload time, ms since the epoch.
    pub uploaded_at_ms: i64,
    /// Deletion time, ms since the epoch.
    pub deleted_at_ms: Option<i64>,
    /// The job that uploaded it.
    pub job_id: Option<i64>,
    /// What preflight did, in words (empty when it changed nothing).
    #[serde(default)]
    pub preflight: Option<String>,
}

impl CsvRow {
    /// The header row, in column order.
    pub const HEADER: [&'static str; 20] = [
        "id",
        "imgur_id",
        "link",
        "deletehash",
        "mime_type",
        "size",
        "width",
        "height",
        "album",
        "account",
        "title",
        "source_path",
        "origin",
        "api_base",
        "uploaded_at",
        "deleted_at",
        "uploaded_at_ms",
        "deleted_at_ms",
        "job_id",
        "preflight",
    ];
}

impl From<&HistoryEntry> for CsvRow {
    fn from(entry: &HistoryEntry) -> Self {
        Self {
            id: entry.id.0,
            imgur_id: entry.imgur_id.clone(),
            link: entry.link.clone(),
            deletehash: entry.deletehash.clone(),
            mime_type: entry.mime_type.clone(),
            size: entry.size,
            width: entry.width,
            height: entry.height,
            album: entry.album.clone(),
            account: entry.account.clone(),
            title: entry.title.clone(),
            source_path: entry
                .source_path
                .as_ref()
                .map(|path| path.display().to_string()),
            origin: entry.origin.as_str().to_owned(),
            api_base: entry.api_base.clone(),
            uploaded_at: rfc3339(entry.uploaded_at),
            deleted_at: entry.deleted_at.map(rfc3339),
            uploaded_at_ms: entry.uploaded_at,
            deleted_at_ms: entry.deleted_at,
            job_id: entry.job_id.map(|id| id.0),
            preflight: entry.preflight.as_ref().and_then(PreflightReport::summary),
        }
    }
}

/// `ms` since the epoch as RFC 3339 UTC with milliseconds, clamped to 1970..=9999 (the range
/// the formatter accepts; it panics outside it).
fn rfc3339(ms: i64) -> String {
    const LAST_MS_OF_9999: u64 = 253_402_300_800_000 - 1;
    let ms = u64::try_from(ms).unwrap_or(0).min(LAST_MS_OF_9999);
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}
