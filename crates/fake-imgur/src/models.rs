//! The JSON models of the API (Image, Album, Account), built from the records. Field order
//! follows Imgur's own answers, since some clients log or diff them.

use serde::Serialize;

use crate::records::{AlbumRecord, UploadRecord};
use crate::store::Account;

/// The Image model.
#[derive(Debug, Serialize)]
pub(crate) struct ImageModel {
    id: String,
    title: Option<String>,
    description: Option<String>,
    datetime: u64,
    #[serde(rename = "type")]
    mime: String,
    animated: bool,
    width: u32,
    height: u32,
    size: u64,
    views: u64,
    bandwidth: u64,
    vote: Option<String>,
    favorite: bool,
    nsfw: Option<bool>,
    section: Option<String>,
    account_url: Option<String>,
    account_id: Option<u64>,
    is_ad: bool,
    in_most_viral: bool,
    has_sound: bool,
    tags: Vec<String>,
    ad_type: u32,
    ad_url: String,
    edited: String,
    in_gallery: bool,
    /// Only for the uploader: in the upload answer and to the owning account.
    #[serde(skip_serializing_if = "Option::is_none")]
    deletehash: Option<String>,
    name: String,
    link: String,
    mp4: String,
    hls: String,
}

/// `{base}/{id}.{ext}`.
pub(crate) fn image_link(base_url: &str, upload: &UploadRecord) -> String {
    format!("{base_url}/{}.{}", upload.id, upload.ext)
}

impl ImageModel {
    /// The model of `upload`; `owner_view` adds the deletehash. `account_id` is the owner's
    /// numeric id, if the image belongs to an account.
    pub(crate) fn new(
        upload: &UploadRecord,
        base_url: &str,
        account_id: Option<u64>,
        owner_view: bool,
    ) -> Self {
        let video = upload.mime.starts_with("video/");
        Self {
            id: upload.id.clone(),
            title: upload.title.clone(),
            description: upload.description.clone(),
            datetime: upload.datetime,
            mime: upload.mime.clone(),
            animated: upload.animated,
            width: upload.width,
            height: upload.height,
            size: upload.size,
            views: 0,
            bandwidth: 0,
            vote: None,
            favorite: false,
            nsfw: None,
            section: None,
            account_url: upload.account.clone(),
            account_id: upload.account.as_ref().and(account_id),
            is_ad: false,
            in_most_viral: false,
            has_sound: false,
            tags: Vec::new(),
            ad_type: 0,
            ad_url: String::new(),
            edited: "0".to_owned(),
            in_gallery: false,
            deletehash: owner_view.then(|| upload.deletehash.clone()),
            name: upload.name.clone(),
            link: image_link(base_url, upload),
            mp4: if video {
                format!("{base_url}/{}.mp4", upload.id)
            } else {
                String::new()
            },
            hls: String::new(),
        }
    }
}

/// The Album model.
#[derive(Debug, Serialize)]
pub(crate) struct AlbumModel {
    id: String,
    title: Option<String>,
    description: Option<String>,
    datetime: u64,
    cover: Option<String>,
    cover_width: u32,
    cover_height: u32,
    account_url: Option<String>,
    account_id: Option<u64>,
    privacy: String,
    layout: String,
    views: u64,
    link: String,
    favorite: bool,
    nsfw: Option<bool>,
    section: Option<String>,
    images_count: usize,
    in_gallery: bool,
    is_ad: bool,
    include_album_ads: bool,
    is_album: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletehash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    images: Option<Vec<ImageModel>>,
}

impl AlbumModel {
    /// The model of `album` with its live `images`. `with_images` false leaves the `images`
    /// array out (account album lists); `owner_view` adds the deletehash.
    pub(crate) fn new(
        album: &AlbumRecord,
        images: &[&UploadRecord],
        base_url: &str,
        account_id: Option<u64>,
        with_images: bool,
        owner_view: bool,
    ) -> Self {
        let cover = album
            .cover
            .as_ref()
            .and_then(|cover| images.iter().find(|u| &u.id == cover))
            .or(images.first());
        Self {
            id: album.id.clone(),
            title: album.title.clone(),
            description: album.description.clone(),
            datetime: album.datetime,
            cover: cover.map(|u| u.id.clone()),
            cover_width: cover.map_or(0, |u| u.width),
            cover_height: cover.map_or(0, |u| u.height),
            account_url: album.account.clone(),
            account_id: album.account.as_ref().and(account_id),
            privacy: album.privacy.clone(),
            layout: album.layout.clone(),
            views: 0,
            link: format!("{base_url}/a/{}", album.id),
            favorite: false,
            nsfw: None,
            section: None,
            images_count: images.len(),
            in_gallery: false,
            is_ad: false,
            include_album_ads: false,
            is_album: true,
            deletehash: owner_view.then(|| album.deletehash.clone()),
            images: with_images.then(|| {
                images
                    .iter()
                    .map(|u| ImageModel::new(u, base_url, account_id, owner_view))
                    .collect()
            }),
        }
    }
}

/// `data` of the album creation answer.
#[derive(Debug, Serialize)]
pub(crate) struct CreatedAlbum {
    pub id: String,
    pub deletehash: String,
}

/// The Account model.
#[derive(Debug, Serialize)]
pub(crate) struct AccountModel {
    id: u64,
    url: String,
    bio: Option<String>,
    avatar: String,
    avatar_name: String,
    cover: String,
    cover_name: String,
    reputation: i64,
    reputation_name: String,
    created: u64,
    pro_expiration: bool,
    user_follow: UserFollow,
    is_blocked: bool,
}

#[derive(Debug, Serialize)]
struct UserFollow {
    status: bool,
}

impl AccountModel {
    /// The model of `account`.
    pub(crate) fn new(account: &Account, base_url: &str) -> Self {
        Self {
            id: account.id,
            url: account.username.clone(),
            bio: None,
            avatar: format!("{base_url}/user/{}/avatar", account.username),
            avatar_name: "default/A".to_owned(),
            cover: format!("{base_url}/user/{}/cover", account.username),
            cover_name: "default/1-space".to_owned(),
            reputation: 0,
            reputation_name: "Neutral".to_owned(),
            created: account.created,
            pro_expiration: false,
            user_follow: UserFollow { status: false },
            is_blocked: false,
        }
    }
}

/// `data` of `GET /3/credits`; the odd capitalisation is Imgur's.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreditsModel {
    pub user_limit: u32,
    pub user_remaining: u32,
    pub user_reset: u64,
    pub client_limit: u32,
    pub client_remaining: u32,
}

/// The bare (unenveloped) answer of `POST /oauth2/token`.
#[derive(Debug, Serialize)]
pub(crate) struct TokenModel {
    pub access_token: String,
    pub expires_in: u64,
    pub token_type: &'static str,
    pub scope: Option<String>,
    pub refresh_token: String,
    pub account_id: u64,
    pub account_username: String,
}
