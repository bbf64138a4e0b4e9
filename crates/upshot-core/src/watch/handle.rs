//! The handle on a running watcher ([`Watcher`]): start, subscribe, status, rescan, stop. The
//! work itself is the [`engine`](super::engine)'s.

use super::config::WatchList;
use super::engine::{Command, Inbound};
use super::error::WatchError;
use super::events::{FolderStatus, FolderView, WatchEvent};
use super::options::{FolderSource, WatchOptions};
use crate::service::UploadService;
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};

/// A running watcher. Dropping it without [`stop`](Self::stop) stops it too.
#[derive(Debug)]
pub struct Watcher {
    commands: mpsc::UnboundedSender<Command>,
    events: broadcast::Sender<WatchEvent>,
    status: Arc<Mutex<Vec<FolderStatus>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    /// Starts watching `source`'s folders, queueing through `service`. Each folder's catch-up
    /// scan runs at once; its findings are queued once they are complete. A saved list that
    /// cannot be read is set aside and the start goes on with none; the service's
    /// [`startup_notices`](UploadService::startup_notices) tell the user.
    pub fn start(
        service: &UploadService,
        source: FolderSource,
        options: WatchOptions,
    ) -> Result<Self, WatchError> {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (inbound_tx, inbound_rx) = mpsc::channel(options.event_capacity.max(1));
        let (events, _) = broadcast::channel(16_384);
        let status = Arc::new(Mutex::new(Vec::new()));
        let (list, list_watch) = match &source {
            FolderSource::Saved(file) => {
                let (list, notice) = WatchList::load_or_set_aside(file)?;
                if let Some(notice) = notice {
                    service.note_startup(notice);
                }
                (list, Some(watch_list_file(file, inbound_tx.clone())?))
            }
            FolderSource::Given { folders, settle } => (
                WatchList {
                    settle_ms: u64::try_from(settle.as_millis()).unwrap_or(u64::MAX),
                    folders: folders.clone(),
                },
                None,
            ),
        };
        let task = super::engine::spawn(
            service,
            source,
            list,
            list_watch,
            options,
            inbound_tx,
            command_rx,
            inbound_rx,
            events.clone(),
            status.clone(),
        );
        Ok(Self {
            commands,
            events,
            status,
            task,
        })
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<WatchEvent> {
        self.events.subscribe()
    }

    /// Every folder's state now.
    pub fn status(&self) -> Vec<FolderStatus> {
        self.status
            .lock()
            .map(|status| status.clone())
            .unwrap_or_default()
    }

    /// The saved `list` with each folder's live state.
    pub fn views(&self, list: WatchList) -> Vec<FolderView> {
        let status = self.status();
        list.folders
            .into_iter()
            .map(|folder| {
                let live = status.iter().find(|s| s.path == folder.path);
                FolderView {
                    state: live.map_or("starting", |s| s.state).to_owned(),
                    message: live.and_then(|s| s.message.clone()),
                    warnings: live.map(|s| s.warnings.clone()).unwrap_or_default(),
                    folder,
                }
            })
            .collect()
    }

    /// Scans every folder again (as after an overflow).
    pub fn rescan(&self) {
        let _ = self.commands.send(Command::Rescan);
    }

    /// Stops watching; files not yet complete are found again by the next start's scan.
    pub async fn stop(self) {
        let _ = self.commands.send(Command::Stop);
        let _ = self.task.await;
    }
}

/// Watches the directory holding `watch.json` so edits by any process reach the watcher.
fn watch_list_file(
    file: &Path,
    inbound: mpsc::Sender<Inbound>,
) -> Result<RecommendedWatcher, WatchError> {
    let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|error| WatchError::io("create", &dir, error))?;
    let name = file.file_name().map(|name| name.to_os_string());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let ours = match &event {
            Ok(event) => event
                .paths
                .iter()
                .any(|path| path.file_name().map(|n| n.to_os_string()) == name),
            Err(_) => false,
        };
        if ours {
            let _ = inbound.try_send(Inbound::ListChanged);
        }
    })
    .map_err(|error| WatchError::Internal(error.to_string()))?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|error| WatchError::Internal(error.to_string()))?;
    Ok(watcher)
}
