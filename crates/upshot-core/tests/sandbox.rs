//! The sandbox's server record (`server.json`): a running sandbox is joined only when the
//! recorded process is alive and the server at the recorded address proves it holds the
//! record's key; anything else (a dead process, a process that is not the sandbox, a server
//! with another key) makes this process start its own sandbox, or say clearly why it cannot.
//! The sandbox never serves the test controls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use fake_imgur::ServerConfig;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use upshot_core::paths::AppPaths;
use upshot_core::sandbox::{RECORD_FILE, Sandbox};

use common::app_paths as paths;

fn record_path(paths: &AppPaths) -> std::path::PathBuf {
    paths.sandbox_dir().join(RECORD_FILE)
}

fn read_record(paths: &AppPaths) -> Value {
    serde_json::from_str(&std::fs::read_to_string(record_path(paths)).unwrap()).unwrap()
}

fn write_record(paths: &AppPaths, url: &str, pid: u32, key: &str) {
    std::fs::create_dir_all(paths.sandbox_dir()).unwrap();
    let record = json!({ "url": url, "pid": pid, "key": key });
    std::fs::write(record_path(paths), record.to_string()).unwrap();
}

/// A server that proves `key` but is not this data directory's sandbox.
async fn decoy(key: &str) -> fake_imgur::RunningServer {
    let config = ServerConfig {
        hello_key: Some(fake_imgur::HelloKey::new(key)),
        ..ServerConfig::default()
    };
    fake_imgur::start(config).await.unwrap()
}

fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// Starting over a bad record: this process owns a new sandbox, whose own record is then
/// joinable.
async fn assert_starts_its_own(paths: &AppPaths, stale_url: &str) {
    let started = Instant::now();
    let sandbox = Sandbox::join_or_start(paths, 0).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "a bad record is given up on promptly"
    );
    assert!(sandbox.is_owned(), "the recorded server is not joined");
    assert_ne!(sandbox.api_base().as_str(), stale_url);
    let record = read_record(paths);
    assert_eq!(record["pid"], std::process::id());
    let joined = Sandbox::join_or_start(paths, 0).await.unwrap();
    assert!(!joined.is_owned(), "the new record is joinable");
    assert_eq!(joined.api_base(), sandbox.api_base());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_running_sandbox_proves_its_key_is_joined_and_serves_no_test_controls() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    let owner = Sandbox::join_or_start(&paths, 0).await.unwrap();
    assert!(owner.is_owned());
    let record = read_record(&paths);
    assert_eq!(record["key"].as_str().unwrap().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(record_path(&paths))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is readable by this user only");
    }

    let joined = Sandbox::join_or_start(&paths, 0).await.unwrap();
    assert!(!joined.is_owned());
    assert_eq!(joined.api_base(), owner.api_base());

    let http = reqwest::Client::new();
    let base = owner.api_base().as_str().trim_end_matches('/').to_owned();
    for (method, path) in [("GET", "/_fake/state"), ("POST", "/_fake/clock")] {
        let answer = http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .header("Content-Type", "text/plain")
            .body(r#"{"advance_secs": 1}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 403, "{method} {path}");
    }
    let key = record["key"].as_str().unwrap();
    let page = http
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(key));
    joined.shutdown().await;
    owner.shutdown().await;
}

#[tokio::test]
async fn a_record_of_a_dead_process_is_not_joined() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    // Even a server that would prove the key is not joined when the recorded process is gone.
    let key = "ab".repeat(32);
    let decoy = decoy(&key).await;
    write_record(&paths, &decoy.base_url(), dead_pid(), &key);
    assert_starts_its_own(&paths, &decoy.base_url()).await;
    decoy.shutdown().await;
}

#[tokio::test]
async fn a_record_naming_a_live_process_that_is_not_the_sandbox_is_not_joined() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    let mut sleeper = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    // Its address accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    write_record(&paths, &url, sleeper.id(), &"cd".repeat(32));
    assert_starts_its_own(&paths, &url).await;
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
}

#[tokio::test]
async fn a_server_that_cannot_prove_the_recorded_key_is_not_joined() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    let decoy = decoy(&"00".repeat(32)).await;
    // This very process is alive and ours; only the proof is wrong.
    write_record(
        &paths,
        &decoy.base_url(),
        std::process::id(),
        &"ef".repeat(32),
    );
    assert_starts_its_own(&paths, &decoy.base_url()).await;
    decoy.shutdown().await;
}

#[tokio::test]
async fn a_running_sandbox_that_cannot_be_joined_is_reported_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    let owner = Sandbox::join_or_start(&paths, 0).await.unwrap();
    let url = owner.api_base().to_string();
    write_record(&paths, &url, std::process::id(), &"12".repeat(32));
    let error = Sandbox::join_or_start(&paths, 0).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("already runs the sandbox"), "{message}");
    assert!(message.contains("stop it and try again"), "{message}");
    owner.shutdown().await;
}

/// Regression: the hello's answer was read whole (`Response::json`), so whatever holds a
/// recorded port could make the joining process read gigabytes. Past 4 KiB it is refused, even
/// when what came first is a correct proof.
#[tokio::test]
async fn a_hello_answer_past_its_bound_is_not_read_and_not_joined() {
    use axum::extract::Query;
    use std::collections::HashMap;
    let key = "ab".repeat(32);
    let answering_key = key.clone();
    let app = axum::Router::new().route(
        "/_sandbox/hello",
        axum::routing::get(move |Query(query): Query<HashMap<String, String>>| {
            let key = answering_key.clone();
            async move {
                let nonce = query.get("nonce").cloned().unwrap_or_default();
                let proof = fake_imgur::hello_proof(&key, &nonce);
                // A correct proof followed by 1 MiB of JSON whitespace.
                format!("{{\"proof\":\"{proof}\"}}{}", " ".repeat(1 << 20))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path());
    write_record(&paths, &url, std::process::id(), &key);
    assert_starts_its_own(&paths, &url).await;
    server.abort();
}
