//! `GET /3/account/{user}` and the logged-in user's images and albums, paged.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use crate::app::App;
use crate::auth::Caller;
use crate::envelope::{ApiError, ApiResult, Data};
use crate::models::{AccountModel, AlbumModel, ImageModel};
use crate::store::{Account, Store};

/// Imgur's default page size; `perPage` may ask for up to [`MAX_PER_PAGE`].
const DEFAULT_PER_PAGE: usize = 50;
const MAX_PER_PAGE: usize = 100;

/// Public account information. `me` means the logged-in user.
pub(super) async fn profile(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
) -> ApiResult<AccountModel> {
    let records = app.records();
    let account = if user == "me" {
        own_account(&records.store, &caller, &user)?
    } else {
        records.store.account(&user).cloned().ok_or_else(|| {
            ApiError::message(
                StatusCode::NOT_FOUND,
                format!("Unable to find account {user}"),
            )
        })?
    };
    Ok(Data(AccountModel::new(&account, &app.base_url)))
}

/// The logged-in user's account, for `me` or their own username; anyone else's private lists
/// are refused.
fn own_account(store: &Store, caller: &Caller, user: &str) -> Result<Account, ApiError> {
    let me = caller.user()?;
    if user != "me" && user != me.username {
        return Err(ApiError::message(
            StatusCode::FORBIDDEN,
            format!("You are not allowed to access the account {user}"),
        ));
    }
    store.account(&me.username).cloned().ok_or_else(|| {
        ApiError::message(
            StatusCode::FORBIDDEN,
            "The access token provided is invalid.",
        )
    })
}

/// `page` from the path and `perPage` from the query.
fn paging(page: Option<&str>, query: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    let page = match page {
        Some(text) => text
            .parse()
            .map_err(|_| ApiError::message(StatusCode::BAD_REQUEST, "Invalid page"))?,
        None => query.get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
    };
    let per_page = query
        .get("perPage")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(DEFAULT_PER_PAGE)
        .clamp(1, MAX_PER_PAGE);
    Ok((page, per_page))
}

/// Page 0 of the user's images.
pub(super) async fn images(
    state: State<Arc<App>>,
    caller: Extension<Caller>,
    Path(user): Path<String>,
    query: Query<HashMap<String, String>>,
) -> ApiResult<Vec<ImageModel>> {
    list_images(state, caller, user, None, query)
}

/// Page `page` of the user's images.
pub(super) async fn images_page(
    state: State<Arc<App>>,
    caller: Extension<Caller>,
    Path((user, page)): Path<(String, String)>,
    query: Query<HashMap<String, String>>,
) -> ApiResult<Vec<ImageModel>> {
    list_images(state, caller, user, Some(page), query)
}

/// The user's live images, newest first.
fn list_images(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    user: String,
    page: Option<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Vec<ImageModel>> {
    let (page, per_page) = paging(page.as_deref(), &query)?;
    let records = app.records();
    let account = own_account(&records.store, &caller, &user)?;
    let mut mine: Vec<_> = records
        .store
        .uploads
        .iter()
        .rev()
        .filter(|u| !u.deleted && u.account.as_deref() == Some(account.username.as_str()))
        .collect();
    mine.sort_by_key(|entry| std::cmp::Reverse(entry.datetime));
    Ok(Data(
        mine.into_iter()
            .skip(page.saturating_mul(per_page))
            .take(per_page)
            .map(|upload| ImageModel::new(upload, &app.base_url, Some(account.id), true))
            .collect(),
    ))
}

/// Page 0 of the user's albums.
pub(super) async fn albums(
    state: State<Arc<App>>,
    caller: Extension<Caller>,
    Path(user): Path<String>,
    query: Query<HashMap<String, String>>,
) -> ApiResult<Vec<AlbumModel>> {
    list_albums(state, caller, user, None, query)
}

/// Page `page` of the user's albums.
pub(super) async fn albums_page(
    state: State<Arc<App>>,
    caller: Extension<Caller>,
    Path((user, page)): Path<(String, String)>,
    query: Query<HashMap<String, String>>,
) -> ApiResult<Vec<AlbumModel>> {
    list_albums(state, caller, user, Some(page), query)
}

/// The user's live albums, newest first, without their image lists (as Imgur lists them).
fn list_albums(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<Caller>,
    user: String,
    page: Option<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Vec<AlbumModel>> {
    let (page, per_page) = paging(page.as_deref(), &query)?;
    let records = app.records();
    let account = own_account(&records.store, &caller, &user)?;
    let mut mine: Vec<_> = records
        .store
        .albums
        .iter()
        .rev()
        .filter(|a| !a.deleted && a.account.as_deref() == Some(account.username.as_str()))
        .collect();
    mine.sort_by_key(|entry| std::cmp::Reverse(entry.datetime));
    Ok(Data(
        mine.into_iter()
            .skip(page.saturating_mul(per_page))
            .take(per_page)
            .map(|album| {
                let images = records.store.album_images(album);
                AlbumModel::new(album, &images, &app.base_url, Some(account.id), false, true)
            })
            .collect(),
    ))
}
