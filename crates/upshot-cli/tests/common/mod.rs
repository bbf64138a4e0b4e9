//! Harness for the CLI's end-to-end tests: the real `upshot` binary against a fake Imgur server
//! on loopback, with its own config and data folders.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fake_imgur::{RegisteredApp, RunningServer, ServerConfig};
use std::path::{Path, PathBuf};
use std::process::Output;

pub const CLIENT_ID: &str = "cli-test-client";
pub const CLIENT_SECRET: &str = "cli-test-secret";

pub struct Env {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub async fn start() -> Self {
        let mut config = ServerConfig::default();
        config.apps.push(RegisteredApp {
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            callback: "upshot://oauth/callback".to_owned(),
        });
        let server = fake_imgur::start(config).await.unwrap();
        Self {
            server,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `upshot` with this environment's folders and nothing inherited that could leak in.
    pub fn upshot(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_upshot"));
        command
            .env_remove("UPSHOT_API_BASE")
            .env_remove("UPSHOT_CLIENT_ID")
            .env_remove("UPSHOT_CLIENT_SECRET")
            .env_remove("UPSHOT_OAUTH_CALLBACK")
            .env_remove("UPSHOT_RAPIDAPI_KEY")
            .env_remove("UPSHOT_RAPIDAPI_BASE")
            // Never the developer's keychain: the secrets file in the test's data folder.
            .env("UPSHOT_SECRET_STORE", "file")
            .env("UPSHOT_CONFIG_DIR", self.config_dir())
            .env("UPSHOT_DATA_DIR", self.data_dir())
            .kill_on_drop(true);
        command
    }

    /// `upshot` pointed at the fake server with the test Client ID.
    pub fn upshot_on_server(&self) -> tokio::process::Command {
        let mut command = self.upshot();
        command
            .env("UPSHOT_API_BASE", self.server.base_url())
            .env("UPSHOT_CLIENT_ID", CLIENT_ID);
        command
    }

    pub fn png(&self, name: &str, width: u32, height: u32) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(
            &path,
            fake_imgur::samples::png(width, height, name.len() as u8),
        )
        .unwrap();
        path
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `--json` lines of a command's output, blank lines skipped.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Approves a login on the fake authorize page as a browser would, for the authorize address
/// `url`; returns the address the browser is sent to.
pub async fn approve(server: &RunningServer, url: &str, username: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
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
