//! What an upload sends, and the streamed, progress-reporting file body.

use crate::answer::{BodyWatch, watch_body};
use futures_util::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_util::io::ReaderStream;
use url::Url;

/// How much of the file is read per chunk: large enough for throughput on loopback, small enough
/// that memory stays flat whatever the file size.
const CHUNK_BYTES: usize = 256 * 1024;

/// Whether Imgur gets the file as `image` or `video`: it decides the multipart field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// Sent as the `image` field (JPEG, PNG, GIF, APNG, TIFF, WebP).
    Image,
    /// Sent as the `video` field (MP4, WebM, ...).
    Video,
}

impl MediaKind {
    pub(crate) fn field_name(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
        }
    }
}

/// Where the bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadSource {
    /// A local file, streamed from disk as multipart.
    File {
        /// The file to send.
        path: PathBuf,
        /// Image or video.
        kind: MediaKind,
        /// The MIME type to declare for the part, e.g. `image/png`.
        mime_type: String,
    },
    /// Bytes prepared in memory (a picture with its metadata removed), sent as multipart in
    /// chunks with progress reports like a file.
    Bytes {
        /// What to send.
        bytes: bytes::Bytes,
        /// The file name to declare for the part.
        file_name: String,
        /// Image or video.
        kind: MediaKind,
        /// The MIME type to declare for the part.
        mime_type: String,
    },
    /// A public URL that Imgur fetches itself (`type=url`).
    Url(Url),
}

/// One upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    /// What to send.
    pub source: UploadSource,
    /// Title shown on the image page.
    pub title: Option<String>,
    /// Description shown on the image page.
    pub description: Option<String>,
    /// The album to add it to: its deletehash when anonymous, its id when logged in.
    pub album: Option<String>,
    /// The file name Imgur records (it drops it for anonymous uploads).
    pub name: Option<String>,
    /// Strip the audio track from a video.
    pub disable_audio: bool,
}

impl UploadRequest {
    /// An upload of a local file with no metadata.
    pub fn file(path: impl Into<PathBuf>, kind: MediaKind, mime_type: impl Into<String>) -> Self {
        Self::of(UploadSource::File {
            path: path.into(),
            kind,
            mime_type: mime_type.into(),
        })
    }

    /// An upload of bytes held in memory, with no metadata.
    pub fn bytes(
        bytes: bytes::Bytes,
        file_name: impl Into<String>,
        kind: MediaKind,
        mime_type: impl Into<String>,
    ) -> Self {
        Self::of(UploadSource::Bytes {
            bytes,
            file_name: file_name.into(),
            kind,
            mime_type: mime_type.into(),
        })
    }

    /// An upload from a URL with no metadata.
    pub fn url(url: Url) -> Self {
        Self::of(UploadSource::Url(url))
    }

    /// An upload of `source` with no metadata.
    fn of(source: UploadSource) -> Self {
        Self {
            source,
            title: None,
            description: None,
            album: None,
            name: None,
            disable_audio: false,
        }
    }

    /// The text fields common to both encodings.
    pub(crate) fn text_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = Vec::new();
        let optional = [
            ("title", &self.title),
            ("description", &self.description),
            ("album", &self.album),
            ("name", &self.name),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                fields.push((key, value.clone()));
            }
        }
        if self.disable_audio {
            fields.push(("disable_audio", "1".to_owned()));
        }
        fields
    }
}

/// Bytes of a file handed to the network so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadProgress {
    /// Bytes read from the file and handed to the connection.
    pub sent: u64,
    /// The file's size.
    pub total: u64,
}

/// Called from the upload task as bytes go out; must be cheap and must not block.
pub type ProgressFn = Arc<dyn Fn(UploadProgress) + Send + Sync>;

/// A request body that hands over bytes in memory in chunks, reporting each like a file's; the
/// watch tells when the last chunk was taken.
pub(crate) fn progress_bytes_body(
    bytes: bytes::Bytes,
    progress: Option<ProgressFn>,
) -> (reqwest::Body, BodyWatch) {
    let total = bytes.len() as u64;
    let chunks: Vec<bytes::Bytes> = (0..bytes.len())
        .step_by(CHUNK_BYTES)
        .map(|start| bytes.slice(start..(start + CHUNK_BYTES).min(bytes.len())))
        .collect();
    let mut sent = 0u64;
    let stream = futures_util::stream::iter(chunks).map(move |chunk| {
        sent += chunk.len() as u64;
        if let Some(report) = progress.as_ref() {
            report(UploadProgress { sent, total });
        }
        Ok::<_, std::io::Error>(chunk)
    });
    let (stream, watch) = watch_body(stream, total);
    (reqwest::Body::wrap_stream(stream), watch)
}

/// A request body that streams the file in chunks and reports each chunk as it is taken; the
/// watch tells when the last chunk was taken.
pub(crate) fn progress_body(
    file: tokio::fs::File,
    total: u64,
    progress: Option<ProgressFn>,
) -> (reqwest::Body, BodyWatch) {
    let sent = Arc::new(AtomicU64::new(0));
    let stream = ReaderStream::with_capacity(file, CHUNK_BYTES).inspect(move |chunk| {
        if let (Ok(bytes), Some(report)) = (chunk, progress.as_ref()) {
            let now_sent =
                sent.fetch_add(bytes.len() as u64, Ordering::Relaxed) + bytes.len() as u64;
            report(UploadProgress {
                sent: now_sent,
                total,
            });
        }
    });
    let (stream, watch) = watch_body(stream, total);
    (reqwest::Body::wrap_stream(stream), watch)
}
