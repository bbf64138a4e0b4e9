//! `GET /_sandbox/hello?nonce=N`: the server proves it holds its hello key (see
//! [`crate::hello`]). Without a key configured the route does not exist (404).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::hello::{hello_proof, valid_nonce};

#[derive(Deserialize)]
pub(super) struct HelloQuery {
    #[serde(default)]
    nonce: String,
}

/// `GET /_sandbox/hello?nonce=<32–128 hex digits>` → `{"proof": "<hex HMAC>"}`.
pub(super) async fn hello(
    State(app): State<Arc<App>>,
    Query(query): Query<HelloQuery>,
) -> Response {
    let Some(key) = &app.config.hello_key else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "this server has no hello key" })),
        )
            .into_response();
    };
    if !valid_nonce(&query.nonce) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "send ?nonce= with 32 to 128 hex digits" })),
        )
            .into_response();
    }
    Json(json!({ "proof": hello_proof(key.expose(), &query.nonce) })).into_response()
}
