//! The watcher: one task that owns every folder's file-system watch, the deadlines of files
//! settling, catch-up scans, faults and their recovery, and the after-upload actions.
//!
//! Events from the operating system (notify) arrive on a bounded channel. When it is full the
//! folder is marked overflowed and rescanned rather than blocking notify's thread: the kernel's
//! own overflow (inotify's `IN_Q_OVERFLOW`, notify's `Rescan` flag) is handled the same way, so
//! a burst never loses a file. Work on the disk and in the database happens on blocking
//! threads, in batches.

use super::actions::{ActionTaken, carry_out};
use super::batch::{self, DueItem};
use super::config::{AfterUpload, WatchList, WatchedFolder};
use super::error::WatchError;
use super::patterns::FolderFilter;
use super::records::{Admission, REMOVED_REASON, Removal, WatchRecords};
use super::scan::scan;
use super::settle::Settler;
use super::stand_in;
use crate::queue::{JobId, NewJob, Origin};
use crate::service::{QueueEvent, UploadService};
use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

/// Where the folders come from.
#[derive(Debug, Clone)]
pub enum FolderSource {
    /// The saved list (`watch.json`); changes to it by any process are followed.
    Saved(PathBuf),
    /// These folders, for this run only (`upshot watch DIR...`), with this settle window.
    Given {
        /// The folders.
        folders: Vec<WatchedFolder>,
        /// The settle window.
        settle: Duration,
    },
}

/// Knobs, mostly for tests and the benchmark.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Events buffered between notify and the watcher before a folder counts as overflowed.
    pub event_capacity: usize,
    /// How often a folder at fault (missing, unreadable) is looked for again.
    pub fault_retry: Duration,
    /// Paths looked at per blocking trip.
    pub batch: usize,
    /// How soon a duplicate whose stand-in upload could not be confirmed on Imgur (no
    /// connection, the budget) is tried again.
    pub confirm_retry: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            event_capacity: 16_384,
            fault_retry: Duration::from_secs(2),
            batch: 1_024,
            confirm_retry: Duration::from_secs(60),
        }
    }
}

/// What the watcher tells its subscribers (the CLI's lines, the app's UI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WatchEvent {
    /// A folder is watched (at start, or back after a fault); its catch-up scan is done.
    Watching {
        /// The folder.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        folder: PathBuf,
        /// Files in it that the patterns take.
        files: usize,
        /// Of those, new or changed since last handed over (looked at next).
        new: usize,
    },
    /// A complete file was queued.
    Queued {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        path: PathBuf,
        /// Its job.
        job: JobId,
    },
    /// The file's content was uploaded or queued before: not sent again.
    Duplicate {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        path: PathBuf,
        /// The job with that content; `None` when it was uploaded by a job pruned since.
        job: Option<JobId>,
        /// Its link, when uploaded.
        link: Option<String>,
    },
    /// A file left the folder before its upload started: its job was cancelled.
    Cancelled {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        path: PathBuf,
        /// Its job.
        job: JobId,
        /// Why, as the job shows it.
        reason: String,
    },
    /// A file left the folder before upload, but a copy remains: the job sends the copy.
    Repointed {
        /// The file that left.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        path: PathBuf,
        /// The job.
        job: JobId,
        /// The copy it sends now.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        to: PathBuf,
    },
    /// The after-upload action was carried out.
    Moved {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        path: PathBuf,
        /// Where it is now.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        to: PathBuf,
    },
    /// The upload a duplicate stood in for is no longer on Imgur (deleted there, not through
    /// Upshot): the file is kept and uploaded again; its action follows that upload.
    Reuploading {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        path: PathBuf,
        /// The link that is gone.
        link: Option<String>,
    },
    /// The after-upload action deleted the file.
    Deleted {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        path: PathBuf,
    },
    /// A file was given up on for now.
    Skipped {
        /// The file.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Events came faster than they were taken (or the system dropped some): the folder is
    /// scanned again, so nothing is missed.
    Overflowed {
        /// The folder.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        folder: PathBuf,
    },
    /// A folder cannot be watched (missing, unreadable); it is looked for again.
    FolderFault {
        /// The folder.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        folder: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// Something below a folder is skipped (a symlink loop, an unreadable subfolder); the rest
    /// of the folder is watched.
    FolderWarning {
        /// The folder.
        #[serde(serialize_with = "crate::shown_path::lossy")]
        folder: PathBuf,
        /// What.
        message: String,
    },
}

/// A folder's state, for `upshot watch list` and the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FolderStatus {
    /// Its id.
    pub id: String,
    /// The folder.
    #[serde(serialize_with = "crate::shown_path::lossy")]
    pub path: PathBuf,
    /// `watching`, `paused` or `fault`.
    pub state: &'static str,
    /// The fault, in words.
    pub message: Option<String>,
    /// Problems below it.
    pub warnings: Vec<String>,
}

/// A saved folder with what a running watcher says of it now (the app's folder list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FolderView {
    /// The saved settings.
    #[serde(flatten)]
    pub folder: WatchedFolder,
    /// `watching`, `paused` or `fault`; `starting` until the watcher has taken it up.
    pub state: String,
    /// The fault, in words.
    pub message: Option<String>,
    /// Problems below it.
    pub warnings: Vec<String>,
}

enum Command {
    Stop,
    Rescan,
}

enum Inbound {
    Fs {
        slot: u64,
        event: notify::Result<notify::Event>,
    },
    ListChanged,
}

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
        let task = tokio::spawn(engine.run(list, command_rx, inbound_rx));
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

    /// Adds a folder: watched at once if enabled and reachable, else paused or at fault.
    async fn attach(&mut self, config: WatchedFolder) {
        let slot = self.next_slot;
        self.next_slot += 1;
        let (filter, fault) = match FolderFilter::new(&config) {
            Ok(filter) => (Some(Arc::new(filter)), None),
            Err(error) => (None, Some(error.to_string())),
        };
        if let Some(message) = &fault {
            self.emit(WatchEvent::FolderFault {
                folder: config.path.clone(),
                message: message.clone(),
            });
        }
        let enabled = config.enabled && filter.is_some();
        self.folders.insert(
            slot,
            FolderRuntime {
                config,
                filter,
                watch: None,
                fault,
                retry_at: None,
                warnings: Vec::new(),
                overflowed: Arc::new(AtomicBool::new(false)),
            },
        );
        if enabled {
            self.start_watching(slot).await;
        }
    }

    fn detach(&mut self, slot: u64) {
        self.folders.remove(&slot);
        self.settler.forget_folder(slot);
    }

    /// Sets up the folder's file-system watch, then scans it (in that order, so nothing that
    /// lands in between is missed). A failure puts the folder at fault, to be tried again.
    async fn start_watching(&mut self, slot: u64) {
        let Some(folder) = self.folders.get_mut(&slot) else {
            return;
        };
        folder.retry_at = None;
        let root = folder.config.path.clone();
        let mode = if folder.config.recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        let check = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || check_root(&root)).await
        };
        let reachable = match check {
            Ok(result) => result,
            Err(error) => Err(error.to_string()),
        };
        if let Err(message) = reachable {
            self.fault(slot, message);
            return;
        }
        let inbound = self.inbound_tx.clone();
        let overflowed = folder.overflowed.clone();
        let watcher = notify::recommended_watcher(move |event| {
            if let Err(mpsc::error::TrySendError::Full(_)) =
                inbound.try_send(Inbound::Fs { slot, event })
            {
                overflowed.store(true, Ordering::Release);
            }
        })
        .and_then(|mut watcher| watcher.watch(&root, mode).map(|()| watcher));
        match watcher {
            Ok(watcher) => {
                folder.watch = Some(watcher);
                let recovered = folder.fault.take().is_some();
                if recovered {
                    tracing::info!(folder = %root.display(), "watched folder is back");
                }
                self.rescans.insert(slot);
                self.follow_up().await;
            }
            Err(error) => {
                let message = match error.kind {
                    notify::ErrorKind::MaxFilesWatch => format!(
                        "the system's limit on watched folders is reached ({error}); raise \
                         fs.inotify.max_user_watches or watch fewer subfolders"
                    ),
                    _ => format!("cannot watch it: {error}"),
                };
                self.fault(slot, message);
            }
        }
    }

    fn fault(&mut self, slot: u64, message: String) {
        let retry = Instant::now() + self.options.fault_retry;
        let Some(folder) = self.folders.get_mut(&slot) else {
            return;
        };
        folder.watch = None;
        folder.retry_at = Some(retry);
        let changed = folder.fault.as_deref() != Some(message.as_str());
        if changed {
            tracing::warn!(folder = %folder.config.path.display(), "{message}");
            let event = WatchEvent::FolderFault {
                folder: folder.config.path.clone(),
                message: message.clone(),
            };
            folder.fault = Some(message);
            self.settler.forget_folder(slot);
            self.publish_status();
            self.emit(event);
        } else {
            self.settler.forget_folder(slot);
        }
    }

    async fn retry_faults(&mut self) {
        let now = Instant::now();
        let due: Vec<u64> = self
            .folders
            .iter()
            .filter(|(_, folder)| folder.retry_at.is_some_and(|at| at <= now))
            .map(|(slot, _)| *slot)
            .collect();
        for slot in due {
            self.start_watching(slot).await;
        }
        self.publish_status();
    }

    async fn on_inbound(&mut self, message: Inbound) {
        match message {
            Inbound::ListChanged => self.reload().await,
            Inbound::Fs { slot, event } => self.on_fs_event(slot, event),
        }
    }

    fn on_fs_event(&mut self, slot: u64, event: notify::Result<notify::Event>) {
        let Some(folder) = self.folders.get(&slot) else {
            return; // A folder removed or re-attached since: stale.
        };
        if folder.watch.is_none() {
            return;
        }
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                tracing::debug!(folder = %folder.config.path.display(), "watch error: {error}");
                self.root_checks.insert(slot);
                self.rescans.insert(slot);
                return;
            }
        };
        if event.need_rescan() {
            folder.overflowed.store(true, Ordering::Release);
            return;
        }
        match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
            // Our own reads (hashing) open files too; they are not changes.
            EventKind::Access(_) => return,
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                if let [from, to] = event.paths.as_slice() {
                    self.pending_renames.push((slot, from.clone(), to.clone()));
                }
                return;
            }
            _ => {}
        }
        let deadline = Instant::now() + self.settle;
        for path in event.paths {
            self.changed(slot, path, deadline);
        }
    }

    /// Something happened at `path`: look at it once it has been still for the window.
    fn changed(&mut self, slot: u64, path: PathBuf, due: Instant) {
        let Some(folder) = self.folders.get(&slot) else {
            return;
        };
        if path == folder.config.path {
            self.root_checks.insert(slot);
            return;
        }
        let Some(filter) = &folder.filter else {
            return;
        };
        let Ok(relative) = path.strip_prefix(&folder.config.path) else {
            return;
        };
        if filter.wants_file(relative) || filter.enters_dir(relative) {
            self.settler.touch(path, slot, due.into_std());
        }
    }

    /// The slower work events asked for: renames, root checks, overflow rescans.
    async fn follow_up(&mut self) {
        for (slot, folder) in &self.folders {
            if folder.overflowed.swap(false, Ordering::AcqRel) {
                tracing::info!(folder = %folder.config.path.display(), "events overflowed; rescanning");
                self.rescans.insert(*slot);
                let _ = self.events.send(WatchEvent::Overflowed {
                    folder: folder.config.path.clone(),
                });
            }
        }
        if !self.pending_renames.is_empty() {
            self.apply_renames().await;
        }
        for slot in std::mem::take(&mut self.root_checks) {
            let Some(root) = self
                .folders
                .get(&slot)
                .map(|folder| folder.config.path.clone())
            else {
                continue;
            };
            let result = tokio::task::spawn_blocking(move || check_root(&root)).await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(message)) => self.fault(slot, message),
                Err(error) => self.fault(slot, error.to_string()),
            }
        }
        for slot in std::mem::take(&mut self.rescans) {
            let root = match self.folders.get(&slot) {
                Some(folder) if folder.watch.is_some() => folder.config.path.clone(),
                _ => continue,
            };
            self.scan_into_settler(slot, root, true).await;
        }
    }

    async fn apply_renames(&mut self) {
        let renames = std::mem::take(&mut self.pending_renames);
        let mut wanted = Vec::new();
        for (slot, from, to) in renames {
            let Some(folder) = self.folders.get(&slot) else {
                continue;
            };
            let Some(filter) = &folder.filter else {
                continue;
            };
            let root = &folder.config.path;
            let from_ok = from
                .strip_prefix(root)
                .is_ok_and(|relative| filter.wants_file(relative));
            let to_ok = to
                .strip_prefix(root)
                .is_ok_and(|relative| filter.wants_file(relative));
            if from_ok && to_ok {
                wanted.push((from, to, folder.config.key()));
            }
        }
        if wanted.is_empty() {
            return;
        }
        let now = self.now_millis();
        let result = self
            .service
            .with_desk(move |desk| -> Result<(), WatchError> {
                let conn = desk.connect()?;
                let records = WatchRecords::new(&conn);
                for (from, to, key) in wanted {
                    records.renamed(&from, &to, &key, now)?;
                }
                Ok(())
            })
            .await;
        if let Some(error) = flatten(result) {
            tracing::warn!("could not record a rename: {error}");
        }
    }

    /// Scans `dir` of folder `slot` (the folder itself when `whole`) and sets every new or
    /// changed file to be looked at now.
    async fn scan_into_settler(&mut self, slot: u64, dir: PathBuf, whole: bool) {
        let Some(folder) = self.folders.get(&slot) else {
            return;
        };
        let Some(filter) = folder.filter.clone() else {
            return;
        };
        let root = folder.config.path.clone();
        let key = folder.config.key();
        let scanned = self
            .service
            .with_desk(move |desk| -> Result<_, String> {
                let known = desk
                    .connect()
                    .and_then(|conn| WatchRecords::new(&conn).known_stamps(&key))
                    .map_err(|error| error.to_string())?;
                scan(&root, &dir, &filter, &known)
                    .map_err(|error| describe_unreachable(&dir, &error))
            })
            .await;
        let report = match scanned {
            Ok(Ok(report)) => report,
            Ok(Err(message)) => {
                if whole {
                    self.fault(slot, message);
                }
                return;
            }
            Err(error) => {
                self.fault(slot, error.to_string());
                return;
            }
        };
        let now = std::time::Instant::now();
        let new = report.candidates.len();
        for path in report.candidates {
            self.settler.touch(path, slot, now);
        }
        let Some(folder) = self.folders.get_mut(&slot) else {
            return;
        };
        let mut warning_events = Vec::new();
        for warning in &report.warnings {
            if !folder.warnings.contains(warning) {
                warning_events.push(WatchEvent::FolderWarning {
                    folder: folder.config.path.clone(),
                    message: warning.clone(),
                });
            }
        }
        if whole {
            folder.warnings = report.warnings;
            let event = WatchEvent::Watching {
                folder: folder.config.path.clone(),
                files: report.seen,
                new,
            };
            for warning in warning_events {
                self.emit(warning);
            }
            self.emit(event);
            self.publish_status();
        } else {
            for warning in warning_events {
                self.emit(warning);
            }
        }
    }

    /// Looks at every path whose deadline came (in batches) and acts on what it finds.
    async fn process_due(&mut self) {
        let due = self
            .settler
            .take_due(std::time::Instant::now(), self.options.batch);
        if due.is_empty() {
            return;
        }
        let account = match self.service.upload_account().await {
            Ok(account) => account,
            Err(error) => {
                tracing::warn!(
                    "could not read the logged-in account, uploading anonymously: {error}"
                );
                None
            }
        };
        let client_id = self.service.client_id().to_owned();
        let mut items = Vec::with_capacity(due.len());
        for due_path in due {
            let Some(folder) = self.folders.get(&due_path.folder) else {
                continue;
            };
            let Some(filter) = &folder.filter else {
                continue;
            };
            let wanted = due_path
                .path
                .strip_prefix(&folder.config.path)
                .is_ok_and(|relative| filter.wants_file(relative));
            let mut template = NewJob::new(&due_path.path, Origin::Watch, &client_id);
            template.account = account.clone();
            template.album = folder.config.album.clone();
            items.push(DueItem {
                due: due_path,
                key: folder.config.key(),
                wanted,
                template,
                upload_copies: folder.config.upload_copies,
            });
        }
        let settle = self.settle;
        let result = self
            .service
            .with_desk(move |desk| batch::check(desk, items, settle))
            .await;
        let outcome = match result {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(error)) => {
                // The database failed: nothing was recorded; a rescan finds the files again.
                tracing::error!("watched files could not be recorded: {error}");
                self.retry_everything_later();
                return;
            }
            Err(error) => {
                tracing::error!("the watcher's check failed: {error}");
                self.retry_everything_later();
                return;
            }
        };
        let started = std::time::Instant::now();
        for (due_path, after) in outcome.waits {
            self.settler.wait(due_path, started + after);
        }
        let mut queued = Vec::new();
        let mut uploaded_duplicates = false;
        for (path, admission) in outcome.admitted {
            match admission {
                Admission::Queued { job } => {
                    queued.push(job);
                    self.emit(WatchEvent::Queued { path, job });
                }
                Admission::Duplicate { job, link } => {
                    uploaded_duplicates |= link.is_some();
                    self.emit(WatchEvent::Duplicate { path, job, link })
                }
                Admission::Known => {}
                Admission::Failed { reason } => self.emit(WatchEvent::Skipped {
                    path,
                    reason: format!(
                        "it could not be recorded for upload ({reason}); it is tried again at \
                         the next rescan"
                    ),
                }),
            }
        }
        self.service.announce_queued(&queued);
        for (path, removal) in outcome.removals {
            match removal {
                Removal::Cancelled { job } => self.emit(WatchEvent::Cancelled {
                    path,
                    job,
                    reason: REMOVED_REASON.to_owned(),
                }),
                Removal::Repointed { job, to } => {
                    self.emit(WatchEvent::Repointed { path, job, to })
                }
                Removal::Nothing => {}
            }
        }
        for (path, reason) in outcome.skipped {
            self.emit(WatchEvent::Skipped { path, reason });
        }
        for (slot, dir) in outcome.directories {
            self.scan_into_settler(slot, dir, false).await;
        }
        if uploaded_duplicates {
            // Their content is on Imgur already: no upload will announce their actions.
            self.carry_out_actions(None).await;
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

    /// Carries out the after-upload actions due (for one job, or all after a start, a lag or
    /// a duplicate of an upload). A duplicate's stand-in upload is confirmed on Imgur first
    /// (see [`stand_in`]), unless it is the job just done.
    async fn carry_out_actions(&mut self, job: Option<JobId>) {
        let folders: HashMap<String, WatchedFolder> = self
            .folders
            .values()
            .map(|folder| (folder.config.key(), folder.config.clone()))
            .collect();
        if folders.is_empty() {
            return;
        }
        let due = self
            .service
            .with_desk(move |desk| -> Result<_, WatchError> {
                let conn = desk.connect()?;
                Ok(WatchRecords::new(&conn).actions_due(job)?)
            })
            .await;
        let due = match due {
            Ok(Ok(due)) => due,
            Ok(Err(error)) => return tracing::warn!("after-upload actions failed: {error}"),
            Err(error) => return tracing::warn!("after-upload actions failed: {error}"),
        };
        // Keep needs no confirming, and an upload just confirmed by its job is there.
        let sorted = stand_in::confirm(&self.service, due, |due| {
            job.is_none_or(|done| due.job != Some(done))
                && folders
                    .get(&due.folder)
                    .is_some_and(|folder| !matches!(folder.after_upload, AfterUpload::Keep))
        })
        .await;
        for (due, why) in &sorted.doubt {
            tracing::info!(
                path = %due.path.display(),
                "left alone for now: the upload it duplicates could not be confirmed on Imgur: {why}"
            );
        }
        if !sorted.doubt.is_empty() {
            self.confirm_at = Some(Instant::now() + self.options.confirm_retry);
        }
        let now = self.now_millis();
        let stand_in::Sorted { go, gone, .. } = sorted;
        let result = self
            .service
            .with_desk(move |desk| -> Result<_, WatchError> {
                let conn = desk.connect()?;
                let records = WatchRecords::new(&conn);
                let mut events = Vec::new();
                let mut again = Vec::new();
                for (due, history) in gone {
                    if records.stand_in_gone(&due.path, history, now)? {
                        let link = due.stand_in.and_then(|stand_in| stand_in.link);
                        events.push(WatchEvent::Reuploading {
                            path: due.path.clone(),
                            link,
                        });
                        again.push((due.folder, due.path));
                    }
                }
                for due in go {
                    let Some(folder) = folders.get(&due.folder) else {
                        continue; // Its folder is no longer watched: left as it is.
                    };
                    if let Some(event) = carry_out_one(folder, &due) {
                        events.push(event);
                    }
                    records.action_done(&due.path)?;
                }
                Ok((events, again))
            })
            .await;
        match result {
            Ok(Ok((events, again))) => {
                for event in events {
                    self.emit(event);
                }
                // Looked at afresh: queued as a new upload, whose action follows it.
                let now = std::time::Instant::now();
                for (key, path) in again {
                    let slot = self
                        .folders
                        .iter()
                        .find(|(_, folder)| folder.config.key() == key)
                        .map(|(slot, _)| *slot);
                    if let Some(slot) = slot {
                        self.settler.touch(path, slot, now);
                    }
                }
            }
            Ok(Err(error)) => tracing::warn!("after-upload actions failed: {error}"),
            Err(error) => tracing::warn!("after-upload actions failed: {error}"),
        }
    }
}

/// Carries out `folder`'s action for one due file; what to tell, if anything.
fn carry_out_one(folder: &WatchedFolder, due: &super::records::DueAction) -> Option<WatchEvent> {
    match carry_out(
        &folder.after_upload,
        &folder.path,
        &due.path,
        due.stamp,
        &due.hash,
    ) {
        Ok(ActionTaken::Kept) => None,
        Ok(ActionTaken::Refused(reason)) => Some(WatchEvent::Skipped {
            path: due.path.clone(),
            reason: format!("uploaded, but {reason}"),
        }),
        Ok(ActionTaken::Deleted) => Some(WatchEvent::Deleted {
            path: due.path.clone(),
        }),
        Ok(ActionTaken::Moved(to)) => Some(WatchEvent::Moved {
            path: due.path.clone(),
            to,
        }),
        Err(error) => Some(WatchEvent::Skipped {
            path: due.path.clone(),
            reason: format!(
                "uploaded, but the after-upload action ({}) failed: {error}",
                folder.after_upload
            ),
        }),
    }
}

fn flatten(result: Result<Result<(), WatchError>, impl std::fmt::Display>) -> Option<String> {
    match result {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(error) => Some(error.to_string()),
    }
}

/// The folder exists, is a directory and can be listed; else what is wrong, in words.
fn check_root(root: &Path) -> Result<(), String> {
    match std::fs::metadata(root) {
        Ok(meta) if !meta.is_dir() => {
            return Err(format!(
                "{} is not a folder; remove it with `upshot watch remove`",
                root.display()
            ));
        }
        Ok(_) => {}
        Err(error) => return Err(describe_unreachable(root, &error)),
    }
    std::fs::read_dir(root)
        .map(|_| ())
        .map_err(|error| describe_unreachable(root, &error))
}

fn describe_unreachable(path: &Path, error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => format!(
            "{} does not exist (removed, renamed, or a drive not mounted); watching resumes \
             when it is back",
            path.display()
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "no permission to read {}; watching resumes when it is readable again",
            path.display()
        ),
        _ => format!("{} cannot be read: {error}", path.display()),
    }
}

async fn sleep_until(deadline: Option<impl Into<Instant>>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
