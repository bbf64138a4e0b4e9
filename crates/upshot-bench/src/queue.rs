//! The persistent queue: how long queueing a big folder takes, and what it costs on disk.

use crate::measure::BenchResult;
use std::path::Path;
use std::time::{Duration, Instant};
use upshot_core::queue::{JobQueue, NewJob};
use upshot_core::store::Database;
use upshot_core::types::Origin;

const T0: i64 = 1_700_000_000_000;

/// Queues `files` real (tiny) files as one watched-folder batch, then measures single enqueues
/// and claims for comparison, and prints the database's size with its WAL.
pub fn enqueue(files: usize) -> BenchResult<()> {
    let dir = tempfile::tempdir().map_err(|error| format!("no temporary directory: {error}"))?;
    let pictures = dir.path().join("pictures");
    std::fs::create_dir(&pictures).map_err(|error| format!("mkdir: {error}"))?;
    let started = Instant::now();
    for n in 0..files {
        let png = fake_imgur::samples::png(8, 8, (n % 251) as u8);
        std::fs::write(pictures.join(format!("{n:05}.png")), png)
            .map_err(|error| format!("write: {error}"))?;
    }
    println!(
        "made {files} files of ~100 bytes in {:?}",
        started.elapsed()
    );

    let data_dir = dir.path().join("data");
    let db = Database::open_in(&data_dir).map_err(|error| error.to_string())?;
    let conn = db.connect().map_err(|error| error.to_string())?;
    let queue = JobQueue::new(&conn);

    // What `upshot upload <folder>` or a watched folder does: list, stat, queue in one go.
    let started = Instant::now();
    let mut jobs = Vec::with_capacity(files);
    let mut entries: Vec<_> = std::fs::read_dir(&pictures)
        .map_err(|error| format!("list: {error}"))?
        .collect::<Result<_, _>>()
        .map_err(|error| format!("list: {error}"))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let size = entry
            .metadata()
            .map_err(|error| format!("stat: {error}"))?
            .len();
        let mut job = NewJob::new(entry.path(), Origin::Watch, "bench-client");
        job.bytes_total = size;
        jobs.push(job);
    }
    let listed = started.elapsed();
    let started = Instant::now();
    let ids = queue
        .enqueue_many(&jobs, T0)
        .map_err(|error| error.to_string())?;
    let enqueued = started.elapsed();
    println!(
        "enqueue_many: {} jobs in {enqueued:?} ({:.1} µs a job; listing and stat took {listed:?})",
        ids.len(),
        per_item_micros(enqueued, ids.len())
    );
    print_sizes(db.path())?;

    // For comparison: one transaction (one fsync) per job, as a careless caller would do.
    let singles = 1_000.min(files);
    let started = Instant::now();
    for job in jobs.iter().take(singles) {
        queue.enqueue(job, T0).map_err(|error| error.to_string())?;
    }
    let took = started.elapsed();
    println!(
        "enqueue one by one: {singles} jobs in {took:?} ({:.1} µs a job)",
        per_item_micros(took, singles)
    );

    // Claims from the front of a long queue: what each worker pays per job.
    let claims = 1_000.min(files);
    let started = Instant::now();
    for _ in 0..claims {
        queue
            .claim("bench-worker", T0, 60_000, &[])
            .map_err(|error| error.to_string())?
            .ok_or("the queue ran dry")?;
    }
    let took = started.elapsed();
    println!(
        "claim: {claims} jobs from a queue of {} in {took:?} ({:.1} µs a claim)",
        files + singles,
        per_item_micros(took, claims)
    );
    print_sizes(db.path())?;
    Ok(())
}

fn per_item_micros(took: Duration, items: usize) -> f64 {
    took.as_secs_f64() * 1e6 / items.max(1) as f64
}

fn print_sizes(db: &Path) -> BenchResult<()> {
    let size = |path: &Path| std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0);
    let wal = db.with_extension("db-wal");
    let main = size(db);
    let log = size(&wal);
    println!(
        "database: {:.2} MB + WAL {:.2} MB = {:.2} MB",
        main as f64 / 1e6,
        log as f64 / 1e6,
        (main + log) as f64 / 1e6
    );
    Ok(())
}
