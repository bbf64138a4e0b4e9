//! Thumbnails for the queue view, made by the core so the webview never reads the file system:
//! a still is decoded (within limits), shrunk to fit [`THUMBNAIL_SIZE`] and sent as a small PNG
//! `data:` URL. Videos and files too large to decode cheaply get none (the view shows an icon).

use base64::Engine;
use std::io::Cursor;
use std::path::Path;

/// The longest side of a thumbnail, in pixels (twice the 48 px it is shown at, for HiDPI).
pub const THUMBNAIL_SIZE: u32 = 96;

/// Files larger than this are not decoded for a thumbnail.
const MAX_FILE_BYTES: u64 = 40 * 1024 * 1024;

/// Images with more pixels than this are not decoded for a thumbnail.
const MAX_PIXELS: u64 = 50_000_000;

/// A thumbnail of the file as a `data:image/png;base64,…` URL, or `None` when the file is not
/// a still the core decodes, is too large, or cannot be read (the upload itself says why).
pub fn data_url(path: &Path) -> Option<String> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > MAX_FILE_BYTES {
        return None;
    }
    let reader = image::ImageReader::open(path)
        .ok()?
        .with_guessed_format()
        .ok()?;
    let (width, height) = reader.into_dimensions().ok()?;
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
    let mut png = Vec::new();
    small
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(png);
    Some(format!("data:image/png;base64,{encoded}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_still_becomes_a_small_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.png");
        image::RgbImage::from_fn(800, 400, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        })
        .save(&path)
        .unwrap();
        let url = data_url(&path).expect("a thumbnail");
        let png = base64::engine::general_purpose::STANDARD
            .decode(url.strip_prefix("data:image/png;base64,").unwrap())
            .unwrap();
        let thumb = image::load_from_memory(&png).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (96, 48));
        assert!(png.len() < 30_000, "{} bytes", png.len());
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
