//! What i.imgur.com and imgur.com serve: the files, thumbnails, and the viewer, album and
//! deletion pages. Free of credits and headers, as on the real CDN.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio_util::io::ReaderStream;

use crate::app::App;
use crate::html;
use crate::models::image_link;
use crate::routes::images::remove_file;

/// Thumbnail suffixes: small square, big square, small, medium, large, huge.
const THUMBNAIL_SUFFIXES: [char; 6] = ['s', 'b', 't', 'm', 'l', 'h'];

fn not_found() -> Response {
    html::response(StatusCode::NOT_FOUND, html::not_found())
}

/// The front page.
pub(super) async fn index(State(app): State<Arc<App>>) -> Response {
    html::response(StatusCode::OK, html::index(&app.base_url))
}

/// `/{id}.{ext}` (any extension) and `/{id}{s|b|t|m|l|h}.jpg` serve the stored bytes;
/// `/{id}` the viewer page.
pub(super) async fn serve(State(app): State<Arc<App>>, Path(file): Path<String>) -> Response {
    let Some((stem, _ext)) = file.split_once('.') else {
        let records = app.records();
        return match records.store.image(&file) {
            Some(upload) => html::response(
                StatusCode::OK,
                html::image_page(upload, &image_link(&app.base_url, upload)),
            ),
            None => not_found(),
        };
    };
    let found = {
        let records = app.records();
        let store = &records.store;
        store
            .image(stem)
            .or_else(|| {
                stem.strip_suffix(THUMBNAIL_SUFFIXES)
                    .and_then(|base| store.image(base))
            })
            .map(|upload| (upload.id.clone(), upload.mime.clone()))
    };
    let Some((id, mime)) = found else {
        return not_found();
    };
    // Thumbnails are the original bytes: enough for a client that only checks they load.
    let Ok(file) = tokio::fs::File::open(app.storage.file_path(&id)).await else {
        return not_found();
    };
    let len = match file.metadata().await {
        Ok(metadata) => metadata.len(),
        Err(_) => return not_found(),
    };
    let mut response =
        Body::from_stream(ReaderStream::with_capacity(file, 64 * 1024)).into_response();
    let headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, mime);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000"),
    );
    response
}

/// `/a/{id}`: the album page.
pub(super) async fn album_page(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let records = app.records();
    let Some(album) = records.store.album(&id) else {
        return not_found();
    };
    let links: Vec<String> = records
        .store
        .album_images(album)
        .into_iter()
        .map(|upload| image_link(&app.base_url, upload))
        .collect();
    html::response(StatusCode::OK, html::album_page(album, &links))
}

/// `/delete/{deletehash}`: a page whose form deletes the image.
pub(super) async fn delete_page(
    State(app): State<Arc<App>>,
    Path(deletehash): Path<String>,
) -> Response {
    let records = app.records();
    match records.store.image_by_deletehash(&deletehash) {
        Some(upload) => html::response(
            StatusCode::OK,
            html::delete_page(&deletehash, &image_link(&app.base_url, upload)),
        ),
        None => not_found(),
    }
}

/// The deletion form's POST.
pub(super) async fn delete_confirm(
    State(app): State<Arc<App>>,
    Path(deletehash): Path<String>,
) -> Response {
    let id = {
        let mut records = app.records();
        let Some(id) = records
            .store
            .image_by_deletehash(&deletehash)
            .map(|u| u.id.clone())
        else {
            return not_found();
        };
        records.store.delete_image(&id);
        id
    };
    remove_file(&app, &id);
    app.persist();
    html::response(StatusCode::OK, html::deleted())
}
