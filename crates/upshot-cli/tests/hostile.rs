//! `upshot upload --no-wait --json` (the real binary) against a hostile server on loopback:
//! redirects to another host, a 1 GiB answer, a dripping answer, a cut-off answer, unreadable
//! and 200,000-deep answers, a server that stops reading the upload. With the answer deadline
//! (and the send stall timeout) at 2 s each run ends within 30 s, with no
//! panic or crash, a `{kind, message}` on its JSON line, peak memory under 100 MB, and nothing
//! sent to the other host.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../imgur-api/tests/hostile_server/mod.rs"]
mod hostile_server;

use common::{Env, stderr, stdout};
use hostile_server::{Behaviour, Server, nested_json};
use nix::sys::resource::{UsageWho, getrusage};
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(30);

/// The highest resident set (KiB) among the children this test process has waited for.
fn children_peak_kib() -> i64 {
    getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss()
}

/// One upload of a small PNG with `--no-wait --json` against `server`; returns the JSON line.
async fn upload_against(server: &Server) -> serde_json::Value {
    let env = Env::start().await;
    let file = env.png("hostile.png", 32, 32);
    upload_file_against(server, &env, &file).await
}

/// One upload of `file` with `--no-wait --json` against `server` (the answer deadline and the
/// send stall timeout at 2 s); returns the JSON line.
async fn upload_file_against(
    server: &Server,
    env: &Env,
    file: &std::path::Path,
) -> serde_json::Value {
    let run = env
        .upshot()
        .env("UPSHOT_API_BASE", server.base_url())
        .env("UPSHOT_CLIENT_ID", "hostile-client")
        .env("UPSHOT_ANSWER_DEADLINE", "2")
        .env("UPSHOT_SEND_STALL_TIMEOUT", "2")
        .args(["upload", "--no-wait", "--json", "--anonymous"])
        .arg(file)
        .output();
    let started = std::time::Instant::now();
    let output = tokio::time::timeout(GUARD, run)
        .await
        .expect("upshot ends within 30 s")
        .unwrap();
    let (out, err) = (stdout(&output), stderr(&output));
    // Exit 101 is a Rust panic; a signal (no code) is a crash such as a stack overflow.
    assert!(
        matches!(output.status.code(), Some(code) if code != 101),
        "upshot crashed or panicked ({:?}): {err}",
        output.status
    );
    assert!(!err.contains("panicked"), "{err}");
    let line = out
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no JSON line; stderr: {err}"));
    let line: serde_json::Value = serde_json::from_str(line).unwrap();
    let peak_mib = children_peak_kib() / 1024;
    // Figures, not assertions of speed: what a reader of the test log wants to know.
    println!(
        "[hostile] upshot ended in {:.2} s ({}: {}); peak RSS of the upshot processes so far {peak_mib} MiB",
        started.elapsed().as_secs_f64(),
        line["status"],
        line["error"]["kind"]
    );
    assert!(peak_mib < 100, "upshot peaked at {peak_mib} MiB");
    line
}

/// The line says the file was not uploaded, with a `{kind, message}` that says why.
fn assert_not_uploaded<'a>(line: &'a serde_json::Value, kind: &str) -> &'a str {
    let status = line["status"].as_str().unwrap();
    assert!(
        status == "deferred" || status == "failed",
        "never reported as uploaded: {line}"
    );
    assert!(line["link"].is_null(), "{line}");
    assert_eq!(line["error"]["kind"], kind, "{line}");
    let message = line["error"]["message"].as_str().unwrap();
    assert!(!message.is_empty() && !message.contains('<'), "{line}");
    message
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_not_followed_and_reach_no_other_host() {
    for status in [302, 307] {
        let bystander = hostile_server::start_bystander().await;
        let server = hostile_server::start(Behaviour::Redirect {
            status,
            location: format!("{}/3/image", bystander.base_url()),
        })
        .await;
        let line = upload_against(&server).await;
        let message = assert_not_uploaded(&line, "retry_later");
        assert!(
            message.contains(&bystander.base_url()),
            "{status}: {message}"
        );
        assert_eq!(bystander.connection_count(), 0, "{status}: {line}");
        assert!(!server.requests().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_1_gib_answer_is_refused_with_flat_memory() {
    for behaviour in [Behaviour::HugeWithLength, Behaviour::HugeChunked] {
        let server = hostile_server::start(behaviour).await;
        let line = upload_against(&server).await;
        let message = assert_not_uploaded(&line, "retry_later");
        assert!(message.contains("larger than 1024 KiB"), "{message}");
        assert!(message.contains("may already be on Imgur"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dripping_and_cut_off_answers_end_at_the_deadline() {
    let server = hostile_server::start(Behaviour::Drip).await;
    let line = upload_against(&server).await;
    let message = assert_not_uploaded(&line, "retry_later");
    assert!(message.contains("within 2 s"), "{message}");
    assert!(message.contains("may already be on Imgur"), "{message}");

    let server = hostile_server::start(Behaviour::Truncated).await;
    let line = upload_against(&server).await;
    let message = assert_not_uploaded(&line, "retry_later");
    assert!(message.contains("cut off"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_stops_reading_the_upload_ends_the_run() {
    // 32 MiB: more than the socket buffers hold, so the body stops moving once the server
    // stops reading, before the answer deadline has started.
    let server = hostile_server::start(Behaviour::Deaf).await;
    let env = Env::start().await;
    let file = env.dir.path().join("deaf.mp4");
    std::fs::write(&file, fake_imgur::samples::mp4(32 << 20)).unwrap();
    let line = upload_file_against(&server, &env, &file).await;
    let message = assert_not_uploaded(&line, "retry_later");
    assert!(
        message.contains("Imgur stopped taking the upload after"),
        "{message}"
    );
    assert!(!message.contains("may already be on Imgur"), "{message}");
    assert_eq!(server.requests().len(), 1, "the request reached the server");
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_answers_are_clear_errors_without_a_crash() {
    let cases: [(&str, Vec<u8>); 4] = [
        (
            "unexpected data",
            br#"{"data":{"id":5,"link":["x"]},"success":true,"status":200}"#.to_vec(),
        ),
        (
            "not JSON",
            b"<html><body>Welcome to the hotel Wi-Fi</body></html>".to_vec(),
        ),
        ("it was empty", Vec::new()),
        ("nested too deeply", nested_json(200_000)),
    ];
    for (detail, body) in cases {
        let server = hostile_server::start(Behaviour::Body { status: 200, body }).await;
        let line = upload_against(&server).await;
        let message = assert_not_uploaded(&line, "retry_later");
        assert!(message.contains(detail), "{detail}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_upload_refused_for_a_token_is_reauth_about_the_client_id() {
    let server = hostile_server::start(Behaviour::Body {
        status: 403,
        body: br#"{"data":{"error":"The access token provided is invalid.","request":"\/3\/image","method":"POST"},"success":false,"status":403}"#.to_vec(),
    })
    .await;
    let line = upload_against(&server).await;
    assert_eq!(line["status"], "failed", "{line}");
    let message = assert_not_uploaded(&line, "reauth");
    assert!(message.contains("Client ID"), "{message}");
    assert!(!message.contains("Log in to Imgur again"), "{message}");
}
