//! The links derived from an uploaded image: page, thumbnail and deletion page.

use crate::models::Image;
use serde::{Deserialize, Serialize};
use url::Url;

/// Imgur's thumbnail suffixes: `s` 90×90 square, `b` 160×160 square, `t` 160, `m` 320, `l` 640,
/// `h` 1024.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThumbnailSize {
    /// 90×90, cropped square.
    SmallSquare,
    /// 160×160, cropped square.
    BigSquare,
    /// 160 pixels on the long side.
    Small,
    /// 320 pixels on the long side.
    Medium,
    /// 640 pixels on the long side.
    Large,
    /// 1024 pixels on the long side.
    Huge,
}

impl ThumbnailSize {
    fn suffix(self) -> char {
        match self {
            Self::SmallSquare => 's',
            Self::BigSquare => 'b',
            Self::Small => 't',
            Self::Medium => 'm',
            Self::Large => 'l',
            Self::Huge => 'h',
        }
    }
}

/// Every link a user may want for one upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageLinks {
    /// The file itself (`https://i.imgur.com/<id>.<ext>`).
    pub direct: String,
    /// The image's page (`https://imgur.com/<id>`).
    pub page: String,
    /// A medium thumbnail.
    pub thumbnail: String,
    /// The deletion page, when the deletehash is known.
    pub delete: Option<String>,
}

impl Image {
    /// The links derived from this image.
    ///
    /// For Imgur's own hosts the documented URL patterns are used; for any other host (the
    /// sandbox's fake server) the same paths are taken relative to the direct link's origin, so
    /// links work in both worlds.
    pub fn links(&self) -> ImageLinks {
        let site = site_origin(&self.link);
        ImageLinks {
            direct: self.link.clone(),
            page: format!("{}/{}", site.page, self.id),
            thumbnail: self.thumbnail(ThumbnailSize::Medium),
            delete: self
                .deletehash
                .as_ref()
                .map(|hash| format!("{}/delete/{hash}", site.page)),
        }
    }

    /// A thumbnail link of the given size (always JPEG, as Imgur serves them).
    pub fn thumbnail(&self, size: ThumbnailSize) -> String {
        let site = site_origin(&self.link);
        format!("{}/{}{}.jpg", site.files, self.id, size.suffix())
    }
}

struct Site {
    page: String,
    files: String,
}

fn site_origin(direct_link: &str) -> Site {
    let parsed = Url::parse(direct_link).ok();
    match parsed.as_ref().and_then(Url::host_str) {
        Some("i.imgur.com") | Some("imgur.com") | None => Site {
            page: "https://imgur.com".to_owned(),
            files: "https://i.imgur.com".to_owned(),
        },
        Some(_) => {
            let origin = parsed
                .map(|url| url.origin().ascii_serialization())
                .unwrap_or_default();
            Site {
                page: origin.clone(),
                files: origin,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(link: &str) -> Image {
        serde_json::from_value(serde_json::json!({
            "id": "AbCdEf1", "deletehash": "0123456789abcde", "link": link, "type": "image/png"
        }))
        .unwrap()
    }

    #[test]
    fn imgur_links_follow_documented_patterns() {
        let links = image("https://i.imgur.com/AbCdEf1.png").links();
        assert_eq!(links.direct, "https://i.imgur.com/AbCdEf1.png");
        assert_eq!(links.page, "https://imgur.com/AbCdEf1");
        assert_eq!(links.thumbnail, "https://i.imgur.com/AbCdEf1m.jpg");
        assert_eq!(
            links.delete.as_deref(),
            Some("https://imgur.com/delete/0123456789abcde")
        );
    }

    #[test]
    fn sandbox_links_stay_on_the_sandbox_origin() {
        let links = image("http://127.0.0.1:4567/AbCdEf1.png").links();
        assert_eq!(links.page, "http://127.0.0.1:4567/AbCdEf1");
        assert_eq!(links.thumbnail, "http://127.0.0.1:4567/AbCdEf1m.jpg");
    }

    #[test]
    fn stray_dot_on_webm_links_is_removed() {
        assert_eq!(
            image("https://i.imgur.com/AbCdEf1.webm.").link,
            "https://i.imgur.com/AbCdEf1.webm"
        );
    }
}
