//! The watcher: one task that owns every folder's file-system watch, the deadlines of files
//! settling, catch-up scans, faults and their recovery, and the after-upload actions.
//!
//! Events from the operating system (notify) arrive on a bounded channel. When it is full the
//! folder is marked overflowed and rescanned rather than blocking notify's thread: the kernel's
//! own overflow (inotify's `IN_Q_OVERFLOW`, notify's `Rescan` flag) is handled the same way, so
//! a burst never loses a file. Work on the disk and in the database happens on blocking
//! threads, in batches.

//!
//! The engine is one task, split by job: [`folders`] (a folder's lifecycle: attach, watch,
//! fault, retry, scan), [`inbound`] (notify's events and the follow-up they ask for),
//! [`admission`] (due files through the one planner into the queue, via the service) and
//! [`after_upload`] (the actions once an upload is confirmed). [`Watcher`](super::Watcher) is its
//! handle.

mod admission;
mod after_upload;
mod folders;
mod inbound;

use super::events::{FolderStatus, WatchEvent};
use super::options::{FolderSource, WatchOptions};

use super::config::{WatchList, WatchedFolder};
use super::error::WatchError;
use super::patterns::FolderFilter;
use super::settle::Settler;
use crate::events::QueueEvent;
use crate::service::UploadService;
use notify::RecommendedWatcher;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

/// What the handle asks of the engine.
pub(super) enum Command {
    Stop,
    Rescan,
}

/// What reaches the engine from notify's threads.
pub(super) enum Inbound {
    Fs {
        slot: u64,
        event: notify::Result<notify::Event>,
    },
    ListChanged,
}

struct FolderRuntime {
    config: WatchedFolder,
    filter: Option<Arc<FolderFilter>>,
    watch: Option<RecommendedWatcher>,
    fault: Option<String>,
    retry_at: Option<Instant>,
    warnings: Vec<String>,
    overflowed: Arc<AtomicBool>,
}

struct Engine {
    service: UploadService,
    source: FolderSource,
    settle: Duration,
    options: WatchOptions,
    folders: HashMap<u64, FolderRuntime>,
    next_slot: u64,
    settler: Settler,
    inbound_tx: mpsc::Sender<Inbound>,
    pending_renames: Vec<(u64, PathBuf, PathBuf)>,
    rescans: BTreeSet<u64>,
    root_checks: BTreeSet<u64>,
    /// When to confirm again the stand-ins that could not be confirmed.
    confirm_at: Option<Instant>,
    events: broadcast::Sender<WatchEvent>,
    status: Arc<Mutex<Vec<FolderStatus>>>,
    _list_watch: Option<RecommendedWatcher>,
}

/// Starts the engine's task for `source`'s folders (see [`Watcher::start`](super::Watcher::start)).
#[allow(clippy::too_many_arguments)]
pub(super) fn spawn(
    service: &UploadService,
    source: FolderSource,
    list: WatchList,
    list_watch: Option<RecommendedWatcher>,
    options: WatchOptions,
    inbound_tx: mpsc::Sender<Inbound>,
    command_rx: mpsc::UnboundedReceiver<Command>,
    inbound_rx: mpsc::Receiver<Inbound>,
    events: broadcast::Sender<WatchEvent>,
    status: Arc<Mutex<Vec<FolderStatus>>>,
) -> tokio::task::JoinHandle<()> {
    let engine = Engine {
        service: service.clone(),
        source,
        settle: list.settle(),
        options,
        folders: HashMap::new(),
        next_slot: 0,
        settler: Settler::new(),
        inbound_tx,
        pending_renames: Vec::new(),
        rescans: BTreeSet::new(),
        root_checks: BTreeSet::new(),
        confirm_at: None,
        events: events.clone(),
        status: status.clone(),
        _list_watch: list_watch,
    };
    tokio::spawn(engine.run(list, command_rx, inbound_rx))
}

impl Engine {
    async fn run(
        mut self,
        list: WatchList,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut inbound: mpsc::Receiver<Inbound>,
    ) {
        let mut runner_events = self.service.subscribe();
        for folder in list.folders {
            self.attach(folder).await;
        }
        self.publish_status();
        self.carry_out_actions(None).await;
        let mut runner_open = true;
        loop {
            let next_due = self.settler.next_due();
            let next_retry = self
                .folders
                .values()
                .filter_map(|folder| folder.retry_at)
                .min();
            let confirm_at = self.confirm_at;
            tokio::select! {
                command = commands.recv() => match command {
                    None | Some(Command::Stop) => break,
                    Some(Command::Rescan) => {
                        self.rescans.extend(self.folders.keys().copied());
                        self.follow_up().await;
                    }
                },
                Some(message) = inbound.recv() => {
                    self.on_inbound(message).await;
                    // Take whatever else is waiting before doing the slow work once.
                    let mut drained = 0;
                    while drained < 4_096 {
                        match inbound.try_recv() {
                            Ok(message) => self.on_inbound(message).await,
                            Err(_) => break,
                        }
                        drained += 1;
                    }
                    self.follow_up().await;
                }
                _ = sleep_until(next_due), if next_due.is_some() => self.process_due().await,
                _ = sleep_until(next_retry), if next_retry.is_some() => self.retry_faults().await,
                _ = sleep_until(confirm_at), if confirm_at.is_some() => {
                    self.confirm_at = None;
                    self.carry_out_actions(None).await;
                }
                event = runner_events.recv(), if runner_open => match event {
                    Ok(QueueEvent::Done { job, .. }) => self.carry_out_actions(Some(job)).await,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => self.carry_out_actions(None).await,
                    Err(broadcast::error::RecvError::Closed) => runner_open = false,
                },
            }
        }
    }
    fn emit(&self, event: WatchEvent) {
        let _ = self.events.send(event);
    }
    fn now_millis(&self) -> i64 {
        self.service.now_millis()
    }
    fn publish_status(&self) {
        let mut status: Vec<FolderStatus> = self
            .folders
            .values()
            .map(|folder| FolderStatus {
                id: folder.config.id.clone(),
                path: folder.config.path.clone(),
                state: if !folder.config.enabled {
                    "paused"
                } else if folder.fault.is_some() {
                    "fault"
                } else {
                    "watching"
                },
                message: folder.fault.clone(),
                warnings: folder.warnings.clone(),
            })
            .collect();
        status.sort_by(|a, b| a.path.cmp(&b.path));
        if let Ok(mut shared) = self.status.lock() {
            *shared = status;
        }
    }
    fn retry_everything_later(&mut self) {
        let slots: Vec<u64> = self.folders.keys().copied().collect();
        for slot in slots {
            if let Some(folder) = self.folders.get_mut(&slot)
                && folder.watch.is_some()
            {
                folder.retry_at = Some(Instant::now() + self.options.fault_retry);
                folder.watch = None;
            }
            self.settler.forget_folder(slot);
        }
    }
    /// The saved list changed (any process): follow it.
    async fn reload(&mut self) {
        let FolderSource::Saved(file) = &self.source else {
            return;
        };
        let list = match WatchList::load(file) {
            Ok(list) => list,
            Err(error) => {
                tracing::warn!("keeping the current folders: {error}");
                return;
            }
        };
        self.settle = list.settle();
        let unchanged: Vec<u64> = self
            .folders
            .iter()
            .filter(|(_, folder)| list.folders.contains(&folder.config))
            .map(|(slot, _)| *slot)
            .collect();
        let gone: Vec<u64> = self
            .folders
            .keys()
            .filter(|slot| !unchanged.contains(slot))
            .copied()
            .collect();
        for slot in gone {
            self.detach(slot);
        }
        for folder in list.folders {
            let known = self
                .folders
                .values()
                .any(|runtime| runtime.config == folder);
            if !known {
                self.attach(folder).await;
            }
        }
        self.publish_status();
    }
}

fn flatten(result: Result<Result<(), WatchError>, impl std::fmt::Display>) -> Option<String> {
    match result {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(error) => Some(error.to_string()),
    }
}

async fn sleep_until(deadline: Option<impl Into<Instant>>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
