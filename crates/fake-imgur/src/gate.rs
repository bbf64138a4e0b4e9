//! What happens to every request around its handler, in Imgur's order: injected faults first
//! (they come from the infrastructure in front of the API), then authentication, then the
//! credit budgets; afterwards the envelope is written and the rate-limit headers added.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;

use crate::app::App;
use crate::auth;
use crate::envelope::{self, ApiError, RequestMeta};
use crate::faults::Fault;
use crate::host::Refused;
use crate::html;
use crate::quota::Charge;
use crate::server::{ConnectionKill, PeerAddr};

/// Credits an upload costs; every other API call costs 1 and OAuth nothing.
const UPLOAD_CREDITS: u32 = 10;
/// How much of the body `reset_mid_body` reads before resetting, at most.
const RESET_AFTER_BYTES: u64 = 48 * 1024;

/// Put in a response's extensions by OAuth handlers: the application the call was about, whose
/// rate-limit headers the answer should carry.
#[derive(Debug, Clone)]
pub(crate) struct ClientTag(pub String);

/// Which part of Imgur a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    /// `api.imgur.com/3/…`: authenticated, metered.
    Api,
    /// `api.imgur.com/oauth2/…`: free, but carries the headers.
    OAuth,
    /// `/_fake/…`: the test control API, untouched by faults and quotas; off unless the server
    /// was started with test controls.
    Control,
    /// `/_sandbox/…`: the server proving who it is to a process that found its record.
    Sandbox,
    /// `i.imgur.com` and `imgur.com` pages: free, no headers.
    Files,
}

impl Area {
    fn of(path: &str) -> Self {
        if path == "/3" || path.starts_with("/3/") {
            Self::Api
        } else if path.starts_with("/oauth2/") {
            Self::OAuth
        } else if path == "/_fake" || path.starts_with("/_fake/") {
            Self::Control
        } else if path.starts_with("/_sandbox/") {
            Self::Sandbox
        } else {
            Self::Files
        }
    }
}

/// The middleware around every route.
pub(crate) async fn gate(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let area = Area::of(&path);
    if let Err(refused) = screen(&app, area, &request) {
        tracing::warn!("{} {path} refused: {}", request.method(), refused.message);
        return refusal(&app, refused, area, request.method().clone(), path);
    }
    if matches!(area, Area::Control | Area::Sandbox) {
        return next.run(request).await;
    }
    let meta = RequestMeta {
        method: request.method().clone(),
        path,
        style: app.next_style(),
    };
    let peer = request
        .extensions()
        .get::<PeerAddr>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |p| p.0.ip());
    let post = meta.method == Method::POST;
    let metered = matches!(area, Area::Api | Area::OAuth);

    let fault = app.faults().take(&meta.path);
    let mut truncate = false;
    match fault {
        None => {}
        Some(Fault::Latency { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
        }
        Some(Fault::ResetMidBody) => {
            tracing::info!("{} {} -> connection reset (fault)", meta.method, meta.path);
            return reset_mid_body(request).await;
        }
        Some(Fault::TruncatedBody) => truncate = true,
        Some(answered) => {
            let client = match area {
                Area::Api => auth::claimed_client(&app, request.headers()),
                _ => query_client_id(&request),
            };
            drain(request.into_body(), app.body_limit()).await;
            let mut response = envelope::render(fault_answer(&answered).into_response(), &meta);
            if metered {
                write_quota_headers(&app, &mut response, client.as_deref(), peer, post);
            }
            tracing::info!(
                "{} {} -> {} (fault {answered:?})",
                meta.method,
                meta.path,
                response.status()
            );
            return response;
        }
    }

    let (response, client) = match area {
        Area::Api => run_api(&app, &meta, peer, request, next).await,
        Area::OAuth => run_oauth(&app, peer, request, next).await,
        Area::Files | Area::Control | Area::Sandbox => (next.run(request).await, None),
    };
    let mut response = envelope::render(response, &meta);
    if metered {
        write_quota_headers(&app, &mut response, client.as_deref(), peer, post);
    }
    tracing::info!("{} {} -> {}", meta.method, meta.path, response.status());
    if truncate {
        truncate_body(response)
    } else {
        response
    }
}

/// Refuses a request addressed to another host (every area), and a control request when the
/// test controls are off or it comes from a web page of another origin.
fn screen(app: &App, area: Area, request: &Request) -> Result<(), Refused> {
    app.host_guard
        .check_host(request.headers(), request.uri())?;
    if area == Area::Control {
        if !app.config.test_controls {
            return Err(Refused {
                status: StatusCode::FORBIDDEN,
                message: "The test control API is off. Start fake-imgur with --test-controls \
                          (or ServerConfig::test_controls(true)); only a test harness should, \
                          since it reads every record."
                    .to_owned(),
            });
        }
        app.host_guard.check_origin(request.headers())?;
    }
    Ok(())
}

/// The answer to a refused request: Imgur's error envelope on API paths, `{"error": …}` elsewhere.
fn refusal(app: &App, refused: Refused, area: Area, method: Method, path: String) -> Response {
    match area {
        Area::Api | Area::OAuth => {
            let meta = RequestMeta {
                method,
                path,
                style: app.next_style(),
            };
            envelope::render(
                ApiError::message(refused.status, refused.message).into_response(),
                &meta,
            )
        }
        Area::Control | Area::Sandbox | Area::Files => (
            refused.status,
            axum::Json(serde_json::json!({ "error": refused.message })),
        )
            .into_response(),
    }
}

/// Authenticates and charges an API request, then runs its handler.
async fn run_api(
    app: &App,
    meta: &RequestMeta,
    peer: IpAddr,
    mut request: Request,
    next: Next,
) -> (Response, Option<String>) {
    let caller = match auth::authenticate(app, request.headers()) {
        Ok(caller) => caller,
        Err(error) => {
            let client = auth::claimed_client(app, request.headers());
            drain(request.into_body(), app.body_limit()).await;
            return (error.into_response(), client);
        }
    };
    let credits = if meta.method == Method::POST && is_upload_path(&meta.path) {
        UPLOAD_CREDITS
    } else {
        1
    };
    let admitted = app.records().quota.admit(
        &app.config.limits,
        Charge {
            client_id: Some(&caller.client_id),
            ip: peer,
            credits,
            post: meta.method == Method::POST,
        },
        app.now(),
    );
    let client = Some(caller.client_id.clone());
    if let Err(refusal) = admitted {
        tracing::info!("{} {} refused: {refusal:?}", meta.method, meta.path);
        drain(request.into_body(), app.body_limit()).await;
        return (ApiError::rate_limited().into_response(), client);
    }
    request.extensions_mut().insert(caller);
    (next.run(request).await, client)
}

/// Counts an OAuth POST against the IP's POST budget, then runs its handler.
async fn run_oauth(
    app: &App,
    peer: IpAddr,
    request: Request,
    next: Next,
) -> (Response, Option<String>) {
    let hinted = query_client_id(&request);
    if request.method() == Method::POST {
        let admitted = app.records().quota.admit(
            &app.config.limits,
            Charge {
                client_id: None,
                ip: peer,
                credits: 0,
                post: true,
            },
            app.now(),
        );
        if admitted.is_err() {
            drain(request.into_body(), app.body_limit()).await;
            return (ApiError::rate_limited().into_response(), hinted);
        }
    }
    let response = next.run(request).await;
    let client = response
        .extensions()
        .get::<ClientTag>()
        .map(|tag| tag.0.clone())
        .or(hinted);
    (response, client)
}

fn is_upload_path(path: &str) -> bool {
    matches!(path.trim_end_matches('/'), "/3/image" | "/3/upload")
}

fn query_client_id(request: &Request) -> Option<String> {
    let query = request.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "client_id")
        .map(|(_, value)| value.into_owned())
}

fn write_quota_headers(
    app: &App,
    response: &mut Response,
    client: Option<&str>,
    peer: IpAddr,
    post: bool,
) {
    let view = app
        .records()
        .quota
        .view(&app.config.limits, client, peer, app.now());
    view.write_headers(response.headers_mut(), post);
}

/// The answer an injected fault gives in place of the real one.
fn fault_answer(fault: &Fault) -> ApiError {
    match fault {
        Fault::ServerError { status } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = match status.as_u16() {
                // Imgur's 500s come with the over-capacity text (imgur-api.md, shape C).
                500 => "Imgur is temporarily over capacity. Please try again later.",
                _ => status.canonical_reason().unwrap_or("Internal server error"),
            };
            ApiError::bare(status, message)
        }
        Fault::OverCapacity => ApiError::bare(
            StatusCode::FORBIDDEN,
            "Imgur is temporarily over capacity. Please try again later.",
        ),
        Fault::Html429 => ApiError::page(StatusCode::TOO_MANY_REQUESTS, html::too_many_requests()),
        Fault::Gateway429 => ApiError::Gateway {
            status: StatusCode::TOO_MANY_REQUESTS,
            detail: "Too many requests, please try again later.".to_owned(),
        },
        Fault::UploadTooFast { minutes } => ApiError::Coded {
            status: StatusCode::BAD_REQUEST,
            code: 429,
            message: format!("You are uploading too fast. Please wait {minutes} more minutes."),
        },
        Fault::PayloadTooLarge => ApiError::body_too_large(),
        Fault::UploadFailed => ApiError::message(StatusCode::EXPECTATION_FAILED, "Upload failed"),
        Fault::Html404 => ApiError::page(StatusCode::NOT_FOUND, html::not_found()),
        Fault::HtmlOverCapacity => {
            ApiError::page(StatusCode::SERVICE_UNAVAILABLE, html::over_capacity())
        }
        Fault::AuthorizeBroken => {
            ApiError::page(StatusCode::INTERNAL_SERVER_ERROR, html::authorize_broken())
        }
        Fault::Latency { .. } | Fault::ResetMidBody | Fault::TruncatedBody => {
            ApiError::internal("a pass-through fault has no answer of its own")
        }
    }
}

/// Reads and discards what is left of a request body (up to `limit` bytes, 30 s), so that an
/// early answer reaches the client instead of being lost to a reset from unread data.
pub(crate) async fn drain(body: Body, limit: u64) {
    drain_stream(body.into_data_stream(), limit).await;
}

/// [`drain`] for a body already turned into a stream.
pub(crate) async fn drain_stream(mut data: axum::body::BodyDataStream, limit: u64) {
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        let mut read = 0u64;
        while let Some(Ok(chunk)) = data.next().await {
            read += chunk.len() as u64;
            if read > limit {
                break;
            }
        }
    })
    .await;
}

/// Reads part of the body, then has the accept loop reset the connection. Never answers.
async fn reset_mid_body(request: Request) -> Response {
    let kill = request.extensions().get::<ConnectionKill>().cloned();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let target = declared.map_or(RESET_AFTER_BYTES, |len| (len / 2).min(RESET_AFTER_BYTES));
    let mut data = request.into_body().into_data_stream();
    let mut read = 0u64;
    while read < target {
        match data.next().await {
            Some(Ok(chunk)) => read += chunk.len() as u64,
            _ => break,
        }
    }
    match kill {
        Some(ConnectionKill(token)) => {
            token.cancel();
            // The accept loop drops this connection (and this future with it).
            std::future::pending().await
        }
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Sends the headers and the first half of the body, then fails the body so that the
/// connection closes short of its `Content-Length`.
fn truncate_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let full = declared
        .or_else(|| axum::body::HttpBody::size_hint(&body).exact())
        .unwrap_or(0);
    if full < 2 {
        // Nothing to cut: announce a body that never comes.
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(full + 64));
    } else {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
    }
    let keep = full / 2;
    let state = (body.into_data_stream(), 0u64, false);
    let stream = futures_util::stream::unfold(state, move |(mut data, sent, done)| async move {
        if done {
            return None;
        }
        let cut =
            || std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "truncated (fault)");
        if sent >= keep {
            // Let hyper flush what was sent before the error tears the connection down.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Some((Err(cut()), (data, sent, true)));
        }
        match data.next().await {
            Some(Ok(chunk)) => {
                let room = usize::try_from(keep - sent).unwrap_or(usize::MAX);
                let chunk = if chunk.len() > room {
                    chunk.slice(..room)
                } else {
                    chunk
                };
                let len = chunk.len() as u64;
                Some((Ok(chunk), (data, sent + len, false)))
            }
            _ => Some((Err(cut()), (data, sent, true))),
        }
    });
    Response::from_parts(parts, Body::from_stream(stream))
}
