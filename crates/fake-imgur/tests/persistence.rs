//! In-process restarts with a data directory, and the temporary directory's clean-up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{CLIENT_ID, CLIENT_SECRET, Fake, anon, bearer};
use fake_imgur::{ServerConfig, samples};

#[tokio::test]
async fn a_restart_with_the_same_data_dir_keeps_everything() {
    let data = tempfile::tempdir().unwrap();
    let config = || {
        let mut config = ServerConfig::with_app(CLIENT_ID, CLIENT_SECRET);
        config.data_dir = Some(data.path().to_owned());
        config
    };
    let fake = Fake::start_with(|c| *c = config()).await;
    let png = samples::png(16, 9, 2);
    let image = fake.upload(png.clone()).await.data();
    let id = image["id"].as_str().unwrap().to_owned();
    let album = fake
        .post_form(
            "/3/album",
            &anon(),
            &[("deletehashes", image["deletehash"].as_str().unwrap())],
        )
        .await
        .data();
    let tokens = fake.login("lee").await;
    fake.controls().advance_clock(Duration::from_secs(600));
    let before = fake.controls().state();
    fake.server.shutdown().await;

    let restarted = fake_imgur::start(config()).await.unwrap();
    let after = restarted.controls().state();
    assert_eq!(after.uploads, before.uploads);
    assert_eq!(after.albums, before.albums);
    assert_eq!(after.accounts, before.accounts);
    assert_eq!(after.clients, before.clients, "quota counters persist too");
    assert!(after.now >= before.now);

    let http = reqwest::Client::new();
    let base = restarted.base_url();
    let served = http.get(format!("{base}/{id}.png")).send().await.unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), png.as_slice());
    let album_id = album["id"].as_str().unwrap();
    let fetched = http
        .get(format!("{base}/3/album/{album_id}"))
        .header("Authorization", anon())
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    let me = http
        .get(format!("{base}/3/account/me"))
        .header("Authorization", bearer(&tokens.access))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    restarted.shutdown().await;
}

#[tokio::test]
async fn without_a_data_dir_nothing_is_left_behind() {
    let fake = Fake::start().await;
    fake.upload(samples::png(4, 4, 0)).await.data();
    let dir = fake.server.data_dir();
    assert!(dir.join("files").is_dir());
    fake.server.shutdown().await;
    assert!(!dir.exists(), "the temporary directory is removed");
}

#[tokio::test]
async fn the_temporary_directory_goes_where_it_is_told_and_is_removed() {
    let parent = tempfile::tempdir().unwrap();
    let fake = Fake::start_with(|config| config.temp_parent = Some(parent.path().to_owned())).await;
    fake.upload(samples::png(4, 4, 0)).await.data();
    let dir = fake.server.data_dir();
    assert_eq!(dir.parent(), Some(parent.path()));
    assert_eq!(std::fs::read_dir(dir.join("files")).unwrap().count(), 1);
    fake.server.shutdown().await;
    assert!(!dir.exists(), "the temporary directory is removed");
}

#[tokio::test]
async fn a_duplicate_client_id_is_a_configuration_error() {
    let mut config = ServerConfig::with_app("same", "a");
    config
        .apps
        .push(fake_imgur::RegisteredApp::new("same", "b"));
    let error = fake_imgur::start(config).await.unwrap_err();
    assert!(error.to_string().contains("registered twice"), "{error}");
}

fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

/// The bytes one upload adds to the data directory's state files (`state.json` and
/// `journal.jsonl`), and whether `state.json` itself was rewritten.
async fn upload_cost(fake: &Fake, data: &std::path::Path, seed: u8) -> (u64, bool) {
    let state = data.join("state.json");
    let journal = data.join("journal.jsonl");
    let snapshot_before = std::fs::read(&state).unwrap();
    let before = file_len(&state) + file_len(&journal);
    fake.upload(samples::png(4, 4, seed)).await.data();
    let after = file_len(&state) + file_len(&journal);
    let rewritten = std::fs::read(&state).unwrap() != snapshot_before;
    (after - before, rewritten)
}

#[tokio::test]
async fn a_change_writes_as_much_with_a_large_state_as_with_an_empty_one() {
    let data = tempfile::tempdir().unwrap();
    let config = || {
        let mut config = ServerConfig::with_app(CLIENT_ID, CLIENT_SECRET);
        config.data_dir = Some(data.path().to_owned());
        config.limits.client_credits_per_day = 1_000_000;
        config.limits.user_credits_per_hour = 1_000_000;
        config.limits.posts_per_hour = 1_000_000;
        config
    };
    let fake = Fake::start_with(|c| *c = config()).await;
    let (first_cost, rewritten) = upload_cost(&fake, data.path(), 0).await;
    assert!(!rewritten, "the snapshot is not rewritten for a change");
    for seed in 0..400u32 {
        fake.upload(samples::png(4, 4, (seed % 251) as u8))
            .await
            .data();
    }
    fake.server.shutdown().await;

    // The restart folds the journal into the snapshot: now the state is large.
    let fake = Fake::start_with(|c| *c = config()).await;
    let snapshot = file_len(&data.path().join("state.json"));
    assert!(snapshot > 100_000, "a large state: {snapshot} bytes");
    assert_eq!(file_len(&data.path().join("journal.jsonl")), 0);
    let (large_cost, rewritten) = upload_cost(&fake, data.path(), 1).await;
    assert!(!rewritten, "the snapshot is not rewritten for a change");
    assert!(
        large_cost < 2048 && large_cost <= first_cost + 64,
        "one upload wrote {large_cost} bytes with a {snapshot}-byte state, {first_cost} with \
         an empty one"
    );
    let uploads = fake.controls().state().uploads;
    fake.server.shutdown().await;

    let restarted = Fake::start_with(|c| *c = config()).await;
    assert_eq!(restarted.controls().state().uploads, uploads);
    assert_eq!(uploads.len(), 402);
    restarted.server.shutdown().await;
}
