//! Who is calling: the `Authorization` header of an API request, checked as Imgur checks it.

use axum::http::{HeaderMap, StatusCode, header};

use crate::app::App;
use crate::envelope::ApiError;

/// The authenticated caller of an API request, put in the request extensions by the gate.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The application paying for the call.
    pub client_id: String,
    /// The logged-in user, for `Bearer` calls.
    pub account: Option<AccountRef>,
}

/// A user behind a `Bearer` token.
#[derive(Debug, Clone)]
pub(crate) struct AccountRef {
    pub id: u64,
    pub username: String,
}

impl Caller {
    /// The user, or a 403 for endpoints that need one.
    pub(crate) fn user(&self) -> Result<&AccountRef, ApiError> {
        self.account.as_ref().ok_or_else(|| {
            ApiError::message(
                StatusCode::FORBIDDEN,
                "This action requires a logged-in user: authenticate with an access token (Authorization: Bearer), not a Client-ID",
            )
        })
    }

    /// The username, when the caller is logged in.
    pub(crate) fn username(&self) -> Option<&str> {
        self.account.as_ref().map(|a| a.username.as_str())
    }
}

/// Checks the `Authorization` header of an API request.
pub(crate) fn authenticate(app: &App, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ApiError::message(
            StatusCode::UNAUTHORIZED,
            "Authentication required",
        ));
    };
    if values.next().is_some() {
        return Err(ApiError::message(
            StatusCode::BAD_REQUEST,
            "Send exactly one Authorization header",
        ));
    }
    let value = value.to_str().unwrap_or_default().trim();
    let malformed = || ApiError::message(StatusCode::FORBIDDEN, "Malformed auth header");
    let (scheme, credential) = value.split_once(' ').ok_or_else(malformed)?;
    let credential = credential.trim();
    if scheme.eq_ignore_ascii_case("Client-ID") {
        return match app.registered(credential) {
            Some(registered) if !credential.is_empty() => Ok(Caller {
                client_id: registered.client_id.clone(),
                account: None,
            }),
            _ => Err(ApiError::message(
                StatusCode::FORBIDDEN,
                "Invalid client_id",
            )),
        };
    }
    if scheme.eq_ignore_ascii_case("Bearer") {
        let invalid = || {
            ApiError::message(
                StatusCode::FORBIDDEN,
                "The access token provided is invalid.",
            )
        };
        let now = app.now();
        let records = app.records();
        let grant = records
            .store
            .valid_access(credential, now)
            .ok_or_else(invalid)?;
        // A token of an application no longer registered (config changed between restarts).
        if app.registered(&grant.client_id).is_none() {
            return Err(invalid());
        }
        let account = records.store.account(&grant.username).ok_or_else(invalid)?;
        return Ok(Caller {
            client_id: grant.client_id.clone(),
            account: Some(AccountRef {
                id: account.id,
                username: account.username.clone(),
            }),
        });
    }
    Err(malformed())
}

/// The Client ID a request names in its `Authorization` header, valid or not, so that even a
/// refused request can carry that application's rate-limit headers.
pub(crate) fn claimed_client(app: &App, headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credential) = value.split_once(' ')?;
    let credential = credential.trim();
    if scheme.eq_ignore_ascii_case("Client-ID") {
        app.registered(credential).map(|a| a.client_id.clone())
    } else if scheme.eq_ignore_ascii_case("Bearer") {
        let records = app.records();
        records
            .store
            .any_access(credential)
            .map(|g| g.client_id.clone())
    } else {
        None
    }
}
