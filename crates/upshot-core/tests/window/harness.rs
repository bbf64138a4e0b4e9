//! A window session over a service in a temporary folder and the fake server it talks to,
//! with every event the window received so far.

use crate::common;
use fake_imgur::{Limits, RunningServer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use upshot_core::UploadService;
use upshot_core::clock::{Clock, SystemClock};
use upshot_core::runner::{RunnerConfig, StaticCredentials, StopWhen};
use upshot_core::types::Origin;
use upshot_core::window::{
    BatchQueued, BatchReport, DropOutcome, HistoryItem, QueueItem, WindowEvent, WindowSession,
};

pub const CLIENT_ID: &str = "window-test";

/// How long any one event may take to come (a hang guard, not a timing assertion).
pub const EVENT_WAIT: Duration = Duration::from_secs(30);

/// A window session over a service in a temporary folder, with the fake server it talks to and
/// every event the window received so far.
pub struct Window {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
    pub service: UploadService,
    pub session: WindowSession,
    pub events: mpsc::UnboundedReceiver<WindowEvent>,
    pub seen: Vec<WindowEvent>,
    pub workers: Option<common::StopOnDrop>,
}

/// Opens a window on a fresh server with `limits`; its workers run when `workers` is true.
pub async fn window(clock: Arc<dyn Clock>, limits: Limits, workers: bool) -> Window {
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
    let settings = settings_file(dir.path());
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

fn settings_file(dir: &Path) -> PathBuf {
    dir.join("config").join("settings.json")
}

pub async fn system_window(workers: bool) -> Window {
    window(Arc::new(SystemClock), common::generous_limits(), workers).await
}

impl Window {
    pub fn start_workers(&mut self) {
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let service = self.service.clone();
        tokio::spawn(async move { service.run_workers(StopWhen::Never, shutdown).await });
        self.workers = Some(common::StopOnDrop(stop));
    }

    /// The settings file the session reads the link format from (absent until a test writes it).
    pub fn settings_file(&self) -> PathBuf {
        settings_file(self.dir.path())
    }

    pub fn files(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    /// Writes a real PNG among the test's files.
    pub fn png(&self, name: &str, width: u32, height: u32, seed: u8) -> PathBuf {
        common::write_png(&self.files(), name, width, height, seed)
    }

    /// Drops `paths` on the window (not confirmed) and expects them queued as one batch.
    pub async fn drop_files(&self, paths: &[&Path]) -> BatchQueued {
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
    pub async fn wait_for(
        &mut self,
        what: &str,
        wanted: impl Fn(&WindowEvent) -> bool,
    ) -> WindowEvent {
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
    pub async fn batch_ended(&mut self) -> BatchReport {
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
    pub async fn settle(&mut self, quiet: Duration) {
        while let Ok(Some(event)) = tokio::time::timeout(quiet, self.events.recv()).await {
            self.seen.push(event);
        }
    }

    /// The last item the window was told for `job`.
    pub fn last_told(&self, job: &str) -> Option<&QueueItem> {
        self.seen
            .iter()
            .filter_map(|event| match event {
                WindowEvent::QueueChanged(items) => Some(items),
                _ => None,
            })
            .flatten()
            .rfind(|told| told.job == job)
    }

    /// How many things the events of this name told: the items of a list event (a burst
    /// carries several), one for the others.
    pub fn count(&self, name: &str) -> usize {
        self.seen
            .iter()
            .filter(|event| event.name() == name)
            .map(|event| match event {
                WindowEvent::QueueChanged(items) => items.len(),
                WindowEvent::UploadProgress(updates) => updates.len(),
                WindowEvent::HistoryAdded(items) => items.len(),
                _ => 1,
            })
            .sum()
    }

    pub async fn history(&self, query: &str) -> Vec<HistoryItem> {
        self.session
            .history_list(query.to_owned(), 100)
            .await
            .unwrap()
    }

    /// The direct link of the history entry uploaded from the file `name`.
    pub async fn link_of(&self, name: &str) -> String {
        let history = self.history("").await;
        history
            .iter()
            .find(|item| item.name == name)
            .unwrap_or_else(|| panic!("no history entry for {name}: {history:?}"))
            .link
            .clone()
    }

    pub async fn queue_item(&self, name: &str) -> QueueItem {
        let queue = self.session.queue_list().await.unwrap();
        queue
            .iter()
            .find(|item| item.name == name)
            .unwrap_or_else(|| panic!("{name} is not in the queue view: {queue:?}"))
            .clone()
    }

    /// Imgur ids the fake server holds (deleted ones too), with whether each was deleted.
    pub fn server_uploads(&self) -> Vec<(String, bool)> {
        let state = self.server.controls().state();
        state
            .uploads
            .into_iter()
            .map(|upload| (upload.id, upload.deleted))
            .collect()
    }
}

/// The Imgur id in a direct link (`https://…/AbCdEf1.png`).
pub fn imgur_id(link: &str) -> &str {
    let file = link.rsplit('/').next().unwrap();
    file.split('.').next().unwrap()
}
