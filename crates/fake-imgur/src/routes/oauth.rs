//! OAuth 2, implicit grant only (`response_type=token`), as Imgur offers it today.
//!
//! `GET /oauth2/authorize` shows an approve page; its form POSTs back here and is redirected
//! to the application's registered callback with the tokens in the fragment.
//! `POST /oauth2/token` refreshes. OAuth calls cost no credits.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::App;
use crate::config::RegisteredApp;
use crate::envelope::ApiError;
use crate::form::{self, FormFields};
use crate::gate::ClientTag;
use crate::html;
use crate::models::TokenModel;

/// Usernames the approve page accepts (Imgur's own rule is similar).
fn valid_username(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn tagged(mut response: Response, client_id: Option<&str>) -> Response {
    if let Some(client_id) = client_id {
        response
            .extensions_mut()
            .insert(ClientTag(client_id.to_owned()));
    }
    response
}

fn error_page(message: &str) -> Response {
    html::response(StatusCode::BAD_REQUEST, html::oauth_error(message))
}

/// The registered application a request is for, or the error page text.
fn check_request<'a>(
    app: &'a App,
    client_id: Option<&str>,
    response_type: Option<&str>,
) -> Result<&'a RegisteredApp, String> {
    let Some(client_id) = client_id.filter(|id| !id.is_empty()) else {
        return Err("No client id supplied".to_owned());
    };
    let Some(registered) = app.registered(client_id) else {
        return Err(format!("Invalid client_id {client_id}"));
    };
    match response_type {
        Some("token") => Ok(registered),
        Some(deprecated @ ("code" | "pin")) => Err(format!(
            "The response_type '{deprecated}' is deprecated and no longer supported. Use response_type=token."
        )),
        Some(other) => Err(format!("Invalid response_type '{other}'")),
        None => Err("Missing response_type".to_owned()),
    }
}

/// The approve page.
pub(super) async fn authorize_page(
    State(app): State<Arc<App>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let client_id = query.get("client_id").map(String::as_str);
    let response_type = query.get("response_type").map(String::as_str);
    match check_request(&app, client_id, response_type) {
        Ok(registered) => tagged(
            html::response(
                StatusCode::OK,
                html::authorize(
                    &registered.client_id,
                    response_type.unwrap_or("token"),
                    query.get("state").map(String::as_str),
                ),
            ),
            Some(&registered.client_id),
        ),
        Err(message) => error_page(&message),
    }
}

/// The approve form's answer: a redirect to the callback, with tokens or `error=access_denied`.
pub(super) async fn authorize_decision(State(app): State<Arc<App>>, request: Request) -> Response {
    let fields = match form::read_fields(request).await {
        Ok(fields) => fields,
        Err(error) => return error.into_response(),
    };
    let client_id = fields.get("client_id");
    // The page's form sends response_type; a hand-made POST may leave it out.
    let response_type = fields.get("response_type").or(Some("token"));
    let registered = match check_request(&app, client_id, response_type) {
        Ok(registered) => registered,
        Err(message) => return error_page(&message),
    };
    let state = fields.get("state");
    let fragment = match fields.get("action").map(str::to_ascii_lowercase).as_deref() {
        Some("deny") => {
            let mut fragment = url::form_urlencoded::Serializer::new(String::new());
            fragment.append_pair("error", "access_denied");
            if let Some(state) = state {
                fragment.append_pair("state", state);
            }
            fragment.finish()
        }
        Some("allow") => {
            let username = fields.get("username").unwrap_or("sandbox-user");
            if !valid_username(username) {
                return error_page("Usernames are 1 to 63 letters, digits, hyphens or underscores");
            }
            let issued = {
                let now = app.now();
                let mut records = app.records();
                let account = records.store.ensure_account(username, now);
                records.store.issue_tokens(
                    &registered.client_id,
                    &account,
                    None,
                    app.config.token_lifetime.as_secs(),
                    now,
                )
            };
            app.persist();
            let mut fragment = url::form_urlencoded::Serializer::new(String::new());
            fragment
                .append_pair("access_token", &issued.access_token)
                .append_pair("expires_in", &issued.expires_in.to_string())
                .append_pair("token_type", "bearer")
                .append_pair("refresh_token", &issued.refresh_token)
                .append_pair("account_username", &issued.username)
                .append_pair("account_id", &issued.account_id.to_string());
            if let Some(state) = state {
                fragment.append_pair("state", state);
            }
            fragment.finish()
        }
        _ => return error_page("Choose Allow or Deny"),
    };
    let location = format!("{}#{fragment}", registered.callback);
    let Ok(location) = HeaderValue::from_str(&location) else {
        return ApiError::internal("the registered callback is not a valid header value")
            .into_response();
    };
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    tagged(response, Some(&registered.client_id))
}

/// Refreshes an access token. Answers bare JSON (no envelope), errors in shape A.
pub(super) async fn token(State(app): State<Arc<App>>, request: Request) -> Response {
    let fields = match form::read_fields(request).await {
        Ok(fields) => fields,
        Err(error) => return error.into_response(),
    };
    let client_id = fields
        .get("client_id")
        .and_then(|id| app.registered(id))
        .map(|registered| registered.client_id.clone());
    let response = match refresh(&app, &fields) {
        Ok(model) => Json(model).into_response(),
        Err(error) => error.into_response(),
    };
    tagged(response, client_id.as_deref())
}

fn refresh(app: &App, fields: &FormFields) -> Result<TokenModel, ApiError> {
    let bad = |status, message: &str| ApiError::message(status, message);
    let registered = match fields.get("client_id") {
        None => return Err(bad(StatusCode::BAD_REQUEST, "No client id supplied")),
        Some(id) => app
            .registered(id)
            .ok_or_else(|| bad(StatusCode::BAD_REQUEST, "Invalid client_id"))?,
    };
    if fields.get("client_secret") != Some(registered.client_secret.as_str()) {
        return Err(bad(StatusCode::UNAUTHORIZED, "Invalid client_secret"));
    }
    match fields.get("grant_type") {
        Some("refresh_token") => {}
        _ => return Err(bad(StatusCode::BAD_REQUEST, "Invalid grant_type")),
    }
    let invalid_refresh = || bad(StatusCode::BAD_REQUEST, "Invalid refresh token");
    let old_token = fields.get("refresh_token").ok_or_else(invalid_refresh)?;
    let issued = {
        let now = app.now();
        let mut records = app.records();
        let store = &mut records.store;
        let username = store
            .valid_refresh(old_token, &registered.client_id)
            .map(|grant| grant.username.clone())
            .ok_or_else(invalid_refresh)?;
        let account = store
            .account(&username)
            .cloned()
            .ok_or_else(invalid_refresh)?;
        let keep = if app.config.rotate_refresh_tokens {
            store.revoke_refresh(old_token);
            None
        } else {
            Some(old_token.to_owned())
        };
        store.issue_tokens(
            &registered.client_id,
            &account,
            keep,
            app.config.token_lifetime.as_secs(),
            now,
        )
    };
    app.persist();
    Ok(TokenModel {
        access_token: issued.access_token,
        expires_in: issued.expires_in,
        token_type: "bearer",
        scope: None,
        refresh_token: issued.refresh_token,
        account_id: issued.account_id,
        account_username: issued.username,
    })
}
