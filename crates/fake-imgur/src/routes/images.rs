//! `GET /3/image/{id}` and `DELETE /3/image/{id or deletehash}`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::app::App;
use crate::auth::Caller;
use crate::envelope::{ApiError, ApiResult, Data};
use crate::models::ImageModel;
use crate::store::Store;

/// The Image model of a live image; the deletehash only for its owner.
pub(super) async fn get_image(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<ImageModel> {
    let records = app.records();
    let upload = records
        .store
        .image(&id)
        .ok_or_else(|| ApiError::image_not_found(&id))?;
    let owner = caller.username().is_some() && upload.account.as_deref() == caller.username();
    let account_id = account_id(&records.store, upload.account.as_deref());
    Ok(Data(ImageModel::new(
        upload,
        &app.base_url,
        account_id,
        owner,
    )))
}

/// The numeric id of an account, by username.
pub(super) fn account_id(store: &Store, username: Option<&str>) -> Option<u64> {
    username.and_then(|name| store.account(name)).map(|a| a.id)
}

/// Deletes by deletehash (anyone holding it) or, for a logged-in caller, by the id of one of
/// their own images.
pub(super) async fn delete_image(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
) -> ApiResult<bool> {
    let id = {
        let mut records = app.records();
        let store = &mut records.store;
        let id = match store.image_by_deletehash(&key) {
            Some(upload) => upload.id.clone(),
            None => match (store.image(&key), caller.username()) {
                (Some(upload), Some(user)) if upload.account.as_deref() == Some(user) => {
                    upload.id.clone()
                }
                (Some(_), _) => {
                    return Err(ApiError::message(
                        StatusCode::FORBIDDEN,
                        format!(
                            "You are not the owner of image '{key}': delete it with its deletehash"
                        ),
                    ));
                }
                (None, _) => return Err(ApiError::image_not_found(&key)),
            },
        };
        store.delete_image(&id);
        id
    };
    remove_file(&app, &id);
    app.persist();
    Ok(Data(true))
}

/// Frees the bytes of a deleted image; a missing file is no error.
pub(super) fn remove_file(app: &App, id: &str) {
    if let Err(e) = std::fs::remove_file(app.storage.file_path(id)) {
        tracing::debug!("removing the file of {id}: {e}");
    }
}
