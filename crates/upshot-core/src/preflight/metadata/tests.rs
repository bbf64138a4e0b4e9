use super::*;

#[test]
fn the_orientation_only_block_reads_back() {
    for orientation in 2..=8 {
        assert_eq!(
            exif_orientation(&orientation_only_exif(orientation)),
            Some(orientation)
        );
    }
    assert_eq!(exif_orientation(&orientation_only_exif(1)), None);
    assert_eq!(exif_orientation(b"not exif"), None);
}

/// The Exif block of one of the writer fixtures (tests/fixtures/exif/make.py).
fn fixture_exif(name: &str) -> Bytes {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/exif")
        .join(name);
    let jpeg = Jpeg::from_bytes(Bytes::from(std::fs::read(path).unwrap())).unwrap();
    jpeg.exif().unwrap()
}

#[test]
fn the_orientation_of_a_block_a_strict_reader_refuses_is_read() {
    // Also what fitting carries over when metadata is kept (`original_orientation`).
    for (name, orientation) in [
        ("piexif-empty-exif-ifd.jpg", 8),
        ("broken-gps-ifd.jpg", 5),
        ("truncated-in-ifd0.jpg", 7),
        ("truncated-in-exif-ifd.jpg", 6),
    ] {
        let exif = fixture_exif(name);
        assert!(
            exif::Reader::new().read_raw(exif.to_vec()).is_err(),
            "{name}"
        );
        assert_eq!(exif_orientation(&exif), Some(orientation), "{name}");
    }
}

#[test]
fn the_raw_reading_stands_in_when_the_library_reads_nothing() {
    // With no orientation from the library, the raw walk's is taken; a block neither
    // reading can make sense of is still reported, as "other Exif data".
    let mut removed = Vec::new();
    assert_eq!(classify_exif(b"not exif at all", &mut removed), None);
    assert_eq!(removed, vec![Removed::Exif]);
    let piexif = fixture_exif("piexif-empty-exif-ifd.jpg");
    let raw = tiff::read(&piexif).unwrap();
    assert_eq!(orientation_of(None, Some(&raw)), Some(8));
    let mut removed = Vec::new();
    classify_exif(&piexif, &mut removed);
    removed.sort_unstable();
    removed.dedup();
    assert_eq!(removed, vec![Removed::Location, Removed::Camera]);
}

/// Both readings together on mangled real blocks: no panic, and only valid orientations,
/// the same from both entry points.
#[test]
fn mangled_writer_blocks_never_panic() {
    let blocks: Vec<Bytes> = [
        "pillow.jpg",
        "piexif-empty-exif-ifd.jpg",
        "exiftool-ii.jpg",
        "exiftool-mm.jpg",
    ]
    .into_iter()
    .map(fixture_exif)
    .collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..3_000 {
        let mut block = blocks[round % blocks.len()].to_vec();
        for _ in 0..1 + next() % 6 {
            let at = (next() as usize) % block.len();
            block[at] = next() as u8;
        }
        if next() % 3 == 0 {
            block.truncate((next() as usize) % (block.len() + 1));
        }
        let mut removed = Vec::new();
        let orientation = classify_exif(&block, &mut removed);
        assert!(orientation.is_none_or(|value| (2..=8).contains(&value)));
        assert_eq!(exif_orientation(&block), orientation);
    }
}

#[test]
fn other_types_are_left_alone() {
    let gif = Bytes::from_static(b"GIF89a....");
    let cleaned = clean("image/gif", gif).unwrap();
    assert_eq!(cleaned.bytes, None);
    assert!(cleaned.removed.is_empty());
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, (x ^ y) as u8])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(picture)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    bytes
}

fn pixels(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory(bytes).unwrap().into_rgb8()
}

#[test]
fn segments_after_the_first_scan_and_data_after_the_end_are_removed() {
    let mut bytes = jpeg(64, 48);
    assert_eq!(&bytes[bytes.len() - 2..], [0xFF, 0xD9]);
    // A comment between the scan and the end (allowed), then a vendor trailer.
    let end = bytes.len() - 2;
    let comment = b"\xFF\xFE\x00\x0CJane's car";
    bytes.splice(end..end, comment.iter().copied());
    bytes.extend_from_slice(b"TRAILER with a second picture");
    let cleaned = clean("image/jpeg", Bytes::from(bytes.clone())).unwrap();
    let sent = cleaned.bytes.expect("something was removed");
    let text = String::from_utf8_lossy(&sent);
    assert!(!text.contains("Jane") && !text.contains("TRAILER"));
    assert_eq!(cleaned.removed, vec![Removed::Comment, Removed::Other]);
    assert_eq!(&sent[sent.len() - 2..], [0xFF, 0xD9]);
    assert!(pixels(&sent) == pixels(&bytes));
}

#[test]
fn a_jfif_thumbnail_is_dropped_and_the_header_kept() {
    let original = jpeg(32, 32);
    let mut parsed = Jpeg::from_bytes(Bytes::from(original)).unwrap();
    let mut app0 = b"JFIF\0\x01\x01\x00\x00\x01\x00\x01".to_vec();
    app0.extend_from_slice(&[1, 1, 0xAB, 0xCD, 0xEF]); // a 1×1 thumbnail
    parsed.segments_mut()[0] = JpegSegment::new_with_contents(markers::APP0, Bytes::from(app0));
    let with_thumbnail = parsed.encoder().bytes();
    let cleaned = clean("image/jpeg", with_thumbnail.clone()).unwrap();
    let sent = cleaned.bytes.expect("the thumbnail was removed");
    let parsed = Jpeg::from_bytes(sent.clone()).unwrap();
    let app0 = parsed.segments()[0].contents();
    assert_eq!(app0.len(), JFIF_HEADER);
    assert_eq!(&app0[12..14], [0, 0]);
    assert!(pixels(&sent) == pixels(&with_thumbnail));
}

#[test]
fn webp_flags_follow_the_chunks_that_are_left() {
    let picture = image::RgbaImage::from_fn(16, 16, |x, y| {
        image::Rgba([x as u8 * 9, y as u8 * 9, 80, 255])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgba8(picture)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::WebP,
        )
        .unwrap();
    let mut webp = WebP::from_bytes(Bytes::from(bytes)).unwrap();
    webp.set_exif(Some(orientation_only_exif(3)));
    webp.chunks_mut().push(img_parts::riff::RiffChunk::new(
        *b"XMP ",
        RiffContent::Data(Bytes::from_static(b"<x:xmpmeta>GPS</x:xmpmeta>")),
    ));
    for chunk in webp.chunks_mut() {
        if &chunk.id() == b"VP8X"
            && let RiffContent::Data(data) = chunk.content_mut()
        {
            let mut flags = data.to_vec();
            flags[0] |= 0x04;
            *data = Bytes::from(flags);
        }
    }
    let tagged = webp.encoder().bytes();
    let cleaned = clean("image/webp", tagged.clone()).unwrap();
    assert_eq!(cleaned.removed, vec![Removed::Xmp]);
    assert_eq!(cleaned.orientation, Some(3));
    let sent = cleaned.bytes.unwrap();
    let parsed = WebP::from_bytes(sent.clone()).unwrap();
    assert!(!parsed.has_chunk(*b"XMP "));
    let Some(RiffContent::Data(vp8x)) = parsed.chunk_by_id(*b"VP8X").map(|chunk| chunk.content())
    else {
        panic!("no VP8X")
    };
    assert_eq!(vp8x[0] & 0x04, 0, "the XMP flag is cleared");
    assert_ne!(
        vp8x[0] & 0x08,
        0,
        "the Exif flag stays: the orientation is there"
    );
    assert!(
        image::load_from_memory(&sent).unwrap().into_rgba8()
            == image::load_from_memory(&tagged).unwrap().into_rgba8()
    );
}

#[test]
fn damaged_containers_are_reported_not_passed_through() {
    let error = clean("image/png", Bytes::from_static(b"\x89PNG\r\n\x1a\n\0\0")).unwrap_err();
    assert_eq!(error.format, "PNG");
    assert!(clean("image/jpeg", Bytes::from_static(b"\xFF\xD8\xFF\xE1\xFF")).is_err());
}
