//! Imgur's response envelope and every error shape (A–E of `imgur-api.md`).
//!
//! Handlers don't know the request path or which JSON serializer this request imitates, so they
//! return [`Data`] or [`ApiError`], which park their payload in the response extensions; the
//! gate then calls [`render`] with the request's [`RequestMeta`] to write the real body.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::html;

/// One of Imgur's two JSON serializers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireStyle {
    /// `data, success, status`, with `\/`-escaped slashes.
    Legacy,
    /// `status, success, data`, plain slashes.
    Modern,
}

/// What the envelope needs to know about the request it answers.
#[derive(Debug, Clone)]
pub(crate) struct RequestMeta {
    pub method: Method,
    pub path: String,
    pub style: WireStyle,
}

/// A failure answered to the client, in one of Imgur's real shapes.
#[derive(Debug, Clone)]
pub(crate) enum ApiError {
    /// Shape A: `{"data":{"error":"<text>","request":"/3/image","method":"POST"},…}`.
    Message { status: StatusCode, message: String },
    /// Shape B: like A, but `error` is `{"code","message","type":"ImgurException","exception":[]}`.
    Coded {
        status: StatusCode,
        code: u32,
        message: String,
    },
    /// Shape C: `{"data":{"error":"<text>"},"success":false,"status":N}`, no request or method.
    Bare { status: StatusCode, message: String },
    /// Shape D, the gateway's: `{"errors":[{"id","code","status","detail"}]}`, no envelope.
    Gateway { status: StatusCode, detail: String },
    /// Shape E: an HTML page.
    Page { status: StatusCode, html: String },
}

/// Code used in shape B for uploads over the size limit. Imgur's own code for this case is not
/// documented; 1001 sits next to the documented 1003 ("File type invalid").
pub const CODE_TOO_LARGE: u32 = 1001;
/// Imgur's shape-B code for a file that is not an accepted image or video.
pub const CODE_INVALID_TYPE: u32 = 1003;

impl ApiError {
    /// Shape A.
    pub(crate) fn message(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Message {
            status,
            message: message.into(),
        }
    }

    /// Shape C.
    pub(crate) fn bare(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Bare {
            status,
            message: message.into(),
        }
    }

    /// Shape E.
    pub(crate) fn page(status: StatusCode, html: String) -> Self {
        Self::Page { status, html }
    }

    /// 404 for an unknown or deleted image, worded as Imgur words it.
    pub(crate) fn image_not_found(id: &str) -> Self {
        Self::message(
            StatusCode::NOT_FOUND,
            format!("Unable to find an image with the id, {id}"),
        )
    }

    /// 404 for an unknown or deleted album.
    pub(crate) fn album_not_found(id: &str) -> Self {
        Self::message(
            StatusCode::NOT_FOUND,
            format!("Unable to find an album with the id, {id}"),
        )
    }

    /// 400 shape A, Imgur's words when an album reference is neither the caller's own album id
    /// nor an album deletehash.
    pub(crate) fn not_album_owner(album: &str) -> Self {
        Self::message(
            StatusCode::BAD_REQUEST,
            format!(
                "You are not the owner of album '{album}', which means you can't add images to it. For anonymous albums, use the album deletehash."
            ),
        )
    }

    /// 400 shape B 1003: not an accepted type.
    pub(crate) fn invalid_type() -> Self {
        Self::Coded {
            status: StatusCode::BAD_REQUEST,
            code: CODE_INVALID_TYPE,
            message: "File type invalid (1)".to_owned(),
        }
    }

    /// 400 shape B [`CODE_TOO_LARGE`]: over the size limit for its type.
    pub(crate) fn too_large() -> Self {
        Self::Coded {
            status: StatusCode::BAD_REQUEST,
            code: CODE_TOO_LARGE,
            message: "File is over the size limit".to_owned(),
        }
    }

    /// 400 shape A: nothing to upload.
    pub(crate) fn no_image_data() -> Self {
        Self::message(
            StatusCode::BAD_REQUEST,
            "No image data was sent to the upload api",
        )
    }

    /// 413 with nginx's page: the request body is larger than the server takes at all.
    pub(crate) fn body_too_large() -> Self {
        Self::page(StatusCode::PAYLOAD_TOO_LARGE, html::nginx_413())
    }

    /// 429 shape A, for a request no budget can cover.
    pub(crate) fn rate_limited() -> Self {
        Self::message(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
    }

    /// 500 shape A, for the fake's own I/O failures (disk full and the like).
    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {detail}");
        Self::message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Message { status, .. }
            | Self::Coded { status, .. }
            | Self::Bare { status, .. }
            | Self::Gateway { status, .. }
            | Self::Page { status, .. } => *status,
        }
    }
}

/// A parked error, waiting for [`render`].
#[derive(Debug, Clone)]
struct PendingError(ApiError);

/// A parked success payload (already serialized `data`), waiting for [`render`].
#[derive(Debug, Clone)]
struct PendingData(String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        response.extensions_mut().insert(PendingError(self));
        response
    }
}

/// A successful answer: `T` becomes the envelope's `data`.
pub(crate) struct Data<T>(pub T);

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        match serde_json::to_string(&self.0) {
            Ok(json) => {
                let mut response = StatusCode::OK.into_response();
                response.extensions_mut().insert(PendingData(json));
                response
            }
            Err(e) => ApiError::internal(e).into_response(),
        }
    }
}

/// The result type of API handlers.
pub(crate) type ApiResult<T> = Result<Data<T>, ApiError>;

/// Writes the body of a response whose handler parked a [`Data`] or an [`ApiError`]; any other
/// response passes through untouched.
pub(crate) fn render(mut response: Response, meta: &RequestMeta) -> Response {
    if let Some(PendingData(data)) = response.extensions_mut().remove::<PendingData>() {
        let body = envelope(meta.style, &data, true, 200);
        return json_response(StatusCode::OK, meta.style, body);
    }
    let Some(PendingError(error)) = response.extensions_mut().remove::<PendingError>() else {
        return response;
    };
    let status = error.status();
    match error {
        ApiError::Message { message, .. } => {
            let data = format!(
                r#"{{"error":{},"request":{},"method":{}}}"#,
                json_string(&message),
                json_string(&meta.path),
                json_string(meta.method.as_str())
            );
            let body = envelope(meta.style, &data, false, status.as_u16());
            json_response(status, meta.style, body)
        }
        ApiError::Coded { code, message, .. } => {
            let data = format!(
                r#"{{"error":{{"code":{code},"message":{},"type":"ImgurException","exception":[]}},"request":{},"method":{}}}"#,
                json_string(&message),
                json_string(&meta.path),
                json_string(meta.method.as_str())
            );
            let body = envelope(meta.style, &data, false, status.as_u16());
            json_response(status, meta.style, body)
        }
        ApiError::Bare { message, .. } => {
            let data = format!(r#"{{"error":{}}}"#, json_string(&message));
            let body = envelope(meta.style, &data, false, status.as_u16());
            json_response(status, meta.style, body)
        }
        ApiError::Gateway { detail, .. } => {
            let body = format!(
                r#"{{"errors":[{{"id":{},"code":{},"status":{},"detail":{}}}]}}"#,
                json_string(&format!("gateway-{}", crate::ids::alphanumeric(12))),
                json_string(status.as_str()),
                json_string(status.canonical_reason().unwrap_or("Error")),
                json_string(&detail)
            );
            json_response(status, WireStyle::Modern, body)
        }
        ApiError::Page { html, .. } => html::response(status, html),
    }
}

/// The envelope around already-serialized `data`, in the requested key order.
fn envelope(style: WireStyle, data: &str, success: bool, status: u16) -> String {
    match style {
        WireStyle::Legacy => format!(r#"{{"data":{data},"success":{success},"status":{status}}}"#),
        WireStyle::Modern => format!(r#"{{"status":{status},"success":{success},"data":{data}}}"#),
    }
}

fn json_response(status: StatusCode, style: WireStyle, body: String) -> Response {
    // In JSON text a '/' can only occur inside a string, so escaping every one is safe.
    let body = match style {
        WireStyle::Legacy => body.replace('/', "\\/"),
        WireStyle::Modern => body,
    };
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(style: WireStyle) -> RequestMeta {
        RequestMeta {
            method: Method::POST,
            path: "/3/image".to_owned(),
            style,
        }
    }

    async fn body_of(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn legacy_orders_data_first_and_escapes_slashes() {
        let response = render(
            Data(serde_json::json!({"type": "image/png"})).into_response(),
            &meta(WireStyle::Legacy),
        );
        assert_eq!(
            body_of(response).await,
            r#"{"data":{"type":"image\/png"},"success":true,"status":200}"#
        );
    }

    #[tokio::test]
    async fn modern_orders_status_first() {
        let response = render(
            ApiError::image_not_found("abc").into_response(),
            &meta(WireStyle::Modern),
        );
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            body_of(response).await,
            r#"{"status":404,"success":false,"data":{"error":"Unable to find an image with the id, abc","request":"/3/image","method":"POST"}}"#
        );
    }

    #[tokio::test]
    async fn shape_b_nests_the_error_object() {
        let response = render(
            ApiError::invalid_type().into_response(),
            &meta(WireStyle::Modern),
        );
        let body: serde_json::Value = serde_json::from_str(&body_of(response).await).unwrap();
        assert_eq!(body["data"]["error"]["code"], 1003);
        assert_eq!(body["data"]["error"]["type"], "ImgurException");
        assert_eq!(body["data"]["error"]["exception"], serde_json::json!([]));
    }
}
