//! Preflight: every file is checked, cleaned and fitted locally before it may spend a request.
//!
//! An upload costs 10 of the day's credits, and a file Imgur refuses wastes them. So when a job
//! is queued (not when it is sent) this module decides, from the bytes:
//! - the type (sniffed, never from the name) and whether Imgur takes it;
//! - the limits: size for images and videos, duration for videos where the container says;
//! - what personal metadata a JPEG, PNG or WebP carries, which is removed when it is sent
//!   ([`metadata`]); the pixels are not re-encoded;
//! - for an oversize still, and when the user's setting allows it, a fitted JPEG ([`fit`]).
//!
//! The result, a [`PreflightReport`], is stored with the job and then in the history. The
//! original file is never written to.

pub mod duration;
pub mod fit;
pub mod metadata;

use crate::content_hash;
use crate::media::{self, CheckedFile, FIT_HINT, FileRejected, SHRINK_HINT};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::path::Path;
use upshot_imgur::MediaKind;

use crate::types::PreflightReport;

/// Imgur's limit on a video's length.
pub const MAX_VIDEO_SECONDS: u64 = 60;

/// The limits a file must be within (defaults: Imgur's documented ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Limits {
    /// Largest image, in bytes.
    pub max_image_bytes: u64,
    /// Largest video, in bytes.
    pub max_video_bytes: u64,
    /// Longest video, in seconds (where its container says).
    pub max_video_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_image_bytes: media::MAX_IMAGE_BYTES,
            max_video_bytes: media::MAX_VIDEO_BYTES,
            max_video_seconds: MAX_VIDEO_SECONDS,
        }
    }
}

/// What preflight may do to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightOptions {
    /// Remove location, camera, owner and other metadata from JPEG, PNG and WebP.
    pub strip_metadata: bool,
    /// Re-encode an oversize still as a JPEG that fits.
    pub fit_oversize: bool,
    /// The limits.
    pub limits: Limits,
}

/// A file that passed preflight.
#[derive(Debug, Clone)]
pub struct Preflighted {
    /// The original file's checks.
    pub checked: CheckedFile,
    /// What was found and done.
    pub report: PreflightReport,
    /// The fitted JPEG to send instead of the original (the caller keeps it in the spool).
    pub fitted: Option<Bytes>,
}

/// A file that passed the checks, with its fitting still to do (the expensive part, skipped
/// when the file turns out to be a duplicate).
#[derive(Debug, Clone)]
pub struct Planned {
    /// The original file's checks.
    pub checked: CheckedFile,
    /// What was found so far.
    pub report: PreflightReport,
    fit: Option<FitInput>,
}

#[derive(Debug, Clone)]
struct FitInput {
    bytes: Bytes,
    limit: u64,
    orientation: Option<u16>,
}

impl Planned {
    /// Fits an oversize still, when the plan says to; otherwise passes the file on.
    pub fn fit(self) -> Result<Preflighted, FileRejected> {
        let Self {
            checked,
            mut report,
            fit,
        } = self;
        let Some(input) = fit else {
            return Ok(Preflighted {
                checked,
                report,
                fitted: None,
            });
        };
        let fitted = fit::fit(
            &input.bytes,
            checked.mime_type,
            input.limit,
            input.orientation,
        )
        .map_err(|error| FileRejected::CannotFit {
            path: checked.path.clone(),
            limit: input.limit,
            reason: error.to_string(),
        })?;
        report.mime_type = "image/jpeg".to_owned();
        report.final_bytes = fitted.bytes.len() as u64;
        report.orientation_kept = input.orientation;
        report.fitted = Some(fitted.report);
        Ok(Preflighted {
            checked,
            report,
            fitted: Some(fitted.bytes),
        })
    }
}

/// Checks, cleans and fits one file: [`check`] then [`Planned::fit`].
pub fn preflight(path: &Path, options: &PreflightOptions) -> Result<Preflighted, FileRejected> {
    check(path, options)?.fit()
}

/// Checks one file and plans its cleaning and fitting. Reads it once; writes nothing.
pub fn check(path: &Path, options: &PreflightOptions) -> Result<Planned, FileRejected> {
    let checked = media::inspect(path)?;
    let owned = || checked.path.clone();
    let unreadable = |error: std::io::Error| FileRejected::Unreadable {
        path: checked.path.clone(),
        reason: error.to_string(),
    };
    let mtime_ns = std::fs::metadata(path)
        .ok()
        .and_then(|metadata| metadata.modified().ok())
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |since| {
            i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
        });
    let limits = options.limits;
    if checked.kind == MediaKind::Video {
        if checked.size > limits.max_video_bytes {
            return Err(FileRejected::TooLarge {
                path: owned(),
                size: checked.size,
                limit: limits.max_video_bytes,
                what: "videos",
                hint: SHRINK_HINT,
            });
        }
        let mut file = std::fs::File::open(path).map_err(unreadable)?;
        // A container this code cannot read is left to Imgur, never refused on a guess.
        let duration_ms = duration::container_duration_ms(checked.mime_type, &mut file)
            .ok()
            .flatten();
        if let Some(duration_ms) = duration_ms
            && duration_ms > limits.max_video_seconds.saturating_mul(1000)
        {
            return Err(FileRejected::TooLong {
                path: owned(),
                seconds: duration_ms.div_ceil(1000),
                limit_seconds: limits.max_video_seconds,
            });
        }
        let content_hash = content_hash::hash_file(path).map_err(unreadable)?;
        let report = PreflightReport {
            mime_type: checked.mime_type.to_owned(),
            original_type: checked.mime_type.to_owned(),
            kind: "video".to_owned(),
            original_bytes: checked.size,
            final_bytes: checked.size,
            duration_ms,
            strip_metadata: false,
            removed: Vec::new(),
            orientation_kept: None,
            fitted: None,
            content_hash,
            original_mtime_ns: mtime_ns,
        };
        return Ok(Planned {
            checked,
            report,
            fit: None,
        });
    }

    // A still this large cannot be fitted in reasonable memory; say so before reading it.
    let readable_limit = limits
        .max_image_bytes
        .saturating_mul(20)
        .clamp(200 << 20, 1 << 30);
    if checked.size > readable_limit {
        return Err(FileRejected::TooLarge {
            path: owned(),
            size: checked.size,
            limit: limits.max_image_bytes,
            what: "images",
            hint: SHRINK_HINT,
        });
    }
    let original = Bytes::from(std::fs::read(path).map_err(unreadable)?);
    let content_hash = content_hash::hash_bytes(&original);
    let strip = options.strip_metadata && crate::types::can_clean(checked.mime_type);
    let cleaned = if strip {
        Some(
            metadata::clean(checked.mime_type, original.clone()).map_err(|error| {
                FileRejected::Damaged {
                    path: owned(),
                    reason: error.to_string(),
                }
            })?,
        )
    } else {
        None
    };
    let (removed, orientation_kept, cleaned_bytes) = match cleaned {
        Some(cleaned) => (cleaned.removed, cleaned.orientation, cleaned.bytes),
        None => (Vec::new(), None, None),
    };
    let to_send = cleaned_bytes.unwrap_or_else(|| original.clone());
    let report = PreflightReport {
        mime_type: checked.mime_type.to_owned(),
        original_type: checked.mime_type.to_owned(),
        kind: "image".to_owned(),
        original_bytes: checked.size,
        final_bytes: to_send.len() as u64,
        duration_ms: None,
        strip_metadata: strip,
        removed,
        orientation_kept,
        fitted: None,
        content_hash,
        original_mtime_ns: mtime_ns,
    };
    if report.final_bytes <= limits.max_image_bytes {
        return Ok(Planned {
            checked,
            report,
            fit: None,
        });
    }
    let fittable = fit::can_fit(checked.mime_type, &original);
    if !(options.fit_oversize && fittable) {
        return Err(FileRejected::TooLarge {
            path: owned(),
            size: checked.size,
            limit: limits.max_image_bytes,
            what: "images",
            hint: if fittable { FIT_HINT } else { SHRINK_HINT },
        });
    }
    // The orientation is carried over even when metadata is kept: the pixels are kept as stored.
    let orientation = report
        .orientation_kept
        .or_else(|| original_orientation(&original));
    Ok(Planned {
        checked,
        report,
        fit: Some(FitInput {
            bytes: to_send,
            limit: limits.max_image_bytes,
            orientation,
        }),
    })
}

fn original_orientation(bytes: &Bytes) -> Option<u16> {
    use img_parts::ImageEXIF;
    let exif = img_parts::DynImage::from_bytes(bytes.clone())
        .ok()
        .flatten()?
        .exif()?;
    metadata::exif_orientation(&exif)
}

/// What the runner sends for a job: the bytes with metadata removed when the job's report says
/// to, read and cleaned at send time (so a file edited after it was queued is still cleaned);
/// `None` to stream the file as it is. A job without a report (queued before preflight existed)
/// is cleaned: the safe default.
pub fn cleaned_for_sending(
    path: &Path,
    report: Option<&PreflightReport>,
) -> Result<Option<Bytes>, FileRejected> {
    let strip = report.is_none_or(|report| report.strip_metadata && report.fitted.is_none());
    if !strip {
        return Ok(None);
    }
    let head = media::inspect(path)?;
    if !crate::types::can_clean(head.mime_type) {
        return Ok(None);
    }
    let original = Bytes::from(
        std::fs::read(path).map_err(|error| FileRejected::Unreadable {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?,
    );
    let cleaned = metadata::clean(head.mime_type, original.clone()).map_err(|error| {
        FileRejected::Damaged {
            path: path.to_path_buf(),
            reason: error.to_string(),
        }
    })?;
    Ok(Some(cleaned.bytes.unwrap_or(original)))
}

/// The user's preflight settings (the settings file's `preflight_*` keys; see
/// [`SettingsFile::preflight`](crate::SettingsFile::preflight)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PreflightSettings {
    /// Remove personal metadata from JPEG, PNG and WebP (default on). Videos are sent as they
    /// are.
    pub strip_metadata: bool,
    /// Fit oversize screenshots and clipboard images (default on: Upshot made the file).
    pub fit_captures: bool,
    /// Fit other oversize stills (default off: the user chose that file as it is).
    pub fit_files: bool,
    /// Send a file again although the same content was uploaded before (default off).
    pub upload_duplicates: bool,
    /// The limits.
    pub limits: Limits,
}

impl Default for PreflightSettings {
    fn default() -> Self {
        Self {
            strip_metadata: true,
            fit_captures: true,
            fit_files: false,
            upload_duplicates: false,
            limits: Limits::default(),
        }
    }
}

impl PreflightSettings {
    /// The options for a file of `origin`: captures (screenshots, clipboard images) and other
    /// files differ only in whether an oversize still is fitted.
    pub fn options_for(&self, origin: crate::types::Origin) -> PreflightOptions {
        use crate::types::Origin;
        let capture = matches!(origin, Origin::Screenshot | Origin::Clipboard);
        PreflightOptions {
            strip_metadata: self.strip_metadata,
            fit_oversize: if capture {
                self.fit_captures
            } else {
                self.fit_files
            },
            limits: self.limits,
        }
    }
}
