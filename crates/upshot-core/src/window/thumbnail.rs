//! Thumbnails for the queue view, made by the core so the webview never reads the file system:
//! a still is decoded (within limits), shrunk to fit [`THUMBNAIL_SIZE`] and sent as a small
//! `data:` URL — JPEG for an opaque picture (a few KB even for noise), PNG where it has
//! transparency. Videos and files too large to decode cheaply get none (the view shows an icon).

use base64::Engine;
use std::io::Cursor;
use std::path::Path;

/// The longest side of a thumbnail, in pixels (twice the 48 px it is shown at, for HiDPI).
pub const THUMBNAIL_SIZE: u32 = 96;

/// Files larger than this are not decoded for a thumbnail.
const MAX_FILE_BYTES: u64 = 40 * 1024 * 1024;

/// Images with more pixels than this are not decoded for a thumbnail.
const MAX_PIXELS: u64 = 50_000_000;

/// A thumbnail of the file as a `data:image/jpeg;base64,…` (or, with transparency,
/// `data:image/png;base64,…`) URL, or `None` when the file is not
/// a still the core decodes, is too large, or cannot be read (the upload itself says why).
pub fn data_url(path: &Path) -> Option<String> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > MAX_FILE_BYTES {
        return None;
    }
    // The header first (a small read): a picture with too many pixels is never decoded.
    let (width, height) = image::ImageReader::open(path)
        .ok()?
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return None;
    }
    let image = image::ImageReader::open(path)
        .ok()?
        .with_guessed_format()
        .ok()?
        .decode()
        .ok()?;
    let small = image.thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE);
    let mut bytes = Vec::new();
    let mime = if small.color().has_alpha() {
        small
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .ok()?;
        "image/png"
    } else {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY);
        small.to_rgb8().write_with_encoder(encoder).ok()?;
        "image/jpeg"
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Some(format!("data:{mime};base64,{encoded}"))
}

/// Good enough at 48 px, small on the wire.
const JPEG_QUALITY: u8 = 80;

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(url: &str, prefix: &str) -> image::DynamicImage {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(
                url.strip_prefix(prefix)
                    .unwrap_or_else(|| panic!("{url:.40}")),
            )
            .unwrap();
        assert!(bytes.len() < 30_000, "{} bytes", bytes.len());
        image::load_from_memory(&bytes).unwrap()
    }

    #[test]
    fn an_opaque_still_becomes_a_small_jpeg_and_a_transparent_one_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let opaque = dir.path().join("wide.png");
        image::RgbImage::from_fn(800, 400, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        })
        .save(&opaque)
        .unwrap();
        let thumb = decode(&data_url(&opaque).unwrap(), "data:image/jpeg;base64,");
        assert_eq!((thumb.width(), thumb.height()), (96, 48));
        let clear = dir.path().join("clear.png");
        image::RgbaImage::from_fn(200, 400, |x, _| image::Rgba([0, 0, 0, (x % 256) as u8]))
            .save(&clear)
            .unwrap();
        let thumb = decode(&data_url(&clear).unwrap(), "data:image/png;base64,");
        assert_eq!((thumb.width(), thumb.height()), (48, 96));
        assert!(thumb.color().has_alpha());
    }

    #[test]
    fn random_pixels_stay_small() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("noise.png");
        let mut seed = 7u32;
        image::RgbImage::from_fn(640, 480, |_, _| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let [a, b, c, _] = seed.to_le_bytes();
            image::Rgb([a, b, c])
        })
        .save(&path)
        .unwrap();
        let url = data_url(&path).expect("a thumbnail");
        // The worst case for size: noise. Sent once per file, it must stay a few KB.
        assert!(url.starts_with("data:image/jpeg;base64,"), "{url:.40}");
        assert!(url.len() < 12_000, "{} bytes", url.len());
    }

    #[test]
    fn a_picture_too_large_to_decode_cheaply_gets_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.png");
        // 8,000 × 7,000 = 56 MP, above the limit; one colour, so the file itself is small.
        image::GrayImage::new(8000, 7000).save(&path).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() < MAX_FILE_BYTES);
        assert_eq!(data_url(&path), None);
    }

    #[test]
    fn not_an_image_or_missing_gets_none() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.png");
        std::fs::write(&text, "not a picture").unwrap();
        assert_eq!(data_url(&text), None);
        assert_eq!(data_url(&dir.path().join("gone.png")), None);
    }
}
