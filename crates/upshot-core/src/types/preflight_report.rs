//! What preflight found and did to a file: stored with its job, then in the history, and shown
//! by both faces. It lives at the bottom so the queue and the history keep it without
//! importing preflight.

use serde::{Deserialize, Serialize};
use upshot_imgur::MediaKind;

/// What preflight found and did, stored with the job and then in the history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightReport {
    /// The type that is sent (`image/jpeg` after fitting).
    pub mime_type: String,
    /// The type of the original, sniffed from its bytes.
    pub original_type: String,
    /// "image" or "video".
    pub kind: String,
    /// The original's size in bytes.
    pub original_bytes: u64,
    /// The size that is sent, after cleaning or fitting.
    pub final_bytes: u64,
    /// A video's duration as its container states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Whether metadata is removed when the file is sent (the setting at the time it was queued).
    pub strip_metadata: bool,
    /// What was removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<Removed>,
    /// The orientation kept after removing the rest of Exif.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation_kept: Option<u16>,
    /// What fitting did, when the original was over the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fitted: Option<FitReport>,
    /// BLAKE3 of the original's content: the same picture is recognised under any name.
    pub content_hash: String,
    /// The original's size and modification time when it was checked.
    pub original_mtime_ns: i64,
}

impl PreflightReport {
    /// Image or video, for the multipart field.
    pub fn media_kind(&self) -> MediaKind {
        if self.kind == "video" {
            MediaKind::Video
        } else {
            MediaKind::Image
        }
    }

    /// Whether the picture was (or will be) sent with personal metadata it could have had
    /// removed: kept by the setting, not fitted (fitting keeps none).
    pub fn kept_metadata(&self) -> bool {
        !self.strip_metadata && self.fitted.is_none() && can_clean(&self.original_type)
    }

    /// One line for the CLI and notifications: "metadata removed: location, camera; fitted
    /// 3840×2160 → 2880×1620 JPEG".
    pub fn summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.removed.is_empty() {
            let what: Vec<&str> = self.removed.iter().map(|kind| kind.describe()).collect();
            parts.push(format!("metadata removed: {}", what.join(", ")));
        }
        if let Some(fit) = &self.fitted {
            parts.push(format!(
                "fitted {}×{} {} ({} bytes) → {}×{} JPEG ({} bytes; only its orientation and \
                 colour profile carried over)",
                fit.from_width,
                fit.from_height,
                self.original_type,
                self.original_bytes,
                fit.to_width,
                fit.to_height,
                self.final_bytes
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// A kind of metadata that was removed, for the history and the UI ("location, camera").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removed {
    /// GPS position (Exif GPS tags).
    Location,
    /// Camera and lens make, model and serial numbers.
    Camera,
    /// Artist, copyright, camera owner.
    Owner,
    /// The rest of Exif: dates, settings, software, thumbnails.
    Exif,
    /// XMP packets (which may repeat any of the above, and edit history).
    Xmp,
    /// IPTC / Photoshop records (captions, keywords, creator, place names).
    Iptc,
    /// Free-text comments (JPEG `COM`).
    Comment,
    /// PNG text chunks (`tEXt`, `zTXt`, `iTXt`: author, description, software).
    Text,
    /// The PNG `tIME` last-modified stamp.
    Timestamp,
    /// Other vendor segments and chunks, embedded thumbnails, and data after the image.
    Other,
    /// A kind a newer Upshot recorded: kept readable by this one.
    #[serde(other)]
    Unknown,
}

impl Removed {
    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Location => "location",
            Self::Camera => "camera",
            Self::Owner => "owner",
            Self::Exif => "other Exif data",
            Self::Xmp => "XMP",
            Self::Iptc => "IPTC",
            Self::Comment => "comment",
            Self::Text => "text chunks",
            Self::Timestamp => "timestamp",
            Self::Other => "other vendor data",
            Self::Unknown => "other data",
        }
    }
}

/// What fitting did, for the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FitReport {
    /// The picture's size before, in pixels.
    pub from_width: u32,
    /// Height before.
    pub from_height: u32,
    /// Width after.
    pub to_width: u32,
    /// Height after.
    pub to_height: u32,
    /// The JPEG quality used.
    pub quality: u8,
    /// How many encodings it took (1: re-encoding alone was enough).
    pub steps: u32,
}

/// Whether pictures of this type can be cleaned here.
pub fn can_clean(mime_type: &str) -> bool {
    matches!(mime_type, "image/jpeg" | "image/png" | "image/webp")
}
