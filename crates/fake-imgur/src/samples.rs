//! Small, valid media files built in memory, for tests here and in the client crates: a real
//! PNG that decoders accept, a JPEG header with dimensions, an animated GIF, and MP4 bytes.

/// A valid PNG of `width` × `height` 8-bit greyscale pixels (stored deflate blocks, correct
/// CRCs and Adler-32). `seed` varies the pixels so that files differ.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width as usize + 1) * height as usize);
    for y in 0..height {
        raw.push(0); // filter type: none
        for x in 0..width {
            // Truncation is the point: any byte pattern will do.
            raw.push((x as u8).wrapping_mul(3) ^ (y as u8) ^ seed);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    if blocks.is_empty() {
        zlib.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    for (index, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(index + 1 == blocks.len()));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    push_png_chunk(&mut out, b"IHDR", &ihdr);
    push_png_chunk(&mut out, b"IDAT", &zlib);
    push_png_chunk(&mut out, b"IEND", &[]);
    out
}

/// An APNG: [`png`] with an `acTL` chunk announcing two frames (only the default image is
/// actually present, which is enough for type detection).
pub fn apng(width: u32, height: u32) -> Vec<u8> {
    let still = png(width, height, 0);
    // Signature (8) + IHDR chunk (25): acTL goes right after IHDR.
    let (head, tail) = still.split_at(33);
    let mut out = head.to_vec();
    let mut actl = Vec::with_capacity(8);
    actl.extend_from_slice(&2u32.to_be_bytes());
    actl.extend_from_slice(&0u32.to_be_bytes());
    push_png_chunk(&mut out, b"acTL", &actl);
    out.extend_from_slice(tail);
    out
}

fn push_png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// JPEG headers (SOI, JFIF APP0, a baseline SOF0 with the dimensions, EOI): enough for type
/// and size detection, not a decodable picture.
pub fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend_from_slice(&[
        0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00,
    ]);
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A 1 × 1 GIF with `frames` image blocks (animated when `frames` > 1).
pub fn gif(frames: usize) -> Vec<u8> {
    let mut out = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xFF\xFF\xFF\x00\x00\x00".to_vec();
    for _ in 0..frames.max(1) {
        // Graphic control extension, then a 1×1 image with 2-bit LZW data.
        out.extend_from_slice(b"\x21\xF9\x04\x00\x0A\x00\x00\x00");
        out.extend_from_slice(b"\x2C\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00");
    }
    out.push(0x3B);
    out
}

/// `len` bytes that start like an MP4 (`ftyp isom`), the rest filler.
pub fn mp4(len: usize) -> Vec<u8> {
    let mut out = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    out.resize(len.max(out.len()), 7);
    out.truncate(len.max(12));
    out
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_have_the_dimensions_they_claim() {
        let size = imagesize::blob_size(&png(300, 200, 1)).unwrap();
        assert_eq!((size.width, size.height), (300, 200));
        let size = imagesize::blob_size(&jpeg(640, 480)).unwrap();
        assert_eq!((size.width, size.height), (640, 480));
        let size = imagesize::blob_size(&apng(5, 6)).unwrap();
        assert_eq!((size.width, size.height), (5, 6));
    }

    #[test]
    fn crc_matches_the_png_reference_value() {
        // The IEND chunk's CRC is the same in every PNG.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }
}
