//! Albums: `POST /3/album`, `POST /3/album/{deletehash or id}/add`, `GET /3/album/{id}`,
//! `GET /3/album/{id}/images`, `DELETE /3/album/{deletehash or id}`.
//!
//! Anonymous albums are edited through their deletehash and reference images by deletehash;
//! a logged-in user's albums belong to the account and may reference the user's own images by
//! id. Anything else gets Imgur's ownership errors.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;

use crate::app::App;
use crate::auth::Caller;
use crate::envelope::{ApiError, ApiResult, Data};
use crate::form::{self, FormFields};
use crate::models::{AlbumModel, CreatedAlbum, ImageModel};
use crate::records::AlbumRecord;
use crate::routes::images::account_id;
use crate::store::Store;

/// Creates an album, optionally with images, and answers its id and deletehash.
pub(super) async fn create(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> ApiResult<CreatedAlbum> {
    let fields = form::read_fields(request).await?;
    let created = {
        let mut records = app.records();
        let store = &mut records.store;
        let id = store.fresh_id(7);
        let deletehash = store.fresh_id(15);
        let images = resolve_images(store, &caller, &fields, &id)?;
        let cover = fields
            .get("cover")
            .and_then(|cover| {
                store
                    .image(cover)
                    .or_else(|| store.image_by_deletehash(cover))
            })
            .map(|upload| upload.id.clone());
        store.add_album(AlbumRecord {
            id: id.clone(),
            deletehash: deletehash.clone(),
            title: fields.text("title"),
            description: fields.text("description"),
            cover,
            client_id: caller.client_id.clone(),
            account: caller.username().map(str::to_owned),
            images: Vec::new(),
            privacy: fields
                .text("privacy")
                .unwrap_or_else(|| "hidden".to_owned()),
            layout: fields.text("layout").unwrap_or_else(|| "blog".to_owned()),
            deleted: false,
            datetime: app.now(),
        });
        store.add_to_album(&id, &images);
        CreatedAlbum { id, deletehash }
    };
    app.persist();
    Ok(Data(created))
}

/// Adds images to an album: `deletehashes[]` for anonymous albums (addressed by deletehash),
/// `ids[]` (or `deletehashes[]`) for the caller's own albums (addressed by id).
pub(super) async fn add_images(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    request: Request,
) -> ApiResult<bool> {
    let fields = form::read_fields(request).await?;
    {
        let mut records = app.records();
        let store = &mut records.store;
        let album = album_for_edit(store, &caller, &key)?;
        let images = resolve_images(store, &caller, &fields, &album)?;
        store.add_to_album(&album, &images);
    }
    app.persist();
    Ok(Data(true))
}

/// The Album model with its images.
pub(super) async fn get_album(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<AlbumModel> {
    let records = app.records();
    let album = records
        .store
        .album(&id)
        .ok_or_else(|| ApiError::album_not_found(&id))?;
    let images = records.store.album_images(album);
    let owner = caller.username().is_some() && album.account.as_deref() == caller.username();
    let account = account_id(&records.store, album.account.as_deref());
    Ok(Data(AlbumModel::new(
        album,
        &images,
        &app.base_url,
        account,
        true,
        owner,
    )))
}

/// The Image models of an album (not paged, as on Imgur).
pub(super) async fn album_images(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Vec<ImageModel>> {
    let records = app.records();
    let album = records
        .store
        .album(&id)
        .ok_or_else(|| ApiError::album_not_found(&id))?;
    let owner = caller.username().is_some() && album.account.as_deref() == caller.username();
    let account = account_id(&records.store, album.account.as_deref());
    Ok(Data(
        records
            .store
            .album_images(album)
            .into_iter()
            .map(|upload| ImageModel::new(upload, &app.base_url, account, owner))
            .collect(),
    ))
}

/// Deletes an album (its images stay).
pub(super) async fn delete_album(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
) -> ApiResult<bool> {
    {
        let mut records = app.records();
        let store = &mut records.store;
        let id = album_for_edit(store, &caller, &key)?;
        store.delete_album(&id);
    }
    app.persist();
    Ok(Data(true))
}

/// The id of the album `key` names, if the caller may edit it: any album by its deletehash,
/// or the caller's own album by its id.
pub(super) fn album_for_edit(
    store: &Store,
    caller: &Caller,
    key: &str,
) -> Result<String, ApiError> {
    if let Some(album) = store.album_by_deletehash(key) {
        return Ok(album.id.clone());
    }
    match store.album(key) {
        Some(album)
            if caller.username().is_some() && album.account.as_deref() == caller.username() =>
        {
            Ok(album.id.clone())
        }
        Some(_) => Err(ApiError::not_album_owner(key)),
        None => Err(ApiError::album_not_found(key)),
    }
}

/// The image ids an album request names. Deletehashes grant access to any image; ids only to
/// the logged-in caller's own images. An anonymous caller sending `ids[]` is refused, since
/// anonymous albums can only take images by deletehash.
fn resolve_images(
    store: &Store,
    caller: &Caller,
    fields: &FormFields,
    album_id: &str,
) -> Result<Vec<String>, ApiError> {
    let not_owned = || {
        ApiError::message(
            StatusCode::FORBIDDEN,
            format!("You must own all the image ids to add them to album {album_id}"),
        )
    };
    let mut images = Vec::new();
    for deletehash in fields.list("deletehashes") {
        let upload = store
            .image_by_deletehash(&deletehash)
            .ok_or_else(not_owned)?;
        images.push(upload.id.clone());
    }
    for id in fields.list("ids") {
        let upload = store
            .image(&id)
            .filter(|u| caller.username().is_some() && u.account.as_deref() == caller.username())
            .ok_or_else(not_owned)?;
        images.push(upload.id.clone());
    }
    Ok(images)
}
