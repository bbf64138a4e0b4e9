//! `upshot config` and the config files through the real binary: a corrupt `settings.json` or
//! `watch.json` is set aside with a notice and the command goes on from the defaults; a write
//! killed half-way leaves the old file whole; the RapidAPI key is kept owner-only, never shown,
//! and reaches the server as `X-RapidAPI-Key`; the RapidAPI base is a named choice; two
//! `upshot config set` processes at once never lose each other's change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CLIENT_ID, Env, stderr, stdout};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn run(env: &Env, args: &[&str]) -> std::process::Output {
    env.upshot().args(args).output().await.unwrap()
}

fn corrupt_copies(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{name}.corrupt-"))
        })
        .collect()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_settings_file_is_set_aside_and_the_command_starts_from_the_defaults() {
    let env = Env::start().await;
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let file = env.config_dir().join("settings.json");
    let corrupt = b"{\"client_id\": \"abc\", \"link_format\": ";
    std::fs::write(&file, corrupt).unwrap();

    let list = run(&env, &["config", "list"]).await;
    assert!(list.status.success(), "{}", stderr(&list));
    let copies = corrupt_copies(&env.config_dir(), "settings.json");
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(
        std::fs::read(&copies[0]).unwrap(),
        corrupt,
        "the content is kept"
    );
    assert!(!file.exists());
    let told = stderr(&list);
    assert!(told.contains("could not be read"), "{told}");
    assert!(told.contains(&copies[0].display().to_string()), "{told}");
    assert_eq!(
        told.matches("could not be read").count(),
        1,
        "said once: {told}"
    );
    assert!(stdout(&list).contains("api-base     https://api.imgur.com/"));
    assert!(stdout(&list).contains("client-id    (not set)"));

    // The next command has nothing to say; settings can be set again, owner-only.
    let set = run(&env, &["config", "set", "link-format", "html"]).await;
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(!stderr(&set).contains("could not be read"));
    assert_eq!(mode(&file), 0o600);
    let get = run(&env, &["config", "get", "link-format"]).await;
    assert_eq!(stdout(&get).trim(), "html");

    // An upload is not stopped by one either.
    std::fs::write(&file, b"[1, 2").unwrap();
    let png = env.png("shot.png", 12, 12);
    let upload = env
        .upshot_on_server()
        .args(["upload", "--json", png.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(upload.status.success(), "{}", stderr(&upload));
    assert!(stderr(&upload).contains("could not be read"));
    assert_eq!(corrupt_copies(&env.config_dir(), "settings.json").len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_watch_file_is_set_aside_and_the_command_starts_with_no_folder() {
    let env = Env::start().await;
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let file = env.config_dir().join("watch.json");
    let corrupt = b"\0\0\0\0\0\0\0\0";
    std::fs::write(&file, corrupt).unwrap();

    let list = run(&env, &["watch", "list"]).await;
    assert!(list.status.success(), "{}", stderr(&list));
    let told = stderr(&list);
    assert!(told.contains("could not be read"), "{told}");
    assert!(told.contains("watch add"), "{told}");
    assert!(told.contains("No folder is saved"), "{told}");
    let copies = corrupt_copies(&env.config_dir(), "watch.json");
    assert_eq!(copies.len(), 1);
    assert_eq!(std::fs::read(&copies[0]).unwrap(), corrupt);

    let shots = env.dir.path().join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let add = run(&env, &["watch", "add", shots.to_str().unwrap()]).await;
    assert!(add.status.success(), "{}", stderr(&add));
    assert_eq!(mode(&file), 0o600);
    let list = run(&env, &["watch", "list"]).await;
    assert!(stdout(&list).contains(shots.to_str().unwrap()));
}

/// Two `upshot config set` processes started together, round after round, each setting its own
/// key: `settings.json` is locked across processes for the read-modify-write, so after every
/// round both values are in the file (without the lock, one process would write back the file
/// it read before the other's change and drop it).
#[tokio::test(flavor = "multi_thread")]
async fn two_config_set_processes_at_once_keep_both_changes() {
    let env = Env::start().await;
    let file = env.config_dir().join("settings.json");
    for round in 0..20 {
        let client_id = format!("id-{round}");
        let bytes = (1_000_000 + round).to_string();
        let set_id = ["config", "set", "client-id", client_id.as_str()];
        let set_bytes = ["config", "set", "max-image-bytes", bytes.as_str()];
        let (a, b) = tokio::join!(run(&env, &set_id), run(&env, &set_bytes));
        assert!(a.status.success(), "{}", stderr(&a));
        assert!(b.status.success(), "{}", stderr(&b));
        let saved: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(
            (&saved["client_id"], &saved["max_image_bytes"]),
            (
                &serde_json::json!(client_id),
                &serde_json::json!(1_000_000 + round)
            ),
            "round {round}: both changes kept"
        );
    }
    assert_eq!(mode(&file), 0o600);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_settings_write_killed_half_way_leaves_the_old_file_whole() {
    let env = Env::start().await;
    let file = env.config_dir().join("settings.json");
    let set = run(&env, &["config", "set", "client-id", "old-id"]).await;
    assert!(set.status.success(), "{}", stderr(&set));
    let before = std::fs::read(&file).unwrap();

    // The file-size limit stops the writer with SIGXFSZ part-way through its write: a crash
    // (or a full disk) in the middle of saving.
    let long = "x".repeat(100 * 1024);
    let killed = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"ulimit -f 8 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_upshot"))
        .args(["config", "set", "client-id", &long])
        .env("UPSHOT_SECRET_STORE", "file")
        .env("UPSHOT_CONFIG_DIR", env.config_dir())
        .env("UPSHOT_DATA_DIR", env.data_dir())
        .output()
        .await
        .unwrap();
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            killed.status.signal(),
            Some(nix::sys::signal::Signal::SIGXFSZ as i32),
            "killed mid-write: {}",
            stderr(&killed)
        );
    }
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the old file is whole"
    );
    let get = run(&env, &["config", "get", "client-id"]).await;
    assert_eq!(stdout(&get).trim(), "old-id");

    // The next write goes through and clears what the killed one left.
    let set = run(&env, &["config", "set", "client-id", "new-id"]).await;
    assert!(set.status.success(), "{}", stderr(&set));
    let mut names: Vec<String> = std::fs::read_dir(env.config_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["settings.json", "settings.json.lock"]);
    assert_eq!(mode(&file), 0o600);
}

/// A tiny server that records each request's head and answers `/3/credits`.
struct Recorder {
    base: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let kept = heads.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let kept = kept.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match socket.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    kept.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).into_owned());
                    let body = r#"{"data":{"UserLimit":500,"UserRemaining":499,"UserReset":1700000000,"ClientLimit":12500,"ClientRemaining":12345},"success":true,"status":200}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self { base, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rapidapi_key_is_kept_owner_only_never_shown_and_sent_as_x_rapidapi_key() {
    let env = Env::start().await;
    let key = "rk-3f9a0c7e51d24b8c9e0f1a2b3c4d5e6f";
    let mut outputs = Vec::new();

    let unset = run(&env, &["config", "get", "rapidapi-key"]).await;
    assert_eq!(stdout(&unset).trim(), "not set");
    let set = run(&env, &["config", "set", "rapidapi-key", key]).await;
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(stderr(&set).contains("saved"), "{}", stderr(&set));
    let get = run(&env, &["config", "get", "rapidapi_key"]).await;
    assert!(stdout(&get).starts_with("set ("), "{}", stdout(&get));
    let list = run(&env, &["config", "list"]).await;
    assert!(
        stdout(&list).contains("rapidapi-key set"),
        "{}",
        stdout(&list)
    );
    let named = run(&env, &["config", "set", "api-base", "rapidapi"]).await;
    assert!(named.status.success(), "{}", stderr(&named));
    let list_named = run(&env, &["config", "list"]).await;
    assert!(
        stdout(&list_named).contains("api-base     https://imgur-apiv3.p.rapidapi.com/"),
        "{}",
        stdout(&list_named)
    );
    let bad = run(&env, &["config", "set", "rapidapi-key", " "]).await;
    assert!(!bad.status.success());
    outputs.extend([unset, set, get, list, named, list_named, bad]);

    // Kept with the other secrets, owner-only; not in the settings.
    let secrets = env.data_dir().join("secrets.json");
    assert!(
        String::from_utf8(std::fs::read(&secrets).unwrap())
            .unwrap()
            .contains(key)
    );
    assert_eq!(mode(&secrets), 0o600);
    let settings = std::fs::read_to_string(env.config_dir().join("settings.json")).unwrap();
    assert!(!settings.contains(key));

    // Never sent to a base that is not the commercial route (regression: it went to any base
    // but Imgur's free API).
    let recorder = Recorder::start().await;
    let elsewhere = env
        .upshot()
        .args(["quota"])
        .env("UPSHOT_API_BASE", &recorder.base)
        .env("UPSHOT_CLIENT_ID", CLIENT_ID)
        .output()
        .await
        .unwrap();
    assert!(elsewhere.status.success(), "{}", stderr(&elsewhere));
    assert_eq!(header(&recorder.heads()[0], "x-rapidapi-key"), None);
    assert_eq!(header(&recorder.heads()[0], "x-mashape-key"), None);
    outputs.push(elsewhere);

    // Sent as X-RapidAPI-Key (and the older X-Mashape-Key) to the commercial route (here the
    // recorder, named as the commercial route's address).
    let quota = env
        .upshot()
        .args(["-vv", "quota"])
        .env("UPSHOT_API_BASE", &recorder.base)
        .env("UPSHOT_RAPIDAPI_BASE", &recorder.base)
        .env("UPSHOT_CLIENT_ID", CLIENT_ID)
        .output()
        .await
        .unwrap();
    assert!(quota.status.success(), "{}", stderr(&quota));
    assert!(
        stdout(&quota).contains("12345 of 12500"),
        "{}",
        stdout(&quota)
    );
    let heads = recorder.heads();
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert_eq!(header(&heads[1], "x-rapidapi-key"), Some(key));
    assert_eq!(header(&heads[1], "x-mashape-key"), Some(key));
    outputs.push(quota);

    // The environment's key wins; a failed request does not show it either.
    let from_env = env
        .upshot()
        .args(["quota"])
        .env("UPSHOT_API_BASE", &recorder.base)
        .env("UPSHOT_RAPIDAPI_BASE", &recorder.base)
        .env("UPSHOT_CLIENT_ID", CLIENT_ID)
        .env("UPSHOT_RAPIDAPI_KEY", "env-key-0042")
        .output()
        .await
        .unwrap();
    assert_eq!(
        header(&recorder.heads()[2], "x-rapidapi-key"),
        Some("env-key-0042")
    );
    let env_get = env
        .upshot()
        .args(["config", "get", "rapidapi-key"])
        .env("UPSHOT_RAPIDAPI_KEY", "env-key-0042")
        .output()
        .await
        .unwrap();
    assert_eq!(stdout(&env_get).trim(), "set (from UPSHOT_RAPIDAPI_KEY)");
    let refused = env
        .upshot()
        .args(["quota"])
        .env("UPSHOT_API_BASE", "http://127.0.0.1:9")
        .env("UPSHOT_CLIENT_ID", CLIENT_ID)
        .output()
        .await
        .unwrap();
    outputs.extend([from_env, env_get, refused]);

    // Read from standard input (kept out of the shell's history), then removed.
    let mut piped = env
        .upshot()
        .args(["config", "set", "rapidapi-key", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = piped.stdin.take().unwrap();
    stdin.write_all(b"piped-key-77\n").await.unwrap();
    drop(stdin);
    let piped = piped.wait_with_output().await.unwrap();
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert!(
        String::from_utf8(std::fs::read(&secrets).unwrap())
            .unwrap()
            .contains("piped-key-77")
    );
    let removed = run(&env, &["config", "unset", "rapidapi-key"]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    let after = run(&env, &["config", "get", "rapidapi-key"]).await;
    assert_eq!(stdout(&after).trim(), "not set");
    assert!(
        !String::from_utf8(std::fs::read(&secrets).unwrap())
            .unwrap()
            .contains("piped-key")
    );
    outputs.extend([piped, removed, after]);

    for output in &outputs {
        for secret in [key, "env-key-0042", "piped-key-77"] {
            assert!(
                !stdout(output).contains(secret) && !stderr(output).contains(secret),
                "a key was printed: {}{}",
                stdout(output),
                stderr(output)
            );
        }
    }
}
