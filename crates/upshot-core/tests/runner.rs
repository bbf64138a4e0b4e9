//! The workers against the fake Imgur server over real HTTP: crash recovery of logged-in
//! uploads without duplicates, and a revoked login holding jobs instead of failing them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use fake_imgur::RunningServer;
use std::sync::Arc;
use upshot_core::clock::SystemClock;
use upshot_core::queue::{JobQueue, JobState, NewJob};
use upshot_core::runner::{RunnerConfig, StaticCredentials, StopWhen};
use upshot_core::service::UploadService;
use upshot_core::store::Database;
use upshot_core::types::{Origin, WaitReason};
use upshot_imgur::{Auth, ClientConfig, ImgurClient, MediaKind, Secret, UploadRequest};
use url::Url;

const CLIENT_ID: &str = "runner-test";

/// A lease owner naming a process that cannot exist (above Linux's pid_max).
const DEAD_WORKER: &str = "pid1073741823-deadbeef-w0";

struct World {
    server: RunningServer,
    dir: tempfile::TempDir,
    credentials: Arc<StaticCredentials>,
    service: UploadService,
}

async fn world() -> World {
    world_with_clock(Arc::new(SystemClock)).await
}

async fn world_with_clock(clock: Arc<dyn upshot_core::clock::Clock>) -> World {
    world_with(
        clock,
        RunnerConfig {
            workers: 1,
            ..RunnerConfig::default()
        },
    )
    .await
}

async fn world_with(clock: Arc<dyn upshot_core::clock::Clock>, runner: RunnerConfig) -> World {
    let server = common::fake_server(CLIENT_ID, "runner-secret", |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let paths = common::app_paths(dir.path());
    let credentials = Arc::new(StaticCredentials::default());
    let service = UploadService::open_with(
        &paths,
        Url::parse(&server.base_url()).unwrap(),
        CLIENT_ID,
        runner,
        clock,
        credentials.clone(),
    )
    .unwrap();
    World {
        server,
        dir,
        credentials,
        service,
    }
}

/// Logs in through the fake authorize page as a browser would; returns the access token.
async fn login(server: &RunningServer, username: &str) -> Secret {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = http
        .post(format!("{}/oauth2/authorize", server.base_url()))
        .form(&[
            ("client_id", CLIENT_ID),
            ("response_type", "token"),
            ("state", "s"),
            ("username", username),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let fragment = location.split_once('#').unwrap().1;
    let token = url::form_urlencoded::parse(fragment.as_bytes())
        .find(|(key, _)| key == "access_token")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    Secret::new(token)
}

/// Queues one file as `account` and plays a worker that sent it and died before recording the
/// result: the job stays `uploading` under a dead process's lease, the image is on the server.
async fn upload_then_die(
    world: &World,
    account: Option<&str>,
    auth: &Auth,
) -> upshot_core::types::JobId {
    let path = world.dir.path().join("photo.png");
    std::fs::write(&path, fake_imgur::samples::png(40, 30, 7)).unwrap();
    let mut job = NewJob::new(&path, Origin::Drop, CLIENT_ID);
    job.account = account.map(str::to_owned);
    let id = world.service.runner().enqueue(vec![job]).await.unwrap()[0];

    let db = Database::open_in(&world.dir.path().join("data")).unwrap();
    let conn = db.connect().unwrap();
    let now =
        upshot_core::types::UnixMillis::from_system_time(std::time::SystemTime::now()).as_millis();
    let claimed = JobQueue::new(&conn)
        .claim(DEAD_WORKER, now, 60_000, &[])
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, id);

    let client = ImgurClient::new(ClientConfig::new(
        Url::parse(&world.server.base_url()).unwrap(),
    ))
    .unwrap();
    let mut request = UploadRequest::file(&path, MediaKind::Image, "image/png");
    request.name = Some(claimed.upload_name());
    client.upload(auth, &request, None).await.unwrap();
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_logged_in_upload_that_arrived_before_a_crash_is_not_sent_again() {
    let world = world().await;
    let token = login(&world.server, "alice").await;
    world.credentials.set("alice", Some(token.clone()));
    let id = upload_then_die(&world, Some("alice"), &Auth::bearer(token)).await;
    assert_eq!(world.server.controls().state().uploads.len(), 1);

    run_until(&world, StopWhen::Finished(vec![id])).await;

    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.attempts, 2, "the retry after the crash");
    let state = world.server.controls().state();
    assert_eq!(
        state.uploads.len(),
        1,
        "found by its marker, not uploaded twice"
    );
    let entry = world
        .service
        .history_entry(job.history_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.imgur_id, state.uploads[0].id);
    assert_eq!(entry.account.as_deref(), Some("alice"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_upload_in_flight_at_a_crash_is_sent_again_once() {
    let world = world().await;
    let id = upload_then_die(&world, None, &Auth::client_id(CLIENT_ID)).await;
    run_until(&world, StopWhen::Finished(vec![id])).await;
    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    // Anonymous uploads cannot be looked up afterwards: the documented bound is one duplicate.
    assert_eq!(world.server.controls().state().uploads.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_login_holds_the_accounts_jobs_instead_of_failing_them() {
    let world = world().await;
    world
        .credentials
        .set("bob", Some(Secret::new("not-a-valid-token")));
    let path = world.dir.path().join("held.png");
    std::fs::write(&path, fake_imgur::samples::png(10, 10, 1)).unwrap();
    let mut jobs = Vec::new();
    for _ in 0..3 {
        let mut job = NewJob::new(&path, Origin::Clipboard, CLIENT_ID);
        job.account = Some("bob".to_owned());
        jobs.push(job);
    }
    let ids = world.service.runner().enqueue(jobs).await.unwrap();
    run_until(&world, StopWhen::Settled(ids.clone())).await;
    for id in ids {
        let job = world.service.job(id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Deferred, "{job:?}");
        assert_eq!(job.wait_reason, Some(WaitReason::LogInAgain));
        assert_eq!(job.run_after, None, "until the user logs in again");
    }
    assert!(world.server.controls().state().uploads.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clipboard_image_is_spooled_before_it_is_queued_and_removed_after_upload() {
    let world = world().await;
    let bytes = fake_imgur::samples::png(64, 32, 3);
    let id = world
        .service
        .enqueue_bytes(bytes.clone(), Origin::Clipboard, Some("Pasted".into()))
        .await
        .unwrap()
        .queued()
        .unwrap();
    let job = world.service.job(id).await.unwrap().unwrap();
    assert!(job.spooled);
    let spooled = job.source_path.clone();
    assert!(
        spooled.starts_with(world.dir.path().join("data").join("spool")),
        "{spooled:?}"
    );
    assert_eq!(
        std::fs::read(&spooled).unwrap(),
        bytes,
        "on disk before any upload"
    );
    assert_eq!(job.priority, 0, "clipboard uploads are interactive");

    run_until(&world, StopWhen::Finished(vec![id])).await;
    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    assert!(
        !spooled.exists(),
        "the spooled copy goes once the upload is confirmed"
    );
    let state = world.server.controls().state();
    use sha2::Digest;
    assert_eq!(
        state.uploads[0].sha256,
        hex::encode(sha2::Sha256::digest(&bytes))
    );

    let refused = world
        .service
        .enqueue_bytes(
            b"plain text on the clipboard".to_vec(),
            Origin::Clipboard,
            None,
        )
        .await
        .unwrap();
    assert!(
        matches!(refused, upshot_core::service::Enqueued::Rejected { .. }),
        "text is refused before anything is queued"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spooled_file_a_crash_left_unqueued_is_queued_and_uploaded() {
    let world = world().await;
    let spool = upshot_core::spool::Spool::new(&world.dir.path().join("data"));
    // The crash came after the screenshot reached the disk and before it was queued.
    let orphan = spool
        .store(&fake_imgur::samples::png(20, 20, 9), "png")
        .unwrap();
    let queued_before = world.service.jobs(Default::default()).await.unwrap().len();
    assert_eq!(queued_before, 0);

    assert_eq!(world.service.recover_spool().await.unwrap(), 1);
    assert_eq!(world.service.recover_spool().await.unwrap(), 0, "only once");
    let jobs = world.service.jobs(Default::default()).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].source_path, orphan);

    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    world
        .service
        .runner()
        .run(StopWhen::Empty, shutdown)
        .await
        .unwrap();
    assert_eq!(world.server.controls().state().uploads.len(), 1);
    assert!(!orphan.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_of_any_shape_defers_the_queue_until_the_reset_and_it_resumes_then() {
    use fake_imgur::Fault;
    use std::time::Duration;
    use upshot_core::clock::{Clock, ManualClock};
    use upshot_core::types::UnixMillis;

    for fault in [
        Fault::Html429,
        Fault::Gateway429,
        Fault::UploadTooFast { minutes: 7 },
    ] {
        let clock = Arc::new(ManualClock::new(UnixMillis::from_system_time(
            std::time::SystemTime::now(),
        )));
        let world = world_with_clock(clock.clone()).await;
        let path = world.dir.path().join("limited.png");
        std::fs::write(&path, fake_imgur::samples::png(12, 12, 4)).unwrap();
        let mut ids = Vec::new();
        for origin in [Origin::Drop, Origin::Watch] {
            let job = NewJob::new(&path, origin, CLIENT_ID);
            ids.extend(world.service.runner().enqueue(vec![job]).await.unwrap());
        }
        world
            .server
            .controls()
            .inject(fault.clone(), 1, Some("/3/image".into()));

        let (_stop, shutdown) = tokio::sync::watch::channel(false);
        world
            .service
            .runner()
            .run(StopWhen::Settled(ids.clone()), shutdown.clone())
            .await
            .unwrap();
        let first = world.service.job(ids[0]).await.unwrap().unwrap();
        assert_eq!(first.state, JobState::Deferred, "{fault:?}");
        assert_eq!(
            first.wait_reason,
            Some(WaitReason::RateLimited),
            "{fault:?}"
        );
        let until = first.run_after.expect("until when");
        assert!(until > clock.now().as_millis(), "{fault:?}");
        let status = world.service.quota().await.unwrap();
        assert_eq!(
            status.rate_limited_until.map(UnixMillis::as_millis),
            Some(until)
        );
        let second = world.service.job(ids[1]).await.unwrap().unwrap();
        assert_ne!(
            second.state,
            JobState::Done,
            "the whole Client ID waits: {fault:?}"
        );
        assert!(world.server.controls().state().uploads.is_empty());

        clock.set(UnixMillis(until) + Duration::from_secs(1));
        world
            .service
            .runner()
            .run(StopWhen::Finished(ids.clone()), shutdown)
            .await
            .unwrap();
        for id in &ids {
            let job = world.service.job(*id).await.unwrap().unwrap();
            assert_eq!(
                job.state,
                JobState::Done,
                "resumed after the reset: {fault:?}"
            );
        }
        assert_eq!(world.server.controls().state().uploads.len(), 2);
    }
}

/// Runs the workers until `stop` says so.
async fn run_until(world: &World, stop: StopWhen) {
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    world.service.runner().run(stop, shutdown).await.unwrap();
}

/// Two workers that never poll: only wake-ups end an idle worker's sleep.
async fn two_workers_that_never_poll() -> World {
    world_with(
        Arc::new(SystemClock),
        RunnerConfig {
            workers: 2,
            poll_interval: std::time::Duration::from_secs(3600),
            ..RunnerConfig::default()
        },
    )
    .await
}

async fn enqueue_pngs(world: &World, count: u32, seed: u32) -> Vec<upshot_core::types::JobId> {
    let mut ids = Vec::new();
    for index in 0..count {
        let bytes = fake_imgur::samples::png(16 + index, 16 + seed % 200, (seed + index) as u8);
        let id = world
            .service
            .enqueue_bytes(bytes, Origin::Cli, None)
            .await
            .unwrap()
            .queued()
            .unwrap();
        ids.push(id);
    }
    ids
}

/// Regression: an idle worker could miss the wake-up of the job that ended its wait (it was
/// told between looking at the queue and starting to sleep) and slept a whole poll interval,
/// holding up `upshot upload` by up to a second. With an hour's poll, a missed wake-up hangs.
#[tokio::test(flavor = "multi_thread")]
async fn an_idle_worker_is_woken_when_the_last_job_finishes() {
    let world = two_workers_that_never_poll().await;
    for round in 0..40 {
        let ids = enqueue_pngs(&world, 1, round * 10).await;
        let (_stop, shutdown) = tokio::sync::watch::channel(false);
        let run = world
            .service
            .runner()
            .run(StopWhen::Finished(ids.clone()), shutdown);
        tokio::time::timeout(std::time::Duration::from_secs(30), run)
            .await
            .unwrap_or_else(|_| panic!("round {round}: a worker slept through its wake-up"))
            .unwrap();
        let job = world.service.job(ids[0]).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Done);
    }
}

/// Each worker claims its next job while Imgur answers the current one. Every job is still
/// uploaded exactly once, and a job claimed ahead by a worker told to stop is given back to the
/// queue, not left `uploading` until its lease runs out.
#[tokio::test(flavor = "multi_thread")]
async fn jobs_claimed_ahead_are_uploaded_once_or_given_back_at_a_stop() {
    let world = two_workers_that_never_poll().await;
    let ids = enqueue_pngs(&world, 30, 1000).await;
    run_until(&world, StopWhen::Finished(ids.clone())).await;
    let uploads = world.server.controls().state().uploads;
    assert_eq!(uploads.len(), 30, "each job once");
    for id in &ids {
        let job = world.service.job(*id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Done);
        assert_eq!(job.attempts, 1);
    }

    // Slow answers, so a stop lands while jobs are in flight and the next ones claimed ahead.
    world
        .server
        .controls()
        .inject(fake_imgur::Fault::Latency { millis: 300 }, 100, None);
    let ids = enqueue_pngs(&world, 10, 2000).await;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let runner = world.service.runner().clone();
    let running = tokio::spawn(async move { runner.run(StopWhen::Never, shutdown).await });
    tokio::time::sleep(std::time::Duration::from_millis(450)).await;
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let mut done = 0;
    for id in &ids {
        let job = world.service.job(*id).await.unwrap().unwrap();
        match job.state {
            JobState::Done => done += 1,
            JobState::Queued => assert_eq!(job.attempts, 0, "given back untouched"),
            other => panic!("job {id} left {other:?} after the stop"),
        }
    }
    assert!((2..10).contains(&done), "{done} done before the stop");
    assert_eq!(
        world.server.controls().state().uploads.len(),
        30 + done,
        "nothing sent that is not done"
    );
}

/// Workers whose back-off is a few milliseconds, so retries come at once.
async fn quick_retry_world() -> World {
    world_with(
        Arc::new(SystemClock),
        RunnerConfig {
            workers: 1,
            backoff_base: std::time::Duration::from_millis(10),
            backoff_cap: std::time::Duration::from_millis(50),
            ..RunnerConfig::default()
        },
    )
    .await
}

async fn enqueue_png(
    world: &World,
    name: &str,
    account: Option<&str>,
) -> upshot_core::types::JobId {
    let path = world.dir.path().join(name);
    std::fs::write(&path, fake_imgur::samples::png(40, 30, name.len() as u8)).unwrap();
    let mut job = NewJob::new(&path, Origin::Drop, CLIENT_ID);
    job.account = account.map(str::to_owned);
    world.service.runner().enqueue(vec![job]).await.unwrap()[0]
}

/// Runs the workers until `stop`, failing the test if that takes more than 30 s.
async fn run_guarded(world: &World, stop: StopWhen) {
    tokio::time::timeout(std::time::Duration::from_secs(30), run_until(world, stop))
        .await
        .expect("the workers stopped within 30 s");
}

/// Defect 4, anonymous: the body was sent and the answer was cut off (the fake server stored
/// the upload, then broke its answer). The job waits as "may already be on Imgur" and is sent
/// again at most once; when that answer is lost too, it fails with a reason instead of sending a
/// third copy.
#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_upload_whose_answer_is_lost_is_sent_again_at_most_once() {
    let world = quick_retry_world().await;
    let id = enqueue_png(&world, "lost-anon.png", None).await;
    world
        .server
        .controls()
        .inject(fake_imgur::Fault::TruncatedBody, 5, Some("/3/image".into()));

    let mut events = world.service.runner().subscribe();
    run_guarded(&world, StopWhen::Finished(vec![id])).await;

    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    let message = job.error_message.unwrap_or_default();
    assert!(message.contains("may already be on Imgur"), "{message}");
    assert_eq!(
        world.server.controls().state().uploads.len(),
        2,
        "the first send and one more, never a third"
    );
    let mut waited_as_unknown = false;
    while let Ok(event) = events.try_recv() {
        if let upshot_core::events::QueueEvent::Waiting { reason, .. } = event {
            waited_as_unknown |= reason == WaitReason::MayBeOnImgur;
        }
    }
    assert!(waited_as_unknown, "the first lost answer made the job wait");
}

/// Defect 4, logged in: a lost answer makes the job wait as "may already be on Imgur"; its
/// retry finds the upload by its marker and records it without sending it again.
#[tokio::test(flavor = "multi_thread")]
async fn a_logged_in_upload_whose_answer_is_lost_waits_then_is_found_by_its_marker() {
    let world = quick_retry_world().await;
    let token = login(&world.server, "carol").await;
    world.credentials.set("carol", Some(token));
    let id = enqueue_png(&world, "lost-login.png", Some("carol")).await;
    world
        .server
        .controls()
        .inject(fake_imgur::Fault::TruncatedBody, 1, Some("/3/image".into()));

    run_guarded(&world, StopWhen::Settled(vec![id])).await;
    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Deferred, "{job:?}");
    assert_eq!(job.wait_reason, Some(WaitReason::MayBeOnImgur));
    assert!(
        job.error_message
            .as_deref()
            .unwrap_or_default()
            .contains("may already be on Imgur"),
        "{job:?}"
    );

    run_guarded(&world, StopWhen::Finished(vec![id])).await;
    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    let state = world.server.controls().state();
    assert_eq!(
        state.uploads.len(),
        1,
        "found by its marker, not sent again"
    );
    let entry = world
        .service
        .history_entry(job.history_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.imgur_id, state.uploads[0].id);
}

/// Regression (review of defects 4 and 8): `queue retry` resets the attempts, and the marker
/// look-up was gated on them alone, so a logged-in job whose answer was lost, then cancelled
/// and retried by the user, sent a second copy to the account. The lost answer is remembered.
#[tokio::test(flavor = "multi_thread")]
async fn a_retried_job_whose_answer_was_lost_is_looked_up_before_it_is_sent_again() {
    let world = quick_retry_world().await;
    let token = login(&world.server, "erin").await;
    world.credentials.set("erin", Some(token));
    let id = enqueue_png(&world, "lost-then-retried.png", Some("erin")).await;
    world
        .server
        .controls()
        .inject(fake_imgur::Fault::TruncatedBody, 1, Some("/3/image".into()));
    run_guarded(&world, StopWhen::Settled(vec![id])).await;
    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.wait_reason, Some(WaitReason::MayBeOnImgur), "{job:?}");

    // The user gives up on it, then changes their mind.
    let db = upshot_core::store::Database::open_in(&world.dir.path().join("data")).unwrap();
    let conn = db.connect().unwrap();
    let queue = upshot_core::queue::JobQueue::new(&conn);
    queue
        .cancel(id, world.service.runner().now_millis())
        .unwrap();
    let retried = queue
        .retry(id, world.service.runner().now_millis())
        .unwrap();
    assert_eq!(retried.attempts, 0);

    run_guarded(&world, StopWhen::Finished(vec![id])).await;
    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done, "{job:?}");
    assert_eq!(
        world.server.controls().state().uploads.len(),
        1,
        "found by its marker, not sent a second time"
    );
}

/// Defect 8: when the look-up of a logged-in job's marker fails, the job is deferred; it is
/// never sent again blindly (the first attempt did reach Imgur).
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_marker_lookup_defers_the_job_instead_of_sending_it_again() {
    let world = world().await;
    let token = login(&world.server, "dave").await;
    world.credentials.set("dave", Some(token.clone()));
    let id = upload_then_die(&world, Some("dave"), &Auth::bearer(token)).await;
    world.server.controls().inject(
        fake_imgur::Fault::ServerError { status: 503 },
        10,
        Some("/3/account".into()),
    );

    run_guarded(&world, StopWhen::Settled(vec![id])).await;
    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Deferred, "{job:?}");
    assert!(
        job.error_message
            .as_deref()
            .unwrap_or_default()
            .contains("not sent again until Upshot can check"),
        "{job:?}"
    );
    assert_eq!(
        world.server.controls().state().uploads.len(),
        1,
        "not sent a second time"
    );
}

/// Defect 7: cancelling once the body is on the wire does not drop Imgur's answer: it is
/// awaited and recorded, deletehash included, so the public image is not orphaned.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_after_the_body_was_sent_still_records_imgurs_answer() {
    let world = world().await;
    let id = enqueue_png(&world, "cancel-late.png", None).await;
    // The server holds its answer for 2 s after the body arrived.
    world.server.controls().inject(
        fake_imgur::Fault::Latency { millis: 2000 },
        1,
        Some("/3/image".into()),
    );
    let mut events = world.service.runner().subscribe();
    let runner = world.service.runner().clone();
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let running =
        tokio::spawn(async move { runner.run(StopWhen::Finished(vec![id]), shutdown).await });
    common::next_event(&mut events, "the body to be sent", |event| {
        matches!(event, upshot_core::events::QueueEvent::Progress { sent, total, .. } if sent == total)
    })
    .await;
    world.service.cancel(id).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), running)
        .await
        .expect("the workers stopped within 30 s")
        .unwrap()
        .unwrap();

    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done, "it was uploaded: {job:?}");
    let state = world.server.controls().state();
    assert_eq!(state.uploads.len(), 1);
    let entry = world
        .service
        .history_entry(job.history_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.imgur_id, state.uploads[0].id);
    assert_eq!(
        entry.deletehash.as_deref(),
        Some(state.uploads[0].deletehash.as_str()),
        "the deletehash is kept"
    );
}

/// Defect 6: a database error (here another process holding the write lock past the busy
/// timeout) no longer ends a worker for good: its supervisor restarts it, and the job queued
/// meanwhile is uploaded once the database is free again.
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_that_hits_a_busy_database_is_restarted_and_carries_on() {
    let world = world_with(
        Arc::new(SystemClock),
        RunnerConfig {
            workers: 1,
            poll_interval: std::time::Duration::from_millis(100),
            ..RunnerConfig::default()
        },
    )
    .await;
    let runner = world.service.runner().clone();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { runner.run(StopWhen::Never, shutdown).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // Another process takes the write lock and queues a job in its transaction.
    let db = Database::open_in(&world.dir.path().join("data")).unwrap();
    let locker = db.connect().unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let path = world.dir.path().join("busy.png");
    std::fs::write(&path, fake_imgur::samples::png(30, 30, 5)).unwrap();
    let now =
        upshot_core::types::UnixMillis::from_system_time(std::time::SystemTime::now()).as_millis();
    let id = JobQueue::new(&locker)
        .enqueue(&NewJob::new(&path, Origin::Drop, CLIENT_ID), now)
        .unwrap();
    // Past the 5 s busy timeout: the worker's claim fails with `database_busy`.
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    assert!(
        !running.is_finished(),
        "the workers did not stop on the error"
    );
    locker.execute_batch("COMMIT").unwrap();

    let started = std::time::Instant::now();
    loop {
        let job = world.service.job(id).await.unwrap().unwrap();
        if job.state == JobState::Done {
            break;
        }
        assert!(
            !running.is_finished(),
            "the workers stopped: {:?}",
            running.await
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the job was not uploaded after the database was freed: {job:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(world.server.controls().state().uploads.len(), 1);
    assert!(
        world.service.worker_faults().await.unwrap().is_empty(),
        "the fault is cleared once the workers work again"
    );
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// A world whose client gives up on an answer 1 s after the body was sent.
async fn short_deadline_world() -> World {
    let server = common::fake_server(CLIENT_ID, "runner-secret", |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let paths = common::app_paths(dir.path());
    let credentials = Arc::new(StaticCredentials::default());
    let mut api = ClientConfig::new(Url::parse(&server.base_url()).unwrap());
    api.answer_deadline = std::time::Duration::from_secs(1);
    let service = UploadService::open_with(
        &paths,
        api,
        CLIENT_ID,
        RunnerConfig {
            workers: 1,
            ..RunnerConfig::default()
        },
        Arc::new(SystemClock),
        credentials.clone(),
    )
    .unwrap();
    World {
        server,
        dir,
        credentials,
        service,
    }
}

/// Runs the workers on `id`, cancels it once its body is all sent (the server holds its answer
/// past the client's 1 s answer deadline), and waits for the workers to stop.
async fn cancel_while_the_answer_is_held(world: &World, id: upshot_core::types::JobId) {
    world.server.controls().inject(
        fake_imgur::Fault::Latency { millis: 3000 },
        1,
        Some("/3/image".into()),
    );
    let mut events = world.service.runner().subscribe();
    let runner = world.service.runner().clone();
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let running =
        tokio::spawn(async move { runner.run(StopWhen::Finished(vec![id]), shutdown).await });
    common::next_event(&mut events, "the body to be sent", |event| {
        matches!(event, upshot_core::events::QueueEvent::Progress { sent, total, .. } if sent == total)
    })
    .await;
    world.service.cancel(id).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), running)
        .await
        .expect("the workers stopped within 30 s")
        .unwrap()
        .unwrap();
}

fn unknown_sends(world: &World, id: upshot_core::types::JobId) -> u32 {
    let db = Database::open_in(&world.dir.path().join("data")).unwrap();
    let conn = db.connect().unwrap();
    JobQueue::new(&conn).unknown_sends(id).unwrap()
}

/// Review finding: a job cancelled once its body was on the wire whose answer then never came
/// was left cancelled with nothing recorded (no unknown send, no reason, its lease still set),
/// though the image may be public on Imgur. It stays cancelled and now says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_upload_whose_answer_is_lost_says_it_may_be_on_imgur() {
    let world = short_deadline_world().await;
    let id = enqueue_png(&world, "cancel-lost.png", None).await;
    cancel_while_the_answer_is_held(&world, id).await;

    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Cancelled, "{job:?}");
    assert_eq!(job.lease_owner, None, "{job:?}");
    let message = job.error_message.clone().unwrap_or_default();
    assert!(message.contains("may already be on Imgur"), "{message}");
    assert_eq!(unknown_sends(&world, id), 1);
}

/// The same for a logged-in job: its marker is looked up once, and when it is not (yet) there
/// the reason says to check the account, and a retry looks it up before sending again.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_logged_in_upload_whose_answer_is_lost_says_to_check_the_account() {
    let world = short_deadline_world().await;
    let token = login(&world.server, "frank").await;
    world.credentials.set("frank", Some(token));
    let id = enqueue_png(&world, "cancel-lost-login.png", Some("frank")).await;
    cancel_while_the_answer_is_held(&world, id).await;

    let job = world.service.job(id).await.unwrap().unwrap();
    let message = job.error_message.clone().unwrap_or_default();
    match job.state {
        // The server stored it before the look-up: recorded as uploaded.
        JobState::Done => assert!(job.history_id.is_some()),
        JobState::Cancelled => {
            assert_eq!(job.lease_owner, None, "{job:?}");
            assert!(message.contains("may already be on Imgur"), "{message}");
            assert!(message.contains("account frank"), "{message}");
            assert_eq!(unknown_sends(&world, id), 1);
        }
        other => panic!("left {other:?}: {job:?}"),
    }
}

/// Review finding: the write of Imgur's answer was retried forever, cancellation or not, so
/// quitting with a full disk hung. Once stopping, it is tried a few more times, then parked in
/// `pending-answers/<job>.json`; the next start records it (deletehash kept) and removes it.
#[tokio::test(flavor = "multi_thread")]
async fn an_answer_that_cannot_be_written_at_a_stop_is_parked_and_recorded_at_the_next_start() {
    let world = world().await;
    let id = enqueue_png(&world, "full-disk.png", None).await;
    // Imgur stores the upload and answers 5 s later: the disk fills meanwhile.
    world.server.controls().inject(
        fake_imgur::Fault::Latency { millis: 5000 },
        1,
        Some("/3/image".into()),
    );
    let mut events = world.service.runner().subscribe();
    let runner = world.service.runner().clone();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let running =
        tokio::spawn(async move { runner.run(StopWhen::Finished(vec![id]), shutdown).await });
    common::next_event(&mut events, "the body to be sent", |event| {
        matches!(event, upshot_core::events::QueueEvent::Progress { sent, total, .. } if sent == total)
    })
    .await;

    let db = world.service.database().clone();
    db.limit_pages(Some(1));
    let filler = db.connect().unwrap();
    for hex_bytes in [1500, 500, 150, 50, 10, 1] {
        while filler
            .execute(
                &format!(
                    "INSERT INTO history (imgur_id, link, mime_type, size, origin, api_base, \
                     uploaded_at, title) VALUES ('filler', 'f', 'f', 0, 'cli', 'f', 0, \
                     hex(randomblob({hex_bytes})))"
                ),
                (),
            )
            .is_ok()
        {}
    }
    // The answer came and its write failed.
    let started = std::time::Instant::now();
    while world.service.worker_faults().await.unwrap().is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no fault recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // The user quits: the runner returns, and the answer is parked.
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), running)
        .await
        .expect("quitting did not hang on the full disk")
        .unwrap()
        .unwrap();
    let parked = world
        .dir
        .path()
        .join("data")
        .join("pending-answers")
        .join(format!("{}.json", id.0));
    assert!(parked.exists(), "the answer was parked");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&parked).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "owner-only");
    }

    // Space is freed; the next start records the parked answer.
    db.limit_pages(None);
    filler
        .execute("DELETE FROM history WHERE imgur_id = 'filler'", ())
        .unwrap();
    run_guarded(&world, StopWhen::Finished(vec![id])).await;
    let job = world.service.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done, "{job:?}");
    let state = world.server.controls().state();
    assert_eq!(state.uploads.len(), 1, "sent once");
    let entry = world
        .service
        .history_entry(job.history_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.imgur_id, state.uploads[0].id);
    assert_eq!(
        entry.deletehash.as_deref(),
        Some(state.uploads[0].deletehash.as_str())
    );
    assert!(!parked.exists(), "the parked answer was removed");
}

/// An upload's error keeps its code: a refused upload fails with Imgur's code on the job and on
/// the `Failed` event (not only its kind and words), and a passing failure's back-off records
/// its own code on the waiting job.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_or_waiting_job_keeps_its_errors_code() {
    let world = world().await;
    let refused = enqueue_png(&world, "refused.png", None).await;
    world.server.controls().inject(
        fake_imgur::Fault::PayloadTooLarge,
        1,
        Some("/3/image".into()),
    );
    let mut events = world.service.runner().subscribe();
    run_guarded(&world, StopWhen::Finished(vec![refused])).await;

    let job = world.service.job(refused).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Failed, "{job:?}");
    assert_eq!(job.error_code.as_deref(), Some("imgur_refused"), "{job:?}");
    let mut failed = None;
    while let Ok(event) = events.try_recv() {
        if let upshot_core::events::QueueEvent::Failed {
            job, kind, code, ..
        } = event
        {
            failed = Some((job, kind, code));
        }
    }
    assert_eq!(
        failed,
        Some((
            refused,
            upshot_imgur::ErrorKind::Permanent,
            "imgur_refused".to_owned()
        ))
    );

    let passing = enqueue_png(&world, "passing.png", None).await;
    world.server.controls().inject(
        fake_imgur::Fault::ServerError { status: 503 },
        1,
        Some("/3/image".into()),
    );
    run_guarded(&world, StopWhen::Settled(vec![passing])).await;
    let job = world.service.job(passing).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Deferred, "{job:?}");
    assert_eq!(
        job.error_code.as_deref(),
        Some("imgur_unavailable"),
        "{job:?}"
    );
}
