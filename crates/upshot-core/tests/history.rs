//! The history of uploads: recording, finding, searching, deleting, exporting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use rusqlite::Connection;
use std::path::PathBuf;
use upshot_core::history::{CsvRow, History, HistoryEntry, NewHistoryEntry};
use upshot_core::store::StoreError;
use upshot_core::types::HistoryId;
use upshot_core::types::Origin;

const T0: i64 = 1_700_000_000_000;

fn setup() -> (tempfile::TempDir, Connection) {
    let (dir, _db, conn) = common::temp_database();
    (dir, conn)
}

fn entry(imgur_id: &str, title: Option<&str>, path: &str, at: i64) -> NewHistoryEntry {
    NewHistoryEntry {
        deletehash: Some(format!("dh{imgur_id}")),
        size: 2048,
        width: Some(640),
        height: Some(480),
        album: Some("alb1".to_owned()),
        title: title.map(str::to_owned),
        source_path: Some(PathBuf::from(path)),
        origin: Origin::Screenshot,
        ..common::history_entry(imgur_id, at)
    }
}

/// Four entries: a "Holiday" one, one with a Unicode title, one with a comma and quotes, one
/// with nothing optional.
fn fill(history: &History<'_>) -> Vec<HistoryId> {
    let mut bare = entry("Zz9Yy8X", None, "", T0 + 3);
    bare.source_path = None;
    bare.deletehash = None;
    bare.width = None;
    bare.height = None;
    bare.album = None;
    bare.origin = Origin::Clipboard;
    vec![
        history
            .record(&entry(
                "AbC1234",
                Some("Holiday at the SEA"),
                "/home/u/Pictures/beach.png",
                T0,
            ))
            .unwrap(),
        history
            .record(&entry(
                "dEf5678",
                Some("ÉTÉ à Paris"),
                "/home/u/Pictures/paris.jpg",
                T0 + 1,
            ))
            .unwrap(),
        history
            .record(&entry(
                "gHi9012",
                Some("quotes \"and\", commas\nand a newline"),
                "/tmp/shot, 1.png",
                T0 + 2,
            ))
            .unwrap(),
        history.record(&bare).unwrap(),
    ]
}

#[test]
fn record_get_list_last_and_find() {
    let (_dir, conn) = setup();
    let history = History::new(&conn);
    assert!(history.last().unwrap().is_none());
    assert!(history.list(10, 0).unwrap().is_empty());
    let ids = fill(&history);
    assert_eq!(history.count().unwrap(), 4);

    let first = history.get(ids[0]).unwrap().unwrap();
    assert_eq!(first.imgur_id, "AbC1234");
    assert_eq!(first.link, "https://i.imgur.com/AbC1234.png");
    assert_eq!(first.deletehash.as_deref(), Some("dhAbC1234"));
    assert_eq!(
        (first.width, first.height, first.size),
        (Some(640), Some(480), 2048)
    );
    assert_eq!(first.origin, Origin::Screenshot);
    assert_eq!(
        first.source_path,
        Some(PathBuf::from("/home/u/Pictures/beach.png"))
    );
    assert_eq!(first.deleted_at, None);
    assert!(history.get(HistoryId(99)).unwrap().is_none());

    let newest: Vec<HistoryId> = history.list(10, 0).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(newest, [ids[3], ids[2], ids[1], ids[0]]);
    let page: Vec<HistoryId> = history.list(2, 1).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(page, [ids[2], ids[1]]);
    assert_eq!(history.last().unwrap().unwrap().id, ids[3]);

    assert_eq!(history.find_by_imgur_id("dEf5678").unwrap()[0].id, ids[1]);
    assert!(
        history.find_by_imgur_id("def5678").unwrap().is_empty(),
        "ids are case-sensitive"
    );
}

#[test]
fn search_ignores_case_across_title_path_link_and_id() {
    let (_dir, conn) = setup();
    let history = History::new(&conn);
    let ids = fill(&history);
    let found = |text: &str| -> Vec<HistoryId> {
        history
            .search(text, 100)
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(found("holiday at the sea"), [ids[0]], "title, ASCII case");
    assert_eq!(found("été À PARIS"), [ids[1]], "title, Unicode case");
    assert_eq!(
        found("PICTURES"),
        [ids[1], ids[0]],
        "source path, newest first"
    );
    assert_eq!(found("zz9yy8x"), [ids[3]], "id");
    assert_eq!(found("i.imgur.com/ghi"), [ids[2]], "link");
    assert_eq!(found("%"), Vec::<HistoryId>::new(), "no LIKE wildcards");
    assert_eq!(found("\"and\","), [ids[2]]);
    assert_eq!(history.search("imgur", 2).unwrap().len(), 2, "limit");
    assert_eq!(found("nothing like this"), Vec::<HistoryId>::new());
}

#[test]
fn deleting_marks_the_entry_and_keeps_it() {
    let (_dir, conn) = setup();
    let history = History::new(&conn);
    let ids = fill(&history);
    history.mark_deleted(ids[3], T0 + 100).unwrap();
    assert_eq!(
        history.get(ids[3]).unwrap().unwrap().deleted_at,
        Some(T0 + 100)
    );
    assert_eq!(history.count().unwrap(), 4);
    assert_eq!(
        history.last().unwrap().unwrap().id,
        ids[2],
        "last skips deleted images"
    );
    let error = history.mark_deleted(HistoryId(1000), T0).unwrap_err();
    assert!(matches!(
        error,
        StoreError::NotFound {
            what: "history entry",
            id: 1000
        }
    ));
}

#[test]
fn json_export_parses_back_to_the_same_entries() {
    let (_dir, conn) = setup();
    let history = History::new(&conn);
    let ids = fill(&history);
    history.mark_deleted(ids[1], T0 + 50).unwrap();
    let mut out = Vec::new();
    assert_eq!(history.export_json(&mut out).unwrap(), 4);
    let parsed: Vec<HistoryEntry> = serde_json::from_slice(&out).unwrap();
    let mut expected = history.list(10, 0).unwrap();
    expected.reverse();
    assert_eq!(parsed, expected, "all of them, oldest first");
    assert_eq!(parsed[1].deleted_at, Some(T0 + 50));
    let raw: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(raw[0]["origin"], "screenshot");
    assert_eq!(raw[0]["uploaded_at"], T0);

    let (_dir, empty_conn) = setup();
    let mut out = Vec::new();
    assert_eq!(History::new(&empty_conn).export_json(&mut out).unwrap(), 0);
    let parsed: Vec<HistoryEntry> = serde_json::from_slice(&out).unwrap();
    assert!(parsed.is_empty());
}

#[test]
fn csv_export_has_a_header_and_parses_back() {
    let (_dir, conn) = setup();
    let history = History::new(&conn);
    let ids = fill(&history);
    history.mark_deleted(ids[0], T0 + 86_400_000).unwrap();
    let mut out = Vec::new();
    assert_eq!(history.export_csv(&mut out).unwrap(), 4);

    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, CsvRow::HEADER);
    let rows: Vec<CsvRow> = reader.deserialize().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].imgur_id, "AbC1234");
    assert_eq!(rows[0].uploaded_at, "2023-11-14T22:13:20.000Z");
    assert_eq!(rows[0].uploaded_at_ms, T0);
    assert_eq!(
        rows[0].deleted_at.as_deref(),
        Some("2023-11-15T22:13:20.000Z")
    );
    assert_eq!(rows[0].deleted_at_ms, Some(T0 + 86_400_000));
    assert_eq!(rows[1].title.as_deref(), Some("ÉTÉ à Paris"));
    assert_eq!(
        rows[2].title.as_deref(),
        Some("quotes \"and\", commas\nand a newline")
    );
    assert_eq!(rows[2].source_path.as_deref(), Some("/tmp/shot, 1.png"));
    assert_eq!(rows[3].deletehash, None);
    assert_eq!(rows[3].width, None);
    assert_eq!(rows[3].deleted_at, None);
    assert_eq!(rows[3].origin, "clipboard");
    let expected: Vec<CsvRow> = {
        let mut all = history.list(10, 0).unwrap();
        all.reverse();
        all.iter().map(CsvRow::from).collect()
    };
    assert_eq!(rows, expected);

    // An empty history still exports its header.
    let (_dir, empty_conn) = setup();
    let mut out = Vec::new();
    assert_eq!(History::new(&empty_conn).export_csv(&mut out).unwrap(), 0);
    assert_eq!(
        String::from_utf8(out).unwrap().trim_end(),
        CsvRow::HEADER.join(",")
    );
}

#[test]
fn an_entry_can_be_built_from_imgurs_image() {
    let image: upshot_imgur::Image = serde_json::from_value(serde_json::json!({
        "id": "q1W2e3R", "deletehash": "secret", "link": "https://i.imgur.com/q1W2e3R.mp4",
        "type": "video/mp4", "width": 0, "height": 0, "size": 99, "datetime": 1,
        "title": "clip"
    }))
    .unwrap();
    let new = NewHistoryEntry::from_image(&image, Origin::Cli, "http://127.0.0.1:1", T0);
    assert_eq!(new.imgur_id, "q1W2e3R");
    assert_eq!(new.deletehash.as_deref(), Some("secret"));
    assert_eq!(new.mime_type, "video/mp4");
    assert_eq!((new.width, new.height), (None, None), "0 means unknown");
    assert_eq!(new.title.as_deref(), Some("clip"));
    assert_eq!(new.api_base, "http://127.0.0.1:1");
    let (_dir, conn) = setup();
    let id = History::new(&conn).record(&new).unwrap();
    assert_eq!(History::new(&conn).get(id).unwrap().unwrap().size, 99);
}
