//! The persistent queue end to end: the real `upshot` binary killed mid-batch and restarted,
//! two processes sharing one database, and the queue, history, delete and quota commands.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, json_lines, sha256_hex, stderr, stdout};
use fake_imgur::Fault;
use serde_json::Value;
use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How many times each file's bytes reached the server.
fn arrivals(env: &Env, files: &[std::path::PathBuf]) -> Vec<usize> {
    let state = env.server.controls().state();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for upload in &state.uploads {
        *counts.entry(upload.sha256.clone()).or_default() += 1;
    }
    files
        .iter()
        .map(|file| counts.get(&sha256_hex(file)).copied().unwrap_or(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_killed_with_sigkill_finishes_after_a_restart_with_at_most_one_duplicate_per_worker()
 {
    let env = Env::start().await;
    let files: Vec<_> = (0..12)
        .map(|i| env.png(&format!("crash-{i:02}.png"), 30 + i, 20))
        .collect();
    // Each answer comes 300 ms after the upload is stored: a kill then lands between the server
    // keeping a file and the client hearing about it, the worst moment.
    env.server.controls().inject(
        Fault::Latency { millis: 300 },
        1000,
        Some("/3/image".into()),
    );

    let mut child = env
        .upshot_on_server()
        .args(["upload", "--jobs", "2"])
        .args(&files)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while env.server.controls().state().uploads.len() < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "uploads did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    child.wait().await.unwrap();
    let before_restart = env.server.controls().state().uploads.len();
    assert!(
        before_restart < files.len(),
        "the kill came part-way through the batch"
    );

    env.server.controls().clear_faults();
    // The killed process's jobs are still `uploading` under its lease; the restart sees that
    // process is gone and takes them over at once rather than after the 60 s lease.
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        env.upshot_on_server().args(["queue", "run"]).output(),
    )
    .await
    .expect("the queue empties")
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    let counts = arrivals(&env, &files);
    assert!(
        counts.iter().all(|count| *count >= 1),
        "every file arrived: {counts:?}"
    );
    let duplicates: usize = counts.iter().map(|count| count - 1).sum();
    assert!(
        duplicates <= 2,
        "at most one duplicate per in-flight job (2 workers): {counts:?}"
    );

    let listed = env
        .upshot_on_server()
        .args(["queue", "list", "--all", "--json"])
        .output()
        .await
        .unwrap();
    let jobs = json_lines(&stdout(&listed));
    assert_eq!(jobs.len(), files.len());
    assert!(jobs.iter().all(|job| job["state"] == "done"), "{jobs:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_sharing_the_database_never_upload_a_job_twice() {
    let env = Env::start().await;
    let files: Vec<_> = (0..30)
        .map(|i| env.png(&format!("shared-{i:02}.png"), 10 + i, 10))
        .collect();
    assert!(
        env.upshot_on_server()
            .args(["queue", "pause"])
            .status()
            .await
            .unwrap()
            .success()
    );
    let queued = env
        .upshot_on_server()
        .args(["upload", "--no-wait", "--json"])
        .args(&files)
        .output()
        .await
        .unwrap();
    let lines = json_lines(&stdout(&queued));
    assert!(
        lines.iter().all(|line| line["status"] == "queued"),
        "{lines:?}"
    );
    assert!(
        env.server.controls().state().uploads.is_empty(),
        "paused: nothing sent"
    );
    assert!(
        env.upshot_on_server()
            .args(["queue", "resume"])
            .status()
            .await
            .unwrap()
            .success()
    );

    env.server
        .controls()
        .inject(Fault::Latency { millis: 20 }, 1000, Some("/3/image".into()));
    let first = env
        .upshot_on_server()
        .args(["queue", "run", "--jobs", "3"])
        .output();
    let second = env
        .upshot_on_server()
        .args(["queue", "run", "--jobs", "3"])
        .output();
    let (first, second) = tokio::join!(first, second);
    assert!(first.unwrap().status.success());
    assert!(second.unwrap().status.success());

    let counts = arrivals(&env, &files);
    assert_eq!(
        counts,
        vec![1; files.len()],
        "each job uploaded exactly once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_wait_reports_a_rate_limited_file_as_deferred_with_when_and_keeps_it() {
    let env = Env::start().await;
    let file = env.png("later.png", 8, 8);
    env.server.controls().inject(
        Fault::UploadTooFast { minutes: 9 },
        1,
        Some("/3/image".into()),
    );
    let output = env
        .upshot_on_server()
        .args(["upload", "--no-wait", "--json"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "waiting is not failing: {}",
        stderr(&output)
    );
    let line = &json_lines(&stdout(&output))[0];
    assert_eq!(line["status"], "deferred", "{line}");
    assert_eq!(line["reason"], "rate_limited");
    let until = line["until"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        until >= now + 8 * 60_000,
        "waits the minutes Imgur said: {until} vs {now}"
    );

    let quota = env
        .upshot_on_server()
        .args(["quota", "--json", "--local"])
        .output()
        .await
        .unwrap();
    let quota: Value = serde_json::from_str(stdout(&quota).trim()).unwrap();
    assert!(
        quota["governor"]["rate_limited_until"].as_i64().is_some(),
        "{quota}"
    );

    let listed = env
        .upshot_on_server()
        .args(["queue", "list"])
        .output()
        .await
        .unwrap();
    let text = stdout(&listed);
    assert!(
        text.contains("deferred") && text.contains("rate_limited"),
        "{text}"
    );
    assert!(text.contains("UTC"), "says until when: {text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn passing_failures_are_retried_and_permanent_ones_fail_with_their_reason() {
    let env = Env::start().await;
    let flaky = env.png("flaky.png", 9, 9);
    env.server.controls().inject(
        Fault::ServerError { status: 503 },
        1,
        Some("/3/image".into()),
    );
    let output = env
        .upshot_on_server()
        .args(["upload", "--json"])
        .arg(&flaky)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(json_lines(&stdout(&output))[0]["status"], "uploaded");
    assert_eq!(arrivals(&env, std::slice::from_ref(&flaky)), vec![1]);

    let refused = env.png("refused.png", 9, 10);
    env.server
        .controls()
        .inject(Fault::PayloadTooLarge, 1, Some("/3/image".into()));
    let output = env
        .upshot_on_server()
        .args(["upload", "--json"])
        .arg(&refused)
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let line = &json_lines(&stdout(&output))[0];
    assert_eq!(line["status"], "failed");
    assert_eq!(line["error"]["kind"], "permanent");
    assert_eq!(line["error"]["code"], "imgur_refused", "{line}");
    assert!(
        line["error"]["message"].as_str().unwrap().contains("413"),
        "{line}"
    );

    // Still listed with its reason, and can be retried.
    let listed = env
        .upshot_on_server()
        .args(["queue", "list", "--json"])
        .output()
        .await
        .unwrap();
    let jobs = json_lines(&stdout(&listed));
    let failed = jobs.iter().find(|job| job["state"] == "failed").unwrap();
    assert_eq!(failed["error_code"], "imgur_refused", "{failed}");
    assert_eq!(failed["error_kind"], "permanent", "{failed}");
    let id = failed["id"].as_i64().unwrap();
    assert!(
        env.upshot_on_server()
            .args(["queue", "retry", &id.to_string()])
            .status()
            .await
            .unwrap()
            .success()
    );
    let output = env
        .upshot_on_server()
        .args(["queue", "run"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    assert_eq!(arrivals(&env, std::slice::from_ref(&refused)), vec![1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn history_lists_searches_exports_and_delete_removes_from_imgur() {
    let env = Env::start().await;
    let holiday = env.png("holiday-beach.png", 11, 11);
    let work = env.png("work-chart.png", 12, 12);
    let output = env
        .upshot_on_server()
        .args(["upload", "--title", "Summer"])
        .arg(&holiday)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        env.upshot_on_server()
            .arg("upload")
            .arg(&work)
            .status()
            .await
            .unwrap()
            .success()
    );

    let listed = env
        .upshot_on_server()
        .args(["history", "list", "--json"])
        .output()
        .await
        .unwrap();
    let entries = json_lines(&stdout(&listed));
    assert_eq!(entries.len(), 2);
    assert!(
        entries[0]["source_path"]
            .as_str()
            .unwrap()
            .ends_with("work-chart.png"),
        "newest first"
    );

    let found = env
        .upshot_on_server()
        .args(["history", "search", "BEACH", "--json"])
        .output()
        .await
        .unwrap();
    let found = json_lines(&stdout(&found));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["title"], "Summer");

    let csv_path = env.dir.path().join("history.csv");
    let exported = env
        .upshot_on_server()
        .args(["history", "export", "--csv", "--output"])
        .arg(&csv_path)
        .status()
        .await
        .unwrap();
    assert!(exported.success());
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(csv.lines().count(), 3, "a header and two rows: {csv}");
    let json = env
        .upshot_on_server()
        .args(["history", "export"])
        .output()
        .await
        .unwrap();
    let exported: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(exported.as_array().map(Vec::len), Some(2));

    let deleted = env
        .upshot_on_server()
        .args(["delete", "--last", "--json"])
        .output()
        .await
        .unwrap();
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    let deleted: Value = serde_json::from_str(stdout(&deleted).trim()).unwrap();
    assert!(deleted["deleted_at"].as_i64().is_some());
    let id = deleted["imgur_id"].as_str().unwrap();
    let state = env.server.controls().state();
    assert!(
        state.uploads.iter().find(|u| u.id == id).unwrap().deleted,
        "gone from Imgur"
    );

    let by_id = env
        .upshot_on_server()
        .args(["delete", entries[1]["imgur_id"].as_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(by_id.status.success(), "{}", stderr(&by_id));
    assert!(
        env.server
            .controls()
            .state()
            .uploads
            .iter()
            .all(|u| u.deleted)
    );

    let missing = env
        .upshot_on_server()
        .args(["delete", "nosuchid"])
        .output()
        .await
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("upshot history list"));
}

#[tokio::test(flavor = "multi_thread")]
async fn quota_shows_the_governor_and_the_server() {
    let env = Env::start().await;
    let file = env.png("q.png", 5, 5);
    assert!(
        env.upshot_on_server()
            .arg("upload")
            .arg(&file)
            .status()
            .await
            .unwrap()
            .success()
    );
    let output = env
        .upshot_on_server()
        .args(["quota", "--json"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let quota: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(quota["server"]["ClientLimit"], 12_500);
    let remaining = quota["server"]["ClientRemaining"].as_i64().unwrap();
    assert_eq!(remaining, 12_500 - 10 - 1, "the upload and this call");
    let governor_left = quota["governor"]["credits_left_today"].as_i64().unwrap();
    assert!(
        governor_left <= remaining,
        "the governor never thinks it has more than Imgur says"
    );
    let text = env.upshot_on_server().arg("quota").output().await.unwrap();
    assert!(stdout(&text).contains("uploads left today"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_finishes_the_uploads_in_progress_and_keeps_the_rest_queued() {
    let env = Env::start().await;
    let files: Vec<_> = (0..8)
        .map(|i| env.png(&format!("int-{i}.png"), 20 + i, 20))
        .collect();
    env.server.controls().inject(
        Fault::Latency { millis: 400 },
        1000,
        Some("/3/image".into()),
    );
    let child = env
        .upshot_on_server()
        .args(["upload", "--json", "--jobs", "2"])
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while env.server.controls().state().uploads.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "uploads did not start"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success(), "a clean stop: {}", stderr(&output));

    let lines = json_lines(&stdout(&output));
    assert_eq!(lines.len(), files.len(), "every file is reported");
    let uploaded = lines
        .iter()
        .filter(|line| line["status"] == "uploaded")
        .count();
    let queued = lines
        .iter()
        .filter(|line| line["status"] == "queued")
        .count();
    assert!(uploaded >= 1 && queued >= 1, "{lines:?}");
    assert_eq!(uploaded + queued, files.len());
    assert_eq!(
        env.server.controls().state().uploads.len(),
        uploaded,
        "nothing was cut off mid-upload"
    );

    env.server.controls().clear_faults();
    let output = env
        .upshot_on_server()
        .args(["queue", "run"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    assert_eq!(arrivals(&env, &files), vec![1; files.len()]);
}
