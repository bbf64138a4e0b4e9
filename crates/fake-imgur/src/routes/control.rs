//! `/_fake/*`: the test control API, for tests that drive a `fake-imgur` subprocess. The same
//! operations are on [`crate::Controls`] in process. Free, unauthenticated, never faulted.
//!
//! Bodies are parsed as JSON whatever their Content-Type, so `curl -d '{…}'` works as is.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::app::App;
use crate::controls::Controls;
use crate::faults::Fault;

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

/// `GET /_fake/state`.
pub(super) async fn state(State(app): State<Arc<App>>) -> Response {
    Json(app.snapshot()).into_response()
}

#[derive(Deserialize)]
struct ClockRequest {
    advance_secs: u64,
}

/// `POST /_fake/clock` `{"advance_secs": N}` → `{"now": epoch}`.
pub(super) async fn clock(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let request: ClockRequest = match parse(&body) {
        Ok(request) => request,
        Err(problem) => return bad_request(&problem),
    };
    Controls::new(app.clone()).advance_clock(Duration::from_secs(request.advance_secs));
    Json(json!({ "now": app.now() })).into_response()
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
struct InjectRequest {
    fault: Fault,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    path_prefix: Option<String>,
}

/// `POST /_fake/faults` `{"fault": {...}, "count": N, "path_prefix": "/3/image"}` →
/// `{"pending": [rules]}`.
pub(super) async fn inject(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let request: InjectRequest = match parse(&body) {
        Ok(request) => request,
        Err(problem) => return bad_request(&problem),
    };
    if let Err(problem) = request.fault.validate() {
        return bad_request(&problem);
    }
    app.faults()
        .push(request.fault, request.count, request.path_prefix);
    faults(State(app)).await
}

/// `GET /_fake/faults` → `{"pending": [rules]}`.
pub(super) async fn faults(State(app): State<Arc<App>>) -> Response {
    Json(json!({ "pending": app.faults().pending() })).into_response()
}

/// `DELETE /_fake/faults` → `{"pending": []}`.
pub(super) async fn clear_faults(State(app): State<Arc<App>>) -> Response {
    app.faults().clear();
    faults(State(app)).await
}

#[derive(Deserialize)]
struct RevokeRequest {
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    account: Option<String>,
}

/// `POST /_fake/revoke` `{"refresh_token": "…"}` or `{"account": "name"}` → `{"revoked": N}`
/// (how many tokens were revoked).
pub(super) async fn revoke(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let request: RevokeRequest = match parse(&body) {
        Ok(request) => request,
        Err(problem) => return bad_request(&problem),
    };
    let controls = Controls::new(app);
    let revoked = match (&request.refresh_token, &request.account) {
        (Some(token), None) => controls.revoke_refresh_token(token),
        (None, Some(account)) => controls.revoke_account(account),
        _ => return bad_request("send exactly one of refresh_token or account"),
    };
    Json(json!({ "revoked": revoked })).into_response()
}

#[derive(Deserialize)]
struct SpendRequest {
    client_id: String,
    credits: u32,
}

/// `POST /_fake/spend` `{"client_id": "…", "credits": N}` → `{"charged": bool,
/// "client_remaining": N}`: another install of the same application spends from the shared
/// daily budget.
pub(super) async fn spend(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let request: SpendRequest = match parse(&body) {
        Ok(request) => request,
        Err(problem) => return bad_request(&problem),
    };
    let Some(charged) =
        Controls::new(app.clone()).spend_client_credits(&request.client_id, request.credits)
    else {
        return bad_request(&format!("unknown client_id {:?}", request.client_id));
    };
    let remaining = app
        .records()
        .quota
        .usage(&app.config.limits, &request.client_id, app.now())
        .client_remaining;
    Json(json!({ "charged": charged, "client_remaining": remaining })).into_response()
}
