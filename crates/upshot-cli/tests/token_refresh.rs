//! Two `upshot` processes find the login's access token refused at the same moment and both
//! want to refresh it, against the fake Imgur server with rotating refresh tokens: one refresh
//! reaches the server, the other process uses its tokens, and nobody is logged out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CLIENT_ID, CLIENT_SECRET, Env, approve, stderr, stdout};
use fake_imgur::{Fault, RegisteredApp, ServerConfig};
use serde_json::Value;
use std::time::Duration;

const TOKEN_PATH: &str = "/oauth2/token";

async fn run(env: &Env, args: &[&str]) -> std::process::Output {
    env.upshot_on_server().args(args).output().await.unwrap()
}

fn first_json(output: &std::process::Output) -> Value {
    serde_json::from_str(stdout(output).lines().next().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_refreshing_at_once_make_one_refresh_and_stay_logged_in() {
    let mut config = ServerConfig::default();
    config.apps.push(RegisteredApp {
        client_id: CLIENT_ID.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        callback: "upshot://oauth/callback".to_owned(),
    });
    config.token_lifetime = Duration::from_secs(3600);
    config.rotate_refresh_tokens = true;
    let env = Env {
        server: fake_imgur::start(config).await.unwrap(),
        dir: tempfile::tempdir().unwrap(),
    };
    let start = run(&env, &["login", "--json", "--client-secret", CLIENT_SECRET]).await;
    assert!(start.status.success(), "{}", stderr(&start));
    let url = first_json(&start)["url"].as_str().unwrap().to_owned();
    let callback = approve(&env.server, &url, "erin").await;
    let done = run(&env, &["login", "--callback", &callback]).await;
    assert!(done.status.success(), "{}", stderr(&done));

    // Imgur's clock passes the expiry (ours does not know): both uploads are refused with an
    // invalid token and both processes refresh. Each token request is held long enough for
    // the other process to send its own meanwhile.
    env.server
        .controls()
        .advance_clock(Duration::from_secs(2 * 3600));
    let injected = 4;
    env.server.controls().inject(
        Fault::Latency { millis: 1_500 },
        injected,
        Some(TOKEN_PATH.to_owned()),
    );
    let one = env.png("one.png", 14, 10);
    let two = env.png("two.png", 15, 10);
    let first = env
        .upshot_on_server()
        .args(["upload", "--json", one.to_str().unwrap()])
        .output();
    let second = env
        .upshot_on_server()
        .args(["upload", "--json", two.to_str().unwrap()])
        .output();
    let (first, second) = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::join!(first, second)
    })
    .await
    .expect("both uploads end");
    let (first, second) = (first.unwrap(), second.unwrap());
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(second.status.success(), "{}", stderr(&second));

    let left: u32 = env
        .server
        .controls()
        .pending_faults()
        .iter()
        .map(|rule| rule.remaining)
        .sum();
    assert_eq!(injected - left, 1, "exactly one refresh reached the server");
    let whoami = run(&env, &["whoami", "--json"]).await;
    let who = first_json(&whoami);
    assert_eq!(who["logged_in"], true, "{who}");
    assert_eq!(who["account"]["logged_out_reason"], Value::Null, "{who}");
    let uploads = env.server.controls().state().uploads;
    assert_eq!(uploads.len(), 2, "{uploads:?}");
    assert!(
        uploads
            .iter()
            .all(|upload| upload.account.as_deref() == Some("erin"))
    );
}
