//! Event intake: notify's events become deadlines in the settler; renames, root checks and
//! overflow rescans are followed up in one go.

use super::folders::check_root;
use super::{Engine, Inbound, flatten};
use crate::watch::error::WatchError;
use crate::watch::events::WatchEvent;
use crate::watch::records::WatchRecords;
use notify::EventKind;
use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use tokio::time::Instant;

impl Engine {
    pub(super) async fn on_inbound(&mut self, message: Inbound) {
        match message {
            Inbound::ListChanged => self.reload().await,
            Inbound::Fs { slot, event } => self.on_fs_event(slot, event),
        }
    }
    pub(super) fn on_fs_event(&mut self, slot: u64, event: notify::Result<notify::Event>) {
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
    pub(super) fn changed(&mut self, slot: u64, path: PathBuf, due: Instant) {
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
    pub(super) async fn follow_up(&mut self) {
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
    pub(super) async fn apply_renames(&mut self) {
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
}
