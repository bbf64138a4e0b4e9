//! Sandbox mode: `upshot sandbox` serves in the foreground, `--sandbox` joins it, and links keep
//! working across restarts because state and files live in the data directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, free_port, stderr, stdout};
use serde_json::Value;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use upshot_core::sandbox::SANDBOX_CLIENT_ID;

/// Starts `upshot sandbox` and returns it with the URL it printed first.
async fn start_sandbox(env: &Env, port: u16) -> (tokio::process::Child, String) {
    let mut child = env
        .upshot()
        .args(["sandbox", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .next_line()
        .await
        .unwrap()
        .expect("the URL comes first");
    (child, url)
}

async fn stop(mut child: tokio::process::Child) {
    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = child.wait().await.unwrap();
    assert!(
        status.success(),
        "the sandbox stops cleanly on SIGTERM: {status}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_joins_the_running_sandbox_and_links_survive_a_restart() {
    let env = Env::start().await;
    let port = free_port();
    let (sandbox, url) = start_sandbox(&env, port).await;
    assert_eq!(url, format!("http://127.0.0.1:{port}"));

    let file = env.png("try.png", 64, 48);
    let output = env
        .upshot()
        .args(["--sandbox", "upload", "--json"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let line: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    let link = line["link"].as_str().unwrap().to_owned();
    assert!(link.starts_with(&url), "{link} is on the running sandbox");

    // The upload is on the running sandbox, as its API reports.
    let id = link
        .rsplit('/')
        .next()
        .and_then(|name| name.split('.').next())
        .unwrap();
    let http = reqwest::Client::new();
    let image: Value = http
        .get(format!("{url}/3/image/{id}"))
        .header("Authorization", format!("Client-ID {SANDBOX_CLIENT_ID}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(image["data"]["id"], id, "{image}");
    // The sandbox serves no test controls: a web page could reach them.
    let refused = http
        .post(format!("{url}/_fake/clock"))
        .header("Content-Type", "text/plain")
        .body(r#"{"advance_secs": 86400}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let state = http.get(format!("{url}/_fake/state")).send().await.unwrap();
    assert_eq!(state.status(), 403);

    stop(sandbox).await;
    let (sandbox, _) = start_sandbox(&env, port).await;
    let served = reqwest::get(&link).await.unwrap();
    assert!(
        served.status().is_success(),
        "the link works after a restart"
    );
    assert_eq!(
        served.bytes().await.unwrap().as_ref(),
        std::fs::read(&file).unwrap().as_slice()
    );
    stop(sandbox).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sandbox_flag_works_with_no_server_running_and_no_client_id() {
    let env = Env::start().await;
    let file = env.png("alone.png", 5, 5);
    let output = env
        .upshot()
        .args(["--sandbox", "upload"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).trim().starts_with("http://127.0.0.1:"));
    assert!(
        env.data_dir().join("sandbox").is_dir(),
        "the sandbox keeps its files in the data directory"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_record_left_by_a_dead_sandbox_is_not_joined() {
    let env = Env::start().await;
    // The crashed sandbox's port is now held by something that accepts and never answers.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let squatter_url = format!("http://{}", squatter.local_addr().unwrap());
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    let dir = env.data_dir().join("sandbox");
    std::fs::create_dir_all(&dir).unwrap();
    let record =
        serde_json::json!({ "url": squatter_url, "pid": dead_pid, "key": "ab".repeat(32) });
    std::fs::write(dir.join("server.json"), record.to_string()).unwrap();

    let file = env.png("fresh.png", 5, 5);
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        env.upshot()
            .args(["--sandbox", "upload"])
            .arg(&file)
            .output(),
    )
    .await
    .expect("the stale record does not hang the upload")
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let link = stdout(&output).trim().to_owned();
    assert!(link.starts_with("http://127.0.0.1:"), "{link}");
    assert!(
        !link.starts_with(&squatter_url),
        "{link} is on a sandbox of its own"
    );
}
