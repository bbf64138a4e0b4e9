//! Turning the core's jobs, history entries and budget into what the window shows.

use super::views::{
    FormattedLink, HistoryItem, ItemError, ItemState, QueueItem, Quota, UploadProgress, Wait,
};
use crate::governor::{GovernorStatus, RequestCost};
use crate::history::HistoryEntry;
use crate::link_format::LinkFormat;
use crate::service::{Job, JobState};
use crate::types::WaitReason;
use upshot_imgur::ThumbnailSize;

/// A job's name for people: its file's name, or its title for data that had no file.
pub fn job_name(job: &Job) -> String {
    if job.spooled {
        return job
            .title
            .clone()
            .unwrap_or_else(|| format!("{} upload", job.origin.as_str()));
    }
    file_name(&job.source_path)
}

/// The last part of a path, for people.
pub fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// The state the window shows for a job's stored state.
pub fn item_state(state: JobState) -> ItemState {
    match state {
        JobState::Queued => ItemState::Queued,
        JobState::Deferred => ItemState::Waiting,
        JobState::Uploading => ItemState::Uploading,
        JobState::Done => ItemState::Done,
        JobState::Failed => ItemState::Failed,
        JobState::Cancelled => ItemState::Cancelled,
    }
}

/// One queue item from a job and, once it is done, its history entry.
pub fn queue_item(
    job: &Job,
    entry: Option<&HistoryEntry>,
    format: LinkFormat,
    batch: Option<String>,
    thumbnail: Option<String>,
) -> QueueItem {
    let state = item_state(job.state);
    let wait = match (state, job.waiting) {
        (ItemState::Queued | ItemState::Waiting, Some(waiting)) => Some(Wait {
            reason: waiting.reason.as_str().to_owned(),
            message: waiting.reason.explain().to_owned(),
            until: waiting.until,
        }),
        _ => None,
    };
    // A queued job held by a reason (the paused flag, a rate limit) shows as waiting; one that
    // only waits its turn (every queued job says `in_line`) is queued.
    let held = job
        .waiting
        .is_some_and(|waiting| waiting.reason != WaitReason::InLine);
    let state = if state == ItemState::Queued && held {
        ItemState::Waiting
    } else {
        state
    };
    let progress = (state == ItemState::Uploading).then(|| UploadProgress {
        job: job.id.to_string(),
        sent: job.bytes_sent,
        total: job.bytes_total,
        bytes_per_second: 0,
    });
    let error = (state == ItemState::Failed).then(|| ItemError {
        code: job
            .error_code
            .clone()
            .unwrap_or_else(|| "upload_failed".to_owned()),
        message: job
            .error_message
            .clone()
            .unwrap_or_else(|| "The upload failed.".to_owned()),
    });
    QueueItem {
        job: job.id.to_string(),
        batch,
        name: job_name(job),
        size: job.bytes_total,
        state,
        wait,
        progress,
        link: entry.map(|entry| format.render_entry(entry)),
        error,
        thumbnail,
    }
}

/// The format's label in menus.
fn label(format: LinkFormat) -> &'static str {
    match format {
        LinkFormat::Direct => "Direct link",
        LinkFormat::Page => "Page link",
        LinkFormat::Markdown => "Markdown",
        LinkFormat::MarkdownLinked => "Markdown, linked thumbnail",
        LinkFormat::Bbcode => "BBCode",
        LinkFormat::Html => "HTML",
        LinkFormat::Delete => "Deletion link",
    }
}

/// One history item, with its link in every format and Imgur's small square thumbnail.
pub fn history_item(entry: &HistoryEntry) -> HistoryItem {
    let name = entry
        .source_path
        .as_deref()
        .map(file_name)
        .or_else(|| entry.title.clone())
        .unwrap_or_else(|| entry.imgur_id.clone());
    let links = LinkFormat::ALL
        .into_iter()
        .filter(|format| *format != LinkFormat::Delete || entry.deletehash.is_some())
        .map(|format| FormattedLink {
            format: format.name().to_owned(),
            label: label(format).to_owned(),
            text: format.render_entry(entry),
        })
        .collect();
    let thumbnail = entry
        .mime_type
        .starts_with("image/")
        .then(|| entry.image().thumbnail(ThumbnailSize::SmallSquare));
    HistoryItem {
        id: entry.id.to_string(),
        name,
        link: entry.link.clone(),
        thumbnail,
        links,
        uploaded_at: entry.uploaded_at,
        deleted: entry.deleted_at.is_some(),
    }
}

/// The budget as the meter shows it: uploads are counted in upload-sized spends of the credits
/// above the reserve.
pub fn quota(status: &GovernorStatus) -> Quota {
    let per_upload = i64::from(RequestCost::UPLOAD.credits);
    let holding = status.next_interactive.reason.is_some()
        && status.next_interactive.at.as_millis() > status.at.as_millis();
    Quota {
        uploads_left: Some(status.uploads_left_today.max(0)),
        uploads_limit: Some(((status.daily_limit - status.reserve) / per_upload).max(0)),
        credits_left: Some(status.credits_left_today.max(0)),
        credits_limit: Some(status.daily_limit),
        resets_at: status.daily_reset.map(|at| at.as_millis()),
        next_slot_at: holding.then(|| status.next_interactive.at.as_millis()),
        reserve: status.reserve,
    }
}
