//! Sandbox mode: the built-in Imgur-compatible server, so the whole app can be tried with no
//! account and no network.
//!
//! The sandbox listens on a fixed loopback port and keeps its state and files in the data
//! directory, so the links it hands out keep working across restarts. A process that wants the
//! sandbox first joins one that is already running (`upshot sandbox`, or the desktop app) and
//! only starts its own when none can be joined: see [`record`] for what makes a recorded server
//! joinable.
//!
//! The sandbox's test controls (`/_fake/*`) stay off: a web page could otherwise reach them.

mod record;

use crate::core_error::CoreError;
use crate::paths::AppPaths;
use fake_imgur::{FakeImgurError, RegisteredApp, RunningServer, ServerConfig};
use record::SandboxRecord;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use url::Url;

/// The sandbox's Client ID. Not a real Imgur application.
pub const SANDBOX_CLIENT_ID: &str = "upshot-sandbox";
/// The sandbox's client secret. Not a secret: it only opens the local fake server.
pub const SANDBOX_CLIENT_SECRET: &str = "upshot-sandbox-secret";
/// The sandbox's default port, fixed so that links stay valid across restarts.
pub const SANDBOX_PORT: u16 = 47913;

/// The record of the running sandbox, in the sandbox directory.
pub const RECORD_FILE: &str = "server.json";

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
        match record::joinable(&record_file).await {
            Ok(api_base) => {
                tracing::info!(%api_base, "joined the running sandbox");
                return Ok(Self {
                    api_base,
                    owned: None,
                    record_file,
                });
            }
            Err(reason) => {
                tracing::info!("starting a sandbox: not joining the recorded one: {reason}")
            }
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
        config.test_controls = false;
        let key = record::new_key();
        config.hello_key = Some(fake_imgur::HelloKey::new(key.clone()));
        let server = fake_imgur::start(config)
            .await
            .map_err(|error| sandbox_error(dir, port, &error))?;
        let api_base = Url::parse(&server.base_url())
            .map_err(|error| CoreError::Sandbox(error.to_string()))?;
        let record_file = dir.join(RECORD_FILE);
        let record = SandboxRecord {
            url: api_base.to_string(),
            pid: std::process::id(),
            key,
        };
        record::write(&record_file, &record)?;
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

fn sandbox_error(dir: &Path, port: u16, error: &FakeImgurError) -> CoreError {
    CoreError::Sandbox(match error {
        FakeImgurError::InUse { .. } => format!(
            "another Upshot process (the app or `upshot sandbox`) already runs the sandbox in \
             {}. `upshot --sandbox ...` uses that one; if this came from `--sandbox`, that \
             process did not answer as its {RECORD_FILE} says it would: stop it and try again",
            dir.display()
        ),
        _ => format!(
            "{error}. If port {port} is taken by another program, choose another with --port"
        ),
    })
}
