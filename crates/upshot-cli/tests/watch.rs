//! `upshot watch`: the saved folders (add, list, pause, resume, settle, remove) and watching in
//! the foreground with the real binary, real folders and the fake server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, stderr, stdout};
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStdout;

async fn run(env: &Env, args: &[&str]) -> std::process::Output {
    env.upshot().args(args).output().await.unwrap()
}

#[tokio::test]
async fn saved_folders_are_added_listed_paused_resumed_and_removed() {
    let env = Env::start().await;
    let shots = env.dir.path().join("shots");
    std::fs::create_dir(&shots).unwrap();
    let shots_arg = shots.to_str().unwrap();

    let added = run(
        &env,
        &[
            "watch",
            "add",
            shots_arg,
            "--recursive",
            "--after",
            "move:done",
            "--ignore",
            "draft-*",
        ],
    )
    .await;
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(
        stderr(&added).contains("Saved folder 1"),
        "{}",
        stderr(&added)
    );

    let again = run(&env, &["watch", "add", shots_arg]).await;
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("watched already"),
        "{}",
        stderr(&again)
    );

    let bad = run(
        &env,
        &["watch", "add", shots_arg, "--after", "move:../elsewhere"],
    )
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("plain folder name"),
        "{}",
        stderr(&bad)
    );

    let later = env.dir.path().join("not-yet");
    let missing = run(&env, &["watch", "add", later.to_str().unwrap(), "--paused"]).await;
    assert!(missing.status.success());
    assert!(
        stderr(&missing).contains("does not exist yet"),
        "{}",
        stderr(&missing)
    );

    let listed = run(&env, &["watch", "list"]).await;
    let text = stdout(&listed);
    assert!(
        text.contains("enabled") && text.contains("recursive") && text.contains("then move:done"),
        "{text}"
    );
    assert!(text.contains("paused"), "{text}");

    assert!(run(&env, &["watch", "pause", "1"]).await.status.success());
    assert!(run(&env, &["watch", "resume", "2"]).await.status.success());
    let listed = run(&env, &["watch", "list", "--json"]).await;
    let folders: Vec<Value> = stdout(&listed)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(folders.len(), 2);
    assert_eq!(folders[0]["enabled"], false);
    assert_eq!(folders[0]["after_upload"]["then"], "move");
    assert!(
        folders[0]["ignore"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "draft-*")
    );
    assert_eq!(folders[1]["enabled"], true);

    let settle = run(&env, &["watch", "settle", "2s"]).await;
    assert_eq!(stdout(&settle).trim(), "2s");

    let unknown = run(&env, &["watch", "remove", "9"]).await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("watch list"),
        "{}",
        stderr(&unknown)
    );
    assert!(
        run(&env, &["watch", "remove", shots_arg])
            .await
            .status
            .success()
    );
    let listed = run(&env, &["watch", "list", "--json"]).await;
    assert_eq!(stdout(&listed).lines().count(), 1);
}

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>, wanted: &str) -> Value {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {wanted}"))
            .unwrap()
            .unwrap_or_else(|| panic!("output ended before {wanted}"));
        let value: Value = serde_json::from_str(&line).unwrap();
        if value["event"] == wanted {
            return value;
        }
    }
}

#[tokio::test]
async fn watching_in_the_foreground_uploads_new_files_once_and_reports_copies() {
    let env = Env::start().await;
    let inbox = env.dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::write(
        inbox.join("waiting.png"),
        fake_imgur::samples::png(20, 20, 1),
    )
    .unwrap();
    let added = run(&env, &["watch", "add", inbox.to_str().unwrap()]).await;
    assert!(added.status.success());
    assert!(
        run(&env, &["watch", "settle", "200ms"])
            .await
            .status
            .success()
    );

    let mut child = env
        .upshot_on_server()
        .args(["watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let watching = next_line(&mut lines, "watching").await;
    assert_eq!(watching["files"], 1);
    let first = next_line(&mut lines, "done").await;
    assert!(
        first["path"].as_str().unwrap().ends_with("waiting.png"),
        "{first}"
    );

    // Saved under a temporary name, then renamed: one upload of the whole file.
    let partial = inbox.join("new.png.part");
    std::fs::write(&partial, fake_imgur::samples::png(30, 30, 2)).unwrap();
    std::fs::rename(&partial, inbox.join("new.png")).unwrap();
    let second = next_line(&mut lines, "done").await;
    assert!(
        second["path"].as_str().unwrap().ends_with("new.png"),
        "{second}"
    );
    let link = second["image"]["link"].as_str().unwrap().to_owned();

    std::fs::copy(inbox.join("new.png"), inbox.join("copy.png")).unwrap();
    let duplicate = next_line(&mut lines, "duplicate").await;
    assert_eq!(duplicate["link"], link.as_str());

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id().unwrap() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    let uploads = env.server.controls().state().uploads;
    assert_eq!(uploads.len(), 2, "the copy was not sent again");
}

#[tokio::test]
async fn watching_with_nothing_saved_says_how_to_start() {
    let env = Env::start().await;
    let output = env
        .upshot_on_server()
        .args(["watch"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("upshot watch add"),
        "{}",
        stderr(&output)
    );
}
