//! The parts of Imgur's data models that Upshot reads. Unknown fields are ignored and most fields
//! are optional, because Imgur's two serializers and its endpoints differ in what they send.

use crate::secret::Secret;
use serde::{Deserialize, Deserializer, Serialize};

/// An uploaded image or video (Imgur's Image model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// The 7-character id.
    pub id: String,
    /// The secret that deletes it anonymously; only the uploader gets it.
    #[serde(default)]
    pub deletehash: Option<String>,
    /// The direct link. A stray trailing `.` (seen on webm links) is removed when read.
    #[serde(deserialize_with = "link_without_stray_dot")]
    pub link: String,
    /// MIME type, e.g. `image/png`.
    #[serde(rename = "type", default)]
    pub mime_type: String,
    /// Width in pixels (0 where unknown, e.g. some videos).
    #[serde(default)]
    pub width: u32,
    /// Height in pixels.
    #[serde(default)]
    pub height: u32,
    /// Size in bytes as Imgur stored it.
    #[serde(default)]
    pub size: u64,
    /// Upload time, Unix seconds.
    #[serde(default)]
    pub datetime: i64,
    /// Whether it is animated (GIF, APNG, video).
    #[serde(default)]
    pub animated: bool,
    /// Title, if one was given.
    #[serde(default)]
    pub title: Option<String>,
    /// Description, if one was given.
    #[serde(default)]
    pub description: Option<String>,
    /// The file name sent with it; kept for account uploads (`""` for anonymous ones). Upshot
    /// puts its job marker here so a retry after a crash can find an upload that did arrive.
    #[serde(default)]
    pub name: Option<String>,
    /// The account that owns it (`null` or 0 for anonymous uploads).
    #[serde(default)]
    pub account_id: Option<u64>,
    /// The owning account's username.
    #[serde(default)]
    pub account_url: Option<String>,
    /// For videos, the MP4 link (an empty string for stills).
    #[serde(default)]
    pub mp4: Option<String>,
}

fn link_without_stray_dot<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let link = String::deserialize(deserializer)?;
    Ok(link.trim_end_matches('.').to_owned())
}

/// An album (Imgur's Album model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Album {
    /// The album's id.
    pub id: String,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// The album page.
    #[serde(default)]
    pub link: String,
    /// The deletehash, present for the album's creator.
    #[serde(default)]
    pub deletehash: Option<String>,
    /// How many images it holds.
    #[serde(default)]
    pub images_count: u64,
    /// The images, where the endpoint includes them.
    #[serde(default)]
    pub images: Vec<Image>,
    /// Creation time, Unix seconds.
    #[serde(default)]
    pub datetime: i64,
}

/// What `POST /3/album` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlbumCreated {
    /// The album's id.
    pub id: String,
    /// The deletehash: the only handle on an anonymous album.
    #[serde(default)]
    pub deletehash: Option<String>,
}

/// Which images an album request names: by id (logged in) or by deletehash (anonymous).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlbumImages {
    /// `ids[]`: images of the logged-in account.
    Ids(Vec<String>),
    /// `deletehashes[]`: anonymous images.
    DeleteHashes(Vec<String>),
}

impl AlbumImages {
    pub(crate) fn form_pairs(&self) -> Vec<(String, String)> {
        let (key, values) = match self {
            Self::Ids(ids) => ("ids[]", ids),
            Self::DeleteHashes(hashes) => ("deletehashes[]", hashes),
        };
        values
            .iter()
            .map(|value| (key.to_owned(), value.clone()))
            .collect()
    }
}

/// A new album.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAlbum {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The cover image id.
    pub cover: Option<String>,
    /// The images to put in it.
    pub images: Option<AlbumImages>,
}

/// The logged-in account (`GET /3/account/me`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Numeric account id.
    pub id: u64,
    /// The username.
    pub url: String,
    /// Account creation time, Unix seconds.
    #[serde(default)]
    pub created: i64,
}

/// `GET /3/credits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Credits {
    /// Credits per hour for this user (IP).
    pub user_limit: i64,
    /// Credits left this hour.
    pub user_remaining: i64,
    /// When the user credits reset, Unix seconds.
    pub user_reset: i64,
    /// The application's daily credits.
    pub client_limit: i64,
    /// The application's credits left today.
    pub client_remaining: i64,
}

/// What `POST /oauth2/token` returns for a refresh.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenGrant {
    /// The new access token.
    #[serde(deserialize_with = "secret")]
    pub access_token: Secret,
    /// Its lifetime in seconds.
    pub expires_in: u64,
    /// The refresh token to keep (Imgur may rotate it).
    #[serde(deserialize_with = "secret")]
    pub refresh_token: Secret,
    /// The account's username.
    #[serde(default)]
    pub account_username: Option<String>,
    /// The account's id (a number or a numeric string on the wire).
    #[serde(default, deserialize_with = "lenient_id")]
    pub account_id: Option<u64>,
}

fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
    String::deserialize(deserializer).map(Secret::new)
}

fn lenient_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(match value {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.parse().ok(),
        _ => None,
    })
}
