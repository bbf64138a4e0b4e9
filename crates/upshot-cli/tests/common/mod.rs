//! Harness for the CLI's end-to-end tests: the real `upshot` binary against a fake Imgur server
//! on loopback, with its own config and data folders.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fake_imgur::{RegisteredApp, RunningServer, ServerConfig};
use std::path::{Path, PathBuf};
use std::process::Output;

pub const CLIENT_ID: &str = "cli-test-client";

pub struct Env {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub async fn start() -> Self {
        let mut config = ServerConfig::default();
        config.apps.push(RegisteredApp {
            client_id: CLIENT_ID.to_owned(),
            client_secret: "cli-test-secret".to_owned(),
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
