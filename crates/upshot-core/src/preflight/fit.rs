//! Fitting an oversize still under the size limit: a high-quality JPEG first, then smaller
//! step by step. Imgur would refuse the file (or, on the website, quietly turn a large PNG into
//! a JPEG of its own choosing); here the user's setting decides, and the original stays as it is.

use bytes::Bytes;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, RgbImage};
use img_parts::ImageEXIF;
use img_parts::jpeg::Jpeg;

/// The JPEG quality of every attempt: visually lossless for screenshots and photos.
pub const FIT_QUALITY: u8 = 90;
/// Give up after this many smaller versions.
const MAX_STEPS: u32 = 8;
/// Never shrink below this on the longer side: past that the picture is no longer useful.
const MIN_LONG_SIDE: u32 = 320;

use crate::types::FitReport;

/// A fitted picture.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The JPEG.
    pub bytes: Bytes,
    /// What was done.
    pub report: FitReport,
}

/// Why a picture could not be fitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    /// The picture could not be decoded.
    #[error("it could not be decoded to fit it ({0})")]
    Decode(String),
    /// A kind of picture this code cannot re-encode faithfully.
    #[error("{0} cannot be fitted without changing its colours; convert it to RGB first")]
    Unsupported(&'static str),
    /// Even at the smallest useful size it is over the limit.
    #[error("even scaled down to {width}×{height} it is {size} bytes, over the limit")]
    StillTooLarge {
        /// The last attempt's width.
        width: u32,
        /// Its height.
        height: u32,
        /// Its size.
        size: u64,
    },
}

/// The file is refused as `cannot_fit` ([`crate::media::FileRejected::CannotFit`]): the same
/// code whatever stopped the fitting.
impl crate::error::ErrorCode for FitError {
    fn code(&self) -> &'static str {
        "cannot_fit"
    }
}

crate::error::serialize_as_coded!(FitError);

/// Whether a still of this type can be fitted: JPEG, PNG (not animated), WebP (not animated)
/// and TIFF. GIFs and APNGs are animations; fitting would freeze them.
pub fn can_fit(mime_type: &str, bytes: &[u8]) -> bool {
    match mime_type {
        "image/jpeg" | "image/tiff" => true,
        "image/png" => !is_animated_png(bytes),
        "image/webp" => !is_animated_webp(bytes),
        _ => false,
    }
}

fn is_animated_png(bytes: &[u8]) -> bool {
    // By the parsed chunk list: a text chunk that happens to contain "acTL" proves nothing.
    match img_parts::png::Png::from_bytes(Bytes::copy_from_slice(bytes)) {
        Ok(png) => png.chunks().iter().any(|chunk| &chunk.kind() == b"acTL"),
        // Unparseable: never fit what might be an animation.
        Err(_) => true,
    }
}

fn is_animated_webp(bytes: &[u8]) -> bool {
    // VP8X flags byte: bit 1 is "animation".
    bytes.get(12..16) == Some(b"VP8X") && bytes.get(20).is_some_and(|flags| flags & 0x02 != 0)
}

/// Re-encodes `bytes` as a JPEG of at most `limit` bytes, scaling down step by step when
/// re-encoding alone is not enough. `orientation` is written into the result, since the
/// pixels are kept as stored.
pub fn fit(
    bytes: &[u8],
    mime_type: &str,
    limit: u64,
    orientation: Option<u16>,
) -> Result<Fitted, FitError> {
    let format = match mime_type {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        "image/webp" => ImageFormat::WebP,
        "image/tiff" => ImageFormat::Tiff,
        other => return Err(FitError::Decode(format!("{other} cannot be fitted"))),
    };
    if format == ImageFormat::Jpeg && jpeg_components(bytes) == Some(4) {
        // CMYK/YCCK: the decoder's conversion to RGB is not colour-managed (and inverts some).
        return Err(FitError::Unsupported("a CMYK JPEG"));
    }
    // The colour profile travels with the pixels: without it wide-gamut photos fade.
    let icc_profile = {
        use img_parts::ImageICC;
        img_parts::DynImage::from_bytes(Bytes::copy_from_slice(bytes))
            .ok()
            .flatten()
            .and_then(|image| image.icc_profile())
    };
    let decoded = image::load_from_memory_with_format(bytes, format)
        .map_err(|error| FitError::Decode(error.to_string()))?;
    let full = flatten_on_white(decoded);
    let (from_width, from_height) = full.dimensions();
    let mut scale = 1.0f64;
    let mut steps = 0;
    loop {
        steps += 1;
        let candidate = if steps == 1 {
            None
        } else {
            let width = ((f64::from(from_width) * scale).round() as u32).max(1);
            let height = ((f64::from(from_height) * scale).round() as u32).max(1);
            Some(image::imageops::resize(
                &full,
                width,
                height,
                FilterType::CatmullRom,
            ))
        };
        let picture = candidate.as_ref().unwrap_or(&full);
        let (width, height) = picture.dimensions();
        let encoded = encode_jpeg(picture, orientation, icc_profile.clone())?;
        let size = encoded.len() as u64;
        if size <= limit {
            return Ok(Fitted {
                bytes: encoded,
                report: FitReport {
                    from_width,
                    from_height,
                    to_width: width,
                    to_height: height,
                    quality: FIT_QUALITY,
                    steps,
                },
            });
        }
        // The size of a JPEG grows roughly with its pixel count: aim a little under the limit.
        let ratio = (limit as f64 / size as f64).sqrt() * 0.95;
        scale *= ratio.clamp(0.5, 0.9);
        let next_long_side = f64::from(from_width.max(from_height)) * scale;
        if steps >= MAX_STEPS || next_long_side < f64::from(MIN_LONG_SIDE) {
            return Err(FitError::StillTooLarge {
                width,
                height,
                size,
            });
        }
    }
}

/// JPEG has no transparency: transparent parts become white, as on most pages.
fn flatten_on_white(picture: DynamicImage) -> RgbImage {
    if !picture.color().has_alpha() {
        return picture.into_rgb8();
    }
    let rgba = picture.into_rgba8();
    let (width, height) = rgba.dimensions();
    let mut flat = RgbImage::new(width, height);
    for (out, pixel) in flat.pixels_mut().zip(rgba.pixels()) {
        let alpha = u16::from(pixel[3]);
        for channel in 0..3 {
            let blended = (u16::from(pixel[channel]) * alpha + 255 * (255 - alpha) + 127) / 255;
            out[channel] = u8::try_from(blended).unwrap_or(u8::MAX);
        }
    }
    flat
}

fn encode_jpeg(
    picture: &RgbImage,
    orientation: Option<u16>,
    icc_profile: Option<Bytes>,
) -> Result<Bytes, FitError> {
    use img_parts::ImageICC;
    let mut encoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, FIT_QUALITY)
        .encode_image(picture)
        .map_err(|error| FitError::Decode(error.to_string()))?;
    if orientation.is_none() && icc_profile.is_none() {
        return Ok(Bytes::from(encoded));
    }
    let mut jpeg = Jpeg::from_bytes(Bytes::from(encoded))
        .map_err(|error| FitError::Decode(error.to_string()))?;
    if let Some(orientation) = orientation {
        jpeg.set_exif(Some(super::metadata::orientation_only_exif(orientation)));
    }
    if icc_profile.is_some() {
        jpeg.set_icc_profile(icc_profile);
    }
    Ok(jpeg.encoder().bytes())
}

/// The number of colour components in a JPEG's frame header (3 for RGB/YCbCr, 4 for CMYK).
fn jpeg_components(bytes: &[u8]) -> Option<u8> {
    let jpeg = Jpeg::from_bytes(Bytes::copy_from_slice(bytes)).ok()?;
    let frame = jpeg.segments().iter().find(|segment| {
        matches!(segment.marker(), 0xC0..=0xCF) && !matches!(segment.marker(), 0xC4 | 0xC8 | 0xCC)
    })?;
    frame.contents().get(5).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn animations_are_not_fitted() {
        let apng = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/media/clip.apng"),
        )
        .unwrap();
        assert!(!can_fit("image/png", &apng));
        let mut still = Vec::new();
        DynamicImage::ImageRgb8(image::RgbImage::new(4, 4))
            .write_to(&mut std::io::Cursor::new(&mut still), ImageFormat::Png)
            .unwrap();
        assert!(can_fit("image/png", &still));
        assert!(!can_fit("image/gif", b"GIF89a"));
    }

    #[test]
    fn transparency_becomes_white_and_orientation_is_kept() {
        let mut picture = image::RgbaImage::new(40, 30);
        picture.put_pixel(0, 0, image::Rgba([0, 0, 0, 255]));
        let mut png = Vec::new();
        DynamicImage::ImageRgba8(picture)
            .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let fitted = fit(&png, "image/png", 1 << 20, Some(6)).unwrap();
        assert_eq!(fitted.report.steps, 1);
        let decoded = image::load_from_memory(&fitted.bytes).unwrap().into_rgb8();
        assert!(
            decoded.get_pixel(20, 15)[0] > 245,
            "transparent became white"
        );
        let jpeg = Jpeg::from_bytes(fitted.bytes).unwrap();
        let exif = jpeg.exif().unwrap();
        assert_eq!(super::super::metadata::exif_orientation(&exif), Some(6));
    }
}
