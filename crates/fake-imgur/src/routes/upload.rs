//! `POST /3/image` and `POST /3/upload`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use futures_util::StreamExt as _;
use tokio::io::AsyncReadExt as _;

use crate::app::App;
use crate::auth::Caller;
use crate::envelope::{ApiError, ApiResult, Data};
use crate::form::{self, MediaPart};
use crate::media::{self, Sniff};
use crate::models::ImageModel;
use crate::records::UploadRecord;
use crate::routes::albums;
use crate::spool::{self, DecodeError, Spool, SpooledFile};

/// The longest URL accepted as a `type=url` value.
const MAX_URL_BYTES: u64 = 8 * 1024;

/// Stores an upload and answers its Image model (with the deletehash).
pub(super) async fn upload(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> ApiResult<ImageModel> {
    let limits = app.config.limits;
    let form =
        form::read_upload(request, &app.storage.spool_dir, &limits, app.body_limit()).await?;
    let fields = form.fields;
    let file = match form.media {
        None => return Err(ApiError::no_image_data()),
        Some(MediaPart::Binary(file)) => file,
        Some(MediaPart::Text(text)) => resolve_text(&app, text, fields.get("type")).await?,
    };
    if file.size == 0 {
        return Err(ApiError::no_image_data());
    }
    let Sniff::Known(media) = media::sniff(&file.head, true) else {
        return Err(ApiError::invalid_type());
    };
    if file.size > media.limit(&limits) {
        return Err(ApiError::too_large());
    }
    let path = file.path().to_owned();
    let info = tokio::task::spawn_blocking(move || media::inspect(&path, media))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            tracing::info!("rejecting an unreadable {}: {e}", media.mime());
            ApiError::invalid_type()
        })?;

    let record = {
        let mut records = app.records();
        let album = match fields.get("album") {
            Some(reference) => Some(
                albums::album_for_edit(&records.store, &caller, reference)
                    .map_err(|_| ApiError::not_album_owner(reference))?,
            ),
            None => None,
        };
        let id = records.store.fresh_id(7);
        let deletehash = records.store.fresh_id(15);
        let (size, sha256) = (file.size, file.sha256.clone());
        file.move_to(&app.storage.file_path(&id))
            .map_err(ApiError::internal)?;
        let name = match caller.account {
            // Imgur reports no name for anonymous uploads, whatever was sent.
            None => String::new(),
            Some(_) => fields.text("name").or(form.filename).unwrap_or_default(),
        };
        let record = UploadRecord {
            id: id.clone(),
            deletehash,
            size,
            sha256,
            mime: media.mime().to_owned(),
            ext: media.ext().to_owned(),
            width: info.width,
            height: info.height,
            animated: info.animated,
            client_id: caller.client_id.clone(),
            account: caller.username().map(str::to_owned),
            deleted: false,
            album: None,
            title: fields.text("title"),
            description: fields.text("description"),
            name,
            datetime: app.now(),
        };
        records.store.add_upload(record);
        if let Some(album) = &album {
            records.store.add_to_album(album, std::slice::from_ref(&id));
        }
        records.quota.note_upload(&caller.client_id);
        records
            .store
            .uploads
            .last()
            .cloned()
            .ok_or_else(|| ApiError::internal("upload vanished"))?
    };
    app.persist();
    let account_id = caller.account.as_ref().map(|a| a.id);
    Ok(Data(ImageModel::new(
        &record,
        &app.base_url,
        account_id,
        true,
    )))
}

/// Turns a text `image` value into a file: base64 is decoded, a URL fetched. Without a `type`,
/// a value starting with `http://` or `https://` is a URL, anything else base64 (Imgur's rule).
async fn resolve_text(
    app: &App,
    text: SpooledFile,
    kind: Option<&str>,
) -> Result<SpooledFile, ApiError> {
    let looks_like_url = {
        let head = String::from_utf8_lossy(&text.head);
        let head = head.trim_start().to_ascii_lowercase();
        head.starts_with("http://") || head.starts_with("https://")
    };
    let is_url = match kind {
        Some("url") => true,
        Some("base64") => false,
        _ => looks_like_url,
    };
    if is_url {
        let url = read_url(&text).await?;
        return fetch_url(app, &url).await;
    }
    let limits = app.config.limits;
    spool::decode_base64(&text, &app.storage.spool_dir, |head| {
        media::streaming_limit(head, &limits)
    })
    .await
    .map_err(|e| match e {
        DecodeError::TooLarge => ApiError::too_large(),
        DecodeError::Io(e) => ApiError::internal(e),
    })
}

async fn read_url(text: &SpooledFile) -> Result<url::Url, ApiError> {
    let invalid = || ApiError::message(StatusCode::BAD_REQUEST, "Invalid URL");
    if text.size > MAX_URL_BYTES {
        return Err(invalid());
    }
    let mut raw = String::new();
    tokio::fs::File::open(text.path())
        .await
        .map_err(ApiError::internal)?
        .read_to_string(&mut raw)
        .await
        .map_err(|_| invalid())?;
    let url = url::Url::parse(raw.trim()).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid());
    }
    Ok(url)
}

/// Downloads a `type=url` image into the spool, with the same checks as a file part.
async fn fetch_url(app: &App, url: &url::Url) -> Result<SpooledFile, ApiError> {
    let failed = |detail: String| {
        ApiError::message(
            StatusCode::BAD_REQUEST,
            format!("Could not fetch the image at {url}: {detail}"),
        )
    };
    let response = app
        .http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    let limits = app.config.limits;
    let mut spool = Spool::create(&app.storage.spool_dir)
        .await
        .map_err(ApiError::internal)?;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| failed(e.to_string()))?;
        spool.write(&chunk).await.map_err(ApiError::internal)?;
        if media::sniff(spool.head(), false) == Sniff::Unknown {
            return Err(ApiError::invalid_type());
        }
        if spool.size() > media::streaming_limit(spool.head(), &limits) {
            return Err(ApiError::too_large());
        }
    }
    spool.finish().await.map_err(ApiError::internal)
}
