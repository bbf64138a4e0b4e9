//! `upshot upload` end to end: the real binary, a fake Imgur server on loopback, real files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CLIENT_ID, Env, sha256_hex, stderr, stdout};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn uploads_print_links_in_argument_order() {
    let env = Env::start().await;
    let files: Vec<_> = (0..5)
        .map(|i| env.png(&format!("shot-{i}.png"), 40 + i, 30))
        .collect();
    let output = env
        .upshot_on_server()
        .arg("upload")
        .args(&files)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    let state = env.server.controls().state();
    assert_eq!(state.uploads.len(), 5);
    let links: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert_eq!(links.len(), 5);
    for (file, link) in files.iter().zip(&links) {
        // Each printed link serves exactly the file given at that position.
        let served = reqwest::get(link).await.unwrap().bytes().await.unwrap();
        assert_eq!(
            served.as_ref(),
            std::fs::read(file).unwrap().as_slice(),
            "{link}"
        );
    }
    assert!(
        state
            .uploads
            .iter()
            .all(|u| u.client_id == CLIENT_ID && u.account.is_none())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_lines_report_each_file_and_failures_set_the_exit_status() {
    let env = Env::start().await;
    let good = env.png("good.png", 10, 10);
    let text = env.dir.path().join("notes.txt");
    std::fs::write(&text, "not an image").unwrap();
    let missing = env.dir.path().join("missing.png");

    let output = env
        .upshot_on_server()
        .args(["upload", "--json", "--title", "Hello"])
        .arg(&good)
        .arg(&text)
        .arg(&missing)
        .output()
        .await
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "any failure is exit status 1"
    );
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);

    assert_eq!(lines[0]["status"], "uploaded");
    assert_eq!(lines[0]["file"], good.display().to_string());
    let id = lines[0]["id"].as_str().unwrap();
    let state = env.server.controls().state();
    let stored = state.uploads.iter().find(|u| u.id == id).unwrap();
    assert_eq!(stored.sha256, sha256_hex(&good));
    assert_eq!(lines[0]["deletehash"], stored.deletehash.as_str());
    assert!(lines[0]["link"].as_str().unwrap().ends_with(".png"));
    assert!(lines[0]["error"].is_null());

    assert_eq!(lines[1]["status"], "failed");
    assert_eq!(lines[1]["error"]["kind"], "permanent");
    assert_eq!(lines[1]["error"]["code"], "unsupported_type");
    assert!(
        lines[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("a text file")
    );
    assert_eq!(lines[2]["error"]["kind"], "permanent");
    assert_eq!(lines[2]["error"]["code"], "missing");
    assert!(
        lines[2]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    assert_eq!(state.uploads.len(), 1, "refused files spend no request");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_link_format() {
    let env = Env::start().await;
    let file = env.png("fmt.png", 12, 12);
    let mut seen = Vec::new();
    for format in [
        "direct",
        "page",
        "markdown",
        "markdown-linked",
        "bbcode",
        "html",
        "delete",
    ] {
        let output = env
            .upshot_on_server()
            .args(["upload", "--format", format])
            .arg(&file)
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{format}: {}", stderr(&output));
        seen.push((format, stdout(&output).trim().to_owned()));
    }
    let state = env.server.controls().state();
    let base = env.server.base_url();
    for ((format, text), upload) in seen.iter().zip(&state.uploads) {
        let (id, hash) = (&upload.id, &upload.deletehash);
        let expected = match *format {
            "direct" => format!("{base}/{id}.png"),
            "page" => format!("{base}/{id}"),
            "markdown" => format!("![{id}]({base}/{id}.png)"),
            "markdown-linked" => format!("[![{id}]({base}/{id}m.jpg)]({base}/{id})"),
            "bbcode" => format!("[img]{base}/{id}.png[/img]"),
            "html" => format!("<img src=\"{base}/{id}.png\" alt=\"{id}\">"),
            _ => format!("{base}/delete/{hash}"),
        };
        assert_eq!(text, &expected, "{format}");
    }
    // The page, thumbnail and deletion links all answer.
    let (id, hash) = (&state.uploads[0].id, &state.uploads[0].deletehash);
    for path in [
        format!("/{id}"),
        format!("/{id}m.jpg"),
        format!("/delete/{hash}"),
    ] {
        let status = reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{path}: {status}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_client_id_says_how_to_get_one() {
    let env = Env::start().await;
    let file = env.png("x.png", 2, 2);
    let output = env
        .upshot()
        .arg("upload")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("https://api.imgur.com/oauth2/addclient"),
        "{message}"
    );
    assert!(message.contains("upshot config set client-id"), "{message}");
    assert!(message.contains("--sandbox"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_come_from_flags_then_environment_then_the_file() {
    let env = Env::start().await;
    let file = env.png("s.png", 2, 2);
    let set = |key: &'static str, value: String| {
        let mut command = env.upshot();
        command.args(["config", "set", key, &value]);
        command
    };
    assert!(
        set("client-id", CLIENT_ID.into())
            .status()
            .await
            .unwrap()
            .success()
    );
    assert!(
        set("api-base", env.server.base_url())
            .status()
            .await
            .unwrap()
            .success()
    );
    assert!(
        set("link-format", "bbcode".into())
            .status()
            .await
            .unwrap()
            .success()
    );

    // The file alone is enough.
    let output = env
        .upshot()
        .arg("upload")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("[img]"));

    // The environment beats the file: an unknown Client ID is refused by the server.
    let output = env
        .upshot()
        .env("UPSHOT_CLIENT_ID", "from-env")
        .args(["upload", "--json"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(
        stdout(&output).contains("Invalid client_id"),
        "{}",
        stdout(&output)
    );

    // The flag beats the environment, and --format beats the file.
    let output = env
        .upshot()
        .env("UPSHOT_CLIENT_ID", "from-env")
        // --force: the same file was uploaded above, and this is about settings, not duplicates.
        .args([
            "upload",
            "--force",
            "--client-id",
            CLIENT_ID,
            "--format",
            "page",
        ])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stdout(&output).contains("[img]"));

    let clients = env.server.controls().state().clients;
    assert!(!clients.contains_key("from-env") || clients["from-env"].uploads == 0);
    assert_eq!(clients[CLIENT_ID].uploads, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_setting_is_refused_with_the_accepted_values() {
    let env = Env::start().await;
    let output = env
        .upshot()
        .args(["config", "set", "link-format", "gif"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("markdown-linked"));
    let output = env
        .upshot()
        .args([
            "upload",
            "--api-base",
            "ftp://example.com",
            "--client-id",
            "x",
            "a.png",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("http or https"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_uploaded_before_is_reported_as_a_duplicate_and_force_sends_it_again() {
    let env = Env::start().await;
    let first = env.png("first.png", 33, 22);
    let copy = env.dir.path().join("copy.png");
    std::fs::copy(&first, &copy).unwrap();

    let output = env
        .upshot_on_server()
        .args(["upload", "--json"])
        .arg(&first)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let uploaded: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(uploaded["status"], "uploaded");

    // The same content under another name: its existing link, and no request.
    let requests = env.server.controls().state().clients[CLIENT_ID].requests;
    let output = env
        .upshot_on_server()
        .args(["upload", "--json"])
        .arg(&copy)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let duplicate: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(duplicate["status"], "duplicate");
    assert_eq!(duplicate["link"], uploaded["link"]);
    assert_eq!(duplicate["id"], uploaded["id"]);
    assert_eq!(
        env.server.controls().state().clients[CLIENT_ID].requests,
        requests
    );
    // Plain output prints the link and says why nothing was sent.
    let output = env
        .upshot_on_server()
        .args(["upload", "--format", "markdown"])
        .arg(&copy)
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    assert!(stdout(&output).starts_with("!["), "{}", stdout(&output));
    assert!(stderr(&output).contains("--force"), "{}", stderr(&output));

    // --force sends it again.
    let output = env
        .upshot_on_server()
        .args(["upload", "--json", "--force"])
        .arg(&copy)
        .output()
        .await
        .unwrap();
    let forced: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(forced["status"], "uploaded");
    assert_ne!(forced["id"], uploaded["id"]);
    assert_eq!(env.server.controls().state().uploads.len(), 2);
}

/// An upload whose job was pruned (its retention passed) still stands in for its content: the
/// duplicate is reported with its link and Imgur id, and no job (`"job": null`), none invented.
#[tokio::test(flavor = "multi_thread")]
async fn a_file_uploaded_by_a_pruned_job_is_a_duplicate_with_no_job() {
    let env = Env::start().await;
    let first = env.png("first.png", 35, 21);
    let copy = env.dir.path().join("copy.png");
    std::fs::copy(&first, &copy).unwrap();
    let output = env
        .upshot_on_server()
        .args(["upload", "--json"])
        .arg(&first)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let uploaded: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(uploaded["status"], "uploaded");

    let db = upshot_core::store::Database::open_in(&env.data_dir()).unwrap();
    let conn = db.connect().unwrap();
    let queue = upshot_core::queue::JobQueue::new(&conn);
    // A newer job: pruning always keeps the newest row (job ids are never given out again).
    let newer = upshot_core::queue::NewJob::new(
        "/pictures/newer.png",
        upshot_core::types::Origin::Cli,
        "newer-job",
    );
    let newer = queue.enqueue(&newer, 0).unwrap();
    queue.cancel(newer, 0).unwrap();
    let pruned = queue.prune_finished(i64::MAX).unwrap();
    assert_eq!(pruned.jobs, 1);

    let output = env
        .upshot_on_server()
        .args(["upload", "--json"])
        .arg(&copy)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let duplicate: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(duplicate["status"], "duplicate", "{duplicate}");
    assert_eq!(duplicate["link"], uploaded["link"]);
    assert_eq!(duplicate["id"], uploaded["id"]);
    assert_eq!(duplicate["job"], Value::Null);
    let output = env
        .upshot_on_server()
        .args(["upload"])
        .arg(&copy)
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    assert_eq!(stdout(&output).trim(), uploaded["link"].as_str().unwrap());
    assert!(
        stderr(&output).contains("uploaded before") && !stderr(&output).contains("job"),
        "{}",
        stderr(&output)
    );
    assert_eq!(env.server.controls().state().uploads.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversize_and_overlong_files_are_refused_before_any_request() {
    let env = Env::start().await;
    let long = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/media/long.mp4");
    let output = env
        .upshot_on_server()
        .args(["upload", "--json"])
        .arg(&long)
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let line: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(line["status"], "failed");
    let message = line["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("61 s video") && message.contains("60-second"),
        "{message}"
    );
    assert!(env.server.controls().state().uploads.is_empty());
}

/// A file name that is not UTF-8 (legal on Linux) is uploaded like any other; `--json` and
/// `history --json` show it readably, and the file after it goes too.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_file_name_that_is_not_utf8_is_uploaded_and_shown_readably() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::start().await;
    let odd = env
        .dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9.png"));
    std::fs::write(&odd, fake_imgur::samples::png(12, 9, 3)).unwrap();
    let next = env.png("next.png", 10, 10);
    let output = env
        .upshot_on_server()
        .args(["upload", "--json"])
        .arg(&odd)
        .arg(&next)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&output));
    assert_eq!(lines[0]["status"], "uploaded");
    assert!(
        lines[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("caf\u{fffd}.png"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1]["status"], "uploaded");
    let state = env.server.controls().state();
    assert!(state.uploads.iter().any(|u| u.sha256 == sha256_hex(&odd)));

    for args in [
        &["history", "list", "--json"][..],
        &["history", "export", "--csv"],
        &["queue", "list", "--all", "--json"],
    ] {
        let shown = env.upshot_on_server().args(args).output().await.unwrap();
        assert!(shown.status.success(), "{args:?}: {}", stderr(&shown));
        assert!(
            stdout(&shown).contains("caf\u{fffd}.png"),
            "{args:?}: {}",
            stdout(&shown)
        );
    }
}
