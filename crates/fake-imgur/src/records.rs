//! What the server remembers, in the form tests read it (`GET /_fake/state`,
//! [`crate::Controls::state`]) and the form it is saved in.
//!
//! Neither tokens nor client secrets are ever included: a token appears as its SHA-256 digest,
//! which lets a test check which token a client stored without the snapshot (or the state
//! file) giving any token away.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything observable about the server at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSnapshot {
    /// Virtual time, seconds since the Unix epoch.
    pub now: u64,
    /// Every upload ever accepted, oldest first, including deleted ones.
    pub uploads: Vec<UploadRecord>,
    /// Every album ever created, oldest first, including deleted ones.
    pub albums: Vec<AlbumRecord>,
    /// Usage per registered Client ID (every registered application appears).
    pub clients: BTreeMap<String, ClientUsage>,
    /// Accounts created through the authorize page, with their tokens.
    pub accounts: Vec<AccountRecord>,
}

/// One uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// 7 alphanumerics, as in the link.
    pub id: String,
    /// 15 alphanumerics; whoever holds it may delete the image.
    pub deletehash: String,
    /// Size in bytes of the stored file.
    pub size: u64,
    /// Lower-case hex SHA-256 of the stored bytes, to compare with what the client sent.
    pub sha256: String,
    /// MIME type sniffed from the bytes (`image/png`, `video/mp4`, …).
    #[serde(rename = "type")]
    pub mime: String,
    /// Extension used in the link (`png`, `jpg`, `mp4`, …).
    pub ext: String,
    /// Pixel width (0 for videos).
    pub width: u32,
    /// Pixel height (0 for videos).
    pub height: u32,
    /// Animated GIF, APNG or animated WebP, and every video.
    pub animated: bool,
    /// The Client ID that uploaded it.
    pub client_id: String,
    /// The account it belongs to, `None` for anonymous uploads.
    pub account: Option<String>,
    /// Deleted images keep their record but no longer serve.
    pub deleted: bool,
    /// The album it was last added to.
    pub album: Option<String>,
    /// `title` form field.
    pub title: Option<String>,
    /// `description` form field.
    pub description: Option<String>,
    /// `name` as reported by the API: `""` for anonymous uploads, as on Imgur.
    pub name: String,
    /// Upload time on the virtual clock, epoch seconds.
    pub datetime: u64,
}

/// One album.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlbumRecord {
    /// 7 alphanumerics; the page is `/a/<id>`.
    pub id: String,
    /// 15 alphanumerics; anonymous albums are edited through it.
    pub deletehash: String,
    /// Album title.
    pub title: Option<String>,
    /// Album description.
    pub description: Option<String>,
    /// Image id of the cover; the first image when none was chosen.
    pub cover: Option<String>,
    /// The Client ID that created it.
    pub client_id: String,
    /// Owning account, `None` for anonymous albums.
    pub account: Option<String>,
    /// Image ids in album order (deleted images stay listed here but are not served).
    pub images: Vec<String>,
    /// `privacy` form field (Imgur's default is `hidden`).
    pub privacy: String,
    /// `layout` form field (Imgur's default is `blog`).
    pub layout: String,
    /// Whether the album was deleted.
    pub deleted: bool,
    /// Creation time on the virtual clock, epoch seconds.
    pub datetime: u64,
}

/// An account and the tokens issued for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// Numeric account id (`account_id` in the token answer).
    pub id: u64,
    /// The username (`account_username`, and `url` in the account model).
    pub username: String,
    /// Creation time on the virtual clock, epoch seconds.
    pub created: u64,
    /// Access tokens ever issued, oldest first.
    pub access_tokens: Vec<TokenRecord>,
    /// Refresh tokens ever issued, oldest first.
    pub refresh_tokens: Vec<TokenRecord>,
}

/// One access or refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Lower-case hex SHA-256 of the token (the token itself is never shown).
    pub token_sha256: String,
    /// The application it was issued to.
    pub client_id: String,
    /// Expiry, epoch seconds on the virtual clock (`None` for refresh tokens, which don't expire).
    pub expires_at: Option<u64>,
    /// Revoked through the control API, by rotation, or with the account.
    pub revoked: bool,
}

/// How much of its budgets one Client ID has used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientUsage {
    /// Credits spent in the current UTC day.
    pub credits_spent_today: u32,
    /// Credits left in the current UTC day (`X-RateLimit-ClientRemaining`).
    pub client_remaining: u32,
    /// API requests admitted (and charged), ever.
    pub requests: u64,
    /// Uploads accepted, ever.
    pub uploads: u64,
    /// POST requests admitted in the current clock hour, from any IP.
    pub posts_this_hour: u32,
    /// Requests answered 429 because a budget was spent, ever.
    pub rate_limited: u64,
    /// UTC days on which the daily budget ran out (a request was refused for it). Imgur blocks
    /// an application for the month after five of these.
    pub daily_limit_hits: u64,
    /// Requests refused because the daily budget was spent, ever.
    pub daily_refusals: u64,
}
