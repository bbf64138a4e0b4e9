//! A folder's lifecycle in the engine: attached, watched (notify, then a catch-up scan),
//! at fault and tried again, detached.

use super::{Engine, FolderRuntime, Inbound};
use crate::watch::config::WatchedFolder;
use crate::watch::events::WatchEvent;
use crate::watch::patterns::FolderFilter;
use crate::watch::records::WatchRecords;
use crate::watch::scan::scan;
use notify::{RecursiveMode, Watcher as _};
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;
use tokio::time::Instant;

impl Engine {
    /// Adds a folder: watched at once if enabled and reachable, else paused or at fault.
    pub(super) async fn attach(&mut self, config: WatchedFolder) {
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
    pub(super) fn detach(&mut self, slot: u64) {
        self.folders.remove(&slot);
        self.settler.forget_folder(slot);
    }
    /// Sets up the folder's file-system watch, then scans it (in that order, so nothing that
    /// lands in between is missed). A failure puts the folder at fault, to be tried again.
    pub(super) async fn start_watching(&mut self, slot: u64) {
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
    pub(super) fn fault(&mut self, slot: u64, message: String) {
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
    pub(super) async fn retry_faults(&mut self) {
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
    /// Scans `dir` of folder `slot` (the folder itself when `whole`) and sets every new or
    /// changed file to be looked at now.
    pub(super) async fn scan_into_settler(&mut self, slot: u64, dir: PathBuf, whole: bool) {
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
}

/// The folder exists, is a directory and can be listed; else what is wrong, in words.
pub(super) fn check_root(root: &Path) -> Result<(), String> {
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
