//! What an upload really is, judged from its bytes as Imgur does (the filename and the declared
//! Content-Type are ignored).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::config::Limits;

/// How many leading bytes are kept for sniffing. MPEG-TS needs three 188-byte packets; the
/// Matroska DocType sits within the first few dozen bytes.
pub(crate) const SNIFF_LEN: usize = 1024;

/// Every type the fake accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaType {
    Jpeg,
    Png,
    Gif,
    Tiff,
    Webp,
    Mp4,
    QuickTime,
    Webm,
    Matroska,
    Flv,
    Avi,
    Wmv,
    Mpeg,
    /// An MPEG transport stream (`.ts`).
    MpegTs,
}

impl MediaType {
    /// The MIME type reported in `type`.
    pub(crate) fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Tiff => "image/tiff",
            Self::Webp => "image/webp",
            Self::Mp4 => "video/mp4",
            Self::QuickTime => "video/quicktime",
            Self::Webm => "video/webm",
            Self::Matroska => "video/x-matroska",
            Self::Flv => "video/x-flv",
            Self::Avi => "video/avi",
            Self::Wmv => "video/x-ms-wmv",
            Self::Mpeg => "video/mpeg",
            Self::MpegTs => "video/mp2t",
        }
    }

    /// The extension used in `link`.
    pub(crate) fn ext(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Tiff => "tiff",
            Self::Webp => "webp",
            Self::Mp4 => "mp4",
            Self::QuickTime => "mov",
            Self::Webm => "webm",
            Self::Matroska => "mkv",
            Self::Flv => "flv",
            Self::Avi => "avi",
            Self::Wmv => "wmv",
            Self::Mpeg | Self::MpegTs => "mpg",
        }
    }

    /// Videos get the larger size limit and an `mp4` link.
    pub(crate) fn is_video(self) -> bool {
        !matches!(
            self,
            Self::Jpeg | Self::Png | Self::Gif | Self::Tiff | Self::Webp
        )
    }

    /// The size limit for this type.
    pub(crate) fn limit(self, limits: &Limits) -> u64 {
        if self.is_video() {
            limits.max_video_bytes
        } else {
            limits.max_image_bytes
        }
    }
}

/// The verdict on a file's leading bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// A type the fake accepts.
    Known(MediaType),
    /// Definitely not an accepted type.
    Unknown,
    /// Too few bytes seen to tell (only when the file may continue).
    NeedMore,
}

const ASF_GUID: [u8; 16] = [
    0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
];

/// Judges `head`, the first bytes of a file; `complete` says the file has no more bytes.
pub(crate) fn sniff(head: &[u8], complete: bool) -> Sniff {
    let starts = |magic: &[u8]| head.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| {
        head.get(offset..offset + magic.len())
            .is_some_and(|s| s == magic)
    };
    let known = if starts(b"\xFF\xD8\xFF") {
        Some(MediaType::Jpeg)
    } else if starts(b"\x89PNG\r\n\x1A\n") {
        Some(MediaType::Png)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some(MediaType::Gif)
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some(MediaType::Tiff)
    } else if starts(b"RIFF") && at(8, b"WEBP") {
        Some(MediaType::Webp)
    } else if starts(b"RIFF") && at(8, b"AVI ") {
        Some(MediaType::Avi)
    } else if at(4, b"ftyp") && head.len() >= 12 {
        match head.get(8..12) {
            Some(b"qt  ") => Some(MediaType::QuickTime),
            // HEIF/AVIF stills and sequences share the box format but Imgur takes none of them.
            Some(
                b"avif" | b"avis" | b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx"
                | b"hevm" | b"hevs" | b"mif1" | b"msf1",
            ) => None,
            _ => Some(MediaType::Mp4),
        }
    } else if starts(b"\x1A\x45\xDF\xA3") {
        if contains(head, b"webm") {
            Some(MediaType::Webm)
        } else if contains(head, b"matroska") || complete || head.len() >= 64 {
            Some(MediaType::Matroska)
        } else {
            return Sniff::NeedMore;
        }
    } else if starts(b"FLV\x01") {
        Some(MediaType::Flv)
    } else if starts(&ASF_GUID) {
        Some(MediaType::Wmv)
    } else if starts(b"\0\0\x01\xBA") || starts(b"\0\0\x01\xB3") {
        Some(MediaType::Mpeg)
    } else if starts(b"\x47") {
        // MPEG transport stream: a sync byte every 188 bytes (three packets when the file has
        // them, two in a shorter one).
        if head.len() > 376 {
            (head[188] == 0x47 && head[376] == 0x47).then_some(MediaType::MpegTs)
        } else if !complete {
            return Sniff::NeedMore;
        } else if head.len() > 188 {
            (head[188] == 0x47).then_some(MediaType::MpegTs)
        } else {
            None
        }
    } else {
        None
    };
    match known {
        Some(media) => Sniff::Known(media),
        // The longest fixed magic above is the 16-byte ASF GUID.
        None if !complete && head.len() < 16 => Sniff::NeedMore,
        None => Sniff::Unknown,
    }
}

/// What the fake makes of a whole file from its bytes, as an upload would: the MIME type it
/// reports and whether the file counts as a video, or `None` when it refuses the type. Public so
/// Upshot's tests can check that the client's sniffer agrees with the server's on every fixture
/// (a client that accepts what the server refuses would only find out after the upload).
pub fn sniff_file(bytes: &[u8]) -> Option<(&'static str, bool)> {
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    match sniff(head, head.len() == bytes.len()) {
        Sniff::Known(media) => Some((media.mime(), media.is_video())),
        // A file longer than the sniffed head is judged on the head alone, as an upload is once
        // SNIFF_LEN bytes have arrived.
        Sniff::Unknown | Sniff::NeedMore => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The size limit that applies while a file is still arriving: before its type is known the
/// larger of the two, so a video is not cut off for being over the image limit.
pub(crate) fn streaming_limit(head: &[u8], limits: &Limits) -> u64 {
    match sniff(head, false) {
        Sniff::Known(media) => media.limit(limits),
        _ => limits.max_image_bytes.max(limits.max_video_bytes),
    }
}

/// Dimensions and animation, read from the stored file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MediaInfo {
    pub width: u32,
    pub height: u32,
    pub animated: bool,
}

/// Reads what the Image model reports about a stored file. Blocking: run it off the runtime.
/// Fails when an image's dimensions cannot be read (a corrupt or truncated file), which Imgur
/// rejects too.
pub(crate) fn inspect(path: &Path, media: MediaType) -> io::Result<MediaInfo> {
    if media.is_video() {
        // Parsing container headers for dimensions is not worth it for a fake.
        return Ok(MediaInfo {
            width: 0,
            height: 0,
            animated: true,
        });
    }
    let size = imagesize::size(path).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let dimension = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    let animated = match media {
        MediaType::Gif => gif_frames(path)? > 1,
        MediaType::Png => png_is_animated(path)?,
        MediaType::Webp => webp_is_animated(path)?,
        _ => false,
    };
    Ok(MediaInfo {
        width: dimension(size.width),
        height: dimension(size.height),
        animated,
    })
}

/// Counts image descriptors by walking the GIF block structure, stopping at the second (best
/// effort: a malformed tail just ends the count).
fn gif_frames(path: &Path) -> io::Result<u32> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut header = [0u8; 13];
    reader.read_exact(&mut header)?;
    skip_color_table(&mut reader, header[10])?;
    let mut frames = 0;
    loop {
        let mut introducer = [0u8; 1];
        if reader.read_exact(&mut introducer).is_err() {
            return Ok(frames);
        }
        match introducer[0] {
            0x2C => {
                frames += 1;
                if frames > 1 {
                    return Ok(frames);
                }
                let mut descriptor = [0u8; 9];
                reader.read_exact(&mut descriptor)?;
                skip_color_table(&mut reader, descriptor[8])?;
                let mut lzw_min = [0u8; 1];
                reader.read_exact(&mut lzw_min)?;
                skip_sub_blocks(&mut reader)?;
            }
            0x21 => {
                let mut label = [0u8; 1];
                reader.read_exact(&mut label)?;
                skip_sub_blocks(&mut reader)?;
            }
            _ => return Ok(frames),
        }
    }
}

fn skip_color_table(reader: &mut impl Read, flags: u8) -> io::Result<()> {
    if flags & 0x80 != 0 {
        let entries = 2u64 << (flags & 0x07);
        io::copy(&mut reader.take(entries * 3), &mut io::sink())?;
    }
    Ok(())
}

fn skip_sub_blocks(reader: &mut impl Read) -> io::Result<()> {
    loop {
        let mut len = [0u8; 1];
        reader.read_exact(&mut len)?;
        if len[0] == 0 {
            return Ok(());
        }
        io::copy(&mut reader.take(u64::from(len[0])), &mut io::sink())?;
    }
}

/// An APNG is a PNG with an `acTL` chunk before its first `IDAT`.
fn png_is_animated(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(8))?;
    loop {
        let mut chunk = [0u8; 8];
        if file.read_exact(&mut chunk).is_err() {
            return Ok(false);
        }
        let len = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        match &chunk[4..8] {
            b"acTL" => return Ok(true),
            b"IDAT" | b"IEND" => return Ok(false),
            // Skip the data and the CRC.
            _ => file.seek(SeekFrom::Current(i64::from(len) + 4))?,
        };
    }
}

/// An animated WebP has the animation flag set in its `VP8X` header.
fn webp_is_animated(path: &Path) -> io::Result<bool> {
    let mut head = [0u8; 21];
    let mut file = File::open(path)?;
    if file.read_exact(&mut head).is_err() {
        return Ok(false);
    }
    Ok(&head[12..16] == b"VP8X" && head[20] & 0x02 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_magic_numbers() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR", true),
            Sniff::Known(MediaType::Png)
        );
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF", true),
            Sniff::Known(MediaType::Jpeg)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmp42\0\0\0\0", true),
            Sniff::Known(MediaType::Mp4)
        );
        assert_eq!(
            sniff(b"\0\0\0\x14ftypqt  \0\0\0\0", true),
            Sniff::Known(MediaType::QuickTime)
        );
        assert_eq!(sniff(b"\0\0\0\x1cftypavif\0\0\0\0", true), Sniff::Unknown);
        let mut webm = b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm".to_vec();
        webm.resize(80, 0);
        assert_eq!(sniff(&webm, false), Sniff::Known(MediaType::Webm));
        assert_eq!(
            sniff(b"RIFF\0\0\0\0AVI LIST", true),
            Sniff::Known(MediaType::Avi)
        );
        assert_eq!(sniff(b"hello, world", true), Sniff::Unknown);
        assert_eq!(sniff(b"hel", false), Sniff::NeedMore);
        assert_eq!(sniff(b"%PDF-1.7 lots of bytes here", false), Sniff::Unknown);
        let mut ts = vec![0u8; 400];
        ts[0] = 0x47;
        ts[188] = 0x47;
        ts[376] = 0x47;
        assert_eq!(sniff(&ts, false), Sniff::Known(MediaType::MpegTs));
    }

    #[test]
    fn inspection_reads_dimensions_and_animation() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (crate::samples::gif(1), MediaType::Gif, (1, 1), false),
            (crate::samples::gif(3), MediaType::Gif, (1, 1), true),
            (crate::samples::png(7, 5, 0), MediaType::Png, (7, 5), false),
            (crate::samples::apng(4, 3), MediaType::Png, (4, 3), true),
            (
                crate::samples::jpeg(640, 480),
                MediaType::Jpeg,
                (640, 480),
                false,
            ),
        ];
        for (index, (bytes, media, (width, height), animated)) in cases.into_iter().enumerate() {
            let path = dir.path().join(index.to_string());
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(sniff(&bytes, true), Sniff::Known(media));
            let info = inspect(&path, media).unwrap();
            assert_eq!(
                (info.width, info.height, info.animated),
                (width, height, animated),
                "case {index}"
            );
        }
        let truncated = dir.path().join("truncated");
        std::fs::write(&truncated, b"\x89PNG\r\n\x1a\n\0\0").unwrap();
        assert!(inspect(&truncated, MediaType::Png).is_err());
    }

    #[test]
    fn streaming_limit_uses_the_larger_limit_until_the_type_is_known() {
        let limits = Limits {
            max_image_bytes: 10,
            max_video_bytes: 100,
            ..Limits::default()
        };
        assert_eq!(streaming_limit(b"\x89P", &limits), 100);
        assert_eq!(streaming_limit(b"\x89PNG\r\n\x1A\n", &limits), 10);
    }
}
