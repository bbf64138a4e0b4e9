//! Shutdown that waits: Ctrl-C while an upload's body is on the wire and the server holds its
//! answer. The real `upshot` binary stops taking work, waits for that answer (bounded by the
//! answer deadline), records it, and exits cleanly; a job it had not started stays queued.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, json_lines, sha256_hex, stderr, stdout};
use fake_imgur::Fault;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_an_answer_is_held_records_it_and_leaves_the_unstarted_job_queued() {
    let env = Env::start().await;
    let first = env.png("held-answer.png", 24, 20);
    let second = env.png("not-started.png", 26, 20);
    // The first upload's request reaches the server, which then holds it for 3 s before it
    // answers: long enough for the signal to land while the client waits for that answer.
    env.server
        .controls()
        .inject(Fault::Latency { millis: 3_000 }, 1, Some("/3/image".into()));
    let child = env
        .upshot_on_server()
        .args(["upload", "--json", "--jobs", "1"])
        .args([&first, &second])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The fault is taken when the request arrives: from then on its answer is held.
    let started = Instant::now();
    while !env.server.controls().pending_faults().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the upload did not reach the server"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A few hundred bytes: the body is handed over right after the headers.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        env.server.controls().state().uploads.is_empty(),
        "the answer is still held when the signal lands"
    );
    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("upshot exits once the held answer came")
        .unwrap();
    assert!(
        output.status.success(),
        "a clean stop exits 0: {}",
        stderr(&output)
    );

    // The held upload got its answer and was recorded; the server has it exactly once.
    let lines = json_lines(&stdout(&output));
    assert_eq!(lines.len(), 2, "{lines:?}");
    let status_of = |name: &str| {
        lines
            .iter()
            .find(|line| line["file"].as_str().unwrap_or_default().ends_with(name))
            .map(|line| line["status"].clone())
    };
    assert_eq!(
        status_of("held-answer.png"),
        Some("uploaded".into()),
        "{lines:?}"
    );
    assert_eq!(
        status_of("not-started.png"),
        Some("queued".into()),
        "{lines:?}"
    );
    let state = env.server.controls().state();
    assert_eq!(state.uploads.len(), 1, "nothing else was sent");
    assert_eq!(state.uploads[0].sha256, sha256_hex(&first));
    let history = env
        .upshot_on_server()
        .args(["history", "list", "--json"])
        .output()
        .await
        .unwrap();
    let entries = json_lines(&stdout(&history));
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(
        entries[0]["source_path"]
            .as_str()
            .unwrap()
            .ends_with("held-answer.png")
    );

    // The job it had not started is queued, not stuck under a lease: the next run sends it.
    let listed = env
        .upshot_on_server()
        .args(["queue", "list", "--json"])
        .output()
        .await
        .unwrap();
    let jobs = json_lines(&stdout(&listed));
    let waiting: Vec<_> = jobs.iter().filter(|job| job["state"] == "queued").collect();
    assert_eq!(waiting.len(), 1, "{jobs:?}");
    let output = env
        .upshot_on_server()
        .args(["queue", "run"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let state = env.server.controls().state();
    assert_eq!(state.uploads.len(), 2);
    assert_eq!(state.uploads[1].sha256, sha256_hex(&second));
}
