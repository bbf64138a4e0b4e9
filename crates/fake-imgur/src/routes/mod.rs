//! The URL map: one module per area of Imgur.

mod account;
mod albums;
mod control;
mod credits;
mod files;
mod hello;
mod images;
mod oauth;
mod upload;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::App;
use crate::envelope::ApiError;
use crate::gate;
use crate::html;

/// Every route, wrapped in the gate.
pub(crate) fn router(app: Arc<App>) -> Router {
    let body_limit = usize::try_from(app.body_limit()).unwrap_or(usize::MAX);
    Router::new()
        // api.imgur.com/3
        .route("/3/image", post(upload::upload))
        .route("/3/upload", post(upload::upload))
        .route(
            "/3/image/{id}",
            get(images::get_image).delete(images::delete_image),
        )
        .route("/3/album", post(albums::create))
        .route(
            "/3/album/{id}",
            get(albums::get_album).delete(albums::delete_album),
        )
        .route("/3/album/{id}/images", get(albums::album_images))
        .route(
            "/3/album/{id}/add",
            post(albums::add_images).put(albums::add_images),
        )
        .route("/3/account/{user}", get(account::profile))
        .route("/3/account/{user}/images", get(account::images))
        .route("/3/account/{user}/images/{page}", get(account::images_page))
        .route("/3/account/{user}/albums", get(account::albums))
        .route("/3/account/{user}/albums/{page}", get(account::albums_page))
        .route("/3/credits", get(credits::credits))
        // api.imgur.com/oauth2
        .route(
            "/oauth2/authorize",
            get(oauth::authorize_page).post(oauth::authorize_decision),
        )
        .route("/oauth2/token", post(oauth::token))
        // the test control API
        .route("/_fake/state", get(control::state))
        .route("/_fake/clock", post(control::clock))
        .route(
            "/_fake/faults",
            get(control::faults)
                .post(control::inject)
                .delete(control::clear_faults),
        )
        .route("/_fake/revoke", post(control::revoke))
        .route("/_fake/spend", post(control::spend))
        // a sandbox proving who it is
        .route(crate::hello::HELLO_PATH, get(hello::hello))
        // i.imgur.com and imgur.com
        .route("/", get(files::index))
        .route("/{file}", get(files::serve))
        .route("/a/{id}", get(files::album_page))
        .route(
            "/delete/{deletehash}",
            get(files::delete_page).post(files::delete_confirm),
        )
        .fallback(fallback)
        .method_not_allowed_fallback(fallback)
        .layer(middleware::from_fn_with_state(app.clone(), gate::gate))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(app)
}

/// Unknown API routes get Imgur's JSON 404; anything else the HTML one.
async fn fallback(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if path == "/3" || path.starts_with("/3/") || path.starts_with("/oauth2/") {
        ApiError::message(
            StatusCode::NOT_FOUND,
            format!("Invalid URL ({method} {path})"),
        )
        .into_response()
    } else {
        html::response(StatusCode::NOT_FOUND, html::not_found())
    }
}
