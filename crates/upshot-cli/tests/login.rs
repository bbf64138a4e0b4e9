//! `upshot login`, `whoami`, `upload` as the user, `images`, `albums`, `album`, `delete` and
//! `logout`: the real binary against the fake Imgur server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CLIENT_SECRET, Env, approve, stderr, stdout};
use serde_json::Value;

/// `upshot ARGS...` against the fake server, run to the end.
async fn run(env: &Env, args: &[&str]) -> std::process::Output {
    env.upshot_on_server().args(args).output().await.unwrap()
}

fn path(file: &std::path::Path) -> &str {
    file.to_str().unwrap()
}

fn json_lines(output: &std::process::Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn log_in_upload_to_the_account_use_albums_and_log_out() {
    let env = Env::start().await;

    // Not logged in yet.
    let whoami = run(&env, &["whoami", "--json"]).await;
    assert!(whoami.status.success(), "{}", stderr(&whoami));
    assert_eq!(json_lines(&whoami)[0]["logged_in"], false);

    // Start: the address and the state as JSON.
    let start = run(&env, &["login", "--json", "--client-secret", CLIENT_SECRET]).await;
    assert!(start.status.success(), "{}", stderr(&start));
    let start = &json_lines(&start)[0];
    let url = start["url"].as_str().unwrap();
    let state = start["state"].as_str().unwrap();
    assert!(url.contains("response_type=token"), "{url}");
    assert!(url.contains(state));
    assert!(state.len() >= 32);

    // The browser comes back; the user pastes the address.
    let callback = approve(&env.server, url, "carol").await;
    let done = run(&env, &["login", "--callback", &callback]).await;
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(
        stderr(&done).contains("Logged in as carol"),
        "{}",
        stderr(&done)
    );
    // Nothing secret on the terminal.
    let token = url::form_urlencoded::parse(callback.split_once('#').unwrap().1.as_bytes())
        .find(|(key, _)| key == "access_token")
        .unwrap()
        .1
        .into_owned();
    assert!(!stderr(&done).contains(&token) && !stdout(&done).contains(&token));

    // The same address again is refused: a login works once.
    let again = run(&env, &["login", "--callback", &callback]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already completed"),
        "{}",
        stderr(&again)
    );

    let whoami = run(&env, &["whoami", "--json"]).await;
    let who = &json_lines(&whoami)[0];
    assert_eq!(who["logged_in"], true);
    assert_eq!(who["account"]["username"], "carol");
    assert_eq!(who["account"]["secret_store"], "file");

    // Uploads go to the account, unless --anonymous.
    let mine = env.png("mine.png", 20, 20);
    let anon = env.png("anon.png", 21, 20);
    let up = run(&env, &["upload", "--json", path(&mine)]).await;
    assert!(up.status.success(), "{}", stderr(&up));
    let mine_id = json_lines(&up)[0]["id"].as_str().unwrap().to_owned();
    let up = run(&env, &["upload", "--json", "--anonymous", path(&anon)]).await;
    assert!(up.status.success(), "{}", stderr(&up));
    let anon_id = json_lines(&up)[0]["id"].as_str().unwrap().to_owned();
    let state = env.server.controls().state();
    let account_of = |id: &str| {
        state
            .uploads
            .iter()
            .find(|upload| upload.id == id)
            .unwrap()
            .account
            .clone()
    };
    assert_eq!(account_of(&mine_id).as_deref(), Some("carol"));
    assert_eq!(account_of(&anon_id), None);

    // My images.
    let images = run(&env, &["images", "--json"]).await;
    assert!(images.status.success(), "{}", stderr(&images));
    let ids: Vec<String> = json_lines(&images)
        .iter()
        .map(|image| image["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec![mine_id.clone()]);

    // An account album with the image, listed; then an upload straight into it.
    let created = run(
        &env,
        &["album", "create", "--json", "--title", "Trip", &mine_id],
    )
    .await;
    assert!(created.status.success(), "{}", stderr(&created));
    let album_id = json_lines(&created)[0]["id"].as_str().unwrap().to_owned();
    let more = env.png("more.png", 22, 20);
    let up = run(
        &env,
        &["upload", "--json", "--album", &album_id, path(&more)],
    )
    .await;
    assert!(up.status.success(), "{}", stderr(&up));
    let albums = run(&env, &["albums", "--json"]).await;
    assert!(albums.status.success(), "{}", stderr(&albums));
    let albums = json_lines(&albums);
    assert_eq!(albums.len(), 1);
    assert_eq!(albums[0]["title"], "Trip");
    assert_eq!(albums[0]["images_count"], 2, "{albums:?}");

    // An anonymous album from the anonymous upload (by its deletehash), then add to it.
    let anon_album = run(
        &env,
        &["album", "create", "--anonymous", "--json", &anon_id],
    )
    .await;
    assert!(anon_album.status.success(), "{}", stderr(&anon_album));
    let anon_album = &json_lines(&anon_album)[0];
    let album_hash = anon_album["deletehash"].as_str().unwrap().to_owned();
    let extra = env.png("extra.png", 23, 20);
    let up = run(&env, &["upload", "--json", "--anonymous", path(&extra)]).await;
    let extra_id = json_lines(&up)[0]["id"].as_str().unwrap().to_owned();
    let added = run(
        &env,
        &["album", "add", "--anonymous", &album_hash, &extra_id],
    )
    .await;
    assert!(added.status.success(), "{}", stderr(&added));

    // Delete several at once from the history.
    let deleted = run(&env, &["delete", "--json", &mine_id, &anon_id]).await;
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    let state = env.server.controls().state();
    for id in [&mine_id, &anon_id] {
        assert!(state.uploads.iter().find(|u| &u.id == id).unwrap().deleted);
    }

    // An account image the history does not know (uploaded elsewhere) is deleted by its id.
    let elsewhere = reqwest::Client::new()
        .post(format!("{}/3/image", env.server.base_url()))
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().part(
            "image",
            reqwest::multipart::Part::bytes(fake_imgur::samples::png(9, 9, 9)).file_name("x.png"),
        ))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let elsewhere_id = elsewhere["data"]["id"].as_str().unwrap().to_owned();
    let deleted = run(&env, &["delete", &elsewhere_id]).await;
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    let state = env.server.controls().state();
    assert!(
        state
            .uploads
            .iter()
            .find(|u| u.id == elsewhere_id)
            .unwrap()
            .deleted
    );

    // Log out: tokens gone, uploads anonymous again.
    let out = run(&env, &["logout"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Logged out of carol"));
    let secrets = std::fs::read_to_string(env.data_dir().join("secrets.json")).unwrap();
    assert!(!secrets.contains(&token), "the token is forgotten");
    let whoami = run(&env, &["whoami", "--json"]).await;
    assert_eq!(json_lines(&whoami)[0]["logged_in"], false);
    let images = run(&env, &["images"]).await;
    assert_eq!(images.status.code(), Some(1));
    assert!(
        stderr(&images).contains("not logged in"),
        "{}",
        stderr(&images)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_login_and_a_broken_authorize_page_say_what_happened() {
    let env = Env::start().await;
    let denied = "upshot://oauth/callback#error=access_denied&state=whatever";
    let output = run(&env, &["login", "--callback", denied]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cancelled on Imgur's page"),
        "{}",
        stderr(&output)
    );

    let forged =
        "upshot://oauth/callback#access_token=a&refresh_token=b&account_username=eve&state=forged";
    let output = run(&env, &["login", "--callback", forged]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("does not belong to a login started by Upshot"));
    assert!(
        !env.data_dir().join("secrets.json").exists(),
        "nothing kept"
    );

    env.server
        .controls()
        .inject(fake_imgur::Fault::AuthorizeBroken, 1, None);
    let output = run(&env, &["login", "--json"]).await;
    assert_eq!(output.status.code(), Some(1));
    // With --json the failure is one `{"error": {code, message}}` line on stdout.
    let line: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(line["error"]["code"], "authorize_page_broken", "{line}");
    assert!(
        line["error"]["message"]
            .as_str()
            .unwrap()
            .contains("login page is not working"),
        "{line}"
    );
    // Uploads go on anonymously.
    let file = env.png("still.png", 12, 12);
    let up = run(&env, &["upload", path(&file)]).await;
    assert!(up.status.success(), "{}", stderr(&up));
}
