//! Claims from many threads and from other processes over one database file: every job is
//! claimed exactly once.
//!
//! The other processes are this very test binary, run again with `CLAIMER_DB` set: its
//! `claimer_child` test then claims jobs until none are left and writes their ids to a file
//! (without the variable it does nothing, so a normal run passes it at once).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use upshot_core::queue::{JobQueue, JobState, NewJob};
use upshot_core::store::Database;
use upshot_core::types::{JobId, Origin};

const CLAIMER_DB: &str = "UPSHOT_TEST_CLAIMER_DB";
const CLAIMER_OUT: &str = "UPSHOT_TEST_CLAIMER_OUT";
const CLAIMER_GO: &str = "UPSHOT_TEST_CLAIMER_GO";
const T0: i64 = 1_700_000_000_000;
/// Long enough that no lease runs out during the test: a second claim would be a bug.
const LEASE: i64 = 3_600_000;
const JOBS: usize = 500;
const THREADS: usize = 4;
const PROCESSES: usize = 2;

/// Claims until the queue is empty; returns the ids in claim order.
///
/// Between claims it pauses a fraction of a millisecond, as a worker would to upload: SQLite's
/// lock is not fair (waiters sleep and poll), so a claimer that never pauses takes the whole
/// queue while the others sleep, and the race this test is about would not happen.
fn claim_until_empty(db_path: &Path, owner: &str) -> Vec<i64> {
    let db = Database::open(db_path).unwrap();
    let conn = db.connect().unwrap();
    let queue = JobQueue::new(&conn);
    let mut claimed = Vec::new();
    while let Some(job) = queue.claim(owner, T0, LEASE, &[]).unwrap() {
        assert_eq!(job.lease_owner.as_deref(), Some(owner));
        claimed.push(job.id.0);
        std::thread::sleep(Duration::from_micros(rand_micros()));
    }
    claimed
}

/// 0..1000, different per call and per claimer, without a dependency.
fn rand_micros() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now()) % 1000
}

fn wait_for(path: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The body of the other processes (does nothing unless `CLAIMER_DB` is set).
#[test]
fn claimer_child() {
    let Ok(db_path) = std::env::var(CLAIMER_DB) else {
        return;
    };
    let out = PathBuf::from(std::env::var(CLAIMER_OUT).unwrap());
    let go = PathBuf::from(std::env::var(CLAIMER_GO).unwrap());
    // Open first, so the start line is the same for everyone.
    Database::open(&db_path).unwrap();
    std::fs::write(out.with_extension("ready"), b"").unwrap();
    wait_for(&go, "the go signal");
    let owner = format!("process-{}", std::process::id());
    let claimed = claim_until_empty(Path::new(&db_path), &owner);
    let text: Vec<String> = claimed.iter().map(i64::to_string).collect();
    let partial = out.with_extension("partial");
    std::fs::write(&partial, text.join("\n")).unwrap();
    std::fs::rename(&partial, &out).unwrap();
}

#[test]
fn threads_and_processes_never_claim_the_same_job_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("upshot.db");
    let db = Database::open(&db_path).unwrap();
    let jobs: Vec<NewJob> = (0..JOBS)
        .map(|n| {
            let origin = if n % 3 == 0 {
                Origin::Watch
            } else {
                Origin::File
            };
            NewJob::new(format!("/pics/{n}.png"), origin, "client")
        })
        .collect();
    let ids = JobQueue::new(&db.connect().unwrap())
        .enqueue_many(&jobs, T0)
        .unwrap();

    // Start the other processes and wait until each has the database open.
    let go = dir.path().join("go");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<(std::process::Child, PathBuf)> = (0..PROCESSES)
        .map(|n| {
            let out = dir.path().join(format!("claimed-{n}.txt"));
            let child = Command::new(&exe)
                .args([
                    "--exact",
                    "claimer_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CLAIMER_DB, &db_path)
                .env(CLAIMER_OUT, &out)
                .env(CLAIMER_GO, &go)
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            (child, out)
        })
        .collect();
    for (_, out) in &children {
        wait_for(&out.with_extension("ready"), "a claimer process to start");
    }

    // Threads of this process, each with its own connection, start together with them.
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let threads: Vec<_> = (0..THREADS)
        .map(|n| {
            let barrier = Arc::clone(&barrier);
            let db_path = db_path.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let owner = format!("thread-{n}");
                (owner.clone(), claim_until_empty(&db_path, &owner))
            })
        })
        .collect();
    std::fs::write(&go, b"").unwrap();
    barrier.wait();

    let mut claims: HashMap<i64, Vec<String>> = HashMap::new();
    let mut per_claimer: Vec<(String, usize)> = Vec::new();
    for thread in threads {
        let (owner, claimed) = thread.join().unwrap();
        per_claimer.push((owner.clone(), claimed.len()));
        for id in claimed {
            claims.entry(id).or_default().push(owner.clone());
        }
    }
    for (mut child, out) in children {
        let status = child.wait().unwrap();
        assert!(status.success(), "claimer process failed: {status}");
        let text = std::fs::read_to_string(&out).unwrap();
        let owner = format!("process-{}", child.id());
        let claimed: Vec<i64> = text
            .lines()
            .filter(|line| !line.is_empty())
            .map(|line| line.parse().unwrap())
            .collect();
        per_claimer.push((owner.clone(), claimed.len()));
        for id in claimed {
            claims.entry(id).or_default().push(owner.clone());
        }
    }
    println!("claims per claimer: {per_claimer:?}");

    let twice: Vec<_> = claims
        .iter()
        .filter(|(_, owners)| owners.len() > 1)
        .collect();
    assert!(twice.is_empty(), "claimed more than once: {twice:?}");
    let mut claimed_ids: Vec<i64> = claims.keys().copied().collect();
    claimed_ids.sort_unstable();
    let expected: Vec<i64> = ids.iter().map(|id| id.0).collect();
    assert_eq!(claimed_ids, expected, "every job claimed");
    let by_processes: usize = per_claimer
        .iter()
        .filter(|(owner, _)| owner.starts_with("process-"))
        .map(|(_, count)| count)
        .sum();
    assert!(
        by_processes > 0,
        "the other processes took part: {per_claimer:?}"
    );
    assert!(
        by_processes < JOBS,
        "this process took part: {per_claimer:?}"
    );

    // The database agrees: each job uploading once, held by the claimer that reported it.
    let conn = db.connect().unwrap();
    let queue = JobQueue::new(&conn);
    for (id, owners) in &claims {
        let job = queue.get(JobId(*id)).unwrap().unwrap();
        assert_eq!(job.state, JobState::Uploading);
        assert_eq!(job.attempts, 1);
        assert_eq!(job.lease_owner.as_ref(), owners.first());
    }
}

#[test]
fn expired_leases_are_taken_over_once_under_contention() {
    // Every job was claimed by a worker that died; several claimers race to take them over.
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("upshot.db");
    let db = Database::open(&db_path).unwrap();
    let conn = db.connect().unwrap();
    let queue = JobQueue::new(&conn);
    let jobs: Vec<NewJob> = (0..200)
        .map(|n| NewJob::new(format!("/pics/{n}.png"), Origin::File, "client"))
        .collect();
    queue.enqueue_many(&jobs, T0).unwrap();
    while queue
        .claim("dead-worker", T0, 1_000, &[])
        .unwrap()
        .is_some()
    {}

    let later = T0 + 2_000;
    let threads: Vec<_> = (0..THREADS)
        .map(|n| {
            let db_path = db_path.clone();
            std::thread::spawn(move || {
                let db = Database::open(&db_path).unwrap();
                let conn = db.connect().unwrap();
                let queue = JobQueue::new(&conn);
                let owner = format!("heir-{n}");
                let mut got = Vec::new();
                while let Some(job) = queue.claim(&owner, later, LEASE, &[]).unwrap() {
                    assert_eq!(job.attempts, 2);
                    got.push(job.id.0);
                }
                got
            })
        })
        .collect();
    let mut all: Vec<i64> = threads
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();
    all.sort_unstable();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a job was taken over twice");
    assert_eq!(all.len(), 200);
}
