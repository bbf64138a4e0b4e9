//! The client's media sniffer (`upshot_core::media::inspect`, what Upshot checks before it
//! queues a file) and the fake server's (what an upload is judged as) agree on every fixture in
//! `tests/fixtures` and on made-up files of each type and of none: the same files accepted, with
//! the same MIME type and the same image/video kind, and the same files refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use upshot_core::media::{FileRejected, inspect};
use upshot_imgur::MediaKind;

/// The repository's `tests/fixtures`, every file under it (the Python generator too: a text file
/// both must refuse).
fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut files = Vec::new();
    let mut folders = vec![root];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Made-up files: each accepted type from its magic number (and whole samples), the edges where
/// two sniffers could differ, and junk.
fn made_up() -> Vec<(&'static str, Vec<u8>)> {
    let padded = |head: &[u8], len: usize| {
        let mut bytes = head.to_vec();
        bytes.resize(len.max(head.len()), 0);
        bytes
    };
    let mut ts = vec![0u8; 600];
    for offset in [0, 188, 376] {
        ts[offset] = 0x47;
    }
    let mut short_ts = vec![0u8; 300];
    short_ts[0] = 0x47;
    short_ts[188] = 0x47;
    let mut not_ts = ts.clone();
    not_ts[188] = 0;
    let asf_guid = [
        0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE,
        0x6C,
    ];
    let mut half_asf = asf_guid[..8].to_vec();
    half_asf.extend_from_slice(&[0; 24]);
    let mut cases = vec![
        ("sample png", fake_imgur::samples::png(3, 2, 1)),
        ("sample apng", fake_imgur::samples::apng(2, 2)),
        ("sample jpeg", fake_imgur::samples::jpeg(8, 8)),
        ("sample gif", fake_imgur::samples::gif(2)),
        ("sample mp4", fake_imgur::samples::mp4(2048)),
        ("png magic", padded(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 64)),
        ("jpeg magic", padded(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0", 64)),
        ("gif87a", padded(b"GIF87a\x01\0\x01\0", 64)),
        ("gif89a", padded(b"GIF89a\x01\0\x01\0", 64)),
        ("tiff le", padded(b"II*\0\x08\0\0\0", 64)),
        ("tiff be", padded(b"MM\0*\0\0\0\x08", 64)),
        ("webp", padded(b"RIFF\x24\0\0\0WEBPVP8 ", 64)),
        ("avi", padded(b"RIFF\x24\0\0\0AVI LIST", 64)),
        ("riff wave", padded(b"RIFF\x24\0\0\0WAVEfmt ", 64)),
        ("mp4 isom", padded(b"\0\0\0\x18ftypisom\0\0\0\0", 64)),
        ("mp4 mp42", padded(b"\0\0\0\x18ftypmp42\0\0\0\0", 64)),
        ("quicktime", padded(b"\0\0\0\x14ftypqt  \0\0\0\0", 64)),
        (
            "webm",
            padded(b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm", 128),
        ),
        (
            "matroska",
            padded(
                b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x88matroska",
                128,
            ),
        ),
        ("ebml, no doctype", padded(b"\x1A\x45\xDF\xA3\x9F", 128)),
        ("flv", padded(b"FLV\x01\x05\0\0\0\x09", 64)),
        ("flv, odd version", padded(b"FLV\x02\x05\0\0\0\x09", 64)),
        ("asf", padded(&asf_guid, 64)),
        ("half an asf guid", half_asf),
        ("mpeg program stream", padded(b"\0\0\x01\xBA\x44", 64)),
        ("mpeg video", padded(b"\0\0\x01\xB3\x14", 64)),
        ("mpeg transport stream", ts),
        ("short transport stream", short_ts),
        ("sync byte then junk", not_ts),
        ("text", b"hello, world\n".to_vec()),
        ("pdf", padded(b"%PDF-1.7\n", 64)),
        ("zip", padded(b"PK\x03\x04\x14\0", 64)),
        ("bmp", padded(b"BM\x36\0\0\0", 64)),
        (
            "random bytes",
            (0..=255u8).rev().cycle().take(700).collect(),
        ),
        ("one byte", vec![0x47]),
    ];
    for brand in [
        "avif", "avis", "heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1",
        "msf1",
    ] {
        let head = format!("\0\0\0\x18ftyp{brand}\0\0\0\0");
        let name: &'static str = Box::leak(format!("heif {brand}").into_boxed_str());
        cases.push((name, padded(head.as_bytes(), 64)));
    }
    cases
}

/// The client's verdict on a real file: its MIME type and whether it is a video, or `None` when
/// it refuses the type (or the file is empty, which the server refuses as no type either).
fn client_verdict(path: &Path) -> Option<(&'static str, bool)> {
    match inspect(path) {
        Ok(checked) => Some((checked.mime_type, checked.kind == MediaKind::Video)),
        Err(FileRejected::UnsupportedType { .. } | FileRejected::Empty { .. }) => None,
        Err(other) => panic!("{}: {other}", path.display()),
    }
}

#[test]
fn the_client_and_the_fake_server_sniff_every_file_alike() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(String, PathBuf)> = fixture_files()
        .into_iter()
        .map(|path| (path.display().to_string(), path))
        .collect();
    assert!(
        files.len() >= 10,
        "the fixtures were not found: {}",
        files.len()
    );
    for (index, (name, bytes)) in made_up().into_iter().enumerate() {
        let path = dir.path().join(format!("made-up-{index}"));
        std::fs::write(&path, bytes).unwrap();
        files.push((name.to_owned(), path));
    }
    let mut disagreements = Vec::new();
    let mut accepted = 0;
    for (name, path) in &files {
        let client = client_verdict(path);
        let server = fake_imgur::sniff_file(&std::fs::read(path).unwrap());
        if client != server {
            disagreements.push(format!("{name}: client {client:?}, server {server:?}"));
        }
        accepted += usize::from(server.is_some());
    }
    assert!(
        disagreements.is_empty(),
        "the sniffers disagree on:\n{}",
        disagreements.join("\n")
    );
    // Both refusing everything would also agree: make sure most files were accepted.
    assert!(accepted > files.len() / 2, "{accepted} of {}", files.len());
}
