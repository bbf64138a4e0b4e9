//! `upshot upload`: queue files, work the queue until they are uploaded (or, with `--no-wait`,
//! make one attempt now), and print their links.

use crate::cli::{GlobalOptions, UploadArgs};
use crate::context::{Endpoint, settings, shutdown_on_signal};
use crate::exit::Status;
use crate::progress::{Mode, ProgressView, now_millis};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use upshot_core::history::HistoryEntry;
use upshot_core::human_time;
use upshot_core::media::FileRejected;
use upshot_core::service::StopWhen;
use upshot_core::service::{Enqueued, ServiceError};
use upshot_core::service::{Job, JobState};
use upshot_core::types::UnixMillis;
use upshot_core::types::{JobId, Origin};
use upshot_core::{FileUpload, LinkFormat};

/// One line of `--json` output.
#[derive(Debug, Serialize)]
struct UploadLine {
    file: String,
    status: &'static str,
    id: Option<String>,
    link: Option<String>,
    deletehash: Option<String>,
    /// Queued and deferred files: why they wait and until when (ms since the epoch).
    job: Option<i64>,
    reason: Option<&'static str>,
    until: Option<i64>,
    error: Option<ErrorLine>,
    /// The link in the chosen format, for the plain output.
    #[serde(skip)]
    text: Option<String>,
    /// What preflight did (metadata removed, fitted), when it did something.
    #[serde(skip_serializing_if = "Option::is_none")]
    preflight: Option<String>,
}

/// A file's failure: Upshot's `{code, message}` with the upload's `kind` (what the queue does
/// about it: `retry_later`, `permanent`, …) beside them.
#[derive(Debug, Serialize)]
struct ErrorLine {
    code: String,
    kind: &'static str,
    message: String,
}

/// The code printed for a failed job whose failure was recorded before the queue kept codes
/// (schema version 9): an older Upshot's row says only its kind and message. Newer rows carry
/// the error's own code (`imgur_refused`, `too_large`, …).
const UPLOAD_FAILED: &str = "upload_failed";
/// The code of such an older deferred job's last failure (see [`UPLOAD_FAILED`]).
const UPLOAD_DEFERRED: &str = "upload_deferred";

pub async fn run(global: &GlobalOptions, args: &UploadArgs) -> Result<Status, ServiceError> {
    let settings = settings(global, args.format)?;
    let (endpoint, service) = Endpoint::connect(global, &settings, args.jobs).await?;

    let files: Vec<FileUpload> = args
        .files
        .iter()
        .map(|path| FileUpload {
            path: path.clone(),
            title: args.title.clone(),
            description: args.description.clone(),
            album: args.album.clone(),
            anonymous: args.anonymous,
            force: args.force,
            fit: match (args.fit, args.no_fit) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            strip_metadata: args.keep_metadata.then_some(false),
        })
        .collect();
    let events = service.subscribe();
    service.recover_spool().await?;
    let outcomes = service.enqueue_files(&files, Origin::Cli).await?;
    let ids: Vec<JobId> = outcomes
        .iter()
        .filter_map(|(_, outcome)| outcome.queued())
        .collect();

    let names: HashMap<JobId, (String, u64)> = outcomes
        .iter()
        .filter_map(|(path, outcome)| match outcome {
            Enqueued::Queued { job, report } => {
                Some((*job, (path.display().to_string(), report.final_bytes)))
            }
            _ => None,
        })
        .collect();
    let view = ProgressView::start(
        events,
        Mode::for_terminal(args.json),
        service.clone(),
        names,
    );
    let stop = if args.no_wait {
        StopWhen::Settled(ids.clone())
    } else {
        StopWhen::Finished(ids.clone())
    };
    let worked = service.run_workers(stop, shutdown_on_signal()).await;
    view.finish().await;
    worked?;

    let mut finished: HashMap<JobId, (Job, Option<HistoryEntry>)> = service
        .outcomes(ids)
        .await?
        .into_iter()
        .map(|(job, entry)| (job.id, (job, entry)))
        .collect();
    let mut failed = 0usize;
    let mut unfinished = 0usize;
    for (path, outcome) in &outcomes {
        let line = match outcome {
            Enqueued::Rejected { rejected } => rejected_line(path, rejected),
            Enqueued::Duplicate { job, link, history } => {
                let mut line = duplicate_line(path, *job, link.as_deref());
                if let Some(history) = history
                    && let Some(entry) = service.history_entry(*history).await?
                {
                    line.deletehash = entry.deletehash.clone();
                    line.id = Some(entry.imgur_id.clone());
                    line.text = Some(settings.link_format.render_entry(&entry));
                }
                line
            }
            Enqueued::Queued { job, report } => {
                let mut line = job_line(path, *job, finished.remove(job), settings.link_format);
                line.preflight = report.summary();
                line
            }
        };
        match line.status {
            "failed" => failed += 1,
            "queued" | "deferred" => unfinished += 1,
            _ => {}
        }
        print(&line, args.json, path);
    }
    if unfinished > 0 && !args.json {
        eprintln!(
            "upshot: {unfinished} file(s) still queued; they upload with the next `upshot queue run` \
             or the desktop app (`upshot queue list` shows them)."
        );
    }
    drop(service);
    endpoint.close().await;
    Ok(if failed == 0 {
        Status::Success
    } else {
        Status::SomeFailed
    })
}

/// A duplicate's line; `job` is `None` when the upload's job was pruned (no job to show).
fn duplicate_line(path: &Path, job: Option<JobId>, link: Option<&str>) -> UploadLine {
    UploadLine {
        file: path.display().to_string(),
        status: "duplicate",
        id: None,
        link: link.map(str::to_owned),
        deletehash: None,
        job: job.map(|job| job.0),
        reason: None,
        until: None,
        error: None,
        text: None,
        preflight: None,
    }
}

fn rejected_line(path: &Path, rejected: &FileRejected) -> UploadLine {
    UploadLine {
        file: path.display().to_string(),
        status: "failed",
        id: None,
        link: None,
        deletehash: None,
        job: None,
        reason: None,
        until: None,
        error: Some(ErrorLine {
            code: rejected.code().to_owned(),
            kind: "permanent",
            message: rejected.to_string(),
        }),
        text: None,
        preflight: None,
    }
}

fn job_line(
    path: &Path,
    id: JobId,
    outcome: Option<(Job, Option<HistoryEntry>)>,
    format: LinkFormat,
) -> UploadLine {
    let mut line = UploadLine {
        file: path.display().to_string(),
        status: "queued",
        id: None,
        link: None,
        deletehash: None,
        job: Some(id.0),
        reason: None,
        until: None,
        error: None,
        text: None,
        preflight: None,
    };
    let Some((job, entry)) = outcome else {
        return line;
    };
    match job.state {
        JobState::Done => {
            if let Some(entry) = entry {
                line.status = "uploaded";
                line.id = Some(entry.imgur_id.clone());
                line.link = Some(entry.link.clone());
                line.deletehash = entry.deletehash.clone();
                line.text = Some(format.render_entry(&entry));
            }
        }
        JobState::Failed => {
            line.status = "failed";
            line.error = Some(ErrorLine {
                code: job
                    .error_code
                    .clone()
                    .unwrap_or_else(|| UPLOAD_FAILED.into()),
                kind: job.error_kind.map_or("permanent", |kind| kind.as_str()),
                message: job.error_message.clone().unwrap_or_default(),
            });
        }
        JobState::Cancelled => line.status = "cancelled",
        JobState::Deferred => {
            line.status = "deferred";
            line.reason = job.wait_reason.map(|reason| reason.as_str());
            line.until = job.run_after;
            line.error = job.error_message.clone().map(|message| ErrorLine {
                code: job
                    .error_code
                    .clone()
                    .unwrap_or_else(|| UPLOAD_DEFERRED.into()),
                kind: job.error_kind.map_or("retry_later", |kind| kind.as_str()),
                message,
            });
        }
        JobState::Queued | JobState::Uploading => {
            line.reason = job.waiting.map(|waiting| waiting.reason.as_str());
            line.until = job.waiting.and_then(|waiting| waiting.until);
        }
    }
    line
}

fn print(line: &UploadLine, json: bool, path: &Path) {
    if json {
        if let Ok(text) = serde_json::to_string(line) {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
        return;
    }
    let file = path.display();
    if let Some(summary) = &line.preflight {
        eprintln!("upshot: {file}: {summary}");
    }
    match line.status {
        "uploaded" => {
            if let Some(text) = line.text.as_ref().or(line.link.as_ref()) {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
        }
        "duplicate" => match &line.link {
            Some(link) => {
                eprintln!(
                    "upshot: {file}: uploaded before, not sent again (--force sends it anyway)"
                );
                let text = line.text.as_ref().unwrap_or(link);
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
            None => match line.job {
                Some(job) => eprintln!(
                    "upshot: {file}: the same content is queued already as job {job} (--force \
                     sends it again)"
                ),
                None => eprintln!(
                    "upshot: {file}: uploaded before, not sent again (--force sends it anyway)"
                ),
            },
        },
        "failed" => {
            let message = line
                .error
                .as_ref()
                .map(|error| error.message.as_str())
                .unwrap_or("failed");
            eprintln!("upshot: {file}: {message}");
        }
        "cancelled" => eprintln!("upshot: {file}: cancelled"),
        _ => {
            let reason = line.reason.unwrap_or("in_line");
            let when = line
                .until
                .map(|until| human_time::describe(UnixMillis(until), UnixMillis(now_millis())))
                .unwrap_or_else(|| "when a worker is free".to_owned());
            eprintln!("upshot: {file}: {} ({reason}), {when}", line.status);
        }
    }
}
