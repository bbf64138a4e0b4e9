//! A job claimed ahead by one process and taken over by another is sent once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CLIENT_ID, Env, stderr};
use fake_imgur::Fault;
use std::sync::Arc;
use std::time::Duration;
use upshot_core::AppPaths;
use upshot_core::clock::SystemClock;
use upshot_core::queue::{JobState, NewJob};
use upshot_core::runner::{NoAccounts, RunnerConfig, StopWhen};
use upshot_core::service::UploadService;
use upshot_core::types::Origin;
use url::Url;

/// Regression (review of issue 12): a job claimed ahead, while the worker awaited a slow
/// answer, kept a lease that nothing renewed. Once it ran out, another process (here the real
/// `upshot queue run`) took the job over and sent it; the first worker then sent it again. The
/// job claimed ahead is now sent only if its lease is still ours.
#[tokio::test(flavor = "multi_thread")]
async fn a_job_claimed_ahead_and_taken_over_by_another_process_is_sent_once() {
    let env = Env::start().await;
    let lease = Duration::from_millis(1000);
    let paths = AppPaths {
        config_dir: env.config_dir(),
        data_dir: env.data_dir(),
    };
    let service = UploadService::open_with(
        &paths,
        Url::parse(&env.server.base_url()).unwrap(),
        CLIENT_ID,
        RunnerConfig {
            workers: 1,
            lease,
            ..RunnerConfig::default()
        },
        Arc::new(SystemClock),
        Arc::new(NoAccounts),
    )
    .unwrap();
    // The first upload's answer takes 5 s: the job claimed ahead meanwhile outlives its lease.
    env.server
        .controls()
        .inject(Fault::Latency { millis: 5000 }, 1, Some("/3/image".into()));
    let first = env.png("first.png", 30, 20);
    let second = env.png("second.png", 31, 20);
    let ids = service
        .runner()
        .enqueue(vec![
            NewJob::new(&first, Origin::Cli, CLIENT_ID),
            NewJob::new(&second, Origin::Cli, CLIENT_ID),
        ])
        .await
        .unwrap();
    let runner = service.runner().clone();
    let (_keep, shutdown) = tokio::sync::watch::channel(false);
    let stop = StopWhen::Finished(ids.clone());
    let running = tokio::spawn(async move { runner.run(stop, shutdown).await });

    // Another process, once the lease of the job claimed ahead has run out.
    tokio::time::sleep(lease * 2).await;
    let other = tokio::time::timeout(
        Duration::from_secs(60),
        env.upshot_on_server()
            .args(["queue", "run", "-j", "1"])
            .output(),
    )
    .await
    .expect("upshot queue run ended")
    .unwrap();
    assert!(other.status.success(), "{}", stderr(&other));

    tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the first worker finished")
        .unwrap()
        .unwrap();
    for id in &ids {
        let job = service.job(*id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Done, "{job:?}");
    }
    let uploads = env.server.controls().state().uploads;
    assert_eq!(uploads.len(), 2, "each job sent once: {uploads:?}");
}
