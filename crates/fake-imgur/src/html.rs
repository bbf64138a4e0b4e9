//! The HTML the fake serves: Imgur's error pages (shape E), the OAuth approve page, and the
//! viewer, album and deletion pages of imgur.com.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::records::{AlbumRecord, UploadRecord};

/// A complete HTML answer.
pub(crate) fn response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// Escapes text for element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{body}\n</body>\n</html>\n",
        escape(title)
    )
}

/// Imgur's not-found page.
pub(crate) fn not_found() -> String {
    page(
        "Imgur: The magic of the Internet",
        "<h1>Zoinks! You've taken a wrong turn.</h1>\n<p>Let's split up, gang. If you're looking for an image, it's probably been deleted or may not have existed at all.</p>",
    )
}

/// The CDN's rate-limit page.
pub(crate) fn too_many_requests() -> String {
    page(
        "429 Too Many Requests",
        "<h1>Too Many Requests</h1>\n<p>You are sending requests too quickly. Please slow down and try again later.</p>",
    )
}

/// Imgur's over-capacity page.
pub(crate) fn over_capacity() -> String {
    page(
        "Imgur is over capacity!",
        "<h1>Imgur is over capacity!</h1>\n<p>Please try again in a few minutes.</p>",
    )
}

/// nginx's stock 413 page, byte for byte in spirit.
pub(crate) fn nginx_413() -> String {
    "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n".to_owned()
}

/// The broken authorize page seen since mid-2025.
pub(crate) fn authorize_broken() -> String {
    page(
        "Imgur: Something went wrong",
        "<h1>Oops! Something went wrong.</h1>\n<p>We couldn't complete your request. Please try again later.</p>",
    )
}

/// An OAuth error page (unknown client, deprecated response type, …).
pub(crate) fn oauth_error(message: &str) -> String {
    page(
        "Imgur: Authorization error",
        &format!("<h1>Authorization error</h1>\n<p>{}</p>", escape(message)),
    )
}

/// The approve page of the implicit grant: a username (no password: it's a fake) and
/// Allow / Deny buttons that POST back to `/oauth2/authorize`.
pub(crate) fn authorize(client_id: &str, response_type: &str, state: Option<&str>) -> String {
    let state_field = state.map_or_else(String::new, |state| {
        format!(
            "<input type=\"hidden\" name=\"state\" value=\"{}\">\n",
            escape(state)
        )
    });
    page(
        "Imgur: Authorize application",
        &format!(
            "<h1>Allow the application <code>{id}</code> access to your Imgur account?</h1>\n\
             <form method=\"post\" action=\"/oauth2/authorize\">\n\
             <input type=\"hidden\" name=\"client_id\" value=\"{id}\">\n\
             <input type=\"hidden\" name=\"response_type\" value=\"{rt}\">\n\
             {state_field}\
             <label>Username <input type=\"text\" name=\"username\" value=\"sandbox-user\"></label>\n\
             <button type=\"submit\" name=\"action\" value=\"allow\">Allow</button>\n\
             <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>\n\
             </form>",
            id = escape(client_id),
            rt = escape(response_type),
        ),
    )
}

/// The viewer page at `/<id>`.
pub(crate) fn image_page(upload: &UploadRecord, link: &str) -> String {
    let title = upload.title.clone().unwrap_or_else(|| "Imgur".to_owned());
    let media = if upload.mime.starts_with("video/") {
        format!("<video controls src=\"{}\"></video>", escape(link))
    } else {
        format!("<img src=\"{}\" alt=\"{}\">", escape(link), escape(&title))
    };
    page(&title, &format!("<h1>{}</h1>\n{media}", escape(&title)))
}

/// The album page at `/a/<id>`.
pub(crate) fn album_page(album: &AlbumRecord, links: &[String]) -> String {
    let title = album
        .title
        .clone()
        .unwrap_or_else(|| "Imgur album".to_owned());
    let images: String = links
        .iter()
        .map(|link| format!("<img src=\"{}\">\n", escape(link)))
        .collect();
    page(&title, &format!("<h1>{}</h1>\n{images}", escape(&title)))
}

/// The deletion page at `/delete/<deletehash>`: a form that deletes.
pub(crate) fn delete_page(deletehash: &str, link: &str) -> String {
    page(
        "Imgur: Delete image",
        &format!(
            "<h1>Delete this image?</h1>\n<img src=\"{}\">\n<form method=\"post\" action=\"/delete/{}\">\n<button type=\"submit\" name=\"confirm\" value=\"1\">Delete</button>\n</form>",
            escape(link),
            escape(deletehash)
        ),
    )
}

/// What the deletion form answers.
pub(crate) fn deleted() -> String {
    page(
        "Imgur: Image deleted",
        "<h1>The image has been deleted.</h1>",
    )
}

/// The front page.
pub(crate) fn index(base_url: &str) -> String {
    page(
        "fake-imgur",
        &format!(
            "<h1>fake-imgur</h1>\n<p>An Imgur-compatible test server. API at <code>{}/3/</code>, state at <a href=\"/_fake/state\">/_fake/state</a>.</p>",
            escape(base_url)
        ),
    )
}
