//! Pruning (defect 12 of issue 12): finished jobs past their retention go (their history
//! stays), fitted copies go when their job ends, a spooled clipboard image or screenshot stays
//! while its job may still need it, and a refused spool orphan is reported once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use fake_imgur::RunningServer;
use std::sync::Arc;
use std::time::Duration;
use upshot_core::clock::SystemClock;
use upshot_core::history::History;
use upshot_core::queue::{JobFailure, JobQueue, JobState, LeaseCheck, NewJob};
use upshot_core::runner::{NoAccounts, RunnerConfig, StopWhen};
use upshot_core::service::UploadService;
use upshot_core::spool::Spool;
use upshot_core::store::Database;
use upshot_core::types::Origin;
use upshot_core::types::UnixMillis;
use upshot_imgur::ErrorKind;

const CLIENT_ID: &str = "upkeep-test";
const DAY: i64 = 86_400_000;

struct World {
    _server: RunningServer,
    dir: tempfile::TempDir,
    service: UploadService,
}

impl World {
    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }
}

async fn world() -> World {
    let server = common::fake_server(CLIENT_ID, "upkeep-secret", |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let service = UploadService::open_with(
        &common::app_paths(dir.path()),
        common::base_url(&server),
        CLIENT_ID,
        RunnerConfig {
            workers: 1,
            job_retention: Some(Duration::from_secs(30 * 86_400)),
            ..RunnerConfig::default()
        },
        Arc::new(SystemClock),
        Arc::new(NoAccounts),
    )
    .unwrap();
    World {
        _server: server,
        dir,
        service,
    }
}

use common::history_entry as entry;

/// A failure as the runner records it: a kind, a code from docs/ERROR_CODES.md, words.
fn failure(kind: ErrorKind, message: &str) -> JobFailure<'_> {
    let code = match kind {
        ErrorKind::Permanent => "imgur_refused",
        ErrorKind::Reauth => "imgur_login_expired",
        ErrorKind::RateLimited => "imgur_rate_limited",
        ErrorKind::RetryLater => "imgur_unavailable",
    };
    JobFailure {
        kind,
        code,
        message,
    }
}

async fn run_empty(world: &World) {
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::time::timeout(
        Duration::from_secs(30),
        world.service.runner().run(StopWhen::Empty, shutdown),
    )
    .await
    .expect("the workers stopped within 30 s")
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_jobs_past_their_retention_are_pruned_but_the_history_and_the_users_only_copies_stay()
 {
    let world = world().await;
    let data = world.data();
    let spool = Spool::new(&data);
    let prepared = Spool::prepared(&data);
    let db = Database::open_in(&data).unwrap();
    let conn = db.connect().unwrap();
    let queue = JobQueue::new(&conn);
    let now = UnixMillis::from_system_time(std::time::SystemTime::now()).as_millis();
    let old = now - 40 * DAY;

    let finish = |job: NewJob, at: i64, how: &str| {
        let id = queue.enqueue(&job, at).unwrap();
        queue
            .claim("pid1-test-w0", at, 60_000, &[])
            .unwrap()
            .unwrap();
        match how {
            "done" => {
                queue
                    .complete(id, "pid1-test-w0", at, &entry(&format!("img{}", id.0), at))
                    .unwrap();
            }
            "failed" => {
                let check = queue
                    .fail(
                        id,
                        "pid1-test-w0",
                        at,
                        failure(ErrorKind::Permanent, "refused"),
                    )
                    .unwrap();
                assert_eq!(check, LeaseCheck::Held);
            }
            _ => {
                queue.cancel(id, at).unwrap();
            }
        }
        id
    };
    let file = |name: &str| NewJob::new(format!("/pictures/{name}.png"), Origin::Cli, CLIENT_ID);
    let spooled = |bytes: &[u8]| {
        let path = spool.store(bytes, "png").unwrap();
        let mut job = NewJob::new(&path, Origin::Clipboard, CLIENT_ID);
        job.spooled = true;
        (job, path)
    };

    let old_done = finish(file("old-done"), old, "done");
    let fitted = prepared.store(b"fitted copy", "jpg").unwrap();
    let mut with_copy = file("old-failed");
    with_copy.upload_path = Some(fitted.clone());
    let old_failed = finish(with_copy, old, "failed");
    let (job, cancelled_clip) = spooled(b"cancelled clipboard image");
    let old_cancelled = finish(job, old, "cancelled");
    let (job, failed_clip) = spooled(b"failed screenshot");
    let old_failed_clip = finish(job, old, "failed");
    let recent_done = finish(file("recent-done"), now, "done");
    assert_eq!(
        queue.get(old_cancelled).unwrap().unwrap().state,
        JobState::Cancelled
    );

    run_empty(&world).await;

    for gone in [old_done, old_failed, old_cancelled] {
        assert!(queue.get(gone).unwrap().is_none(), "job {gone} pruned");
    }
    for kept in [old_failed_clip, recent_done] {
        assert!(queue.get(kept).unwrap().is_some(), "job {kept} kept");
    }
    assert_eq!(
        History::new(&conn).list(10, 0).unwrap().len(),
        2,
        "the history stays"
    );
    assert!(!fitted.exists(), "the pruned job's fitted copy is removed");
    assert!(
        !cancelled_clip.exists(),
        "a cancelled clipboard image goes with its pruned job"
    );
    assert!(
        failed_clip.exists(),
        "a failed screenshot is the user's only copy: kept with its job"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fitted_copy_is_removed_when_its_job_fails_or_is_cancelled() {
    let world = world().await;
    let prepared = Spool::prepared(&world.data());
    let source = world.dir.path().join("original.png");
    std::fs::write(&source, fake_imgur::samples::png(20, 20, 1)).unwrap();

    // A copy that cannot be sent: the job fails before any request.
    let broken = prepared.store(b"not a picture", "jpg").unwrap();
    let mut failing = NewJob::new(&source, Origin::Cli, CLIENT_ID);
    failing.upload_path = Some(broken.clone());
    let failed = world.service.runner().enqueue(vec![failing]).await.unwrap()[0];
    run_empty(&world).await;
    assert_eq!(
        world.service.job(failed).await.unwrap().unwrap().state,
        JobState::Failed
    );
    assert!(!broken.exists(), "removed when its job failed");

    world.service.pause().await.unwrap();
    let copy = prepared.store(b"another copy", "jpg").unwrap();
    let mut cancelled = NewJob::new(&source, Origin::Cli, CLIENT_ID);
    cancelled.upload_path = Some(copy.clone());
    let cancelled = world
        .service
        .runner()
        .enqueue(vec![cancelled])
        .await
        .unwrap()[0];
    world.service.cancel(cancelled).await.unwrap();
    assert!(!copy.exists(), "removed when its job was cancelled");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_spool_orphan_is_kept_and_reported_once() {
    let world = world().await;
    let data = world.data();
    let orphan = Spool::new(&data)
        .store(b"plain text, not a picture", "png")
        .unwrap();

    assert_eq!(world.service.recover_spool().await.unwrap(), 0);
    assert!(orphan.exists(), "the user's only copy is kept");
    let db = Database::open_in(&data).unwrap();
    let conn = db.connect().unwrap();
    let refused = JobQueue::new(&conn).spool_refused().unwrap();
    assert!(
        refused.contains(&orphan),
        "recorded as reported: {refused:?}"
    );

    assert_eq!(world.service.recover_spool().await.unwrap(), 0);
    assert!(
        world
            .service
            .jobs(Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(JobQueue::new(&conn).spool_refused().unwrap().len(), 1);

    // Once the user removes it, it is forgotten.
    std::fs::remove_file(&orphan).unwrap();
    world.service.recover_spool().await.unwrap();
    assert!(JobQueue::new(&conn).spool_refused().unwrap().is_empty());
}

/// A fitted copy removed when its job was cancelled is made again by a retry, and the retried
/// job sends it.
#[tokio::test(flavor = "multi_thread")]
async fn a_retried_job_gets_its_fitted_copy_made_again() {
    use image::{DynamicImage, ImageFormat, RgbImage};
    let world = world().await;
    let mut settings = world.service.preflight_settings();
    settings.fit_files = true;
    settings.limits.max_image_bytes = 150_000;
    world.service.set_preflight_settings(settings);
    let mut seed = 0x2468_1357u32;
    let noisy = RgbImage::from_fn(600, 400, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
    });
    let source = world.dir.path().join("large.png");
    DynamicImage::ImageRgb8(noisy)
        .save_with_format(&source, ImageFormat::Png)
        .unwrap();
    assert!(std::fs::metadata(&source).unwrap().len() > 150_000);

    world.service.pause().await.unwrap();
    let outcomes = world
        .service
        .enqueue_files(
            &[upshot_core::service::FileUpload {
                path: source.clone(),
                ..Default::default()
            }],
            Origin::Drop,
        )
        .await
        .unwrap();
    let id = outcomes[0]
        .1
        .queued()
        .unwrap_or_else(|| panic!("{outcomes:?}"));
    let first_copy = world
        .service
        .job(id)
        .await
        .unwrap()
        .unwrap()
        .upload_path
        .expect("fitted");
    assert!(first_copy.exists());

    world.service.cancel(id).await.unwrap();
    assert!(!first_copy.exists(), "removed with its cancelled job");

    let retried = world.service.retry(id).await.unwrap();
    let second_copy = retried.upload_path.expect("fitted again");
    assert!(second_copy.exists(), "made again for the retry");
    world.service.resume().await.unwrap();
    run_empty(&world).await;
    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done, "{job:?}");
    assert!(!second_copy.exists(), "removed after the upload");
}

/// An upload keeps standing in for its content after its job is pruned: the same content is
/// reported as a duplicate with the original link and history entry (no job to show), by the
/// service's planning and by the queue's own check, until the upload is marked deleted.
#[tokio::test(flavor = "multi_thread")]
async fn content_uploaded_by_a_pruned_job_is_a_duplicate_until_its_upload_is_deleted() {
    use upshot_core::service::{Enqueued, FileUpload};
    let world = world().await;
    let original = world.dir.path().join("original.png");
    let bytes = fake_imgur::samples::png(24, 24, 7);
    std::fs::write(&original, &bytes).unwrap();
    let copy = world.dir.path().join("copy under another name.png");
    std::fs::write(&copy, &bytes).unwrap();
    let upload = |path: &std::path::Path| FileUpload {
        path: path.to_path_buf(),
        ..FileUpload::default()
    };

    let outcomes = world
        .service
        .enqueue_files(&[upload(&original)], Origin::Cli)
        .await
        .unwrap();
    let id = outcomes[0]
        .1
        .queued()
        .unwrap_or_else(|| panic!("{outcomes:?}"));
    run_empty(&world).await;
    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done, "{job:?}");
    let history = job.history_id.expect("uploaded");
    let entry = world.service.history_entry(history).await.unwrap().unwrap();

    // Its retention passes: the job is pruned, the history stays.
    let db = Database::open_in(&world.data()).unwrap();
    let conn = db.connect().unwrap();
    let queue = JobQueue::new(&conn);
    let later = UnixMillis::from_system_time(std::time::SystemTime::now()).as_millis() + 31 * DAY;
    // A newer job, cancelled: pruning always keeps the newest row (ids are never reused).
    let newer = queue
        .enqueue(
            &NewJob::new("/pictures/newer.png", Origin::Cli, CLIENT_ID),
            later,
        )
        .unwrap();
    queue.cancel(newer, later).unwrap();
    assert_eq!(queue.prune_finished(later).unwrap().jobs, 1);
    assert!(queue.get(id).unwrap().is_none(), "job {id} pruned");

    let again = world
        .service
        .enqueue_files(&[upload(&copy)], Origin::Cli)
        .await
        .unwrap();
    assert_eq!(
        again[0].1,
        Enqueued::Duplicate {
            job: None,
            link: Some(entry.link.clone()),
            history: Some(history),
        },
        "the upload stands in for its content after its job is pruned"
    );
    // The queue's own check (inside its transaction) says the same.
    let mut new_job = NewJob::new(&copy, Origin::Cli, CLIENT_ID);
    new_job.content_hash = job.content_hash.clone();
    new_job.preflight = job.preflight.clone();
    let checked = queue
        .enqueue_unless_live(&[(new_job.clone(), false)], later)
        .unwrap();
    let Err(live) = &checked[0] else {
        panic!("queued again: {checked:?}");
    };
    assert_eq!(
        (live.job, live.link.as_deref(), live.history),
        (None, Some(entry.link.as_str()), Some(history))
    );
    // Not for another album: the same rules as while the job was there.
    let mut elsewhere = new_job.clone();
    elsewhere.album = Some("another-album".to_owned());
    assert!(
        queue
            .live_with_content(CLIENT_ID, job.content_hash.as_deref().unwrap())
            .unwrap()
            .iter()
            .all(|live| !live.stands_in_for(&elsewhere))
    );
    assert!(
        queue
            .live_with_content("another-client-id", job.content_hash.as_deref().unwrap())
            .unwrap()
            .is_empty(),
        "another Client ID's upload is no duplicate"
    );

    // Once the upload is deleted, the content is sent again.
    History::new(&conn).mark_deleted(history, later).unwrap();
    let after_delete = world
        .service
        .enqueue_files(&[upload(&copy)], Origin::Cli)
        .await
        .unwrap();
    assert!(
        after_delete[0].1.queued().is_some(),
        "queued again once its upload was deleted: {after_delete:?}"
    );
}

/// Regression: pruning every job (all finished and old) let SQLite hand the pruned ids out
/// again (it gives a new row the largest id plus one), so a history entry or a watched-file
/// record naming an old job pointed at an unrelated new one.
#[tokio::test(flavor = "multi_thread")]
async fn pruning_never_lets_a_job_id_be_given_out_again() {
    let world = world().await;
    let db = Database::open_in(&world.data()).unwrap();
    let conn = db.connect().unwrap();
    let queue = JobQueue::new(&conn);
    let now = UnixMillis::from_system_time(std::time::SystemTime::now()).as_millis();
    let old = now - 40 * DAY;

    let mut issued = Vec::new();
    for name in ["a", "b", "c"] {
        let job = NewJob::new(format!("/pictures/{name}.png"), Origin::Cli, CLIENT_ID);
        let id = queue.enqueue(&job, old).unwrap();
        queue.cancel(id, old).unwrap();
        issued.push(id.0);
    }
    let pruned = queue.prune_finished(now).unwrap();
    assert_eq!(pruned.jobs, 2, "all but the newest row are pruned");

    let next = NewJob::new("/pictures/new.png", Origin::Cli, CLIENT_ID);
    let id = queue.enqueue(&next, now).unwrap();
    assert!(
        issued.iter().all(|old_id| id.0 > *old_id),
        "job {} reuses one of {issued:?}",
        id.0
    );
}

/// Regression: a watched file's job whose after-upload action was still "to do" was never
/// pruned, even when it had failed or was cancelled (an action follows a confirmed upload only,
/// so it never becomes due): such jobs stayed for ever. A done job whose action is still to do
/// stays until the action is carried out.
#[tokio::test(flavor = "multi_thread")]
async fn failed_and_cancelled_watched_jobs_are_pruned_and_done_ones_wait_for_their_action() {
    let world = world().await;
    let db = Database::open_in(&world.data()).unwrap();
    let conn = db.connect().unwrap();
    let queue = JobQueue::new(&conn);
    let now = UnixMillis::from_system_time(std::time::SystemTime::now()).as_millis();
    let old = now - 40 * DAY;
    let watched = |name: &str| {
        let job = NewJob::new(format!("/watched/{name}.png"), Origin::Watch, CLIENT_ID);
        let id = queue.enqueue(&job, old).unwrap();
        conn.execute(
            "INSERT INTO watch_files (path, folder, size, mtime_ns, content_hash, job_id, \
             action_done, seen_at) VALUES (?1, '/watched', 1, 1, ?1, ?2, 0, ?3)",
            rusqlite::params![format!("/watched/{name}.png"), id.0, old],
        )
        .unwrap();
        id
    };
    let failed = watched("failed");
    queue
        .claim("pid1-test-w0", old, 60_000, &[])
        .unwrap()
        .unwrap();
    let check = queue
        .fail(
            failed,
            "pid1-test-w0",
            old,
            failure(ErrorKind::Permanent, "too large"),
        )
        .unwrap();
    assert_eq!(check, LeaseCheck::Held);
    let cancelled = watched("cancelled");
    queue.cancel(cancelled, old).unwrap();
    let done = watched("done");
    queue
        .claim("pid1-test-w0", old, 60_000, &[])
        .unwrap()
        .unwrap();
    queue
        .complete(done, "pid1-test-w0", old, &entry("imgdone", old))
        .unwrap();
    // The newest row always stays; make it an unrelated one.
    let newest = queue
        .enqueue(
            &NewJob::new("/pictures/newest.png", Origin::Cli, CLIENT_ID),
            now,
        )
        .unwrap();
    queue.cancel(newest, now).unwrap();

    assert_eq!(queue.prune_finished(now).unwrap().jobs, 2);
    assert!(
        queue.get(failed).unwrap().is_none(),
        "the failed one is pruned"
    );
    assert!(
        queue.get(cancelled).unwrap().is_none(),
        "the cancelled one is pruned"
    );
    assert!(
        queue.get(done).unwrap().is_some(),
        "a done one waits for its move or delete"
    );
}
