//! Reading request forms: multipart/form-data and application/x-www-form-urlencoded (and JSON
//! for the small ones).
//!
//! Upload forms are streamed: the `image`/`video` value goes to a [`Spool`] chunk by chunk, so
//! memory stays flat whatever the size. A file that turns out too large or of the wrong type
//! stops being written at once; the rest of the body is read and discarded so that the client
//! reliably receives the error instead of a connection reset.

use std::path::Path;

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::StreamExt as _;

use crate::config::Limits;
use crate::envelope::ApiError;
use crate::media::{self, Sniff};
use crate::spool::{Spool, SpooledFile};

/// The most a single non-file field may hold.
const FIELD_LIMIT: usize = 1024 * 1024;

/// Text fields of a form, in order, repeated keys kept.
#[derive(Debug, Clone, Default)]
pub(crate) struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// The first value of `name`, trimmed, if it is not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// Owned version of [`FormFields::get`].
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Every value given for a list parameter: repeated `name[]` keys (also `name[0]`, …) and
    /// comma-separated `name` values, as Imgur accepts both.
    pub(crate) fn list(&self, name: &str) -> Vec<String> {
        let bracketed = format!("{name}[");
        self.0
            .iter()
            .filter(|(key, _)| key == name || key.starts_with(&bracketed))
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn push(&mut self, key: String, value: String) {
        self.0.push((key, value));
    }
}

/// The media value of an upload form.
#[derive(Debug)]
pub(crate) enum MediaPart {
    /// A file part: the bytes as sent.
    Binary(SpooledFile),
    /// A text value: base64 or a URL, to be resolved with the `type` field.
    Text(SpooledFile),
}

/// An upload form, its media spooled to disk.
#[derive(Debug, Default)]
pub(crate) struct UploadForm {
    pub media: Option<MediaPart>,
    /// The filename of the file part, if it had one.
    pub filename: Option<String>,
    pub fields: FormFields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Multipart,
    UrlEncoded,
    Json,
    Other,
}

fn encoding(headers: &HeaderMap) -> Encoding {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        Encoding::Multipart
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        Encoding::UrlEncoded
    } else if content_type.starts_with("application/json") {
        Encoding::Json
    } else {
        Encoding::Other
    }
}

/// Reads an upload form (`POST /3/image`), spooling the media into `spool_dir`.
pub(crate) async fn read_upload(
    request: Request,
    spool_dir: &Path,
    limits: &Limits,
    body_limit: u64,
) -> Result<UploadForm, ApiError> {
    match encoding(request.headers()) {
        Encoding::Multipart => read_multipart_upload(request, spool_dir, limits).await,
        Encoding::UrlEncoded => read_urlencoded_upload(request, spool_dir, body_limit).await,
        // Imgur's upload takes form encodings only; anything else carries no image for it.
        Encoding::Json | Encoding::Other => {
            crate::gate::drain(request.into_body(), body_limit).await;
            Ok(UploadForm::default())
        }
    }
}

fn multipart_error(error: &MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::body_too_large()
    } else {
        ApiError::message(
            StatusCode::BAD_REQUEST,
            format!("Malformed multipart body: {}", error.body_text()),
        )
    }
}

async fn read_multipart_upload(
    request: Request,
    spool_dir: &Path,
    limits: &Limits,
) -> Result<UploadForm, ApiError> {
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| {
        ApiError::message(
            StatusCode::BAD_REQUEST,
            format!("Malformed multipart body: {}", e.body_text()),
        )
    })?;
    let mut form = UploadForm::default();
    let mut media: Option<(SpooledFile, bool)> = None;
    // Once the file is rejected, everything after it is only read to be discarded.
    let mut rejected: Option<ApiError> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if rejected.is_some() => {
                tracing::debug!("while discarding a rejected upload: {e}");
                break;
            }
            Err(e) => return Err(multipart_error(&e)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let is_media = name == "image" || name == "video";
        if rejected.is_some() || (is_media && media.is_some()) {
            discard(field).await;
            continue;
        }
        if is_media {
            // A part with a filename or a non-text Content-Type is presumed to be a file and is
            // checked as it arrives, unless an earlier `type` field said base64 or url.
            let declared_text = matches!(form.fields.get("type"), Some("base64" | "url"));
            let presumed_file = !declared_text
                && (field.file_name().is_some()
                    || name == "video"
                    || field
                        .content_type()
                        .is_some_and(|ct| !ct.to_ascii_lowercase().starts_with("text/")));
            form.filename = field.file_name().map(str::to_owned);
            match spool_field(field, spool_dir, presumed_file.then_some(limits)).await? {
                Ok(file) => media = Some((file, presumed_file)),
                Err(error) => rejected = Some(error),
            }
        } else {
            let value = read_text_field(field).await?;
            form.fields.push(name, value);
        }
    }
    if let Some(error) = rejected {
        return Err(error);
    }
    form.media = media
        .map(|(file, presumed_file)| classify_part(file, presumed_file, form.fields.get("type")));
    Ok(form)
}

/// Whether a multipart `image` value is a file or text (base64 or a URL), once the whole form,
/// `type` included, has been read: `type` decides when given; otherwise a part that looked like
/// a file is one, and a bare text part is text only if it reads as a URL or as base64.
fn classify_part(file: SpooledFile, presumed_file: bool, declared: Option<&str>) -> MediaPart {
    let text = match declared {
        Some("base64" | "url") => true,
        Some("file") => false,
        _ if presumed_file => false,
        _ => looks_like_text(&file.head),
    };
    if text {
        MediaPart::Text(file)
    } else {
        MediaPart::Binary(file)
    }
}

/// A URL, a data URI, or nothing but base64 characters.
fn looks_like_text(head: &[u8]) -> bool {
    let head = head.trim_ascii_start();
    let lower = head.get(..8).unwrap_or(head).to_ascii_lowercase();
    lower.starts_with(b"http://")
        || lower.starts_with(b"https://")
        || lower.starts_with(b"data:")
        || (!head.is_empty()
            && head
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=-_\r\n\t ".contains(b)))
}

/// Writes one part to a spool. With `limits`, the part is a file and is checked as it arrives:
/// the inner `Err` is the rejection (the rest of the part has been discarded).
async fn spool_field(
    mut field: Field<'_>,
    spool_dir: &Path,
    limits: Option<&Limits>,
) -> Result<Result<SpooledFile, ApiError>, ApiError> {
    let mut spool = Spool::create(spool_dir).await.map_err(ApiError::internal)?;
    loop {
        match field.chunk().await {
            Ok(Some(bytes)) => {
                spool.write(&bytes).await.map_err(ApiError::internal)?;
                if let Some(rejection) = limits.and_then(|limits| check_arriving(&spool, limits)) {
                    discard(field).await;
                    return Ok(Err(rejection));
                }
            }
            Ok(None) => break,
            Err(e) => return Err(multipart_error(&e)),
        }
    }
    Ok(Ok(spool.finish().await.map_err(ApiError::internal)?))
}

/// Rejects a file as soon as its type is known to be wrong or it grows past its limit.
fn check_arriving(spool: &Spool, limits: &Limits) -> Option<ApiError> {
    if media::sniff(spool.head(), false) == Sniff::Unknown {
        return Some(ApiError::invalid_type());
    }
    (spool.size() > media::streaming_limit(spool.head(), limits)).then(ApiError::too_large)
}

async fn discard(mut field: Field<'_>) {
    while let Ok(Some(_)) = field.chunk().await {}
}

async fn read_text_field(mut field: Field<'_>) -> Result<String, ApiError> {
    let mut value = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(bytes)) => {
                if value.len() + bytes.len() > FIELD_LIMIT {
                    return Err(ApiError::message(
                        StatusCode::BAD_REQUEST,
                        "A form field is too long",
                    ));
                }
                value.extend_from_slice(&bytes);
            }
            Ok(None) => break,
            Err(e) => return Err(multipart_error(&e)),
        }
    }
    Ok(String::from_utf8_lossy(&value).into_owned())
}

async fn read_urlencoded_upload(
    request: Request,
    spool_dir: &Path,
    body_limit: u64,
) -> Result<UploadForm, ApiError> {
    let mut data = request.into_body().into_data_stream();
    let mut parser = UrlencodedParser::default();
    let mut pieces = Vec::new();
    let mut form = UploadForm::default();
    let mut spool: Option<Spool> = None;
    let mut total = 0u64;
    loop {
        let chunk = match data.next().await {
            Some(Ok(chunk)) => Some(chunk),
            Some(Err(e)) => {
                return Err(ApiError::message(
                    StatusCode::BAD_REQUEST,
                    format!("Could not read the request body: {e}"),
                ));
            }
            None => None,
        };
        match &chunk {
            Some(chunk) => {
                total += chunk.len() as u64;
                if total > body_limit {
                    // Like nginx's lingering close: swallow a while more so the 413 is read.
                    crate::gate::drain_stream(data, body_limit).await;
                    return Err(ApiError::body_too_large());
                }
                parser.feed(chunk, &mut pieces)?;
            }
            None => parser.finish(&mut pieces)?,
        }
        for piece in pieces.drain(..) {
            match piece {
                Piece::Field(key, value) => form.fields.push(key, value),
                Piece::StreamStart if form.media.is_none() && spool.is_none() => {
                    spool = Some(Spool::create(spool_dir).await.map_err(ApiError::internal)?);
                }
                Piece::StreamStart => {}
                Piece::Stream(bytes) => {
                    if let Some(spool) = spool.as_mut() {
                        spool.write(&bytes).await.map_err(ApiError::internal)?;
                    }
                }
                Piece::StreamEnd => {
                    if let Some(done) = spool.take() {
                        let file = done.finish().await.map_err(ApiError::internal)?;
                        form.media = Some(MediaPart::Text(file));
                    }
                }
            }
        }
        if chunk.is_none() {
            return Ok(form);
        }
    }
}

/// What the streaming urlencoded parser produces.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    /// A complete ordinary field.
    Field(String, String),
    /// The value of `image` (or `video`) begins.
    StreamStart,
    /// Decoded bytes of that value.
    Stream(Vec<u8>),
    /// That value ended.
    StreamEnd,
}

/// Percent-decoding that survives chunk boundaries.
#[derive(Debug, Default)]
struct PercentDecoder {
    /// After a `%`: the hex digits seen so far.
    pending: Option<Vec<u8>>,
}

impl PercentDecoder {
    fn push(&mut self, byte: u8, out: &mut Vec<u8>) {
        if let Some(digits) = self.pending.as_mut() {
            if byte.is_ascii_hexdigit() {
                digits.push(byte);
                if digits.len() == 2 {
                    let hex = [digits[0], digits[1]];
                    self.pending = None;
                    if let Some(value) = std::str::from_utf8(&hex)
                        .ok()
                        .and_then(|s| u8::from_str_radix(s, 16).ok())
                    {
                        out.push(value);
                    }
                }
                return;
            }
            // Not an escape after all: keep it literally, as browsers do.
            self.flush(out);
        }
        match byte {
            b'%' => self.pending = Some(Vec::with_capacity(2)),
            b'+' => out.push(b' '),
            other => out.push(other),
        }
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        if let Some(digits) = self.pending.take() {
            out.push(b'%');
            out.extend_from_slice(&digits);
        }
    }
}

/// A push parser for `application/x-www-form-urlencoded` that streams the `image`/`video` value.
#[derive(Debug, Default)]
struct UrlencodedParser {
    decoder: PercentDecoder,
    key: Vec<u8>,
    value: Vec<u8>,
    in_value: bool,
    streaming: bool,
}

impl UrlencodedParser {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Piece>) -> Result<(), ApiError> {
        let mut streamed = Vec::new();
        for &byte in bytes {
            match byte {
                b'&' => {
                    self.end_pair(&mut streamed, out);
                }
                b'=' if !self.in_value => {
                    self.decoder.flush(&mut self.key);
                    self.in_value = true;
                    self.streaming = matches!(self.key.as_slice(), b"image" | b"video");
                    if self.streaming {
                        out.push(Piece::StreamStart);
                    }
                }
                _ if self.streaming => self.decoder.push(byte, &mut streamed),
                _ => {
                    let target = if self.in_value {
                        &mut self.value
                    } else {
                        &mut self.key
                    };
                    self.decoder.push(byte, target);
                    if self.key.len() + self.value.len() > FIELD_LIMIT {
                        return Err(ApiError::message(
                            StatusCode::BAD_REQUEST,
                            "A form field is too long",
                        ));
                    }
                }
            }
        }
        if !streamed.is_empty() {
            out.push(Piece::Stream(streamed));
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<Piece>) -> Result<(), ApiError> {
        let mut streamed = Vec::new();
        self.end_pair(&mut streamed, out);
        Ok(())
    }

    fn end_pair(&mut self, streamed: &mut Vec<u8>, out: &mut Vec<Piece>) {
        if self.streaming {
            self.decoder.flush(streamed);
            if !streamed.is_empty() {
                out.push(Piece::Stream(std::mem::take(streamed)));
            }
            out.push(Piece::StreamEnd);
        } else {
            let target = if self.in_value {
                &mut self.value
            } else {
                &mut self.key
            };
            self.decoder.flush(target);
            if !self.key.is_empty() {
                out.push(Piece::Field(
                    String::from_utf8_lossy(&self.key).into_owned(),
                    String::from_utf8_lossy(&self.value).into_owned(),
                ));
            }
        }
        self.key.clear();
        self.value.clear();
        self.in_value = false;
        self.streaming = false;
    }
}

/// Reads a small form (albums, OAuth) completely: multipart, urlencoded or a JSON object.
pub(crate) async fn read_fields(request: Request) -> Result<FormFields, ApiError> {
    const SMALL_FORM_LIMIT: usize = 4 * FIELD_LIMIT;
    match encoding(request.headers()) {
        Encoding::Multipart => {
            let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| {
                ApiError::message(
                    StatusCode::BAD_REQUEST,
                    format!("Malformed multipart body: {}", e.body_text()),
                )
            })?;
            let mut fields = FormFields::default();
            loop {
                match multipart.next_field().await {
                    Ok(Some(field)) => {
                        let name = field.name().unwrap_or_default().to_owned();
                        let value = read_text_field(field).await?;
                        fields.push(name, value);
                    }
                    Ok(None) => return Ok(fields),
                    Err(e) => return Err(multipart_error(&e)),
                }
            }
        }
        encoding => {
            let bytes = axum::body::to_bytes(request.into_body(), SMALL_FORM_LIMIT)
                .await
                .map_err(|_| ApiError::body_too_large())?;
            if encoding == Encoding::Json {
                parse_json_fields(&bytes)
            } else {
                let mut fields = FormFields::default();
                for (key, value) in url::form_urlencoded::parse(&bytes) {
                    fields.push(key.into_owned(), value.into_owned());
                }
                Ok(fields)
            }
        }
    }
}

fn parse_json_fields(bytes: &[u8]) -> Result<FormFields, ApiError> {
    let mut fields = FormFields::default();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(fields);
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::message(StatusCode::BAD_REQUEST, format!("Invalid JSON: {e}")))?;
    let serde_json::Value::Object(object) = value else {
        return Err(ApiError::message(
            StatusCode::BAD_REQUEST,
            "The JSON body must be an object",
        ));
    };
    let scalar = |value: &serde_json::Value| match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    for (key, value) in object {
        match &value {
            serde_json::Value::Array(items) => {
                for item in items.iter().filter_map(scalar) {
                    fields.push(key.clone(), item);
                }
            }
            other => {
                if let Some(text) = scalar(other) {
                    fields.push(key, text);
                }
            }
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_chunks(input: &[u8], chunk: usize) -> Vec<Piece> {
        let mut parser = UrlencodedParser::default();
        let mut pieces = Vec::new();
        for part in input.chunks(chunk) {
            parser.feed(part, &mut pieces).unwrap();
        }
        parser.finish(&mut pieces).unwrap();
        // Merge stream pieces so the result does not depend on the chunk size.
        let mut merged: Vec<Piece> = Vec::new();
        for piece in pieces {
            match (merged.last_mut(), piece) {
                (Some(Piece::Stream(acc)), Piece::Stream(more)) => acc.extend(more),
                (_, piece) => merged.push(piece),
            }
        }
        merged
    }

    #[test]
    fn urlencoded_parser_streams_the_image_across_any_chunking() {
        let input = b"title=a+b%21&image=iVBO%2Bw%2F%3D%3D&type=base64&ids%5B%5D=x";
        for chunk in 1..input.len() {
            assert_eq!(
                parse_in_chunks(input, chunk),
                vec![
                    Piece::Field("title".into(), "a b!".into()),
                    Piece::StreamStart,
                    Piece::Stream(b"iVBO+w/==".to_vec()),
                    Piece::StreamEnd,
                    Piece::Field("type".into(), "base64".into()),
                    Piece::Field("ids[]".into(), "x".into()),
                ],
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn bare_text_parts_are_text_only_when_they_read_as_text() {
        assert!(looks_like_text(b"https://example.com/a.png"));
        assert!(looks_like_text(b"  HTTP://EXAMPLE.COM"));
        assert!(looks_like_text(b"data:image/png;base64,iVBO"));
        assert!(looks_like_text(b"iVBORw0KGgo=\r\nAAAA"));
        assert!(!looks_like_text(b"\x89PNG\r\n\x1a\n"));
        assert!(!looks_like_text(b""));
    }

    #[test]
    fn lists_accept_brackets_and_commas() {
        let mut fields = FormFields::default();
        fields.push("ids[]".into(), "a".into());
        fields.push("ids[]".into(), "b".into());
        fields.push("ids".into(), "c, d".into());
        fields.push("deletehashes".into(), "".into());
        assert_eq!(fields.list("ids"), vec!["a", "b", "c", "d"]);
        assert!(fields.list("deletehashes").is_empty());
    }
}
