//! Batches: one drop, pick or paste. The window copies all of a batch's links at once, in drop
//! order, with one notification, when every file of it has ended or must wait; a file that had
//! to wait has its link copied on its own when it comes. This module keeps that bookkeeping in
//! memory (a batch is a window session's notion; the jobs themselves are in the queue).

use super::views::{BatchFile, BatchReport, LateLink};
use crate::types::JobId;
use std::collections::HashMap;

/// Where a file of a batch stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    /// Queued or being sent.
    Pending,
    /// Held back: what it waits for, until when.
    Waiting {
        /// What it waits for, in words.
        message: String,
        /// Until when (ms since the epoch).
        until: Option<i64>,
    },
    /// Uploaded, with its link in the user's format.
    Done {
        /// The link.
        link: String,
    },
    /// Failed (or refused before it was queued), with why.
    Failed {
        /// Why.
        message: String,
    },
    /// Cancelled by the user.
    Cancelled,
}

impl FileStatus {
    fn settled(&self) -> bool {
        !matches!(self, Self::Pending)
    }
}

/// A file handed over with a batch.
#[derive(Debug, Clone)]
pub struct BatchEntry {
    /// Its name, for the report.
    pub name: String,
    /// Its job, when it was queued (`None`: refused, or uploaded before and not queued again).
    pub job: Option<JobId>,
    /// Where it stands.
    pub status: FileStatus,
}

#[derive(Debug)]
struct Batch {
    entries: Vec<BatchEntry>,
    reported: bool,
}

/// What a change to a file means for its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchNews {
    /// Every file ended or waits: the one report (links to copy, one notification).
    Ended(BatchReport),
    /// A file that waited was uploaded after the report: its link alone.
    Late(LateLink),
}

/// The open batches of a window session.
#[derive(Debug, Default)]
pub struct Batches {
    next: u64,
    open: HashMap<String, Batch>,
    /// The open batches each job is in: the same file dropped again before it was sent is in
    /// both drops' batches (the second follows the first's job), and each reports it.
    by_job: HashMap<JobId, Vec<String>>,
}

impl Batches {
    /// Opens a batch of files in drop order; answers its id and, when nothing of it had to be
    /// sent (all refused, or all uploaded before), its report at once.
    pub fn open(&mut self, entries: Vec<BatchEntry>, now: i64) -> (String, Option<BatchNews>) {
        self.next += 1;
        let id = format!("b{}", self.next);
        for entry in &entries {
            if let Some(job) = entry.job {
                self.by_job.entry(job).or_default().push(id.clone());
            }
        }
        self.open.insert(
            id.clone(),
            Batch {
                entries,
                reported: false,
            },
        );
        let news = self.check(&id, now);
        (id, news)
    }

    /// How many files of the open batches are still to be sent (queued or under way).
    pub fn pending(&self) -> usize {
        self.open
            .values()
            .flat_map(|batch| &batch.entries)
            .filter(|entry| entry.status == FileStatus::Pending)
            .count()
    }

    /// The latest open batch a job came with, if it came with one.
    pub fn batch_of(&self, job: JobId) -> Option<&str> {
        self.by_job
            .get(&job)
            .and_then(|batches| batches.last())
            .map(String::as_str)
    }

    /// Records where a job now stands; answers what that means for each batch it is in.
    pub fn update(&mut self, job: JobId, status: FileStatus, now: i64) -> Vec<BatchNews> {
        let ids = self.by_job.get(&job).cloned().unwrap_or_default();
        ids.iter()
            .filter_map(|id| self.update_in(id, job, status.clone(), now))
            .collect()
    }

    fn update_in(
        &mut self,
        id: &str,
        job: JobId,
        status: FileStatus,
        now: i64,
    ) -> Option<BatchNews> {
        let batch = self.open.get_mut(id)?;
        // Every entry of the job (the same file given twice in one drop follows one job). The
        // same state told twice (an event and the stored state read as the batch opened) is
        // news once.
        let mut changed = None;
        for entry in batch
            .entries
            .iter_mut()
            .filter(|entry| entry.job == Some(job) && entry.status != status)
        {
            entry.status = status.clone();
            changed.get_or_insert_with(|| entry.name.clone());
        }
        let name = changed?;
        if batch.reported {
            let news = match status {
                FileStatus::Done { link } => Some(BatchNews::Late(LateLink {
                    batch: id.to_owned(),
                    name,
                    link,
                })),
                _ => None,
            };
            self.forget_if_finished(id);
            return news;
        }
        self.check(id, now)
    }

    /// The report, once every file of the batch is settled and none was reported yet.
    fn check(&mut self, id: &str, now: i64) -> Option<BatchNews> {
        let batch = self.open.get_mut(id)?;
        if batch.reported || !batch.entries.iter().all(|entry| entry.status.settled()) {
            return None;
        }
        batch.reported = true;
        let report = report(id, &batch.entries, now);
        self.forget_if_finished(id);
        Some(BatchNews::Ended(report))
    }

    /// A reported batch whose files all ended (none still waits or is being sent again) is
    /// dropped from memory.
    fn forget_if_finished(&mut self, id: &str) {
        let finished = self.open.get(id).is_some_and(|batch| {
            batch.reported
                && batch.entries.iter().all(|entry| {
                    !matches!(
                        entry.status,
                        FileStatus::Waiting { .. } | FileStatus::Pending
                    )
                })
        });
        if finished && let Some(batch) = self.open.remove(id) {
            for job in batch.entries.iter().filter_map(|entry| entry.job) {
                if let Some(batches) = self.by_job.get_mut(&job) {
                    batches.retain(|open| open != id);
                    if batches.is_empty() {
                        self.by_job.remove(&job);
                    }
                }
            }
        }
    }
}

/// The report of a settled batch: the links in drop order, what failed, what waits, and the
/// notification's words.
fn report(id: &str, entries: &[BatchEntry], now: i64) -> BatchReport {
    let mut links = Vec::new();
    let mut failed = Vec::new();
    let mut waiting = Vec::new();
    let mut cancelled = 0;
    for entry in entries {
        match &entry.status {
            FileStatus::Done { link } => links.push(link.clone()),
            FileStatus::Failed { message } => failed.push(BatchFile {
                name: entry.name.clone(),
                message: message.clone(),
                until: None,
            }),
            FileStatus::Waiting { message, until } => waiting.push(BatchFile {
                name: entry.name.clone(),
                message: message.clone(),
                until: *until,
            }),
            FileStatus::Cancelled => cancelled += 1,
            FileStatus::Pending => {}
        }
    }
    let uploaded = u32::try_from(links.len()).unwrap_or(u32::MAX);
    let counts = (uploaded, failed.len(), waiting.len(), cancelled);
    let body = body(&failed, &waiting, now);
    BatchReport {
        batch: id.to_owned(),
        uploaded,
        links: links.join("\n"),
        failed,
        waiting,
        title: title(counts, true),
        uncopied_title: title(counts, false),
        body,
    }
}

fn files(count: usize) -> String {
    if count == 1 {
        "1 file".to_owned()
    } else {
        format!("{count} files")
    }
}

/// "12 uploaded, links copied" (or, when the links are not `copied`, "12 uploaded");
/// "10 uploaded, links copied · 2 failed"; "… · 3 files waiting".
fn title(
    (uploaded, failed, waiting, cancelled): (u32, usize, usize, usize),
    copied: bool,
) -> String {
    let mut parts = Vec::new();
    match (uploaded, copied) {
        (0, _) => {}
        (1, true) => parts.push("1 uploaded, link copied".to_owned()),
        (n, true) => parts.push(format!("{n} uploaded, links copied")),
        (n, false) => parts.push(format!("{n} uploaded")),
    }
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if waiting > 0 {
        parts.push(format!("{} waiting", files(waiting)));
    }
    if cancelled > 0 {
        parts.push(format!("{cancelled} cancelled"));
    }
    if parts.is_empty() {
        return "Nothing uploaded".to_owned();
    }
    parts.join(" · ")
}

/// One line per failure (at most three, then how many more), then what waits.
fn body(failed: &[BatchFile], waiting: &[BatchFile], now: i64) -> String {
    const SHOWN: usize = 3;
    let mut lines: Vec<String> = failed
        .iter()
        .take(SHOWN)
        .map(|file| format!("{}: {}", file.name, file.message))
        .collect();
    if failed.len() > SHOWN {
        lines.push(format!("and {} more failed", failed.len() - SHOWN));
    }
    if let Some(first) = waiting.first() {
        let latest = waiting.iter().filter_map(|file| file.until).max();
        let when = match latest {
            Some(until) => format!(
                " Expected {}.",
                crate::human_time::describe(
                    crate::types::UnixMillis(until),
                    crate::types::UnixMillis(now)
                )
            ),
            None => String::new(),
        };
        lines.push(format!(
            "{} wait{}: {}.{when} Each link is copied when it is uploaded.",
            files(waiting.len()),
            if waiting.len() == 1 { "s" } else { "" },
            first.message.trim_end_matches('.'),
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests;
