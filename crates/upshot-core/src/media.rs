//! What a file is, judged from its bytes rather than its name, and whether Imgur will take it.
//!
//! Checking here costs nothing, while a file Imgur refuses costs 10 of the day's credits.

use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use upshot_imgur::MediaKind;

/// Imgur's documented size limit for images through the API.
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// Imgur's size limit for videos.
pub const MAX_VIDEO_BYTES: u64 = 200 * 1024 * 1024;

/// The types Imgur accepts, for messages that name them.
pub const ACCEPTED_TYPES: &str = "JPEG, PNG, GIF, APNG, TIFF, WebP images and MP4, WebM, Matroska, QuickTime, FLV, AVI, WMV, MPEG videos";

/// A file that passed the local checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedFile {
    /// The file.
    #[serde(serialize_with = "crate::shown_path::lossy")]
    pub path: PathBuf,
    /// Sent as `image` or `video`.
    #[serde(skip)]
    pub kind: MediaKind,
    /// The MIME type sniffed from the bytes.
    pub mime_type: &'static str,
    /// Its size in bytes.
    pub size: u64,
}

/// Why a file is refused before any request is made.
///
/// Serializes as `{code, message}` like every error of Upshot (the path is in the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRejected {
    /// The path does not exist (any more).
    #[error("{path} does not exist (was it moved or deleted?)")]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A directory, device or other non-regular file.
    #[error("{path} is not a regular file; choose an image or video file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The file could not be opened or read.
    #[error("{path} could not be read: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        reason: String,
    },
    /// Zero bytes.
    #[error("{path} is empty (0 bytes); there is nothing to upload")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// Not a type Imgur accepts.
    #[error(
        "{path} is not an image or video Imgur accepts ({found}); Imgur takes {ACCEPTED_TYPES}"
    )]
    UnsupportedType {
        /// The file.
        path: PathBuf,
        /// What it looks like, in words.
        found: String,
    },
    /// Over the size limit for its kind.
    #[error("{path} is {size} bytes, over the {limit}-byte limit for {what}; {hint}")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
        /// "images" or "videos".
        what: &'static str,
        /// What the user can do.
        hint: &'static str,
    },
    /// A video longer than the limit, as its container says.
    #[error(
        "{path} is a {seconds} s video, over the {limit_seconds}-second limit for videos; trim it \
         first"
    )]
    TooLong {
        /// The file.
        path: PathBuf,
        /// Its duration, rounded up to whole seconds.
        seconds: u64,
        /// The limit.
        limit_seconds: u64,
    },
    /// The picture's structure is damaged, so its metadata could not be removed safely.
    #[error(
        "{path} could not be cleaned of its metadata: {reason}. Re-save it in an editor, or \
         send it as it is with metadata removal turned off (`--keep-metadata`, or the app's \
         settings)"
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// An oversize still that fitting could not bring under the limit.
    #[error("{path} is over the {limit}-byte limit for images and could not be fitted: {reason}")]
    CannotFit {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
        /// Why.
        reason: String,
    },
}

/// What a [`FileRejected::TooLarge`] tells the user to do.
pub const SHRINK_HINT: &str = "make it smaller first";
/// The same for a still that Upshot could fit itself.
pub const FIT_HINT: &str = "make it smaller, or let Upshot fit it (`upshot upload --fit`, or \
     \"Fit other oversize pictures too\" in the app's Before upload settings)";

impl FileRejected {
    /// A short word for the reason, for `--json` and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "missing",
            Self::NotAFile { .. } => "not_a_file",
            Self::Unreadable { .. } => "unreadable",
            Self::Empty { .. } => "empty",
            Self::UnsupportedType { .. } => "unsupported_type",
            Self::TooLarge { .. } => "too_large",
            Self::TooLong { .. } => "too_long",
            Self::Damaged { .. } => "damaged",
            Self::CannotFit { .. } => "cannot_fit",
        }
    }
}

impl crate::error::ErrorCode for FileRejected {
    fn code(&self) -> &'static str {
        FileRejected::code(self)
    }
}

crate::error::serialize_as_coded!(FileRejected);

/// Checks a file: it exists, is a regular readable file, is not empty, is a type Imgur takes and
/// is within Imgur's size limit for its kind.
pub fn check_file(path: &Path) -> Result<CheckedFile, FileRejected> {
    let checked = inspect(path)?;
    let (limit, what) = match checked.kind {
        MediaKind::Image => (MAX_IMAGE_BYTES, "images"),
        MediaKind::Video => (MAX_VIDEO_BYTES, "videos"),
    };
    if checked.size > limit {
        return Err(FileRejected::TooLarge {
            path: checked.path,
            size: checked.size,
            limit,
            what,
            hint: SHRINK_HINT,
        });
    }
    Ok(checked)
}

/// Checks a file's existence, kind and type from its bytes, but not its size: the caller
/// applies its limits (preflight's are configurable, and may fit an oversize still).
pub fn inspect(path: &Path) -> Result<CheckedFile, FileRejected> {
    let owned = || path.to_path_buf();
    let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => FileRejected::Missing { path: owned() },
        _ => FileRejected::Unreadable {
            path: owned(),
            reason: error.to_string(),
        },
    })?;
    if !metadata.is_file() {
        return Err(FileRejected::NotAFile { path: owned() });
    }
    if metadata.len() == 0 {
        return Err(FileRejected::Empty { path: owned() });
    }
    let mut head = [0u8; 512];
    let read = std::fs::File::open(path)
        .and_then(|mut file| read_head(&mut file, &mut head))
        .map_err(|error| FileRejected::Unreadable {
            path: owned(),
            reason: error.to_string(),
        })?;
    let (kind, mime_type) = sniff(&head[..read]).ok_or_else(|| FileRejected::UnsupportedType {
        path: owned(),
        found: describe_unknown(&head[..read]),
    })?;
    Ok(CheckedFile {
        path: owned(),
        kind,
        mime_type,
        size: metadata.len(),
    })
}

/// Fills `buffer` from `file` as far as the file goes; returns how much was read.
pub(crate) fn read_head(file: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            count => filled += count,
        }
    }
    Ok(filled)
}

/// ISO BMFF major brands of HEIF and AVIF images and image sequences (not videos).
const HEIF_BRANDS: [&[u8; 4]; 12] = [
    b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
    b"mif1", b"msf1",
];

/// The ASF header object's GUID, which starts every WMV file.
const ASF_GUID: [u8; 16] = [
    0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
];

/// The file name extensions of what [`sniff`] accepts, for a file picker's filter (the content
/// decides all the same: a file is checked by its bytes, never by its name).
pub const EXTENSIONS: [&str; 16] = [
    "png", "jpg", "jpeg", "gif", "webp", "tif", "tiff", "apng", "mp4", "m4v", "webm", "mov", "avi",
    "mkv", "flv", "wmv",
];

/// The kind and MIME type of a file from its first bytes, or `None` for a type Imgur refuses.
pub fn sniff(head: &[u8]) -> Option<(MediaKind, &'static str)> {
    use MediaKind::{Image, Video};
    let starts = |magic: &[u8]| head.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some((Image, "image/jpeg"))
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some((Image, "image/png"))
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some((Image, "image/gif"))
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some((Image, "image/tiff"))
    } else if starts(b"RIFF") && at(8, b"WEBP") {
        Some((Image, "image/webp"))
    } else if starts(b"RIFF") && at(8, b"AVI ") {
        Some((Video, "video/avi"))
    } else if at(4, b"ftyp") {
        if at(8, b"qt  ") {
            Some((Video, "video/quicktime"))
        } else if HEIF_BRANDS.iter().any(|brand| at(8, *brand)) {
            // HEIF/AVIF stills and sequences: Imgur takes none of them.
            None
        } else {
            Some((Video, "video/mp4"))
        }
    } else if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        if head.windows(4).any(|window| window == b"webm") {
            Some((Video, "video/webm"))
        } else {
            Some((Video, "video/x-matroska"))
        }
    } else if starts(b"FLV\x01") {
        Some((Video, "video/x-flv"))
    } else if starts(&ASF_GUID) {
        Some((Video, "video/x-ms-wmv"))
    } else if starts(&[0x00, 0x00, 0x01, 0xBA]) || starts(&[0x00, 0x00, 0x01, 0xB3]) {
        Some((Video, "video/mpeg"))
    } else if head.first() == Some(&0x47)
        && head.get(188) == Some(&0x47)
        && head.get(376).is_none_or(|byte| *byte == 0x47)
    {
        // MPEG transport stream: a sync byte every 188 bytes, as far as the head goes.
        Some((Video, "video/mp2t"))
    } else {
        None
    }
}

fn describe_unknown(head: &[u8]) -> String {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF") {
        "a PDF document".to_owned()
    } else if starts(b"PK\x03\x04") {
        "a ZIP archive or office document".to_owned()
    } else if head.len() > 12 && &head[4..8] == b"ftyp" {
        "an AVIF or HEIC image".to_owned()
    } else if starts(b"BM") {
        "a BMP image".to_owned()
    } else if std::str::from_utf8(head).is_ok() {
        "a text file".to_owned()
    } else {
        "an unknown format".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    #[test]
    fn type_comes_from_bytes_not_the_name() {
        let png = file_with(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        let checked = check_file(png.path()).unwrap();
        assert_eq!(checked.mime_type, "image/png");
        assert_eq!(checked.kind, MediaKind::Image);

        let mp4 = file_with(b"\0\0\0\x18ftypisom\0\0\0\0");
        assert_eq!(check_file(mp4.path()).unwrap().kind, MediaKind::Video);
        // HEIF stills and sequences are not videos, whatever their brand.
        for brand in ["heic", "heix", "hevc", "mif1", "msf1", "avif", "avis"] {
            let heif = file_with(format!("\0\0\0\x18ftyp{brand}\0\0\0\0").as_bytes());
            assert!(
                matches!(
                    check_file(heif.path()),
                    Err(FileRejected::UnsupportedType { .. })
                ),
                "{brand}"
            );
        }
    }

    #[test]
    fn refusals_say_why() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            check_file(dir.path()),
            Err(FileRejected::NotAFile { .. })
        ));
        assert!(matches!(
            check_file(&dir.path().join("gone.png")),
            Err(FileRejected::Missing { .. })
        ));
        let empty = file_with(b"");
        assert!(matches!(
            check_file(empty.path()),
            Err(FileRejected::Empty { .. })
        ));
        let pdf = file_with(b"%PDF-1.7 hello");
        let error = check_file(pdf.path()).unwrap_err();
        assert!(error.to_string().contains("a PDF document"));
        assert!(error.to_string().contains("PNG"));
    }

    #[test]
    fn oversize_images_are_refused_before_upload() {
        let mut big = tempfile::NamedTempFile::new().unwrap();
        big.write_all(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap();
        big.as_file().set_len(MAX_IMAGE_BYTES + 1).unwrap();
        assert!(matches!(
            check_file(big.path()),
            Err(FileRejected::TooLarge { .. })
        ));
    }
}
