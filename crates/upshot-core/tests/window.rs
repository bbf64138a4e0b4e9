//! The desktop window's face of the core ([`WindowSession`]) against the fake Imgur server over
//! loopback HTTP, with a real SQLite data folder and real files: a drop's batch reports once
//! with its links in drop order, refused files are named, a file uploaded before is not sent
//! again, large folders are asked about, a file that waits for the budget gets its link later,
//! the queue's commands refuse what they must with words, the history is searched, deleted and
//! exported, the budget and thumbnails reach the window.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use fake_imgur::{Limits, RunningServer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use upshot_core::UploadService;
use upshot_core::clock::{Clock, SystemClock};
use upshot_core::error::ErrorCode;
use upshot_core::runner::{RunnerConfig, StaticCredentials, StopWhen};
use upshot_core::types::{Origin, UnixMillis};
use upshot_core::window::{
    BatchQueued, BatchReport, DropOutcome, HistoryItem, ItemState, QueueItem, WindowEvent,
    WindowSession,
};

const CLIENT_ID: &str = "window-test";

/// How long any one event may take to come (a hang guard, not a timing assertion).
const EVENT_WAIT: Duration = Duration::from_secs(30);

/// A window session over a service in a temporary folder, with the fake server it talks to and
/// every event the window received so far.
struct Window {
    server: RunningServer,
    dir: tempfile::TempDir,
    service: UploadService,
    session: WindowSession,
    events: mpsc::UnboundedReceiver<WindowEvent>,
    seen: Vec<WindowEvent>,
    workers: Option<common::StopOnDrop>,
}

/// Opens a window on a fresh server with `limits`; its workers run when `workers` is true.
async fn window(clock: Arc<dyn Clock>, limits: Limits, workers: bool) -> Window {
    let server = common::fake_server(CLIENT_ID, "window-secret", |config| {
        config.limits = limits;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("files")).unwrap();
    let service = UploadService::open_with(
        &common::app_paths(dir.path()),
        common::base_url(&server),
        CLIENT_ID,
        RunnerConfig {
            workers: 2,
            backoff_base: Duration::from_millis(50),
            ..RunnerConfig::default()
        },
        clock,
        Arc::new(StaticCredentials::default()),
    )
    .unwrap();
    let settings = dir.path().join("config").join("settings.json");
    let (session, events) = WindowSession::start(service.clone(), settings);
    let mut window = Window {
        server,
        dir,
        service,
        session,
        events,
        seen: Vec::new(),
        workers: None,
    };
    if workers {
        window.start_workers();
    }
    window
}

async fn system_window(workers: bool) -> Window {
    window(Arc::new(SystemClock), common::generous_limits(), workers).await
}

impl Window {
    fn start_workers(&mut self) {
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let service = self.service.clone();
        tokio::spawn(async move { service.run_workers(StopWhen::Never, shutdown).await });
        self.workers = Some(common::StopOnDrop(stop));
    }

    fn files(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    /// Writes a real PNG among the test's files.
    fn png(&self, name: &str, width: u32, height: u32, seed: u8) -> PathBuf {
        common::write_png(&self.files(), name, width, height, seed)
    }

    /// Drops `paths` on the window (not confirmed) and expects them queued as one batch.
    async fn drop_files(&self, paths: &[&Path]) -> BatchQueued {
        let paths = paths.iter().map(|path| path.to_path_buf()).collect();
        match self
            .session
            .upload_paths(paths, Origin::Drop, false)
            .await
            .unwrap()
        {
            DropOutcome::Queued(queued) => queued,
            other => panic!("expected the drop queued as a batch, got {other:?}"),
        }
    }

    /// The next event `wanted` accepts (every event received is kept in `seen`); panics naming
    /// `what` and the events seen when none comes within [`EVENT_WAIT`].
    async fn wait_for(&mut self, what: &str, wanted: impl Fn(&WindowEvent) -> bool) -> WindowEvent {
        let deadline = tokio::time::Instant::now() + EVENT_WAIT;
        loop {
            let received = tokio::time::timeout_at(deadline, self.events.recv()).await;
            let names: Vec<&str> = self.seen.iter().map(WindowEvent::name).collect();
            let event = received
                .unwrap_or_else(|_| {
                    panic!("no {what} within {EVENT_WAIT:?}; the window got only {names:?}")
                })
                .unwrap_or_else(|| panic!("the window's events stopped before {what}"));
            self.seen.push(event.clone());
            if wanted(&event) {
                return event;
            }
        }
    }

    /// The next batch report.
    async fn batch_ended(&mut self) -> BatchReport {
        match self
            .wait_for("a batch-ended event", |event| {
                matches!(event, WindowEvent::BatchEnded(_))
            })
            .await
        {
            WindowEvent::BatchEnded(report) => report,
            _ => unreachable!(),
        }
    }

    /// Keeps every event that comes within `quiet` of the last one (for counting them).
    async fn settle(&mut self, quiet: Duration) {
        while let Ok(Some(event)) = tokio::time::timeout(quiet, self.events.recv()).await {
            self.seen.push(event);
        }
    }

    fn count(&self, name: &str) -> usize {
        self.seen
            .iter()
            .filter(|event| event.name() == name)
            .count()
    }

    async fn history(&self, query: &str) -> Vec<HistoryItem> {
        self.session
            .history_list(query.to_owned(), 100)
            .await
            .unwrap()
    }

    /// The direct link of the history entry uploaded from the file `name`.
    async fn link_of(&self, name: &str) -> String {
        let history = self.history("").await;
        history
            .iter()
            .find(|item| item.name == name)
            .unwrap_or_else(|| panic!("no history entry for {name}: {history:?}"))
            .link
            .clone()
    }

    async fn queue_item(&self, name: &str) -> QueueItem {
        let queue = self.session.queue_list().await.unwrap();
        queue
            .iter()
            .find(|item| item.name == name)
            .unwrap_or_else(|| panic!("{name} is not in the queue view: {queue:?}"))
            .clone()
    }

    /// Imgur ids the fake server holds (deleted ones too), with whether each was deleted.
    fn server_uploads(&self) -> Vec<(String, bool)> {
        let state = self.server.controls().state();
        state
            .uploads
            .into_iter()
            .map(|upload| (upload.id, upload.deleted))
            .collect()
    }
}

/// The Imgur id in a direct link (`https://…/AbCdEf1.png`).
fn imgur_id(link: &str) -> &str {
    let file = link.rsplit('/').next().unwrap();
    file.split('.').next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_of_three_pngs_reports_once_with_their_links_in_drop_order() {
    let mut window = system_window(true).await;
    // The first file is large (4 MB), so it ends last with two workers: the order of the
    // links is the drop's, not the uploads'.
    let large = window.png("large.png", 2000, 2000, 1);
    let second = window.png("second.png", 40, 30, 2);
    let third = window.png("third.png", 50, 20, 3);
    let mut raw = window.service.subscribe();
    let dropped = Instant::now();
    let queued = window.drop_files(&[&large, &second, &third]).await;
    assert_eq!(queued.queued, 3);
    assert!(queued.rejected.is_empty(), "{:?}", queued.rejected);

    let report = window.batch_ended().await;
    let elapsed = dropped.elapsed();
    let mut links = Vec::new();
    for name in ["large.png", "second.png", "third.png"] {
        links.push(window.link_of(name).await);
    }
    assert_eq!(report.links, links.join("\n"));
    assert_eq!(report.batch, queued.batch);
    assert_eq!(report.uploaded, 3);
    assert_eq!(report.title, "3 uploaded, links copied");
    assert!(
        report.failed.is_empty() && report.waiting.is_empty(),
        "{report:?}"
    );

    // The server got each file once.
    let uploads = window.server_uploads();
    assert_eq!(uploads.len(), 3, "{uploads:?}");
    for link in &links {
        let id = imgur_id(link);
        assert_eq!(
            uploads.iter().filter(|(held, _)| held == id).count(),
            1,
            "{link} among {uploads:?}"
        );
    }

    window.settle(Duration::from_millis(300)).await;
    assert_eq!(window.count("batch-ended"), 1, "one report a batch");
    assert_eq!(window.count("history-added"), 3);
    let queue = window.session.queue_list().await.unwrap();
    assert_eq!(queue.len(), 3, "{queue:?}");
    for (item, link) in queue.iter().zip(&links) {
        assert_eq!(item.state, ItemState::Done, "{item:?}");
        assert_eq!(item.link.as_ref(), Some(link), "{item:?}");
        assert_eq!(item.batch.as_ref(), Some(&queued.batch));
    }

    // Progress of the large file: the runner reports every 64 KiB (~60 times); the window
    // gets at most one update every 100 ms, plus the first and the last.
    let large_job = window.queue_item("large.png").await.job;
    let shown = window
        .seen
        .iter()
        .filter(|event| matches!(event, WindowEvent::UploadProgress(p) if p.job == large_job))
        .count();
    let mut reported = 0;
    while let Ok(event) = raw.try_recv() {
        if let upshot_core::events::QueueEvent::Progress { job, .. } = event {
            reported += usize::from(job.to_string() == large_job);
        }
    }
    let allowed = usize::try_from(elapsed.as_millis() / 100).unwrap() + 3;
    assert!(shown >= 1, "no progress shown for the large file");
    assert!(
        shown <= allowed,
        "{shown} progress updates in {elapsed:?} (the runner reported {reported}): more than \
         one every 100 ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_file_is_named_in_the_answer_and_the_report() {
    let mut window = system_window(true).await;
    let good = window.png("good.png", 30, 30, 9);
    let notes = window.files().join("notes.txt");
    std::fs::write(&notes, "not a picture at all").unwrap();
    let queued = window.drop_files(&[&notes, &good]).await;
    assert_eq!(queued.queued, 1);
    assert_eq!(queued.rejected.len(), 1, "{:?}", queued.rejected);
    let rejected = &queued.rejected[0];
    assert!(rejected.path.ends_with("notes.txt"), "{rejected:?}");
    assert!(rejected.message.len() > 10, "says why: {rejected:?}");

    let report = window.batch_ended().await;
    assert_eq!(report.title, "1 uploaded, link copied · 1 failed");
    assert_eq!(report.links, window.link_of("good.png").await);
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].name, "notes.txt");
    assert!(
        report
            .body
            .contains(&format!("notes.txt: {}", rejected.message)),
        "the body names the file and why: {:?}",
        report.body
    );
    assert_eq!(window.server_uploads().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_dropped_again_reports_at_once_with_its_link_and_is_not_sent_again() {
    let mut window = system_window(true).await;
    let photo = window.png("photo.png", 64, 48, 5);
    window.drop_files(&[&photo]).await;
    let first = window.batch_ended().await;
    assert_eq!(first.uploaded, 1);

    let again = window.drop_files(&[&photo]).await;
    assert!(again.rejected.is_empty(), "{:?}", again.rejected);
    // Reported while the drop was answered: the event is already there.
    let report = match window.events.try_recv() {
        Ok(WindowEvent::BatchEnded(report)) => report,
        other => panic!("expected the second batch reported at once, got {other:?}"),
    };
    assert_eq!(report.batch, again.batch);
    assert_eq!(report.links, first.links);
    assert_eq!(report.title, "1 uploaded, link copied");
    assert_eq!(window.server_uploads().len(), 1, "sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_more_than_a_hundred_files_is_asked_about_first() {
    let window = system_window(false).await;
    let folder = window.files().join("album");
    std::fs::create_dir_all(folder.join("nested")).unwrap();
    for index in 0..101u32 {
        let sub = if index % 2 == 0 { "" } else { "nested" };
        let (width, height) = (8 + index % 16, 8 + index / 16);
        common::write_png(
            &folder.join(sub),
            &format!("{index:03}.png"),
            width,
            height,
            u8::try_from(index).unwrap(),
        );
    }
    std::fs::write(folder.join("readme.txt"), "skipped, not refused").unwrap();

    let asked = window
        .session
        .upload_paths(vec![folder.clone()], Origin::Drop, false)
        .await
        .unwrap();
    assert_eq!(asked, DropOutcome::Confirm { files: 101 });
    assert!(window.session.queue_list().await.unwrap().is_empty());

    let confirmed = window
        .session
        .upload_paths(vec![folder], Origin::Drop, true)
        .await
        .unwrap();
    let DropOutcome::Queued(queued) = confirmed else {
        panic!("expected the confirmed drop queued, got {confirmed:?}");
    };
    assert_eq!(queued.queued, 101);
    assert!(queued.rejected.is_empty(), "the text file is skipped");
    assert_eq!(window.session.queue_list().await.unwrap().len(), 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_waits_for_the_budget_gets_its_link_after_the_reset() {
    let clock = common::manual_clock_now();
    let limits = Limits {
        client_credits_per_day: 1000,
        ..common::generous_limits()
    };
    let mut window = window(clock.clone(), limits, false).await;
    // Another install spent the day down to 65 credits: above the reserve (50), one upload.
    assert_eq!(
        window
            .server
            .controls()
            .spend_client_credits(CLIENT_ID, 935),
        Some(true)
    );
    window.service.server_credits().await.unwrap();
    assert_eq!(window.session.quota().await.unwrap().uploads_left, Some(1));

    let first = window.png("first.png", 20, 20, 1);
    let second = window.png("second.png", 21, 20, 2);
    window.start_workers();
    window.drop_files(&[&first, &second]).await;
    let report = window.batch_ended().await;
    assert_eq!(report.uploaded, 1, "{report:?}");
    assert_eq!(report.title, "1 uploaded, link copied · 1 file waiting");
    assert_eq!(report.waiting.len(), 1, "{report:?}");
    let waiting = report.waiting[0].clone();
    let done = if waiting.name == "first.png" {
        "second.png"
    } else {
        "first.png"
    };
    assert_eq!(report.links, window.link_of(done).await);
    let until = waiting.until.expect("the waiting file says until when");
    assert!(until > clock.now().as_millis(), "{waiting:?}");
    assert!(
        report
            .body
            .contains("Each link is copied when it is uploaded"),
        "{}",
        report.body
    );
    assert_eq!(window.server_uploads().len(), 1);

    // The day ends for Imgur and for Upshot.
    let server_now = UnixMillis::from_system_time(window.server.controls().now()).as_millis();
    let past_reset = until + 60_000;
    window
        .server
        .controls()
        .advance_clock(Duration::from_millis(
            u64::try_from(past_reset - server_now).unwrap_or(0),
        ));
    clock.set(UnixMillis(past_reset));
    let late = match window
        .wait_for("the waiting file's late link", |event| {
            matches!(event, WindowEvent::LateLink(_))
        })
        .await
    {
        WindowEvent::LateLink(late) => late,
        _ => unreachable!(),
    };
    assert_eq!(late.batch, report.batch);
    assert_eq!(late.name, waiting.name);
    assert_eq!(late.link, window.link_of(&waiting.name).await);
    assert_eq!(window.server_uploads().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_jobs_are_cancelled_before_removal_and_retried_on_demand() {
    let mut window = system_window(false).await;
    let photo = window.png("photo.png", 33, 22, 4);
    window.drop_files(&[&photo]).await;
    let item = window.queue_item("photo.png").await;
    assert_eq!(
        item.state,
        ItemState::Queued,
        "waits only its turn: {item:?}"
    );
    let job = item.job;
    window.service.pause().await.unwrap();
    let paused = window.queue_item("photo.png").await;
    assert_eq!(paused.state, ItemState::Waiting, "{paused:?}");
    assert_eq!(paused.wait.unwrap().reason, "paused");
    window.service.resume().await.unwrap();

    let refused = window.session.remove(&job).await.unwrap_err();
    assert!(
        refused.to_string().contains("photo.png")
            && refused.to_string().contains("cancel it first"),
        "{refused}"
    );
    assert_eq!(window.session.queue_list().await.unwrap().len(), 1);

    window.session.cancel(&job).await.unwrap();
    let cancelled = window
        .wait_for("the cancelled item", |event| {
            matches!(event, WindowEvent::QueueChanged(item)
                if item.job == job && item.state == ItemState::Cancelled)
        })
        .await;
    assert!(matches!(cancelled, WindowEvent::QueueChanged(_)));
    let report = window.batch_ended().await;
    assert_eq!(report.title, "1 cancelled");

    // A cancelled job is queued again and uploaded.
    window.session.retry(&job).await.unwrap();
    assert_eq!(
        window.queue_item("photo.png").await.state,
        ItemState::Queued
    );
    let id = upshot_core::types::JobId(job.parse().unwrap());
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    window
        .service
        .run_workers(StopWhen::Finished(vec![id]), shutdown)
        .await
        .unwrap();
    let item = window.queue_item("photo.png").await;
    assert_eq!(item.state, ItemState::Done);
    assert_eq!(item.link, Some(window.link_of("photo.png").await));

    // An ended job leaves the list, and the window is told.
    window.session.remove(&job).await.unwrap();
    window
        .wait_for(
            "the queue-removed event",
            |event| matches!(event, WindowEvent::QueueRemoved(removed) if removed.job == job),
        )
        .await;
    assert!(window.session.queue_list().await.unwrap().is_empty());
    assert_eq!(window.history("").await.len(), 1, "its history stays");

    for bad in ["424242", "not-a-job"] {
        let error = window.session.remove(bad).await.unwrap_err();
        assert_eq!(error.code(), "not_found");
        assert!(error.to_string().contains(bad), "{error}");
        let error = window.session.cancel(bad).await.unwrap_err();
        assert_eq!(error.code(), "not_found", "{error}");
        let error = window.session.retry(bad).await.unwrap_err();
        assert_eq!(error.code(), "not_found", "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_searched_deleted_and_exported() {
    let mut window = system_window(true).await;
    let beach = window.png("sunset-beach.png", 40, 40, 11);
    let city = window.png("city.png", 41, 40, 12);
    window.drop_files(&[&beach, &city]).await;
    assert_eq!(window.batch_ended().await.uploaded, 2);

    assert_eq!(window.history("").await.len(), 2);
    let found = window.history("sunset").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, "sunset-beach.png");
    let city_link = window.link_of("city.png").await;
    let by_link = window.history(imgur_id(&city_link)).await;
    assert_eq!(by_link.len(), 1, "{by_link:?}");
    assert_eq!(by_link[0].name, "city.png");
    assert!(
        by_link[0]
            .links
            .iter()
            .any(|link| link.format == "markdown" && link.text.contains(&city_link)),
        "{:?}",
        by_link[0].links
    );

    let deleted = window
        .session
        .history_delete(vec![by_link[0].id.clone()])
        .await
        .unwrap();
    assert_eq!(deleted, vec![by_link[0].id.clone()]);
    let reloaded = window.history("").await;
    for item in &reloaded {
        assert_eq!(item.deleted, item.name == "city.png", "{item:?}");
    }
    let uploads = window.server_uploads();
    assert!(
        uploads
            .iter()
            .any(|(id, gone)| id == imgur_id(&city_link) && *gone),
        "the server no longer has it: {uploads:?}"
    );
    assert_eq!(uploads.iter().filter(|(_, gone)| !gone).count(), 1);

    let beach_link = window.link_of("sunset-beach.png").await;
    for name in ["history.csv", "history.json"] {
        let path = window.dir.path().join(name);
        let written = window.session.history_export(path.clone()).await.unwrap();
        assert_eq!(written, 2, "{name}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(&beach_link) && text.contains(&city_link),
            "{name}: {text}"
        );
        if name.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|error| panic!("{name} is not JSON ({error}): {text}"));
        } else {
            assert!(text.lines().count() >= 3, "a header and two rows: {text}");
        }
    }
    let nowhere = window.dir.path().join("missing-folder").join("h.csv");
    let error = window.session.history_export(nowhere).await.unwrap_err();
    assert!(
        error.to_string().contains("Choose another place"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_shown_follows_the_governor_after_uploads() {
    // Imgur's own limits, which the governor assumes until it has seen a header.
    let mut window = window(Arc::new(SystemClock), Limits::default(), true).await;
    window.service.server_credits().await.unwrap();
    let before = window.session.quota().await.unwrap();
    let one = window.png("one.png", 30, 31, 21);
    let two = window.png("two.png", 31, 30, 22);
    window.drop_files(&[&one, &two]).await;
    assert_eq!(window.batch_ended().await.uploaded, 2);

    let after = window.session.quota().await.unwrap();
    let status = window.service.quota().await.unwrap();
    assert_eq!(after.uploads_left, Some(status.uploads_left_today));
    assert_eq!(after.credits_left, Some(status.credits_left_today));
    assert_eq!(after.reserve, status.reserve);
    assert_eq!(
        after.uploads_left.unwrap(),
        before.uploads_left.unwrap() - 2,
        "{before:?} then {after:?}"
    );
    assert!(
        after.credits_left.unwrap() <= before.credits_left.unwrap() - 20,
        "{before:?} then {after:?}"
    );
    assert_eq!(after.credits_limit, Some(12_500));
    // The meter is told (at most every 500 ms, so the last change comes after the uploads).
    window
        .wait_for("a quota-changed event with the budget after the uploads", |event| {
            matches!(event, WindowEvent::QuotaChanged(quota) if quota.uploads_left == after.uploads_left)
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_png_gets_a_thumbnail_made_by_the_core() {
    use base64::Engine;
    let mut window = system_window(false).await;
    let wide = window.png("wide.png", 400, 200, 31);
    window.drop_files(&[&wide]).await;
    let job = window.queue_item("wide.png").await.job;
    let event = window
        .wait_for("the item with its thumbnail", |event| {
            matches!(event, WindowEvent::QueueChanged(item)
                if item.job == job && item.thumbnail.is_some())
        })
        .await;
    let WindowEvent::QueueChanged(item) = event else {
        unreachable!()
    };
    let url = item.thumbnail.unwrap();
    let encoded = url
        .strip_prefix("data:image/png;base64,")
        .unwrap_or_else(|| panic!("not a PNG data URL: {url:.60}"));
    let png = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let thumbnail = image::load_from_memory(&png).unwrap();
    assert_eq!((thumbnail.width(), thumbnail.height()), (96, 48));
    // The list keeps it.
    assert_eq!(
        window.queue_item("wide.png").await.thumbnail.as_deref(),
        Some(url.as_str())
    );
}
