//! A video's duration as its container states it, read from the headers alone.
//!
//! Imgur refuses videos over 60 seconds after the whole file is sent; reading a few boxes or
//! elements here costs microseconds and saves the upload. Only what the container declares is
//! used: a file that does not say is let through (Imgur decides), never guessed at.

use std::io::{self, Read, Seek, SeekFrom};

/// The duration in milliseconds declared by an MP4/QuickTime (`mvhd`), Matroska/WebM
/// (`Info/Duration`), AVI (`avih`) or FLV (`onMetaData.duration`) container; `None` when the
/// container is another kind, or does not say.
pub fn container_duration_ms(
    mime_type: &str,
    file: &mut (impl Read + Seek),
) -> io::Result<Option<u64>> {
    match mime_type {
        "video/mp4" | "video/quicktime" => mp4_duration(file),
        "video/webm" | "video/x-matroska" => matroska_duration(file),
        "video/avi" => avi_duration(file),
        "video/x-flv" => flv_duration(file),
        _ => Ok(None),
    }
}

/// ISO BMFF: the top-level `moov` box (often at the end of the file) holds `mvhd`, whose
/// duration is in units of its timescale.
fn mp4_duration(file: &mut (impl Read + Seek)) -> io::Result<Option<u64>> {
    let end = file.seek(SeekFrom::End(0))?;
    let Some((moov_start, moov_end)) = find_box(file, 0, end, b"moov")? else {
        return Ok(None);
    };
    let Some((mvhd_start, _)) = find_box(file, moov_start, moov_end, b"mvhd")? else {
        return Ok(None);
    };
    file.seek(SeekFrom::Start(mvhd_start))?;
    let mut version = [0u8; 4];
    file.read_exact(&mut version)?;
    let (timescale, duration) = if version[0] == 1 {
        // creation (8), modification (8), timescale (4), duration (8)
        let mut body = [0u8; 28];
        file.read_exact(&mut body)?;
        (
            u32::from_be_bytes([body[16], body[17], body[18], body[19]]),
            u64::from_be_bytes([
                body[20], body[21], body[22], body[23], body[24], body[25], body[26], body[27],
            ]),
        )
    } else {
        // creation (4), modification (4), timescale (4), duration (4)
        let mut body = [0u8; 16];
        file.read_exact(&mut body)?;
        let duration = u32::from_be_bytes([body[12], body[13], body[14], body[15]]);
        (
            u32::from_be_bytes([body[8], body[9], body[10], body[11]]),
            // All ones means "unknown".
            if duration == u32::MAX {
                u64::MAX
            } else {
                u64::from(duration)
            },
        )
    };
    if timescale == 0 || duration == u64::MAX {
        return Ok(None);
    }
    Ok(Some(
        u64::try_from(u128::from(duration) * 1000 / u128::from(timescale)).unwrap_or(u64::MAX),
    ))
}

/// The body (start, end) of the first box of `kind` between `start` and `end`.
fn find_box(
    file: &mut (impl Read + Seek),
    mut start: u64,
    end: u64,
    kind: &[u8; 4],
) -> io::Result<Option<(u64, u64)>> {
    while start + 8 <= end {
        file.seek(SeekFrom::Start(start))?;
        let mut header = [0u8; 8];
        file.read_exact(&mut header)?;
        let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let (header_len, size) = match size32 {
            0 => (8, end - start),
            1 => {
                let mut large = [0u8; 8];
                file.read_exact(&mut large)?;
                (16, u64::from_be_bytes(large))
            }
            size => (8, u64::from(size)),
        };
        if size < header_len || start.saturating_add(size) > end {
            return Ok(None);
        }
        if &header[4..8] == kind {
            return Ok(Some((start + header_len, start + size)));
        }
        start += size;
    }
    Ok(None)
}

const EBML_SEGMENT: u64 = 0x1853_8067;
const EBML_INFO: u64 = 0x1549_A966;
const EBML_TIMESTAMP_SCALE: u64 = 0x2A_D7B1;
const EBML_DURATION: u64 = 0x4489;
/// Clusters hold the frames: the Info element comes before them, so stop there.
const EBML_CLUSTER: u64 = 0x1F43_B675;

/// Matroska and WebM: `Segment/Info/Duration` (a float) in units of `TimestampScale`
/// nanoseconds (1 ms when absent).
fn matroska_duration(file: &mut (impl Read + Seek)) -> io::Result<Option<u64>> {
    let end = file.seek(SeekFrom::End(0))?;
    file.seek(SeekFrom::Start(0))?;
    // The EBML header, then the Segment.
    let Some((_, header_size)) = read_element_header(file)? else {
        return Ok(None);
    };
    let Some(header_size) = header_size else {
        return Ok(None);
    };
    file.seek(SeekFrom::Current(
        i64::try_from(header_size).unwrap_or(i64::MAX),
    ))?;
    let Some((id, _segment_size)) = read_element_header(file)? else {
        return Ok(None);
    };
    if id != EBML_SEGMENT {
        return Ok(None);
    }
    // Walk the Segment's children until Info (a segment of unknown size is fine: we stop at
    // the first Cluster or the end of the file).
    loop {
        let position = file.stream_position()?;
        if position >= end {
            return Ok(None);
        }
        let Some((id, size)) = read_element_header(file)? else {
            return Ok(None);
        };
        let Some(size) = size else { return Ok(None) };
        if id == EBML_CLUSTER {
            return Ok(None);
        }
        if id == EBML_INFO {
            let body_end = file.stream_position()?.saturating_add(size).min(end);
            return read_info(file, body_end);
        }
        file.seek(SeekFrom::Current(i64::try_from(size).unwrap_or(i64::MAX)))?;
    }
}

fn read_info(file: &mut (impl Read + Seek), end: u64) -> io::Result<Option<u64>> {
    let mut scale_ns: u64 = 1_000_000;
    let mut duration: Option<f64> = None;
    while file.stream_position()? < end {
        let Some((id, Some(size))) = read_element_header(file)? else {
            break;
        };
        if size > 8 {
            file.seek(SeekFrom::Current(i64::try_from(size).unwrap_or(i64::MAX)))?;
            continue;
        }
        let mut value = [0u8; 8];
        let size = usize::try_from(size).unwrap_or(8);
        file.read_exact(&mut value[..size])?;
        match id {
            EBML_TIMESTAMP_SCALE => {
                scale_ns = value[..size]
                    .iter()
                    .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
            }
            EBML_DURATION => {
                duration = match size {
                    4 => Some(f64::from(f32::from_be_bytes([
                        value[0], value[1], value[2], value[3],
                    ]))),
                    8 => Some(f64::from_be_bytes(value)),
                    _ => None,
                };
            }
            _ => {}
        }
    }
    Ok(duration
        .filter(|ticks| ticks.is_finite() && *ticks >= 0.0)
        .map(|ticks| (ticks * scale_ns as f64 / 1_000_000.0).round() as u64))
}

/// An EBML element's id and data size (`None` for "unknown size"); `None` at the end.
fn read_element_header(file: &mut impl Read) -> io::Result<Option<(u64, Option<u64>)>> {
    let Some(id) = read_vint(file, false)? else {
        return Ok(None);
    };
    let Some(size) = read_vint(file, true)? else {
        return Ok(None);
    };
    Ok(Some((id.0, (!size.1).then_some(size.0))))
}

/// An EBML variable-length integer: the id keeps its marker bit, a size drops it. The flag says
/// whether every value bit was set (the "unknown size" value).
fn read_vint(file: &mut impl Read, strip_marker: bool) -> io::Result<Option<(u64, bool)>> {
    let mut first = [0u8; 1];
    if file.read(&mut first)? == 0 {
        return Ok(None);
    }
    let length = first[0].leading_zeros() as usize + 1;
    if length > 8 {
        return Ok(None);
    }
    let mut rest = [0u8; 7];
    file.read_exact(&mut rest[..length - 1])?;
    // The bits after the length marker (none when the first byte is all marker: length 8).
    let value_bits = u8::try_from(0xFFu16 >> length).unwrap_or(0);
    let marker_mask = if strip_marker { value_bits } else { 0xFF };
    let mut value = u64::from(first[0] & marker_mask);
    let mut all_ones = (first[0] & value_bits) == value_bits;
    for byte in &rest[..length - 1] {
        value = (value << 8) | u64::from(*byte);
        all_ones &= *byte == 0xFF;
    }
    Ok(Some((value, all_ones)))
}

/// AVI: the main header `avih` gives microseconds per frame and the frame count.
fn avi_duration(file: &mut (impl Read + Seek)) -> io::Result<Option<u64>> {
    let mut head = vec![0u8; 4096];
    file.seek(SeekFrom::Start(0))?;
    let read = crate::media::read_head(file, &mut head)?;
    let head = &head[..read];
    let Some(at) = head.windows(4).position(|window| window == b"avih") else {
        return Ok(None);
    };
    let field = |offset: usize| -> Option<u32> {
        let start = at + 8 + offset;
        head.get(start..start + 4)
            .map(|bytes| u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    match (field(0), field(16)) {
        (Some(micros_per_frame), Some(frames)) if micros_per_frame > 0 => {
            Ok(Some(u64::from(micros_per_frame) * u64::from(frames) / 1000))
        }
        _ => Ok(None),
    }
}

/// FLV: the `onMetaData` script tag's `duration` (an AMF0 number of seconds).
fn flv_duration(file: &mut (impl Read + Seek)) -> io::Result<Option<u64>> {
    let mut head = vec![0u8; 4096];
    file.seek(SeekFrom::Start(0))?;
    let read = crate::media::read_head(file, &mut head)?;
    let head = &head[..read];
    let key = b"\x00\x08duration\x00";
    let Some(at) = head.windows(key.len()).position(|window| window == key) else {
        return Ok(None);
    };
    let start = at + key.len();
    let Some(bytes) = head.get(start..start + 8) else {
        return Ok(None);
    };
    let mut number = [0u8; 8];
    number.copy_from_slice(bytes);
    let seconds = f64::from_be_bytes(number);
    Ok((seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1000.0).round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> std::fs::File {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/media")
            .join(name);
        std::fs::File::open(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    #[test]
    fn reads_the_declared_duration_of_each_container() {
        for (name, mime) in [
            ("clip.mp4", "video/mp4"),
            ("clip.mov", "video/quicktime"),
            ("clip.webm", "video/webm"),
            ("clip.mkv", "video/x-matroska"),
            ("clip.avi", "video/avi"),
            ("clip.flv", "video/x-flv"),
        ] {
            let duration = container_duration_ms(mime, &mut fixture(name)).unwrap();
            let duration = duration.unwrap_or_else(|| panic!("{name}: no duration"));
            assert!(
                (1_900..=2_100).contains(&duration),
                "{name}: {duration} ms, made as 2 s"
            );
        }
        for (name, mime) in [("long.mp4", "video/mp4"), ("long.webm", "video/webm")] {
            let duration = container_duration_ms(mime, &mut fixture(name)).unwrap();
            assert!(
                (60_900..=61_100).contains(&duration.unwrap_or(0)),
                "{name}: {duration:?}, made as 61 s"
            );
        }
    }

    #[test]
    fn containers_that_do_not_say_are_unknown_not_guessed() {
        assert_eq!(
            container_duration_ms("video/mpeg", &mut fixture("clip.mpg")).unwrap(),
            None
        );
        let mut garbage = std::io::Cursor::new(b"\0\0\0\x10ftypisom\0\0\0\0".to_vec());
        assert_eq!(
            container_duration_ms("video/mp4", &mut garbage).unwrap(),
            None
        );
        let mut truncated = std::io::Cursor::new(vec![0x1A, 0x45, 0xDF, 0xA3, 0x84]);
        assert!(matches!(
            container_duration_ms("video/webm", &mut truncated),
            Ok(None) | Err(_)
        ));
    }
}
