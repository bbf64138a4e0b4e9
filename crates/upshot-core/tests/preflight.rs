//! Preflight end to end: real files of every type Imgur takes (made here, or small real videos
//! in `tests/fixtures/media` made with ffmpeg) and of types it refuses; a camera JPEG whose
//! location, camera and owner tags must not reach the server; an oversize screenshot fitted
//! under the limit; a duplicate that costs no request. Uploads go to the fake Imgur server
//! over HTTP, and what it stored is read back from it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
mod common;

use common::World;
use image::{DynamicImage, ImageFormat, RgbImage};
use img_parts::ImageEXIF;
use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Duration;
use upshot_core::FileUpload;
use upshot_core::media::FileRejected;
use upshot_core::preflight::{self, PreflightOptions, PreflightSettings};
use upshot_core::queue::JobState;
use upshot_core::service::Enqueued;
use upshot_core::types::Origin;
use upshot_core::types::Removed;

const CLIENT_ID: &str = "preflight-test";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/media")
        .join(name)
}

fn options() -> PreflightOptions {
    PreflightSettings::default().options_for(Origin::Drop)
}

/// A picture with detail in it, so its encodings are not trivially small.
fn picture(width: u32, height: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let noise =
            (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ seed).wrapping_mul(2_654_435_761);
        image::Rgb([
            (x * 255 / width.max(1)) as u8 ^ (noise >> 24) as u8 & 0x0F,
            (y * 255 / height.max(1)) as u8,
            (noise >> 16) as u8,
        ])
    })
}

fn encode(picture: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(picture.clone())
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

#[test]
fn every_accepted_type_passes_with_its_type_from_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let small = picture(48, 32, 1);
    let mut cases: Vec<(PathBuf, &str, &str)> = Vec::new();
    for (format, mime, name) in [
        (ImageFormat::Jpeg, "image/jpeg", "photo.jpg"),
        (ImageFormat::Png, "image/png", "shot.png"),
        (ImageFormat::Gif, "image/gif", "anim.gif"),
        (ImageFormat::Tiff, "image/tiff", "scan.tiff"),
        (ImageFormat::WebP, "image/webp", "web.webp"),
    ] {
        // Named wrongly on purpose: the type comes from the bytes.
        let path = dir.path().join(format!("{name}.bin"));
        std::fs::write(&path, encode(&small, format)).unwrap();
        cases.push((path, mime, "image"));
    }
    for (name, mime) in [
        ("clip.apng", "image/png"),
        ("clip.mp4", "video/mp4"),
        ("clip.mov", "video/quicktime"),
        ("clip.webm", "video/webm"),
        ("clip.mkv", "video/x-matroska"),
        ("clip.avi", "video/avi"),
        ("clip.flv", "video/x-flv"),
        ("clip.wmv", "video/x-ms-wmv"),
        ("clip.mpg", "video/mpeg"),
    ] {
        let kind = if mime.starts_with("video") {
            "video"
        } else {
            "image"
        };
        cases.push((fixture(name), mime, kind));
    }
    for (path, mime, kind) in cases {
        let ready = preflight::preflight(&path, &options())
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert_eq!(ready.report.mime_type, mime, "{}", path.display());
        assert_eq!(ready.report.kind, kind, "{}", path.display());
        assert!(ready.fitted.is_none());
        if kind == "video" {
            assert!(ready.report.removed.is_empty(), "videos are left alone");
            assert!(!ready.report.strip_metadata);
        }
        if [
            "clip.mp4",
            "clip.webm",
            "clip.mkv",
            "clip.avi",
            "clip.flv",
            "clip.mov",
        ]
        .iter()
        .any(|name| path.ends_with(name))
        {
            let duration = ready.report.duration_ms.expect("the container says");
            assert!((1_900..=2_100).contains(&duration), "{duration}");
        }
    }
}

#[test]
fn refused_files_get_their_own_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let refused = |path: &Path| preflight::preflight(path, &options()).unwrap_err();

    for (name, bytes, found) in [
        ("doc.png", &b"%PDF-1.7\n1 0 obj"[..], "a PDF document"),
        ("old.bmp", b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0", "a BMP image"),
        (
            "phone.heic",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
            "an AVIF or HEIC image",
        ),
        ("notes.jpg", b"just some text", "a text file"),
        ("archive.gif", b"PK\x03\x04\x14\0\0\0", "a ZIP archive"),
    ] {
        let error = refused(&write(name, bytes));
        let message = error.to_string();
        assert_eq!(error.code(), "unsupported_type", "{name}");
        assert!(message.contains(found), "{name}: {message}");
        assert!(
            message.contains("JPEG, PNG"),
            "names the accepted types: {message}"
        );
    }
    assert_eq!(refused(&write("empty.png", b"")).code(), "empty");
    assert_eq!(refused(dir.path()).code(), "not_a_file");
    assert_eq!(refused(&dir.path().join("gone.png")).code(), "missing");

    // Over 60 seconds, as the container says.
    for long in ["long.mp4", "long.webm"] {
        let error = refused(&fixture(long));
        assert!(
            matches!(
                error,
                FileRejected::TooLong {
                    seconds: 61,
                    limit_seconds: 60,
                    ..
                }
            ),
            "{long}: {error}"
        );
        assert!(error.to_string().contains("trim it"));
    }
    // Limits are settings: a 2 s clip over a 1 s limit, a video over a small size limit.
    let mut strict = options();
    strict.limits.max_video_seconds = 1;
    assert_eq!(
        preflight::preflight(&fixture("clip.mp4"), &strict)
            .unwrap_err()
            .code(),
        "too_long"
    );
    strict.limits.max_video_bytes = 1_000;
    let error = preflight::preflight(&fixture("clip.mp4"), &strict).unwrap_err();
    assert_eq!(error.code(), "too_large");
    assert!(error.to_string().contains("1000-byte limit for videos"));

    // An oversize still with fitting off says how to fit it.
    let big = write("big.png", &encode(&picture(300, 200, 3), ImageFormat::Png));
    let mut tight = options();
    tight.limits.max_image_bytes = 10_000;
    let error = preflight::preflight(&big, &tight).unwrap_err();
    assert_eq!(error.code(), "too_large");
    assert!(error.to_string().contains("--fit"), "{error}");
}

/// A JPEG as a phone writes it: Exif with GPS, camera, owner and a rotation; XMP; a comment.
fn camera_jpeg(pixels: &RgbImage) -> Vec<u8> {
    let ascii = |text: &str| Value::Ascii(vec![text.as_bytes().to_vec()]);
    let rational = |num: u32| Rational { num, denom: 1 };
    let fields = [
        Field {
            tag: Tag::Make,
            ifd_num: In::PRIMARY,
            value: ascii("Canon"),
        },
        Field {
            tag: Tag::Model,
            ifd_num: In::PRIMARY,
            value: ascii("EOS 5D Mark IV"),
        },
        Field {
            tag: Tag::Artist,
            ifd_num: In::PRIMARY,
            value: ascii("Jane Doe"),
        },
        Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![6]),
        },
        Field {
            tag: Tag::BodySerialNumber,
            ifd_num: In::PRIMARY,
            value: ascii("0123456789"),
        },
        Field {
            tag: Tag::GPSLatitudeRef,
            ifd_num: In::PRIMARY,
            value: ascii("N"),
        },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![rational(48), rational(51), rational(24)]),
        },
        Field {
            tag: Tag::GPSLongitudeRef,
            ifd_num: In::PRIMARY,
            value: ascii("E"),
        },
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![rational(2), rational(21), rational(3)]),
        },
    ];
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut exif = Cursor::new(Vec::new());
    writer.write(&mut exif, false).unwrap();

    let mut jpeg = Jpeg::from_bytes(Bytes::from(encode(pixels, ImageFormat::Jpeg))).unwrap();
    jpeg.set_exif(Some(Bytes::from(exif.into_inner())));
    let position = jpeg.segments().len() - 1;
    jpeg.segments_mut().insert(
        1,
        JpegSegment::new_with_contents(
            markers::APP1,
            Bytes::from_static(
                b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>48,51N</exif:GPSLatitude></x:xmpmeta>",
            ),
        ),
    );
    jpeg.segments_mut().insert(
        position,
        JpegSegment::new_with_contents(markers::COM, Bytes::from_static(b"Jane's holiday")),
    );
    jpeg.encoder().bytes().to_vec()
}

fn exif_of(jpeg: &[u8]) -> Option<exif::Exif> {
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(jpeg))
        .ok()
}

#[tokio::test]
async fn a_camera_jpeg_reaches_the_server_without_location_camera_or_owner() {
    let world = World::new().await;
    let pixels = picture(96, 64, 7);
    let original = camera_jpeg(&pixels);
    let before = exif_of(&original).expect("the fixture has Exif");
    assert!(before.get_field(Tag::GPSLatitude, In::PRIMARY).is_some());
    assert!(before.get_field(Tag::Make, In::PRIMARY).is_some());
    let path = world.write("holiday.jpg", &original);

    let outcome = world
        .enqueue(&path, Origin::Drop, FileUpload::default())
        .await;
    let Enqueued::Queued { job, report } = outcome else {
        panic!("not queued: {outcome:?}")
    };
    assert_eq!(
        report.removed,
        vec![
            Removed::Location,
            Removed::Camera,
            Removed::Owner,
            Removed::Xmp,
            Removed::Comment
        ]
    );
    assert_eq!(report.orientation_kept, Some(6));
    assert!(report.final_bytes < report.original_bytes);

    let sent = world.uploaded_bytes_of(job).await;
    // The tags are gone, in every form.
    let after = exif_of(&sent).expect("the orientation is kept in Exif");
    let tags: Vec<Tag> = after.fields().map(|field| field.tag).collect();
    assert_eq!(tags, vec![Tag::Orientation], "only the orientation is left");
    assert_eq!(
        after
            .get_field(Tag::Orientation, In::PRIMARY)
            .and_then(|field| field.value.get_uint(0)),
        Some(6)
    );
    let text = String::from_utf8_lossy(&sent);
    for secret in [
        "Canon",
        "EOS",
        "Jane",
        "0123456789",
        "GPSLatitude",
        "holiday",
    ] {
        assert!(!text.contains(secret), "{secret} reached the server");
    }
    // The pixels are the very same.
    let decoded_before = image::load_from_memory(&original).unwrap().into_rgb8();
    let decoded_after = image::load_from_memory(&sent).unwrap().into_rgb8();
    assert_eq!(decoded_before.dimensions(), decoded_after.dimensions());
    assert!(decoded_before == decoded_after, "the decoded pixels differ");
    // The original is untouched, and the history says what was done.
    assert_eq!(std::fs::read(&path).unwrap(), original);
    let entry = world.history_of(job).await;
    let kept = entry.preflight.expect("the history keeps the report");
    assert!(kept.removed.contains(&Removed::Location));
    world.stop().await;
}

/// Written by piexif (tests/fixtures/exif/make.py): an empty Exif sub-IFD and sub-IFDs without
/// a next-IFD offset, which a strict Exif reading refuses as a whole.
#[tokio::test]
async fn a_piexif_photo_reaches_the_server_upright_without_location_or_camera() {
    let world = World::new().await;
    let original = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/exif/piexif-empty-exif-ifd.jpg"),
    )
    .unwrap();
    assert!(exif_of(&original).is_none(), "a strict reading refuses it");
    let path = world.write("portrait.jpg", &original);
    let outcome = world
        .enqueue(&path, Origin::Drop, FileUpload::default())
        .await;
    let Enqueued::Queued { job, report } = outcome else {
        panic!("not queued: {outcome:?}")
    };
    assert_eq!(report.orientation_kept, Some(8));
    assert_eq!(report.removed, vec![Removed::Location, Removed::Camera]);

    let sent = world.uploaded_bytes_of(job).await;
    let after = exif_of(&sent).expect("the orientation is kept in Exif");
    let tags: Vec<Tag> = after.fields().map(|field| field.tag).collect();
    assert_eq!(tags, vec![Tag::Orientation], "only the orientation is left");
    assert_eq!(
        after
            .get_field(Tag::Orientation, In::PRIMARY)
            .and_then(|field| field.value.get_uint(0)),
        Some(8)
    );
    let text = String::from_utf8_lossy(&sent);
    for secret in ["UpshotTestCam", "ZX-9", "SN4815162342"] {
        assert!(!text.contains(secret), "{secret} reached the server");
    }
    assert!(
        image::load_from_memory(&sent).unwrap().into_rgb8()
            == image::load_from_memory(&original).unwrap().into_rgb8(),
        "the decoded pixels differ"
    );
    let entry = world.history_of(job).await;
    assert_eq!(
        entry.preflight.map(|report| report.removed),
        Some(vec![Removed::Location, Removed::Camera])
    );
    world.stop().await;
}

#[tokio::test]
async fn metadata_is_kept_when_the_setting_is_off_and_png_text_is_removed_when_on() {
    let world = World::new().await;
    let pixels = picture(64, 48, 9);
    let original = camera_jpeg(&pixels);
    let path = world.write("keep.jpg", &original);
    let keep = FileUpload {
        strip_metadata: Some(false),
        ..FileUpload::default()
    };
    let outcome = world.enqueue(&path, Origin::Drop, keep).await;
    let job = outcome.queued().expect("queued");
    assert_eq!(
        world.uploaded_bytes_of(job).await,
        original,
        "sent as it is"
    );

    // A PNG with text chunks (author, software) and a timestamp.
    let mut png =
        img_parts::png::Png::from_bytes(Bytes::from(encode(&pixels, ImageFormat::Png))).unwrap();
    for (kind, contents) in [
        (*b"tEXt", &b"Author\0Jane Doe"[..]),
        (*b"iTXt", b"Description\0\0\0\0\0Our street"),
        (*b"tIME", b"\x07\xea\x0b\x17\x0c\x00\x00"),
    ] {
        png.chunks_mut().insert(
            1,
            img_parts::png::PngChunk::new(kind, Bytes::copy_from_slice(contents)),
        );
    }
    let png = png.encoder().bytes().to_vec();
    let path = world.write("shot.png", &png);
    let outcome = world
        .enqueue(&path, Origin::Drop, FileUpload::default())
        .await;
    let Enqueued::Queued { job, report } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(report.removed, vec![Removed::Text, Removed::Timestamp]);
    let sent = world.uploaded_bytes_of(job).await;
    assert!(!String::from_utf8_lossy(&sent).contains("Jane"));
    assert!(
        image::load_from_memory(&sent).unwrap().into_rgb8()
            == image::load_from_memory(&png).unwrap().into_rgb8()
    );
    world.stop().await;
}

#[tokio::test]
async fn an_oversize_screenshot_is_fitted_under_the_limit_as_a_jpeg() {
    let world = World::new().await;
    // Noise does not compress: a 2200×1700 PNG of it is over Imgur's 10 MB.
    let mut seed = 0x9E37_79B9u32;
    let noisy = RgbImage::from_fn(2200, 1700, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
    });
    let png = encode(&noisy, ImageFormat::Png);
    assert!(
        png.len() as u64 > upshot_core::media::MAX_IMAGE_BYTES,
        "{}",
        png.len()
    );

    // A file the user picked is refused (fitting is off for files by default)...
    let path = world.write("screenshot.png", &png);
    let outcome = world
        .enqueue(&path, Origin::Drop, FileUpload::default())
        .await;
    let Enqueued::Rejected { rejected } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(rejected.code(), "too_large");

    // ...and a screenshot is fitted (on by default for captures).
    let outcome = world
        .enqueue(&path, Origin::Screenshot, FileUpload::default())
        .await;
    let Enqueued::Queued { job, report } = outcome else {
        panic!("{outcome:?}")
    };
    let fit = report.fitted.clone().expect("fitted");
    assert_eq!((fit.from_width, fit.from_height), (2200, 1700));
    assert_eq!(report.mime_type, "image/jpeg");
    assert_eq!(report.original_type, "image/png");
    assert!(report.final_bytes <= upshot_core::media::MAX_IMAGE_BYTES);
    let sent = world.uploaded_bytes_of(job).await;
    assert_eq!(sent.len() as u64, report.final_bytes);
    assert!(
        sent.starts_with(&[0xFF, 0xD8, 0xFF]),
        "a JPEG reached the server"
    );
    let decoded = image::load_from_memory(&sent).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (fit.to_width, fit.to_height)
    );
    // The original is unchanged, the fitted copy is gone from the spool, and the history
    // records the fitting.
    assert_eq!(std::fs::read(&path).unwrap(), png);
    let job_row = world.service.job(job).await.unwrap().unwrap();
    let copy = job_row.upload_path.expect("a fitted copy was sent");
    assert!(
        !copy.exists(),
        "the fitted copy is removed after the upload"
    );
    let entry = world.history_of(job).await;
    assert_eq!(entry.preflight.and_then(|report| report.fitted), Some(fit));
    world.stop().await;
}

#[tokio::test]
async fn an_oversize_clipboard_image_is_fitted_into_the_prepared_folder() {
    let world = World::new().await;
    let mut seed = 0x1234_5678u32;
    let noisy = RgbImage::from_fn(2200, 1700, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
    });
    let png = encode(&noisy, ImageFormat::Png);
    let outcome = world
        .service
        .enqueue_bytes(png, Origin::Clipboard, None)
        .await
        .unwrap();
    let job = outcome.queued().unwrap_or_else(|| panic!("{outcome:?}"));
    let row = world.service.job(job).await.unwrap().unwrap();
    let copy = row.upload_path.expect("fitted");
    // Not in the spool, where crash recovery would take it for a lost clipboard image.
    assert_eq!(
        copy.parent(),
        Some(upshot_core::spool::Spool::prepared(&world.dir.path().join("data")).dir())
    );
    world.wait_done(job).await;
    assert!(!copy.exists(), "removed after the upload");
    world.stop().await;
}

#[tokio::test]
async fn a_duplicate_is_reported_with_the_first_link_and_sends_nothing() {
    let world = World::new().await;
    let bytes = encode(&picture(40, 30, 11), ImageFormat::Png);
    let first = world.write("first.png", &bytes);
    let job = world
        .enqueue(&first, Origin::Drop, FileUpload::default())
        .await
        .queued()
        .unwrap();
    world.wait_done(job).await;
    let link = world.history_of(job).await.link;
    let uploads_before = world.server.controls().state().uploads.len();
    let requests_before = world.requests();

    // The same content under another name, from another source.
    let copy = world.write("copy-of-first.png", &bytes);
    let outcome = world
        .enqueue(&copy, Origin::Cli, FileUpload::default())
        .await;
    let Enqueued::Duplicate {
        job: same,
        link: reported,
        history,
    } = &outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(*same, Some(job));
    assert_eq!(reported.as_deref(), Some(link.as_str()));
    assert!(history.is_some());
    assert_eq!(
        serde_json::to_value(&outcome).unwrap()["status"],
        "duplicate"
    );
    // Twice in one batch: queued once.
    let twin_a = world.write(
        "twin-a.png",
        &encode(&picture(40, 30, 12), ImageFormat::Png),
    );
    let twin_b = world.write("twin-b.png", &std::fs::read(&twin_a).unwrap());
    let outcomes = world
        .service
        .enqueue_files(
            &[
                FileUpload {
                    path: twin_a,
                    ..FileUpload::default()
                },
                FileUpload {
                    path: twin_b,
                    ..FileUpload::default()
                },
            ],
            Origin::Drop,
        )
        .await
        .unwrap();
    let twin_job = outcomes[0].1.queued().expect("the first is queued");
    assert!(
        matches!(outcomes[1].1, Enqueued::Duplicate { job, link: None, .. } if job == Some(twin_job)),
        "{:?}",
        outcomes[1].1
    );
    world.wait_done(twin_job).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Only the twin reached the server: no request for the duplicate.
    assert_eq!(
        world.server.controls().state().uploads.len(),
        uploads_before + 1
    );
    assert_eq!(world.requests(), requests_before + 1);

    // Forced, it is sent again.
    let forced = FileUpload {
        force: true,
        ..FileUpload::default()
    };
    let again = world
        .enqueue(&copy, Origin::Cli, forced)
        .await
        .queued()
        .unwrap();
    world.wait_done(again).await;
    assert_eq!(
        world.server.controls().state().uploads.len(),
        uploads_before + 2
    );
    world.stop().await;
}

#[tokio::test]
async fn an_upload_that_kept_its_metadata_does_not_stand_in_for_a_cleaned_one() {
    let world = World::new().await;
    let original = camera_jpeg(&picture(48, 32, 17));
    let path = world.write("trip.jpg", &original);
    let kept = FileUpload {
        strip_metadata: Some(false),
        ..FileUpload::default()
    };
    let first = world
        .enqueue(&path, Origin::Drop, kept)
        .await
        .queued()
        .unwrap();
    world.wait_done(first).await;
    // Now with the default (metadata removed): the first link shows the location, so it is
    // sent again, cleaned.
    let second = world
        .enqueue(&path, Origin::Drop, FileUpload::default())
        .await;
    let second = second.queued().unwrap_or_else(|| panic!("{second:?}"));
    let sent = world.uploaded_bytes_of(second).await;
    assert!(
        exif_of(&sent)
            .unwrap()
            .get_field(Tag::GPSLatitude, In::PRIMARY)
            .is_none()
    );
    // The cleaned upload does stand in for later ones.
    let third = world
        .enqueue(&path, Origin::Drop, FileUpload::default())
        .await;
    assert!(
        matches!(third, Enqueued::Duplicate { job, .. } if job == Some(second)),
        "{third:?}"
    );
    world.stop().await;
}

#[tokio::test]
async fn fitted_copies_no_job_refers_to_are_removed_never_uploaded() {
    let world = World::new().await;
    let prepared = upshot_core::spool::Spool::prepared(&world.dir.path().join("data"))
        .dir()
        .to_path_buf();
    std::fs::create_dir_all(&prepared).unwrap();
    // A crash left one an hour and more ago; another process wrote one just now.
    let stale = prepared.join("0123456789abcdef.jpg");
    let fresh = prepared.join("fedcba9876543210.jpg");
    for path in [&stale, &fresh] {
        std::fs::write(path, encode(&picture(16, 16, 5), ImageFormat::Jpeg)).unwrap();
    }
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    assert_eq!(
        world.service.recover_spool().await.unwrap(),
        0,
        "nothing is queued"
    );
    assert!(!stale.exists(), "the stale copy is removed");
    assert!(
        fresh.exists(),
        "a young copy may be another process's: kept"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(world.server.controls().state().uploads.is_empty());
    world.stop().await;
}

#[tokio::test]
async fn a_deleted_upload_is_no_longer_a_duplicate() {
    let world = World::new().await;
    let bytes = encode(&picture(20, 20, 13), ImageFormat::Png);
    let path = world.write("once.png", &bytes);
    let job = world
        .enqueue(&path, Origin::Drop, FileUpload::default())
        .await
        .queued()
        .unwrap();
    world.wait_done(job).await;
    let entry = world.history_of(job).await;
    world.service.delete_upload(&entry).await.unwrap();
    let outcome = world
        .enqueue(&path, Origin::Drop, FileUpload::default())
        .await;
    assert!(matches!(outcome, Enqueued::Queued { .. }), "{outcome:?}");
    world.stop().await;
}

#[tokio::test]
async fn a_watched_folder_sends_photos_cleaned_and_reports_refused_files() {
    use upshot_core::watch::{FolderSource, WatchEvent, WatchOptions, WatchedFolder, Watcher};
    let world = World::new().await;
    let folder = world.dir.path().join("camera-roll");
    std::fs::create_dir_all(&folder).unwrap();
    let watcher = Watcher::start(
        &world.service,
        FolderSource::Given {
            folders: vec![WatchedFolder::new("camera", &folder)],
            settle: Duration::from_millis(200),
        },
        WatchOptions::default(),
    )
    .unwrap();
    let mut events = watcher.subscribe();
    let original = camera_jpeg(&picture(64, 48, 21));
    std::fs::write(folder.join("IMG_0001.jpg"), &original).unwrap();
    // A PDF saved with a picture's name: refused, and left where it is.
    std::fs::write(folder.join("scan.jpg"), b"%PDF-1.7 not a picture").unwrap();

    let mut job = None;
    let mut skipped = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while job.is_none() || skipped.is_none() {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("the watcher reported both files")
            .unwrap();
        match event {
            WatchEvent::Queued { job: id, .. } => job = Some(id),
            WatchEvent::Skipped { path, reason } => skipped = Some((path, reason)),
            _ => {}
        }
    }
    let (path, reason) = skipped.unwrap();
    assert!(path.ends_with("scan.jpg"));
    assert!(reason.contains("a PDF document"), "{reason}");
    assert!(path.exists(), "a refused file stays in the folder");

    let sent = world.uploaded_bytes_of(job.unwrap()).await;
    let exif = exif_of(&sent).unwrap();
    assert!(exif.get_field(Tag::GPSLatitude, In::PRIMARY).is_none());
    assert!(exif.get_field(Tag::Make, In::PRIMARY).is_none());
    assert!(exif.get_field(Tag::Orientation, In::PRIMARY).is_some());
    assert_eq!(
        std::fs::read(folder.join("IMG_0001.jpg")).unwrap(),
        original
    );
    watcher.stop().await;
    world.stop().await;
}

/// The shared world (a generous fake server, a service, two workers), with this file's helpers.
impl World {
    async fn new() -> Self {
        Self::start(CLIENT_ID).await
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    async fn enqueue(&self, path: &Path, origin: Origin, options: FileUpload) -> Enqueued {
        let file = FileUpload {
            path: path.to_path_buf(),
            ..options
        };
        let mut outcomes = self.service.enqueue_files(&[file], origin).await.unwrap();
        outcomes.remove(0).1
    }

    async fn wait_done(&self, job: upshot_core::types::JobId) {
        for _ in 0..600 {
            let row = self.service.job(job).await.unwrap().unwrap();
            match row.state {
                JobState::Done => return,
                JobState::Failed | JobState::Cancelled => {
                    panic!("job {job} ended {:?}: {:?}", row.state, row.error_message)
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("job {job} did not finish in 30 s");
    }

    async fn history_of(
        &self,
        job: upshot_core::types::JobId,
    ) -> upshot_core::history::HistoryEntry {
        self.wait_done(job).await;
        let row = self.service.job(job).await.unwrap().unwrap();
        self.service
            .history_entry(row.history_id.unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    /// The bytes the server stored for the job's upload, fetched from its link over HTTP.
    async fn uploaded_bytes_of(&self, job: upshot_core::types::JobId) -> Vec<u8> {
        let entry = self.history_of(job).await;
        let response = reqwest::get(&entry.link).await.unwrap();
        assert!(
            response.status().is_success(),
            "{}: {}",
            entry.link,
            response.status()
        );
        response.bytes().await.unwrap().to_vec()
    }

    /// Requests the server admitted for our Client ID, of any kind.
    fn requests(&self) -> u64 {
        self.server
            .controls()
            .state()
            .clients
            .get(CLIENT_ID)
            .map_or(0, |usage| usage.requests)
    }
}
