//! The `fake-imgur` binary: its first stdout line, serving, shutdown, persistence across a
//! restart, and flat memory during a large streamed upload.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use fake_imgur::samples;
use serde_json::Value;
use sha2::Digest as _;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CLIENT: &str = "bin-client";

struct Running {
    child: Child,
    url: String,
}

/// The binary with its test controls on, as every test here but one needs.
async fn spawn(extra: &[&str]) -> Running {
    spawn_bare(&[&["--test-controls"], extra].concat()).await
}

async fn spawn_bare(extra: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-imgur"))
        .args([
            "--port",
            "0",
            "--client-id",
            CLIENT,
            "--client-secret",
            "bin-secret",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(20),
        BufReader::new(stdout).read_line(&mut line),
    )
    .await
    .expect("the URL is printed promptly")
    .unwrap();
    let url = line.trim_end().to_owned();
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("first line is the URL, got {line:?}"));
    assert!(port.parse::<u16>().unwrap() > 0);
    assert_eq!(line, format!("{url}\n"), "exactly the URL");
    Running { child, url }
}

async fn curl(args: &[&str]) -> String {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--fail-with-body"])
        .args(args)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "curl failed: {text} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

async fn upload_file(url: &str, path: &Path) -> Value {
    let body = curl(&[
        "-H",
        &format!("Authorization: Client-ID {CLIENT}"),
        "-F",
        &format!("image=@{}", path.display()),
        &format!("{url}/3/image"),
    ])
    .await;
    serde_json::from_str(&body).unwrap()
}

fn sha256_file(path: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

async fn terminate(mut running: Running) {
    let pid = running.child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(15), running.child.wait())
        .await
        .expect("SIGTERM stops the server")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn prints_its_url_first_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(&["--json-style", "modern"]).await;
    let path = dir.path().join("a.png");
    std::fs::write(&path, samples::png(30, 20, 1)).unwrap();
    let answer = upload_file(&running.url, &path).await;
    assert_eq!(answer["status"], 200, "modern style puts status first");
    let link = answer["data"]["link"].as_str().unwrap();
    assert!(link.starts_with(&running.url));

    let state: Value =
        serde_json::from_str(&curl(&[&format!("{}/_fake/state", running.url)]).await).unwrap();
    assert_eq!(state["uploads"][0]["sha256"], sha256_file(&path));
    assert_eq!(state["clients"][CLIENT]["uploads"], 1);
    assert!(state["now"].as_u64().unwrap() > 1_600_000_000);
    terminate(running).await;
}

#[tokio::test]
async fn mismatched_credentials_are_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_fake-imgur"))
        .args([
            "--client-id",
            "a",
            "--client-id",
            "b",
            "--client-secret",
            "s",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--client-secret"));
}

#[tokio::test]
async fn state_files_and_tokens_survive_a_restart_even_after_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let data_arg = data_dir.display().to_string();
    let mut first = spawn(&["--data-dir", &data_arg]).await;
    let path = dir.path().join("keep.png");
    std::fs::write(&path, samples::png(12, 12, 4)).unwrap();
    let uploaded = upload_file(&first.url, &path).await;
    let id = uploaded["data"]["id"].as_str().unwrap().to_owned();

    let location = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{redirect_url}",
        "-d",
        &format!("client_id={CLIENT}&response_type=token&username=kim&action=allow"),
        &format!("{}/oauth2/authorize", first.url),
    ])
    .await;
    let access = location
        .split(['#', '&'])
        .find_map(|pair| pair.strip_prefix("access_token="))
        .unwrap()
        .to_owned();
    curl(&[
        "-d",
        r#"{"advance_secs": 7200}"#,
        &format!("{}/_fake/clock", first.url),
    ])
    .await;

    // No chance to save on the way out: everything acknowledged must already be on disk.
    first.child.kill().await.unwrap();
    assert!(data_dir.join("state.json").exists());

    let second = spawn(&["--data-dir", &data_arg]).await;
    let served = reqwest::get(format!("{}/{id}.png", second.url))
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(
        hex::encode(sha2::Sha256::digest(served.bytes().await.unwrap())),
        sha256_file(&path)
    );
    let me = curl(&[
        "-H",
        &format!("Authorization: Bearer {access}"),
        &format!("{}/3/account/me", second.url),
    ])
    .await;
    assert!(me.contains(r#""url":"kim""#), "{me}");
    let state: Value =
        serde_json::from_str(&curl(&[&format!("{}/_fake/state", second.url)]).await).unwrap();
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        state["now"].as_u64().unwrap() >= real_now + 7100,
        "the clock offset persists"
    );
    terminate(second).await;
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_50_mb_upload_streams_without_growing_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let running = spawn(&[]).await;
    let pid = running.child.id().unwrap();
    // Warm up the allocator and the connection machinery with a small upload first.
    let small = dir.path().join("small.mp4");
    std::fs::write(&small, samples::mp4(256 * 1024)).unwrap();
    upload_file(&running.url, &small).await;
    let before = rss_kib(pid);

    let big = dir.path().join("big.mp4");
    std::fs::write(&big, samples::mp4(50 * 1024 * 1024)).unwrap();
    let answer = upload_file(&running.url, &big).await;
    assert_eq!(answer["data"]["size"], 50 * 1024 * 1024);
    let after = rss_kib(pid);
    let growth_mib = after.saturating_sub(before) as f64 / 1024.0;
    eprintln!("server RSS before {before} KiB, after a 50 MB upload {after} KiB");
    assert!(
        growth_mib < 20.0,
        "the server grew {growth_mib:.1} MiB: it buffers uploads"
    );

    let state: Value =
        serde_json::from_str(&curl(&[&format!("{}/_fake/state", running.url)]).await).unwrap();
    assert_eq!(state["uploads"][1]["sha256"], sha256_file(&big));
    terminate(running).await;
}

/// `curl` that reports the status code after the body, whatever it is.
async fn curl_status(args: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--write-out", "\n%{http_code}"])
        .args(args)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

/// A web page can send a `text/plain` POST anywhere without a CORS preflight: without
/// `--test-controls` the control API refuses it, state included; with the flag it is served.
#[tokio::test]
async fn test_controls_are_off_unless_the_flag_turns_them_on() {
    let plain = spawn_bare(&[]).await;
    let clock = format!("{}/_fake/clock", plain.url);
    let (status, body) = curl_status(&[
        "-H",
        "Content-Type: text/plain",
        "-d",
        r#"{"advance_secs": 86400}"#,
        &clock,
    ])
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("--test-controls"),
        "the refusal says how: {body}"
    );
    let (status, _) = curl_status(&[&format!("{}/_fake/state", plain.url)]).await;
    assert_eq!(status, 403);
    let (status, _) = curl_status(&[
        "-X",
        "POST",
        "-d",
        r#"{"account": "a"}"#,
        &format!("{}/_fake/revoke", plain.url),
    ])
    .await;
    assert_eq!(status, 403);
    terminate(plain).await;

    let controlled = spawn(&[]).await;
    let clock = format!("{}/_fake/clock", controlled.url);
    let (status, body) = curl_status(&["-d", r#"{"advance_secs": 86400}"#, &clock]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = curl_status(&[
        "-H",
        "Origin: http://evil.example",
        "-H",
        "Content-Type: text/plain",
        "-d",
        r#"{"advance_secs": 86400}"#,
        &clock,
    ])
    .await;
    assert_eq!(
        status, 403,
        "a page of another origin is refused even then: {body}"
    );
    terminate(controlled).await;
}

/// A page that rebinds its own name to 127.0.0.1 sends its own name as `Host`: every route
/// refuses it, the API and the control API alike.
#[tokio::test]
async fn a_request_naming_another_host_is_refused_on_every_route() {
    let running = spawn(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.png");
    std::fs::write(&path, samples::png(4, 4, 1)).unwrap();
    let (status, body) = curl_status(&[
        "-H",
        "Host: evil.example",
        "-H",
        &format!("Authorization: Client-ID {CLIENT}"),
        "-F",
        &format!("image=@{}", path.display()),
        &format!("{}/3/image", running.url),
    ])
    .await;
    assert_eq!(status, 421, "{body}");
    assert!(body.contains("evil.example"), "{body}");
    for route in [
        "/_fake/state",
        "/3/credits",
        "/",
        "/oauth2/authorize?client_id=x",
    ] {
        let (status, body) = curl_status(&[
            "-H",
            "Host: evil.example:80",
            &format!("{}{route}", running.url),
        ])
        .await;
        assert_eq!(status, 421, "{route}: {body}");
    }
    let port = running.url.rsplit(':').next().unwrap();
    let (status, body) = curl_status(&[
        "-H",
        &format!("Host: localhost:{port}"),
        &format!("{}/_fake/state", running.url),
    ])
    .await;
    assert_eq!(status, 200, "localhost is this server too: {body}");
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        state["uploads"].as_array().unwrap().len(),
        0,
        "nothing was uploaded"
    );
    terminate(running).await;
}
