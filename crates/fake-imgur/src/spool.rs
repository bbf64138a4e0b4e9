//! Writing an arriving upload straight to disk while hashing and counting it, so the server
//! never holds a whole file in memory however large it is.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sha2::{Digest, Sha256};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};

use crate::media::SNIFF_LEN;

/// A file being written in a spool directory. Dropping it before [`Spool::finish`] deletes it.
pub(crate) struct Spool {
    path: Option<PathBuf>,
    file: BufWriter<File>,
    size: u64,
    hasher: Sha256,
    head: Vec<u8>,
}

impl Spool {
    /// Creates an empty, uniquely named file in `dir`.
    pub(crate) async fn create(dir: &Path) -> io::Result<Self> {
        let path = dir.join(format!("upload-{}", crate::ids::hex_token()));
        let file = File::create(&path).await?;
        Ok(Self {
            path: Some(path),
            file: BufWriter::with_capacity(256 * 1024, file),
            size: 0,
            hasher: Sha256::new(),
            head: Vec::with_capacity(SNIFF_LEN),
        })
    }

    /// Appends bytes.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.head.len() < SNIFF_LEN {
            let take = (SNIFF_LEN - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        self.file.write_all(bytes).await
    }

    /// Bytes written so far.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The first bytes written (up to [`SNIFF_LEN`]).
    pub(crate) fn head(&self) -> &[u8] {
        &self.head
    }

    /// Flushes and closes the file.
    pub(crate) async fn finish(mut self) -> io::Result<SpooledFile> {
        self.file.flush().await?;
        let path = self
            .path
            .take()
            .ok_or_else(|| io::Error::other("spool already finished"))?;
        Ok(SpooledFile {
            path: Some(path),
            size: self.size,
            sha256: hex::encode(self.hasher.clone().finalize()),
            head: std::mem::take(&mut self.head),
        })
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A complete file in the spool directory. Dropping it deletes it unless it was moved into the
/// store with [`SpooledFile::move_to`].
#[derive(Debug)]
pub(crate) struct SpooledFile {
    path: Option<PathBuf>,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// The first bytes (up to [`SNIFF_LEN`]).
    pub head: Vec<u8>,
}

impl SpooledFile {
    /// Where the bytes are.
    pub(crate) fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or_else(|| Path::new(""))
    }

    /// Renames the file to `dest` (same file system), keeping it for good.
    pub(crate) fn move_to(mut self, dest: &Path) -> io::Result<()> {
        let path = self
            .path
            .take()
            .ok_or_else(|| io::Error::other("spooled file already moved"))?;
        std::fs::rename(path, dest)
    }
}

impl Drop for SpooledFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Why a decoded file was not kept.
#[derive(Debug)]
pub(crate) enum DecodeError {
    /// The decoded bytes exceed the limit.
    TooLarge,
    /// Reading or writing failed.
    Io(io::Error),
}

impl From<io::Error> for DecodeError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Decodes a spooled base64 text into a new spooled file, chunk by chunk.
///
/// Lenient the way PHP's `base64_decode` is: a `data:…;base64,` prefix is skipped and anything
/// outside the base64 alphabet (line breaks, spaces, padding) is ignored. Garbage therefore
/// decodes to garbage, which the type check then rejects, as on Imgur.
/// `limit` is checked against the decoded size as it grows.
pub(crate) async fn decode_base64(
    text: &SpooledFile,
    dir: &Path,
    limit: impl Fn(&[u8]) -> u64,
) -> Result<SpooledFile, DecodeError> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let mut input = File::open(text.path()).await?;
    let mut out = Spool::create(dir).await?;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::with_capacity(chunk.len() + 4);
    let mut decoded = Vec::with_capacity(chunk.len());
    let mut skip_prefix = text.head.starts_with(b"data:");
    loop {
        let n = input.read(&mut chunk).await?;
        let mut bytes = &chunk[..n];
        if skip_prefix {
            match bytes.iter().position(|&b| b == b',') {
                Some(comma) => {
                    bytes = &bytes[comma + 1..];
                    skip_prefix = false;
                }
                None if n == 0 => skip_prefix = false,
                None => continue,
            }
        }
        pending.extend(
            bytes
                .iter()
                .copied()
                .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/'),
        );
        let usable = match (n, pending.len() % 4) {
            // At the end, a lone trailing character cannot encode a byte: drop it.
            (0, 1) => pending.len() - 1,
            (0, _) => pending.len(),
            (_, rest) => pending.len() - rest,
        };
        decoded.clear();
        ENGINE
            .decode_vec(&pending[..usable], &mut decoded)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        pending.drain(..usable);
        out.write(&decoded).await?;
        if out.size() > limit(out.head()) {
            return Err(DecodeError::TooLarge);
        }
        if n == 0 {
            break;
        }
    }
    Ok(out.finish().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn base64_decodes_in_chunks_ignoring_noise() {
        let dir = tempfile::tempdir().unwrap();
        let original: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut text = base64::engine::general_purpose::STANDARD
            .encode(&original)
            .into_bytes();
        // Line-wrap it like a MIME encoder would, and prefix it as a data URI.
        let wrapped: Vec<u8> = text
            .chunks(76)
            .flat_map(|l| [l, b"\r\n"].concat())
            .collect();
        text = [b"data:image/png;base64,".as_slice(), &wrapped].concat();
        let mut spool = Spool::create(dir.path()).await.unwrap();
        spool.write(&text).await.unwrap();
        let spooled = spool.finish().await.unwrap();
        let decoded = decode_base64(&spooled, dir.path(), |_| u64::MAX)
            .await
            .unwrap();
        assert_eq!(std::fs::read(decoded.path()).unwrap(), original);
        assert_eq!(decoded.size, original.len() as u64);
        assert!(matches!(
            decode_base64(&spooled, dir.path(), |_| 1000).await,
            Err(DecodeError::TooLarge)
        ));
    }

    #[tokio::test]
    async fn dropping_an_unkept_file_deletes_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path()).await.unwrap();
        spool.write(b"abc").await.unwrap();
        let spooled = spool.finish().await.unwrap();
        let path = spooled.path().to_owned();
        assert!(path.exists());
        drop(spooled);
        assert!(!path.exists());
    }
}
