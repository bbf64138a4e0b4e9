//! Sandbox mode: the built-in Imgur-compatible server, so the whole app can be tried with no
//! account and no network.
//!
//! The sandbox listens on a fixed loopback port and keeps its state and files in the data
//! directory, so the links it hands out keep working across restarts. A process that wants the
//! sandbox first joins one that is already running (`upshot sandbox`, or the desktop app) and
//! only starts its own when none answers.

use crate::error::CoreError;
use crate::paths::AppPaths;
use fake_imgur::{RegisteredApp, RunningServer, ServerConfig};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// The sandbox's Client ID. Not a real Imgur application.
pub const SANDBOX_CLIENT_ID: &str = "upshot-sandbox";
/// The sandbox's client secret. Not a secret: it only opens the local fake server.
pub const SANDBOX_CLIENT_SECRET: &str = "upshot-sandbox-secret";
/// The sandbox's default port, fixed so that links stay valid across restarts.
pub const SANDBOX_PORT: u16 = 47913;

const RECORD_FILE: &str = "server.json";

/// Where a running sandbox server can be reached, written by the process that runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SandboxRecord {
    url: String,
    pid: u32,
}

/// A sandbox in use: either joined (another process serves it) or owned by this process.
#[derive(Debug)]
pub struct Sandbox {
    api_base: Url,
    owned: Option<RunningServer>,
    record_file: PathBuf,
}

impl Sandbox {
    /// Joins the sandbox that is already running for this data directory, or starts one in this
    /// process on `port` (0 picks any free port).
    pub async fn join_or_start(paths: &AppPaths, port: u16) -> Result<Self, CoreError> {
        let dir = paths.sandbox_dir();
        let record_file = dir.join(RECORD_FILE);
        if let Some(api_base) = running_sandbox(&record_file) {
            tracing::info!(%api_base, "joined the running sandbox");
            return Ok(Self {
                api_base,
                owned: None,
                record_file,
            });
        }
        Self::start(&dir, port).await
    }

    /// Starts the sandbox server in this process and records where it listens.
    pub async fn start(dir: &Path, port: u16) -> Result<Self, CoreError> {
        AppPaths::ensure_private_dir(dir)?;
        let mut config = ServerConfig::default();
        config.apps.push(RegisteredApp {
            client_id: SANDBOX_CLIENT_ID.to_owned(),
            client_secret: SANDBOX_CLIENT_SECRET.to_owned(),
            callback: "upshot://oauth/callback".to_owned(),
        });
        config.data_dir = Some(dir.to_path_buf());
        config.bind = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let server = fake_imgur::start(config)
            .await
            .map_err(|error| sandbox_error(port, &error.to_string()))?;
        let api_base = Url::parse(&server.base_url())
            .map_err(|error| CoreError::Sandbox(error.to_string()))?;
        let record_file = dir.join(RECORD_FILE);
        let record = SandboxRecord {
            url: api_base.to_string(),
            pid: std::process::id(),
        };
        let text = serde_json::to_string(&record)
            .map_err(|error| CoreError::Sandbox(error.to_string()))?;
        crate::config_file::write_atomic(&record_file, text.as_bytes())?;
        Ok(Self {
            api_base,
            owned: Some(server),
            record_file,
        })
    }

    /// The API base to send requests to.
    pub fn api_base(&self) -> &Url {
        &self.api_base
    }

    /// The sandbox's Client ID.
    pub fn client_id(&self) -> &'static str {
        SANDBOX_CLIENT_ID
    }

    /// Whether this process runs the server (its links stop working when it exits).
    pub fn is_owned(&self) -> bool {
        self.owned.is_some()
    }

    /// Stops the server if this process owns it, and forgets the record.
    pub async fn shutdown(self) {
        if let Some(server) = self.owned {
            server.shutdown().await;
            let _ = std::fs::remove_file(&self.record_file);
        }
    }
}

fn sandbox_error(port: u16, reason: &str) -> CoreError {
    CoreError::Sandbox(format!(
        "{reason}. If port {port} is taken by another program, choose another with --port."
    ))
}

/// The recorded sandbox's URL, if its server answers a TCP connection.
fn running_sandbox(record_file: &Path) -> Option<Url> {
    let text = std::fs::read_to_string(record_file).ok()?;
    let record: SandboxRecord = serde_json::from_str(&text).ok()?;
    let url = Url::parse(&record.url).ok()?;
    let address = url.socket_addrs(|| None).ok()?.into_iter().next()?;
    TcpStream::connect_timeout(&address, Duration::from_millis(300)).ok()?;
    Some(url)
}
