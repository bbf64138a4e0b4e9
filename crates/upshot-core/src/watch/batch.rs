//! One blocking trip for every path whose deadline came: look at each ([`judge`]), plan the
//! complete ones with the one planner ([`crate::intake`]), hand them over in one transaction,
//! and settle the removed ones. A burst of a thousand files costs a handful of transactions,
//! not a thousand.

use super::records::{FileAdmission, ReadyFile, Removal, WatchRecords, concerns_one_file};
use super::settle::{DuePath, Judgement, judge};
use crate::intake::{Candidate, Desk, PlannedFile};
use crate::queue::NewJob;
use crate::store::StoreError;
use std::path::PathBuf;
use std::time::Duration;

/// Looks that found a file unopenable before it is reported and dropped (until it changes or
/// the next rescan). With the default window that is about five minutes of waiting.
const MAX_UNREADABLE_LOOKS: u32 = 60;

/// A due path with what its folder says.
#[derive(Debug)]
pub(super) struct DueItem {
    pub due: DuePath,
    /// The folder's key in the database.
    pub key: String,
    /// The patterns want it as a file (else it only matters as a directory or a removal).
    pub wanted: bool,
    /// The job to queue for it.
    pub template: NewJob,
    /// Queue copies of uploaded content anyway.
    pub upload_copies: bool,
}

/// What the trip found.
#[derive(Debug, Default)]
pub(super) struct BatchOutcome {
    /// Not complete yet: look again after the duration.
    pub waits: Vec<(DuePath, Duration)>,
    /// Handed over.
    pub admitted: Vec<(PathBuf, FileAdmission)>,
    /// Removed, and what that did to their jobs.
    pub removals: Vec<(PathBuf, Removal)>,
    /// Directories to scan (created or moved in): the folder's slot and the directory.
    pub directories: Vec<(u64, PathBuf)>,
    /// Given up on, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Judges every item, runs the one planner ([`crate::intake`]) on the complete ones, and
/// records the outcome, on the service's [`Desk`].
pub(super) fn check(
    desk: &Desk,
    items: Vec<DueItem>,
    settle: Duration,
) -> Result<BatchOutcome, StoreError> {
    let now = desk.now();
    let mut outcome = BatchOutcome::default();
    let mut ready = Vec::new();
    let conn = desk.connect()?;
    let planner = desk.planner(&conn);
    let mut gone = Vec::new();
    for item in items {
        let DueItem {
            mut due,
            key,
            wanted,
            template,
            upload_copies,
        } = item;
        match judge_wanted(&due, wanted, settle) {
            Judgement::Ready { stamp, hash } => {
                let candidate = Candidate {
                    force: upload_copies,
                    expected_hash: Some(hash.clone()),
                    ..Candidate::new(template)
                };
                let planned = match planner.plan(candidate) {
                    Ok(planned) => planned,
                    // Refuses that file alone, unless the database as a whole is at fault.
                    Err(error) if concerns_one_file(&error) => {
                        outcome
                            .skipped
                            .push((due.path, format!("it could not be checked: {error}")));
                        continue;
                    }
                    Err(error) => return Err(error),
                };
                // A duplicate is handed over unfitted: the admission reports it as one (or
                // queues it, if its copy stopped being live meanwhile).
                let (job, upload_copies) = match planned {
                    PlannedFile::Queue { job, force } => (job, force),
                    PlannedFile::Duplicate { job, .. } => (job, false),
                    PlannedFile::Changed => {
                        outcome.waits.push((due, settle));
                        continue;
                    }
                    PlannedFile::Rejected(rejected) => {
                        outcome.skipped.push((due.path, rejected.to_string()));
                        continue;
                    }
                    PlannedFile::CopyFailed(error) => {
                        outcome
                            .skipped
                            .push((due.path, format!("its fitted copy: {error}")));
                        continue;
                    }
                };
                ready.push(ReadyFile {
                    path: due.path,
                    folder: key,
                    stamp,
                    hash,
                    job: *job,
                    upload_copies,
                });
            }
            Judgement::NotYet {
                stamp,
                after,
                unreadable,
            } => {
                due.previous = stamp;
                if unreadable {
                    due.unreadable += 1;
                    if due.unreadable >= MAX_UNREADABLE_LOOKS {
                        outcome.skipped.push((
                            due.path,
                            "it could not be opened for reading; it is picked up again when it \
                             changes or at the next rescan"
                                .to_owned(),
                        ));
                        continue;
                    }
                }
                let backoff = settle.saturating_mul(due.unreadable.min(9));
                outcome.waits.push((due, after + backoff));
            }
            Judgement::Gone => gone.push(due.path),
            Judgement::Directory => outcome.directories.push((due.folder, due.path)),
            Judgement::Empty | Judgement::Other => {}
            Judgement::Failed(error) => outcome.skipped.push((due.path, error.to_string())),
        }
    }
    if ready.is_empty() && gone.is_empty() {
        return Ok(outcome);
    }
    let records = WatchRecords::new(&conn);
    if !ready.is_empty() {
        let admissions = records.admit(&ready, now)?;
        // A fitted copy is only kept by the job it was made for.
        for (file, admission) in ready.iter().zip(&admissions) {
            if !matches!(admission, FileAdmission::Queued { .. }) {
                desk.drop_copy(&file.job);
            }
        }
        outcome.admitted = ready
            .into_iter()
            .map(|file| file.path)
            .zip(admissions)
            .collect();
    }
    for path in gone {
        match records.removed(&path, now) {
            Ok(removals) => outcome.removals.extend(removals),
            Err(error) if concerns_one_file(&error) => outcome
                .skipped
                .push((path, format!("its removal could not be recorded: {error}"))),
            Err(error) => return Err(error),
        }
    }
    Ok(outcome)
}

/// [`judge`], but a path the patterns do not want is only checked for being a directory or gone.
fn judge_wanted(due: &DuePath, wanted: bool, settle: Duration) -> Judgement {
    if wanted {
        return judge(&due.path, due.previous, settle);
    }
    match std::fs::metadata(&due.path) {
        Ok(meta) if meta.is_dir() => Judgement::Directory,
        Ok(_) => Judgement::Other,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Judgement::Gone,
        Err(error) => Judgement::Failed(error),
    }
}
