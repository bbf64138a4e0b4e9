//! What a web page, or another program on the machine, can get from a running fake Imgur: the
//! control API only with test controls on, no tokens anywhere, one server per data directory,
//! and a hello that proves the server's key without showing it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CLIENT_ID, CLIENT_SECRET, Fake, sha256_hex};
use fake_imgur::{FakeImgurError, ServerConfig, hello_proof};

/// Every file under `dir`, read whole.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn the_control_api_is_off_by_default_and_the_library_switch_turns_it_on() {
    let server = fake_imgur::start(ServerConfig::with_app(CLIENT_ID, CLIENT_SECRET))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let base = server.base_url();
    let before = server.controls().now();
    let refused = http
        .post(format!("{base}/_fake/clock"))
        .header("Content-Type", "text/plain")
        .body(r#"{"advance_secs": 86400}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("test-controls"));
    assert!(
        server.controls().now() < before + std::time::Duration::from_secs(3600),
        "the clock did not move"
    );
    let state = http
        .get(format!("{base}/_fake/state"))
        .send()
        .await
        .unwrap();
    assert_eq!(state.status(), 403);
    server.shutdown().await;

    let config = ServerConfig::with_app(CLIENT_ID, CLIENT_SECRET).test_controls(true);
    let server = fake_imgur::start(config).await.unwrap();
    let base = server.base_url();
    let moved = http
        .post(format!("{base}/_fake/clock"))
        .body(r#"{"advance_secs": 86400}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn neither_the_state_nor_the_saved_files_show_a_token_or_a_secret() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    let fake = Fake::start_with(|config| config.data_dir = Some(data_dir.clone())).await;
    let tokens = fake.login("lee").await;
    let refreshed = fake
        .post_form(
            "/oauth2/token",
            "",
            &[
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("grant_type", "refresh_token"),
                ("refresh_token", &tokens.refresh),
            ],
        )
        .await
        .json();
    let second_access = refreshed["access_token"].as_str().unwrap().to_owned();
    let secrets = [
        tokens.access.as_str(),
        tokens.refresh.as_str(),
        second_access.as_str(),
        CLIENT_SECRET,
    ];

    let text = fake
        .http
        .get(fake.url("/_fake/state"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in secrets {
        assert!(!text.contains(secret), "the state shows {secret}: {text}");
    }
    let state = fake.controls().state();
    let account = &state.accounts[0];
    assert_eq!(account.access_tokens.len(), 2);
    assert_eq!(
        account.access_tokens[0].token_sha256,
        sha256_hex(tokens.access.as_bytes()),
        "a test can still tell which token is which"
    );
    assert_eq!(
        account.refresh_tokens[0].token_sha256,
        sha256_hex(tokens.refresh.as_bytes())
    );

    fake.server.shutdown().await;
    let saved = files_under(&data_dir);
    assert!(saved.iter().any(|(path, _)| path.ends_with("state.json")));
    for (path, bytes) in &saved {
        for secret in secrets {
            assert!(
                !contains(bytes, secret),
                "{} holds {secret}",
                path.display()
            );
        }
    }

    // The digests are enough to go on: the tokens still work after a restart.
    let restarted = Fake::start_with(|config| config.data_dir = Some(data_dir.clone())).await;
    let me = restarted
        .get("/3/account/me", &common::bearer(&second_access))
        .await;
    assert_eq!(me.status, 200, "{}", me.text);
    restarted.server.shutdown().await;
}

#[tokio::test]
async fn state_saved_with_clear_tokens_by_an_older_version_is_digested_on_start() {
    let data = tempfile::tempdir().unwrap();
    let token = "0123456789abcdef0123456789abcdef01234567";
    let old = serde_json::json!({
        "clock_offset_millis": 0,
        "store": {
            "uploads": [], "albums": [],
            "accounts": [{"id": 100000001, "username": "old", "created": 1}],
            "access_tokens": [{"token": token, "client_id": CLIENT_ID, "username": "old",
                               "expires_at": 99999999999u64, "revoked": false}],
            "refresh_tokens": [{"token": token, "client_id": CLIENT_ID, "username": "old",
                                "revoked": false}]
        },
        "quota": {"clients": {}, "users": {}, "posts": {}}
    });
    std::fs::write(data.path().join("state.json"), old.to_string()).unwrap();
    let fake = Fake::start_with(|config| config.data_dir = Some(data.path().to_owned())).await;
    let saved = std::fs::read(data.path().join("state.json")).unwrap();
    assert!(
        !contains(&saved, token),
        "the clear token is gone from disk"
    );
    let me = fake.get("/3/account/me", &common::bearer(token)).await;
    assert_eq!(me.status, 200, "and still works: {}", me.text);
    fake.server.shutdown().await;
}

#[tokio::test]
async fn one_server_per_data_directory() {
    let data = tempfile::tempdir().unwrap();
    let config = || {
        let mut config = ServerConfig::with_app(CLIENT_ID, CLIENT_SECRET);
        config.data_dir = Some(data.path().to_owned());
        config
    };
    let first = fake_imgur::start(config()).await.unwrap();
    let error = fake_imgur::start(config()).await.unwrap_err();
    assert!(matches!(error, FakeImgurError::InUse { .. }), "{error}");
    assert!(error.to_string().contains("in use"), "{error}");
    first.shutdown().await;
    let again = fake_imgur::start(config()).await.unwrap();
    again.shutdown().await;
}

#[tokio::test]
async fn the_hello_proves_the_key_without_showing_it() {
    let key = "k".repeat(64);
    let fake =
        Fake::start_with(|config| config.hello_key = Some(fake_imgur::HelloKey::new(key.clone())))
            .await;
    let nonce = "0f".repeat(32);
    let answer = fake
        .get(&format!("{}?nonce={nonce}", fake_imgur::HELLO_PATH), "")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["proof"], hello_proof(&key, &nonce));
    assert!(!answer.text.contains(&key));
    let short = fake
        .get(&format!("{}?nonce=abc", fake_imgur::HELLO_PATH), "")
        .await;
    assert_eq!(short.status, 400);
    let state = fake.get("/_fake/state", "").await;
    assert!(!state.text.contains(&key), "no other route shows the key");

    let keyless = Fake::start().await;
    let answer = keyless
        .get(&format!("{}?nonce={nonce}", fake_imgur::HELLO_PATH), "")
        .await;
    assert_eq!(answer.status, 404);
}
