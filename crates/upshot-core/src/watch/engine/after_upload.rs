//! After an upload is confirmed: each file's after-upload action, a duplicate's stand-in
//! confirmed on Imgur first.

use super::Engine;
use crate::types::JobId;
use crate::watch::actions::{ActionTaken, carry_out};
use crate::watch::config::AfterUpload;
use crate::watch::config::WatchedFolder;
use crate::watch::error::WatchError;
use crate::watch::events::WatchEvent;
use crate::watch::records::{DueAction, WatchRecords};
use crate::watch::stand_in;
use std::collections::HashMap;
use tokio::time::Instant;

impl Engine {
    /// Carries out the after-upload actions due (for one job, or all after a start, a lag or
    /// a duplicate of an upload). A duplicate's stand-in upload is confirmed on Imgur first
    /// (see [`stand_in`]), unless it is the job just done.
    pub(super) async fn carry_out_actions(&mut self, job: Option<JobId>) {
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
fn carry_out_one(folder: &WatchedFolder, due: &DueAction) -> Option<WatchEvent> {
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
