//! Removing personal metadata from JPEG, PNG and WebP without touching the pixels.
//!
//! Only container parts are dropped (JPEG segments, PNG chunks, RIFF chunks); the compressed
//! image data is copied byte for byte, so the decoded pixels are identical. What a picture needs
//! to look the same stays: colour profiles (ICC, sRGB, gamma), Adobe's colour-transform flag,
//! transparency, animation, and the Exif orientation, which is written back alone.

use bytes::Bytes;
use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use img_parts::png::Png;
use img_parts::webp::WebP;
use img_parts::{ImageEXIF, riff::RiffContent};

mod tiff;

use crate::types::Removed;

/// The outcome of cleaning one picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The cleaned file; `None` when there was nothing to remove (send the original as is).
    pub bytes: Option<Bytes>,
    /// What was removed, sorted, without repeats.
    pub removed: Vec<Removed>,
    /// The orientation written back (2 to 8); `None` when the picture had none, or the default.
    pub orientation: Option<u16>,
}

/// Why a picture could not be cleaned: its container is damaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("its {format} structure is damaged ({reason})")]
pub struct CleanError {
    /// "JPEG", "PNG" or "WebP".
    pub format: &'static str,
    /// What the parser said.
    pub reason: String,
}

/// The file is refused as `damaged` ([`crate::media::FileRejected::Damaged`]): the same code.
impl crate::error::ErrorCode for CleanError {
    fn code(&self) -> &'static str {
        "damaged"
    }
}

crate::error::serialize_as_coded!(CleanError);

/// Removes personal metadata from a JPEG, PNG or WebP; other types come back unchanged.
pub fn clean(mime_type: &str, bytes: Bytes) -> Result<Cleaned, CleanError> {
    match mime_type {
        "image/jpeg" => clean_jpeg(bytes),
        "image/png" => clean_png(bytes),
        "image/webp" => clean_webp(bytes),
        _ => Ok(Cleaned {
            bytes: None,
            removed: Vec::new(),
            orientation: None,
        }),
    }
}

/// The orientation stored in an Exif block, where it is not the default.
///
/// Read leniently, and from IFD0 directly when even that fails: a picture whose Exif is
/// flawed elsewhere (a broken GPS IFD, a block cut short) still displays rotated by it.
pub fn exif_orientation(exif: &[u8]) -> Option<u16> {
    orientation_of(read_lenient(exif).as_ref(), tiff::read(exif).as_ref())
}

/// The Exif library's reading of a block, with whatever it could read of a flawed one: writers
/// differ (piexif leaves out sub-IFDs' next-IFD offsets), and a strict reading refuses the
/// whole block for one bad IFD.
fn read_lenient(exif: &[u8]) -> Option<exif::Exif> {
    exif::Reader::new()
        .continue_on_error(true)
        .read_raw(exif.to_vec())
        .or_else(|error| {
            error.distill_partial_result(|errors| {
                tracing::debug!(?errors, "Exif read in part");
            })
        })
        .ok()
}

fn orientation_of(parsed: Option<&exif::Exif>, raw: Option<&tiff::RawExif>) -> Option<u16> {
    let from_library = parsed
        .and_then(|parsed| parsed.get_field(exif::Tag::Orientation, exif::In::PRIMARY))
        .and_then(|field| field.value.get_uint(0))
        .and_then(|value| u16::try_from(value).ok())
        .filter(|value| (1..=8).contains(value));
    let value = from_library.or_else(|| raw.and_then(|raw| raw.orientation))?;
    (2..=8).contains(&value).then_some(value)
}

/// A minimal big-endian Exif (TIFF) block holding the orientation and nothing else.
pub fn orientation_only_exif(orientation: u16) -> Bytes {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0\x2a");
    tiff.extend_from_slice(&8u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    Bytes::from(tiff)
}

/// What an Exif block holds, by the kinds users care about; and its orientation.
///
/// Both readings count: the library's (every IFD, values read) and the raw walk of IFD0 and its
/// Exif and GPS sub-IFDs (which sees entries whose values are cut off or out of the block). A
/// GPS IFD that IFD0 points to but that cannot be read is reported as location: the writer put
/// one there, and it is removed with the rest.
fn classify_exif(exif: &[u8], removed: &mut Vec<Removed>) -> Option<u16> {
    let parsed = read_lenient(exif);
    let raw = tiff::read(exif);
    if parsed.is_none() && raw.is_none() {
        removed.push(Removed::Exif);
        return None;
    }
    if let Some(parsed) = &parsed {
        removed.extend(parsed.fields().filter_map(|field| {
            let gps = field.tag.context() == exif::Context::Gps;
            kind_of_tag(gps, field.tag.number())
        }));
    }
    if let Some(raw) = &raw {
        removed.extend(
            raw.tags
                .iter()
                .filter_map(|&(ifd, tag)| kind_of_tag(ifd == tiff::Ifd::Gps, tag)),
        );
        if raw.unreadable.contains(&tiff::Ifd::Gps) {
            removed.push(Removed::Location);
        }
    }
    orientation_of(parsed.as_ref(), raw.as_ref())
}

/// The kind of an Exif tag (by number: the raw walk has no library tags); `None` for the
/// orientation, which is kept, and for sub-IFD pointers, which hold nothing themselves.
fn kind_of_tag(gps: bool, tag: u16) -> Option<Removed> {
    const ORIENTATION: u16 = 0x0112;
    const POINTERS: [u16; 3] = [0x8769, 0x8825, 0xA005];
    const CAMERA: [u16; 9] = [
        0x010F, // Make
        0x0110, // Model
        0xA431, // BodySerialNumber
        0xA432, // LensSpecification
        0xA433, // LensMake
        0xA434, // LensModel
        0xA435, // LensSerialNumber
        0xC614, // UniqueCameraModel (DNG)
        0xC62F, // CameraSerialNumber (DNG; piexif writes it in IFD0)
    ];
    const OWNER: [u16; 3] = [
        0x013B, // Artist
        0x8298, // Copyright
        0xA430, // CameraOwnerName
    ];
    if gps {
        return Some(Removed::Location);
    }
    if tag == ORIENTATION || POINTERS.contains(&tag) {
        None
    } else if CAMERA.contains(&tag) {
        Some(Removed::Camera)
    } else if OWNER.contains(&tag) {
        Some(Removed::Owner)
    } else {
        Some(Removed::Exif)
    }
}

const EXIF_PREFIX: &[u8] = b"Exif\0\0";
/// "JFIF\0", version, units, densities, thumbnail width and height: 14 bytes.
const JFIF_HEADER: usize = 14;
const XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXTENSION_PREFIX: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";

fn clean_jpeg(bytes: Bytes) -> Result<Cleaned, CleanError> {
    let original_len = bytes.len();
    let mut jpeg = Jpeg::from_bytes(bytes).map_err(|error| CleanError {
        format: "JPEG",
        reason: error.to_string(),
    })?;
    let mut removed = Vec::new();
    let mut orientation = None;
    let mut kept = Vec::with_capacity(jpeg.segments().len());
    for segment in jpeg.segments_mut().drain(..) {
        let contents = segment.contents();
        let drop_as = match segment.marker() {
            markers::APP0 if contents.starts_with(b"JFIF\0") && contents.len() <= JFIF_HEADER => {
                None
            }
            // A JFIF header with a thumbnail (which may show what was cropped): header only.
            markers::APP0 if contents.starts_with(b"JFIF\0") => {
                let mut header = contents[..JFIF_HEADER].to_vec();
                header[12] = 0;
                header[13] = 0;
                removed.push(Removed::Other);
                kept.push(JpegSegment::new_with_contents(
                    markers::APP0,
                    Bytes::from(header),
                ));
                continue;
            }
            markers::APP1 if contents.starts_with(EXIF_PREFIX) => {
                // Readers take the first Exif block; a later one cannot turn the picture.
                let found = classify_exif(&contents[EXIF_PREFIX.len()..], &mut removed);
                orientation = orientation.or(found);
                continue;
            }
            markers::APP1
                if contents.starts_with(XMP_PREFIX)
                    || contents.starts_with(XMP_EXTENSION_PREFIX) =>
            {
                Some(Removed::Xmp)
            }
            markers::APP2 if contents.starts_with(b"ICC_PROFILE\0") => None,
            markers::APP13 => Some(Removed::Iptc),
            markers::APP14 if contents.starts_with(b"Adobe") => None,
            marker if (markers::APP0..=markers::APP15).contains(&marker) => Some(Removed::Other),
            markers::COM => Some(Removed::Comment),
            _ => None,
        };
        match drop_as {
            Some(kind) => removed.push(kind),
            None => kept.push(without_trailer(segment, &mut removed)),
        }
    }
    *jpeg.segments_mut() = kept;
    if let Some(orientation) = orientation {
        jpeg.set_exif(Some(orientation_only_exif(orientation)));
    }
    removed.sort_unstable();
    removed.dedup();
    let cleaned = jpeg.encoder().bytes();
    let unchanged = removed.is_empty() && cleaned.len() == original_len;
    Ok(Cleaned {
        bytes: (!unchanged).then_some(cleaned),
        removed,
        orientation,
    })
}

/// The first scan's segment holds the rest of the file (img-parts stops parsing there): later
/// scans of a progressive JPEG, the segments between them, the end-of-image marker, and
/// whatever phones and editors append after it (second images, vendor trailers). Walk it by
/// the JPEG rules: drop APPn and COM segments between scans, and everything after the end.
fn without_trailer(segment: JpegSegment, removed: &mut Vec<Removed>) -> JpegSegment {
    if !segment.has_entropy() {
        return segment;
    }
    let encoded = segment.clone().encoder().bytes();
    let Some(rest) = encoded.get(segment.len()..) else {
        return segment;
    };
    match clean_after_first_scan(rest, removed) {
        Some(cleaned) => JpegSegment::new_with_entropy(
            segment.marker(),
            segment.contents().clone(),
            Bytes::from(cleaned),
        ),
        None => segment,
    }
}

/// `rest` cleaned, or `None` when nothing in it needs removing.
fn clean_after_first_scan(rest: &[u8], removed: &mut Vec<Removed>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(rest.len());
    let mut changed = false;
    let mut at = 0;
    while at < rest.len() {
        if rest[at] != 0xFF {
            out.push(rest[at]);
            at += 1;
            continue;
        }
        // Fill bytes: any number of 0xFF before a marker.
        let mut marker_at = at + 1;
        while rest.get(marker_at) == Some(&0xFF) {
            marker_at += 1;
        }
        let Some(&marker) = rest.get(marker_at) else {
            out.extend_from_slice(&rest[at..]);
            break;
        };
        match marker {
            // Stuffed 0xFF, restart markers, TEM: part of the data, no length.
            0x00 | 0x01 | markers::RST0..=markers::RST7 => {
                out.extend_from_slice(&rest[at..=marker_at]);
                at = marker_at + 1;
            }
            markers::EOI => {
                out.extend_from_slice(&[0xFF, markers::EOI]);
                if marker_at + 1 < rest.len() {
                    removed.push(Removed::Other);
                    changed = true;
                }
                return changed.then_some(out);
            }
            _ => {
                let length = rest
                    .get(marker_at + 1..marker_at + 3)
                    .map(|bytes| usize::from(u16::from_be_bytes([bytes[0], bytes[1]])));
                let end = length.map(|length| marker_at + 1 + length);
                let Some(end) = end.filter(|end| *end <= rest.len() && length >= Some(2)) else {
                    // A damaged tail: keep it as it is (decoders stop where it breaks).
                    out.extend_from_slice(&rest[at..]);
                    break;
                };
                let body = &rest[marker_at + 3..end];
                let drop_as = match marker {
                    markers::APP1 if body.starts_with(EXIF_PREFIX) => Some(Removed::Exif),
                    markers::APP1 => Some(Removed::Xmp),
                    markers::APP13 => Some(Removed::Iptc),
                    markers::COM => Some(Removed::Comment),
                    marker if (markers::APP0..=markers::APP15).contains(&marker) => {
                        Some(Removed::Other)
                    }
                    _ => None,
                };
                match drop_as {
                    Some(kind) => {
                        removed.push(kind);
                        changed = true;
                    }
                    None => out.extend_from_slice(&rest[at..end]),
                }
                at = end;
            }
        }
    }
    changed.then_some(out)
}

/// Ancillary PNG chunks that change how the picture looks or moves; every other ancillary
/// chunk may be dropped (the PNG specification says decoders must not need them).
const PNG_RENDERING_CHUNKS: [&[u8; 4]; 16] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs", b"hIST", b"sPLT",
    b"cICP", b"mDCV", b"cLLI", b"acTL", b"fcTL", b"fdAT",
];

fn clean_png(bytes: Bytes) -> Result<Cleaned, CleanError> {
    let original_len = bytes.len();
    let mut png = Png::from_bytes(bytes).map_err(|error| CleanError {
        format: "PNG",
        reason: error.to_string(),
    })?;
    let mut removed = Vec::new();
    let mut orientation = None;
    png.chunks_mut().retain(|chunk| {
        let kind = chunk.kind();
        let critical = kind[0].is_ascii_uppercase();
        if critical || PNG_RENDERING_CHUNKS.contains(&&kind) {
            return true;
        }
        match &kind {
            b"eXIf" => orientation = classify_exif(chunk.contents(), &mut removed),
            b"tEXt" | b"zTXt" | b"iTXt" => removed.push(Removed::Text),
            b"tIME" => removed.push(Removed::Timestamp),
            _ => removed.push(Removed::Other),
        }
        false
    });
    if let Some(orientation) = orientation {
        png.set_exif(Some(orientation_only_exif(orientation)));
    }
    removed.sort_unstable();
    removed.dedup();
    let cleaned = png.encoder().bytes();
    let unchanged = removed.is_empty() && cleaned.len() == original_len;
    Ok(Cleaned {
        bytes: (!unchanged).then_some(cleaned),
        removed,
        orientation,
    })
}

fn clean_webp(bytes: Bytes) -> Result<Cleaned, CleanError> {
    let original_len = bytes.len();
    let mut webp = WebP::from_bytes(bytes).map_err(|error| CleanError {
        format: "WebP",
        reason: error.to_string(),
    })?;
    let mut removed = Vec::new();
    let mut orientation = None;
    webp.chunks_mut().retain(|chunk| match &chunk.id() {
        b"VP8 " | b"VP8L" | b"VP8X" | b"ALPH" | b"ANIM" | b"ANMF" | b"ICCP" => true,
        b"EXIF" => {
            if let RiffContent::Data(data) = chunk.content() {
                // Some writers put the JPEG-style "Exif\0\0" prefix in front of the TIFF data.
                let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
                orientation = classify_exif(tiff, &mut removed);
            }
            false
        }
        b"XMP " => {
            removed.push(Removed::Xmp);
            false
        }
        _ => {
            removed.push(Removed::Other);
            false
        }
    });
    // Brings the VP8X Exif and ICC flags in line with the chunks that are left...
    webp.set_exif(orientation.map(orientation_only_exif));
    // ...but not the XMP flag (img-parts leaves it): clear it by hand.
    if !webp.has_chunk(*b"XMP ") {
        for chunk in webp.chunks_mut() {
            if &chunk.id() == b"VP8X"
                && let RiffContent::Data(data) = chunk.content_mut()
                && let Some(flags) = data.first()
                && flags & 0x04 != 0
            {
                let mut fixed = data.to_vec();
                fixed[0] &= !0x04;
                *data = Bytes::from(fixed);
            }
        }
    }
    removed.sort_unstable();
    removed.dedup();
    let cleaned = webp.encoder().bytes();
    let unchanged = removed.is_empty() && cleaned.len() == original_len;
    Ok(Cleaned {
        bytes: (!unchanged).then_some(cleaned),
        removed,
        orientation,
    })
}

#[cfg(test)]
mod tests;
