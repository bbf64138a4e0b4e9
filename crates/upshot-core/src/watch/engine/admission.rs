//! Batch admission: the paths whose deadline came go through the one planner and into the
//! queue in one blocking trip on the service's desk (`watch::batch`); the service announces
//! the jobs.

use super::Engine;
use crate::queue::NewJob;
use crate::types::Origin;
use crate::watch::batch::{self, DueItem};
use crate::watch::events::WatchEvent;
use crate::watch::records::{FileAdmission, REMOVED_REASON, Removal};

impl Engine {
    /// Looks at every path whose deadline came (in batches) and acts on what it finds.
    pub(super) async fn process_due(&mut self) {
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
                FileAdmission::Queued { job } => {
                    queued.push(job);
                    self.emit(WatchEvent::Queued { path, job });
                }
                FileAdmission::Duplicate { job, link } => {
                    uploaded_duplicates |= link.is_some();
                    self.emit(WatchEvent::Duplicate { path, job, link })
                }
                FileAdmission::Known => {}
                FileAdmission::Failed { reason } => self.emit(WatchEvent::Skipped {
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
}
