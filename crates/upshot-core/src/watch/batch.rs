//! One blocking trip for every path whose deadline came: look at each ([`judge`]), hand the
//! complete ones over in one transaction, and settle the removed ones. A burst of a thousand
//! files costs a handful of transactions, not a thousand.

use super::records::{Admission, ReadyFile, Removal, WatchRecords, concerns_one_file};
use super::settle::{DuePath, Judgement, judge};
use crate::preflight::PreflightSettings;
use crate::queue::NewJob;
use crate::spool::Spool;
use crate::store::{Database, StoreError};
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
    pub admitted: Vec<(PathBuf, Admission)>,
    /// Removed, and what that did to their jobs.
    pub removals: Vec<(PathBuf, Removal)>,
    /// Directories to scan (created or moved in): the folder's slot and the directory.
    pub directories: Vec<(u64, PathBuf)>,
    /// Given up on, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Judges every item, runs preflight on the complete ones, and records the outcome.
pub(super) fn check(
    db: &Database,
    spool: &Spool,
    preflight: &PreflightSettings,
    items: Vec<DueItem>,
    settle: Duration,
    now: i64,
) -> Result<BatchOutcome, StoreError> {
    let mut outcome = BatchOutcome::default();
    let mut ready = Vec::new();
    let conn = db.connect()?;
    let queue = crate::queue::JobQueue::new(&conn);
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
                let mut job = template;
                let copies = upload_copies || preflight.upload_duplicates;
                let prepared =
                    prepare(spool, preflight, &queue, copies, &due.path, &hash, &mut job);
                match prepared.or_else(|error| per_file(error, "checked"))? {
                    Prepared::Ready => ready.push(ReadyFile {
                        path: due.path,
                        folder: key,
                        stamp,
                        hash,
                        job,
                        upload_copies: copies,
                    }),
                    Prepared::Changed => outcome.waits.push((due, settle)),
                    Prepared::Refused(reason) => outcome.skipped.push((due.path, reason)),
                }
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
            if !matches!(admission, Admission::Queued { .. })
                && let Some(copy) = &file.job.upload_path
            {
                let _ = spool.remove(copy);
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

/// A store error while preparing one file: refuses that file alone, unless the database as a
/// whole is at fault.
fn per_file(error: StoreError, doing: &str) -> Result<Prepared, StoreError> {
    if concerns_one_file(&error) {
        Ok(Prepared::Refused(format!(
            "it could not be {doing}: {error}"
        )))
    } else {
        Err(error)
    }
}

/// What preflight made of a complete file.
enum Prepared {
    /// Checked (and fitted where needed): the job carries the report.
    Ready,
    /// Its content changed since it was judged complete: look again later.
    Changed,
    /// Refused, with the reason; it stays in the folder.
    Refused(String),
}

/// Preflight for a watched file (the backlog's options: see
/// [`PreflightSettings::options_for`]); the report and any fitted copy go on the job. A file
/// whose content is live already is not fitted: the admission reports it as a duplicate.
fn prepare(
    spool: &Spool,
    settings: &PreflightSettings,
    queue: &crate::queue::JobQueue<'_>,
    upload_copies: bool,
    path: &std::path::Path,
    hash: &str,
    job: &mut NewJob,
) -> Result<Prepared, StoreError> {
    let options = settings.options_for(job.origin);
    let plan = match crate::preflight::check(path, &options) {
        Ok(plan) => plan,
        Err(rejected) => return Ok(Prepared::Refused(rejected.to_string())),
    };
    if plan.report.content_hash != hash {
        return Ok(Prepared::Changed);
    }
    if !upload_copies {
        let mut probe = job.clone();
        probe.preflight = Some(plan.report.clone());
        let live = queue
            .live_with_content(&job.client_id, hash)?
            .into_iter()
            .any(|live| live.stands_in_for(&probe));
        if live {
            job.preflight = probe.preflight;
            return Ok(Prepared::Ready);
        }
    }
    let ready = match plan.fit() {
        Ok(ready) => ready,
        Err(rejected) => return Ok(Prepared::Refused(rejected.to_string())),
    };
    if let Some(bytes) = &ready.fitted {
        match spool.store(bytes, "jpg") {
            Ok(copy) => job.upload_path = Some(copy),
            Err(error) => return Ok(Prepared::Refused(format!("its fitted copy: {error}"))),
        }
    }
    job.bytes_total = ready.report.final_bytes;
    job.preflight = Some(ready.report);
    Ok(Prepared::Ready)
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
