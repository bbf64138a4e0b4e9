//! A store fault mid-upload (defect 6 of issue 12): the database fills up while Imgur is
//! storing an upload. Nothing is lost, the fault shows in `upshot queue list` run by another
//! process, and the workers carry on once space is freed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CLIENT_ID, Env, sha256_hex, stdout};
use fake_imgur::Fault;
use serde_json::Value;
use std::time::{Duration, Instant};
use upshot_core::AppPaths;
use upshot_core::events::QueueEvent;
use upshot_core::queue::{JobState, NewJob};
use upshot_core::runner::{RunnerConfig, StopWhen};
use upshot_core::service::UploadService;
use upshot_core::types::Origin;
use url::Url;

/// `upshot queue list --json` in its own process: its JSON lines.
async fn queue_list(env: &Env) -> Vec<Value> {
    let output = env
        .upshot_on_server()
        .args(["queue", "list", "--json"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    stdout(&output)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn fault_code(lines: &[Value]) -> Option<String> {
    lines
        .iter()
        .find_map(|line| line.get("worker_fault"))
        .map(|fault| fault["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_that_fills_up_mid_upload_loses_nothing_and_the_fault_shows_in_queue_list() {
    let env = Env::start().await;
    let paths = AppPaths {
        config_dir: env.config_dir(),
        data_dir: env.data_dir(),
    };
    let service = UploadService::open(
        &paths,
        Url::parse(&env.server.base_url()).unwrap(),
        CLIENT_ID,
        RunnerConfig {
            // Two workers, as the app runs: the idle one must not clear the other's fault.
            workers: 2,
            ..RunnerConfig::default()
        },
    )
    .unwrap();
    let first = env.png("first.png", 40, 30);
    let second = env.png("second.png", 41, 30);
    // Imgur stores the first upload and answers 6 s later: the disk fills meanwhile (well
    // within that time, even on a loaded machine).
    env.server
        .controls()
        .inject(Fault::Latency { millis: 6000 }, 1, Some("/3/image".into()));
    let ids = service
        .runner()
        .enqueue(vec![
            NewJob::new(&first, Origin::Cli, CLIENT_ID),
            NewJob::new(&second, Origin::Cli, CLIENT_ID),
        ])
        .await
        .unwrap();
    let mut events = service.runner().subscribe();
    let runner = service.runner().clone();
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let stop = StopWhen::Finished(ids.clone());
    let running = tokio::spawn(async move { runner.run(stop, shutdown).await });
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Ok(QueueEvent::Progress { job, sent, total }) = events.recv().await
                && job == ids[0]
                && sent == total
            {
                break;
            }
        }
    })
    .await
    .expect("the first body was sent");

    // The disk fills up: the file may not grow, and the free room in its pages is taken.
    let db = service.database().clone();
    db.limit_pages(Some(1));
    let filler = db.connect().unwrap();
    for hex_bytes in [1500, 500, 150, 50, 10, 1] {
        loop {
            let inserted = filler.execute(
                &format!(
                    "INSERT INTO history (imgur_id, link, mime_type, size, origin, api_base, \
                     uploaded_at, title) VALUES ('filler', 'f', 'f', 0, 'cli', 'f', 0, \
                     hex(randomblob({hex_bytes})))"
                ),
                (),
            );
            match inserted {
                Ok(_) => {}
                Err(error) => {
                    assert!(error.to_string().contains("full"), "{error}");
                    break;
                }
            }
        }
    }

    // Another process sees the fault while the answer waits to be written.
    let started = Instant::now();
    let listed = loop {
        let listed = queue_list(&env).await;
        if fault_code(&listed).is_some() {
            break listed;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no worker fault listed: {listed:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(fault_code(&listed).as_deref(), Some("disk_full"));
    // It stays listed while it lasts (regression: the idle worker's next look, a read that a
    // full disk still answers, cleared the other worker's fault, so it flickered).
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let again = queue_list(&env).await;
        assert_eq!(
            fault_code(&again).as_deref(),
            Some("disk_full"),
            "the fault went while the disk was still full: {again:?}"
        );
    }
    let first_job = listed
        .iter()
        .find(|line| line["id"] == ids[0].0)
        .expect("the first job is still listed");
    assert_eq!(first_job["state"], "uploading", "{first_job}");
    assert!(!running.is_finished(), "the workers did not die");

    // Space is freed: the answer is written, and the workers carry on with the next job.
    db.limit_pages(None);
    filler
        .execute("DELETE FROM history WHERE imgur_id = 'filler'", ())
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the workers finished within 30 s of the fault clearing")
        .unwrap()
        .unwrap();

    let state = env.server.controls().state();
    assert_eq!(state.uploads.len(), 2, "each file sent once");
    for (id, file) in ids.iter().zip([&first, &second]) {
        let job = service.job(*id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Done, "{job:?}");
        let entry = service
            .history_entry(job.history_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        let upload = state
            .uploads
            .iter()
            .find(|upload| upload.sha256 == sha256_hex(file))
            .unwrap();
        assert_eq!(entry.imgur_id, upload.id);
        assert_eq!(
            entry.deletehash.as_deref(),
            Some(upload.deletehash.as_str()),
            "the deletehash was kept through the fault"
        );
    }
    assert_eq!(
        fault_code(&queue_list(&env).await),
        None,
        "the fault is over"
    );
}
