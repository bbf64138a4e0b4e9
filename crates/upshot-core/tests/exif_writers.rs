//! Exif as real tools write it: Pillow, piexif, exiftool in both byte orders, and blocks that
//! are flawed (an empty Exif sub-IFD, a GPS IFD out of the block, blocks cut short). The
//! fixtures and the script that made them are in `tests/fixtures/exif`.
//!
//! Each picture goes through the path the runner takes at send time
//! ([`preflight::cleaned_for_sending`], after [`preflight::check`] made the report): the
//! orientation must survive (or a portrait photo shows on its side), GPS and camera data must
//! not, the pixels must be the same, and the report must say what was removed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use exif::{In, Tag};
use img_parts::ImageEXIF;
use img_parts::jpeg::{Jpeg, markers};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use upshot_core::preflight::{self, PreflightSettings};
use upshot_core::types::Origin;
use upshot_core::types::{PreflightReport, Removed};

/// What make.py wrote into every fixture (where the block was not cut before it).
const MAKE: &str = "UpshotTestCam";
const MODEL: &str = "ZX-9 Fixture";
const SERIAL: &str = "SN4815162342";

/// One fixture and what it holds.
struct Writer {
    file: &'static str,
    orientation: u16,
    /// Whether a strict Exif reading refuses the block (what lost the orientation before).
    strict_refuses: bool,
    /// The text of the camera tags is in the file (a block cut inside IFD0 lost it).
    camera_text: bool,
    /// What the report must name.
    removed: &'static [Removed],
}

const WRITERS: [Writer; 7] = [
    Writer {
        file: "pillow.jpg",
        orientation: 6,
        strict_refuses: false,
        camera_text: true,
        removed: &[Removed::Location, Removed::Camera],
    },
    Writer {
        file: "piexif-empty-exif-ifd.jpg",
        orientation: 8,
        strict_refuses: true,
        camera_text: true,
        removed: &[Removed::Location, Removed::Camera],
    },
    Writer {
        file: "exiftool-ii.jpg",
        orientation: 6,
        strict_refuses: false,
        camera_text: true,
        removed: &[Removed::Location, Removed::Camera, Removed::Exif],
    },
    Writer {
        file: "exiftool-mm.jpg",
        orientation: 3,
        strict_refuses: false,
        camera_text: true,
        removed: &[Removed::Location, Removed::Camera, Removed::Exif],
    },
    Writer {
        file: "broken-gps-ifd.jpg",
        orientation: 5,
        strict_refuses: true,
        camera_text: true,
        removed: &[Removed::Location, Removed::Camera],
    },
    Writer {
        file: "truncated-in-ifd0.jpg",
        orientation: 7,
        strict_refuses: true,
        camera_text: false,
        removed: &[Removed::Camera],
    },
    Writer {
        file: "truncated-in-exif-ifd.jpg",
        orientation: 6,
        strict_refuses: true,
        camera_text: true,
        removed: &[Removed::Location, Removed::Camera, Removed::Exif],
    },
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/exif")
        .join(name)
}

fn lenient_exif(jpeg: &[u8]) -> Option<exif::Exif> {
    exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut Cursor::new(jpeg))
        .or_else(|error| error.distill_partial_result(|_| {}))
        .ok()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The JPEG's first scan and all after it, as stored: the compressed pixels.
fn scan_data(jpeg: &[u8]) -> Bytes {
    let parsed = Jpeg::from_bytes(Bytes::copy_from_slice(jpeg)).unwrap();
    let scan = parsed
        .segments()
        .iter()
        .find(|segment| segment.marker() == markers::SOS)
        .expect("a scan");
    scan.clone().encoder().bytes()
}

/// Preflight as the service runs it when a file is queued, then the cleaning the runner does
/// when it sends the file.
fn clean_as_sent(path: &Path) -> (PreflightReport, Vec<u8>) {
    let options = PreflightSettings::default().options_for(Origin::Drop);
    let planned = preflight::check(path, &options).unwrap();
    let report = planned.fit().unwrap().report;
    let sent = preflight::cleaned_for_sending(path, Some(&report))
        .unwrap()
        .expect("metadata is removed at send time");
    (report, sent.to_vec())
}

#[test]
fn every_writer_keeps_the_orientation_and_loses_location_and_camera() {
    let dir = tempfile::tempdir().unwrap();
    for writer in &WRITERS {
        let name = writer.file;
        let original = std::fs::read(fixture(name)).unwrap();
        assert!(original.len() < 4096, "{name}: fixtures stay small");
        // The fixture is what it says.
        let strict = exif::Reader::new().read_from_container(&mut Cursor::new(&original));
        assert_eq!(strict.err().is_some(), writer.strict_refuses, "{name}");
        assert_eq!(
            contains(&original, MAKE.as_bytes()) && contains(&original, MODEL.as_bytes()),
            writer.camera_text,
            "{name}"
        );
        // Copied, so the test does not depend on the fixture's name or place.
        let path = dir.path().join(name);
        std::fs::write(&path, &original).unwrap();

        let (report, sent) = clean_as_sent(&path);

        // The orientation is kept, in the report and in the file.
        assert_eq!(report.orientation_kept, Some(writer.orientation), "{name}");
        let after = lenient_exif(&sent).unwrap_or_else(|| panic!("{name}: no Exif left"));
        let orientation = after
            .get_field(Tag::Orientation, In::PRIMARY)
            .and_then(|field| field.value.get_uint(0));
        assert_eq!(orientation, Some(u32::from(writer.orientation)), "{name}");

        // Nothing else is left: no GPS, no camera, in any IFD.
        let tags: Vec<Tag> = after.fields().map(|field| field.tag).collect();
        assert_eq!(tags, vec![Tag::Orientation], "{name}: only the orientation");
        for text in [MAKE, MODEL, SERIAL] {
            assert!(!contains(&sent, text.as_bytes()), "{name}: {text} was sent");
        }
        let exif_block = Jpeg::from_bytes(Bytes::from(sent.clone()))
            .unwrap()
            .exif()
            .expect("the orientation's Exif block");
        for gps_pointer in [[0x88, 0x25], [0x25, 0x88]] {
            assert!(!contains(&exif_block, &gps_pointer), "{name}: a GPS IFD");
        }

        // The pixels are the very same: the compressed data is copied, and decodes alike.
        assert_eq!(scan_data(&sent), scan_data(&original), "{name}");
        let before = image::load_from_memory(&original).unwrap().into_rgb8();
        let decoded = image::load_from_memory(&sent).unwrap().into_rgb8();
        assert_eq!(before.dimensions(), (64, 48), "{name}");
        assert!(before == decoded, "{name}: the decoded pixels differ");

        // The report names what went.
        for kind in writer.removed {
            assert!(
                report.removed.contains(kind),
                "{name}: {kind:?} not in {:?}",
                report.removed
            );
        }
        let summary = report.summary().unwrap_or_default();
        for kind in writer.removed {
            assert!(summary.contains(kind.describe()), "{name}: {summary}");
        }
        // The original is left as it was.
        assert_eq!(std::fs::read(&path).unwrap(), original, "{name}");
    }
}
