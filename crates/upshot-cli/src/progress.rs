//! Showing the queue's events: progress bars on a terminal, plain lines otherwise.
//!
//! Everything goes to stderr, so stdout carries only links or `--json` lines.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use tokio::sync::broadcast;
use upshot_core::events::QueueEvent;
use upshot_core::human_time;
use upshot_core::service::UploadService;
use upshot_core::types::JobId;
use upshot_core::types::UnixMillis;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bars per file and overall (a terminal, not `--json`).
    Bars,
    /// One line per state change (not a terminal, or `--json`).
    Lines,
    /// Every event as a JSON line on stdout (`upshot queue run --json`).
    JsonEvents,
}

impl Mode {
    /// Bars on a terminal, lines otherwise.
    pub fn for_terminal(json: bool) -> Self {
        if !json && std::io::stderr().is_terminal() {
            Self::Bars
        } else {
            Self::Lines
        }
    }
}

/// Follows the events until the channel closes or `stop` is called.
pub struct ProgressView {
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl ProgressView {
    /// Starts showing events. `files` names the jobs and their sizes when known up front; other
    /// jobs are looked up as they start. `overall` is the total bytes of a batch, if any.
    pub fn start(
        events: broadcast::Receiver<QueueEvent>,
        mode: Mode,
        service: UploadService,
        files: HashMap<JobId, (String, u64)>,
    ) -> Self {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(follow(events, mode, service, files, stopped));
        Self { task, stop }
    }

    /// Stops showing and clears the bars.
    pub async fn finish(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn follow(
    mut events: broadcast::Receiver<QueueEvent>,
    mode: Mode,
    service: UploadService,
    mut files: HashMap<JobId, (String, u64)>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let batch_total: u64 = files.values().map(|(_, size)| size).sum();
    let overall = (mode == Mode::Bars && files.len() > 1).then(|| {
        let bar = multi.add(ProgressBar::new(batch_total));
        bar.set_style(style(
            "{prefix:>9} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        ));
        bar.set_prefix("all");
        bar
    });
    let mut done_bytes = 0u64;
    let mut in_flight: HashMap<JobId, (ProgressBar, u64)> = HashMap::new();
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = stopped.changed() => break,
        };
        let event = match event {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => break,
        };
        if mode == Mode::JsonEvents {
            if let Ok(line) = serde_json::to_string(&event) {
                println!("{line}");
            }
            continue;
        }
        let job = event_job(&event);
        if !files.contains_key(&job)
            && let Ok(Some(found)) = service.job(job).await
        {
            files.insert(
                job,
                (found.source_path.display().to_string(), found.bytes_total),
            );
        }
        let name = files
            .get(&job)
            .map(|(name, _)| short_name(name))
            .unwrap_or_else(|| format!("job {job}"));
        match event {
            QueueEvent::Queued { .. } => {}
            QueueEvent::Started { attempt, total, .. } => match mode {
                Mode::Bars => {
                    let bar = multi
                        .insert_from_back(usize::from(overall.is_some()), ProgressBar::new(total));
                    bar.set_style(style("{prefix:>9} [{bar:30}] {bytes}/{total_bytes} {msg}"));
                    bar.set_prefix(if attempt > 1 {
                        format!("try {attempt}")
                    } else {
                        "sending".to_owned()
                    });
                    bar.set_message(name);
                    in_flight.insert(job, (bar, 0));
                }
                _ => eprintln!("upshot: uploading {name}{}", attempt_note(attempt)),
            },
            QueueEvent::Progress { sent, .. } => {
                if let Some((bar, seen)) = in_flight.get_mut(&job) {
                    bar.set_position(sent);
                    if let Some(overall) = &overall {
                        overall.inc(sent.saturating_sub(*seen));
                    }
                    *seen = sent;
                }
            }
            QueueEvent::Done { image, .. } => {
                finish_bar(
                    &mut in_flight,
                    job,
                    &overall,
                    true,
                    &mut done_bytes,
                    image.size,
                );
                if mode == Mode::Lines {
                    eprintln!("upshot: uploaded {name}: {}", image.link);
                }
            }
            QueueEvent::Waiting {
                reason,
                until,
                error,
                ..
            } => {
                finish_bar(&mut in_flight, job, &overall, false, &mut done_bytes, 0);
                let when = until
                    .map(|until| human_time::describe(UnixMillis(until), UnixMillis(now_millis())))
                    .unwrap_or_else(|| "until you act".to_owned());
                let why = error
                    .map(|error| format!(" after: {error}"))
                    .unwrap_or_default();
                let line = format!("upshot: {name} waits ({}) {when}{why}", reason.as_str());
                print_line(&multi, mode, &line);
            }
            QueueEvent::Failed { message, .. } => {
                finish_bar(&mut in_flight, job, &overall, false, &mut done_bytes, 0);
                print_line(&multi, mode, &format!("upshot: {name} failed: {message}"));
            }
            QueueEvent::Cancelled { .. } => {
                finish_bar(&mut in_flight, job, &overall, false, &mut done_bytes, 0);
                print_line(&multi, mode, &format!("upshot: {name} cancelled"));
            }
        }
    }
    for (bar, _) in in_flight.into_values() {
        bar.finish_and_clear();
    }
    if let Some(overall) = overall {
        overall.finish_and_clear();
    }
    let _ = multi.clear();
}

fn finish_bar(
    in_flight: &mut HashMap<JobId, (ProgressBar, u64)>,
    job: JobId,
    overall: &Option<ProgressBar>,
    done: bool,
    done_bytes: &mut u64,
    size: u64,
) {
    if let Some((bar, seen)) = in_flight.remove(&job) {
        if let Some(overall) = overall {
            if done {
                overall.inc(size.saturating_sub(seen));
                *done_bytes += size;
            } else {
                overall.set_position(overall.position().saturating_sub(seen));
            }
        }
        bar.finish_and_clear();
    }
}

fn print_line(multi: &MultiProgress, mode: Mode, line: &str) {
    match mode {
        Mode::Bars => {
            let _ = multi.println(line);
        }
        _ => eprintln!("{line}"),
    }
}

fn event_job(event: &QueueEvent) -> JobId {
    match event {
        QueueEvent::Queued { job }
        | QueueEvent::Started { job, .. }
        | QueueEvent::Progress { job, .. }
        | QueueEvent::Waiting { job, .. }
        | QueueEvent::Done { job, .. }
        | QueueEvent::Failed { job, .. }
        | QueueEvent::Cancelled { job } => *job,
    }
}

fn attempt_note(attempt: u32) -> String {
    if attempt > 1 {
        format!(" (attempt {attempt})")
    } else {
        String::new()
    }
}

fn short_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_owned())
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// The wall clock in ms, for "in 12 min" texts.
pub fn now_millis() -> i64 {
    UnixMillis::from_system_time(std::time::SystemTime::now()).as_millis()
}
