//! Two independent sessions on one data directory (as the CLI and the app are) refresh the
//! same login at the same moment, against the fake Imgur server with rotating refresh tokens:
//! one refresh reaches the server, the other session uses its result, and both stay logged in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use fake_imgur::{Fault, RunningServer};
use std::sync::Arc;
use std::time::Duration;
use upshot_core::AppPaths;
use upshot_core::clock::ManualClock;
use upshot_core::service::UploadService;

const CLIENT_ID: &str = "refresh-race-client";
const CLIENT_SECRET: &str = "refresh-race-secret-77c1";
const TOKEN_PATH: &str = "/oauth2/token";

fn open(paths: &AppPaths, server: &RunningServer, clock: Arc<ManualClock>) -> UploadService {
    common::login_service(paths, server, CLIENT_ID, CLIENT_SECRET, clock)
}

/// Approves a login on the fake authorize page as a browser would.
async fn approve(server: &RunningServer, service: &UploadService, username: &str) -> String {
    let start = service.auth().unwrap().start_login().await.unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut form: Vec<(String, String)> = start.url.query_pairs().into_owned().collect();
    form.push(("username".into(), username.into()));
    form.push(("action".into(), "allow".into()));
    let answer = browser
        .post(format!("{}/oauth2/authorize", server.base_url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    answer.headers()["location"].to_str().unwrap().to_owned()
}

/// Token requests that reached the server since `injected` latency faults were queued.
fn refreshes_seen(server: &RunningServer, injected: u32) -> u32 {
    let left: u32 = server
        .controls()
        .pending_faults()
        .iter()
        .filter(|rule| rule.path_prefix.as_deref() == Some(TOKEN_PATH))
        .map(|rule| rule.remaining)
        .sum();
    injected - left
}

#[tokio::test(flavor = "multi_thread")]
async fn two_sessions_refreshing_at_once_make_one_refresh_and_both_stay_logged_in() {
    let server = common::fake_server(CLIENT_ID, CLIENT_SECRET, |config| {
        config.token_lifetime = Duration::from_secs(3600);
        config.rotate_refresh_tokens = true;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let paths = common::app_paths(dir.path());
    let clock = common::manual_clock_now();
    // Two services, each with its own session, vault and locks: nothing shared but the disk.
    let cli = open(&paths, &server, clock.clone());
    let app = open(&paths, &server, clock.clone());
    let callback = approve(&server, &cli, "dana").await;
    cli.auth().unwrap().complete_login(&callback).await.unwrap();
    let (_, first_token) = app.auth().unwrap().bearer().await.unwrap();

    for round in 1..=2 {
        // Both near the expiry: each wants to refresh ahead. The server holds each token
        // request long enough for the other session to send its own meanwhile.
        let by = Duration::from_secs(3600 - 60);
        server.controls().advance_clock(by);
        clock.advance(by);
        let injected = 4;
        server.controls().clear_faults();
        server.controls().inject(
            Fault::Latency { millis: 1_500 },
            injected,
            Some(TOKEN_PATH.to_owned()),
        );
        let (from_cli, from_app) =
            tokio::join!(cli.auth().unwrap().bearer(), app.auth().unwrap().bearer());
        let (cli_account, cli_token) = from_cli.expect("the CLI's session stays logged in");
        let (app_account, app_token) = from_app.expect("the app's session stays logged in");
        assert_eq!(
            refreshes_seen(&server, injected),
            1,
            "round {round}: exactly one refresh reached the server"
        );
        assert_eq!(cli_token, app_token, "both use the one refreshed token");
        assert_ne!(cli_token, first_token);
        assert!(cli_account.is_active() && app_account.is_active());
        for service in [&cli, &app] {
            let account = service.auth().unwrap().account().await.unwrap().unwrap();
            assert!(account.is_active(), "{:?}", account.logged_out_reason);
        }
    }
    // Round 2 refreshed with the refresh token round 1 kept: the rotated one was kept.
}
