//! Ctrl+V in the window: whatever the clipboard offers, as the shell read it. Copied files are
//! a drop; an image is spooled like a screenshot; text that is a link to an image is fetched and
//! uploaded; file paths or `file://` URIs pasted as text are files. Anything else is refused
//! with what to copy instead.

use super::session::WindowSession;
use super::views::DropOutcome;
use crate::service::ServiceError;
use crate::types::Origin;
use std::io::Cursor;
use std::path::PathBuf;
use std::time::Duration;

/// The largest file a pasted link may fetch (Imgur's video limit).
const MAX_FETCH_BYTES: u64 = 200 * 1024 * 1024;

/// How long fetching a pasted link may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// What the clipboard held, as the shell read it (most useful first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pasted {
    /// Copied files (`text/uri-list` on Linux).
    Files(Vec<PathBuf>),
    /// An image, as RGBA pixels (what clipboards hand out for a copied picture).
    Pixels {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// `width * height * 4` bytes.
        rgba: Vec<u8>,
    },
    /// Text.
    Text(String),
}

impl WindowSession {
    /// Uploads what was pasted as one interactive batch.
    pub async fn paste(&self, pasted: Pasted) -> Result<DropOutcome, ServiceError> {
        match pasted {
            Pasted::Files(paths) => self.upload_paths(paths, Origin::Clipboard, true).await,
            Pasted::Pixels {
                width,
                height,
                rgba,
            } => {
                let png = tokio::task::spawn_blocking(move || encode_png(width, height, rgba))
                    .await
                    .map_err(|error| ServiceError::Task(error.to_string()))??;
                self.upload_bytes(png, Origin::Clipboard).await
            }
            Pasted::Text(text) => match read_text(&text) {
                TextKind::Paths(paths) => self.upload_paths(paths, Origin::Clipboard, true).await,
                TextKind::Link(url) => {
                    let bytes = fetch(&url).await?;
                    self.upload_bytes(bytes, Origin::Clipboard).await
                }
                TextKind::Other => Err(ServiceError::NothingToPaste),
            },
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum TextKind {
    Paths(Vec<PathBuf>),
    Link(url::Url),
    Other,
}

/// Pasted text: one `http(s)` link, or lines that are all `file://` URIs or absolute paths.
fn read_text(text: &str) -> TextKind {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    if lines.is_empty() {
        return TextKind::Other;
    }
    if let [line] = lines.as_slice()
        && let Ok(url) = url::Url::parse(line)
        && matches!(url.scheme(), "http" | "https")
    {
        return TextKind::Link(url);
    }
    let paths: Option<Vec<PathBuf>> = lines
        .iter()
        .map(|line| match url::Url::parse(line) {
            Ok(url) if url.scheme() == "file" => url.to_file_path().ok(),
            _ if line.starts_with('/') => Some(PathBuf::from(line)),
            _ => None,
        })
        .collect();
    paths.map_or(TextKind::Other, TextKind::Paths)
}

fn encode_png(width: u32, height: u32, rgba: Vec<u8>) -> Result<Vec<u8>, ServiceError> {
    let image = image::RgbaImage::from_raw(width, height, rgba).ok_or_else(|| {
        ServiceError::PasteFailed(
            "The clipboard's image is damaged (its size does not match its pixels); copy it again."
                .to_owned(),
        )
    })?;
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|error| {
            ServiceError::PasteFailed(format!("Could not encode the pasted image: {error}"))
        })?;
    Ok(png)
}

/// Fetches a pasted link, refusing what is not an image or video or is too large.
async fn fetch(url: &url::Url) -> Result<Vec<u8>, ServiceError> {
    let failed = |why: String| {
        ServiceError::PasteFailed(format!(
            "Could not fetch the pasted link {url}: {why}. Save the image and drop the file instead."
        ))
    };
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .build()
        .map_err(|error| failed(error.to_string()))?;
    let mut response = client
        .get(url.clone())
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| failed(error.without_url().to_string()))?;
    if response
        .content_length()
        .is_some_and(|length| length > MAX_FETCH_BYTES)
    {
        return Err(failed("it is larger than 200 MB".to_owned()));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| failed(error.without_url().to_string()))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > MAX_FETCH_BYTES {
            return Err(failed("it is larger than 200 MB".to_owned()));
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_read_as_a_link_paths_or_nothing() {
        assert_eq!(
            read_text(" https://example.com/cat.png \n"),
            TextKind::Link(url::Url::parse("https://example.com/cat.png").unwrap())
        );
        assert_eq!(
            read_text("# copied\nfile:///tmp/a%20b.png\r\n/tmp/c.jpg\n"),
            TextKind::Paths(vec![
                PathBuf::from("/tmp/a b.png"),
                PathBuf::from("/tmp/c.jpg")
            ])
        );
        assert_eq!(read_text("hello world"), TextKind::Other);
        assert_eq!(read_text("ftp://example.com/a.png"), TextKind::Other);
        assert_eq!(
            read_text("https://a.example/1.png\nhttps://b.example/2.png"),
            TextKind::Other
        );
        assert_eq!(read_text(""), TextKind::Other);
    }

    #[test]
    fn pixels_become_a_png_and_a_mismatch_is_refused() {
        let png = encode_png(2, 1, vec![255, 0, 0, 255, 0, 255, 0, 255]).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        let error = encode_png(2, 2, vec![0; 4]).unwrap_err();
        assert!(error.to_string().contains("copy it again"), "{error}");
    }
}
