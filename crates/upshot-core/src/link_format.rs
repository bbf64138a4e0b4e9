//! The text put on the clipboard (or printed) for an upload, in the format the user picked.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use upshot_imgur::Image;

/// How a finished upload is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkFormat {
    /// The file itself: `https://i.imgur.com/<id>.png`.
    #[default]
    Direct,
    /// The image page: `https://imgur.com/<id>`.
    Page,
    /// `![title](direct)`.
    Markdown,
    /// A thumbnail linking to the page: `[![title](thumbnail)](page)`.
    MarkdownLinked,
    /// `[img]direct[/img]`.
    Bbcode,
    /// `<img src="direct" alt="title">`.
    Html,
    /// The deletion page: `https://imgur.com/delete/<deletehash>`.
    Delete,
}

impl LinkFormat {
    /// Every format, in the order the UI lists them.
    pub const ALL: [LinkFormat; 7] = [
        Self::Direct,
        Self::Page,
        Self::Markdown,
        Self::MarkdownLinked,
        Self::Bbcode,
        Self::Html,
        Self::Delete,
    ];

    /// The name used in settings and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Page => "page",
            Self::Markdown => "markdown",
            Self::MarkdownLinked => "markdown-linked",
            Self::Bbcode => "bbcode",
            Self::Html => "html",
            Self::Delete => "delete",
        }
    }

    /// Writes an upload in this format. The deletion page falls back to the page link for an
    /// image whose deletehash is unknown (someone else's image), which cannot happen for
    /// Upshot's own uploads.
    pub fn render(self, image: &Image) -> String {
        let links = image.links();
        let alt = image
            .title
            .as_deref()
            .filter(|title| !title.is_empty())
            .unwrap_or(&image.id);
        match self {
            Self::Direct => links.direct,
            Self::Page => links.page,
            Self::Markdown => format!("![{}]({})", escape_markdown(alt), links.direct),
            Self::MarkdownLinked => format!(
                "[![{}]({})]({})",
                escape_markdown(alt),
                links.thumbnail,
                links.page
            ),
            Self::Bbcode => format!("[img]{}[/img]", links.direct),
            Self::Html => format!(
                "<img src=\"{}\" alt=\"{}\">",
                escape_html(&links.direct),
                escape_html(alt)
            ),
            Self::Delete => links.delete.unwrap_or(links.page),
        }
    }
}

// Beside the link formats it feeds (history.rs is at its size limit).
impl crate::history::HistoryEntry {
    /// The upload as Imgur described it, from what the history remembers (what link formats
    /// and thumbnail links are made from).
    pub fn image(&self) -> Image {
        Image {
            id: self.imgur_id.clone(),
            deletehash: self.deletehash.clone(),
            link: self.link.clone(),
            mime_type: self.mime_type.clone(),
            width: self.width.unwrap_or(0),
            height: self.height.unwrap_or(0),
            size: self.size,
            datetime: self.uploaded_at / 1000,
            animated: false,
            title: self.title.clone(),
            description: None,
            name: None,
            account_id: None,
            account_url: self.account.clone(),
            mp4: None,
        }
    }
}

impl LinkFormat {
    /// Writes a remembered upload in this format.
    pub fn render_entry(self, entry: &crate::history::HistoryEntry) -> String {
        self.render(&entry.image())
    }
}

impl fmt::Display for LinkFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a format name that does not exist; lists the ones that do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown link format {0:?}; use one of: direct, page, markdown, markdown-linked, bbcode, html, delete"
)]
pub struct UnknownLinkFormat(pub String);

impl crate::error::ErrorCode for UnknownLinkFormat {
    fn code(&self) -> &'static str {
        "unknown_link_format"
    }
}

crate::error::serialize_as_coded!(UnknownLinkFormat);

impl FromStr for LinkFormat {
    type Err = UnknownLinkFormat;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
        Self::ALL
            .into_iter()
            .find(|format| format.name() == wanted)
            .ok_or_else(|| UnknownLinkFormat(text.to_owned()))
    }
}

fn escape_markdown(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(title: Option<&str>) -> Image {
        serde_json::from_value(serde_json::json!({
            "id": "AbCdEf1", "deletehash": "0123456789abcde",
            "link": "https://i.imgur.com/AbCdEf1.png", "type": "image/png", "title": title
        }))
        .unwrap()
    }

    #[test]
    fn every_format_renders() {
        let shot = image(Some("My <shot> [1]"));
        assert_eq!(
            LinkFormat::Direct.render(&shot),
            "https://i.imgur.com/AbCdEf1.png"
        );
        assert_eq!(LinkFormat::Page.render(&shot), "https://imgur.com/AbCdEf1");
        assert_eq!(
            LinkFormat::Markdown.render(&shot),
            "![My <shot> \\[1\\]](https://i.imgur.com/AbCdEf1.png)"
        );
        assert_eq!(
            LinkFormat::MarkdownLinked.render(&shot),
            "[![My <shot> \\[1\\]](https://i.imgur.com/AbCdEf1m.jpg)](https://imgur.com/AbCdEf1)"
        );
        assert_eq!(
            LinkFormat::Bbcode.render(&shot),
            "[img]https://i.imgur.com/AbCdEf1.png[/img]"
        );
        assert_eq!(
            LinkFormat::Html.render(&shot),
            "<img src=\"https://i.imgur.com/AbCdEf1.png\" alt=\"My &lt;shot&gt; [1]\">"
        );
        assert_eq!(
            LinkFormat::Delete.render(&shot),
            "https://imgur.com/delete/0123456789abcde"
        );
    }

    #[test]
    fn untitled_images_use_the_id_as_alt_text() {
        assert_eq!(
            LinkFormat::Markdown.render(&image(None)),
            "![AbCdEf1](https://i.imgur.com/AbCdEf1.png)"
        );
    }

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for format in LinkFormat::ALL {
            assert_eq!(format.name().parse::<LinkFormat>(), Ok(format));
        }
        assert_eq!("Markdown_Linked".parse(), Ok(LinkFormat::MarkdownLinked));
        let error = "gif".parse::<LinkFormat>().unwrap_err();
        assert!(error.to_string().contains("bbcode"));
    }
}
