//! Set-up shared by the core's integration tests, so each test file says only what it tests: the
//! fake Imgur server on loopback, an app's folders in a temporary directory, a service over them
//! (with its workers running when a test wants uploads to happen), a real SQLite file, a history
//! entry, a PNG on disk, and waiting for an event with a hang guard.
//!
//! Each test file that needs it says `mod common;`; not every file uses every helper.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fake_imgur::{Limits, RegisteredApp, RunningServer, ServerConfig};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use upshot_core::AppPaths;
use upshot_core::auth::VaultChoice;
use upshot_core::auth::callback::accepted_callbacks;
use upshot_core::clock::{Clock, ManualClock};
use upshot_core::history::NewHistoryEntry;
use upshot_core::runner::{RunnerConfig, StopWhen};
use upshot_core::service::{LoginOptions, UploadService};
use upshot_core::store::Database;
use upshot_core::types::Origin;
use upshot_core::types::UnixMillis;
use url::Url;

/// The fake Imgur server on a free loopback port, with one registered application; `adjust`
/// changes the rest of its configuration (limits, token lifetime…) before it starts.
pub async fn fake_server(
    client_id: &str,
    client_secret: &str,
    adjust: impl FnOnce(&mut ServerConfig),
) -> RunningServer {
    let mut config = ServerConfig::default();
    config
        .apps
        .push(RegisteredApp::new(client_id, client_secret));
    adjust(&mut config);
    fake_imgur::start(config).await.unwrap()
}

/// Limits so high that no test meets Imgur's quota by accident.
pub fn generous_limits() -> Limits {
    Limits {
        client_credits_per_day: 10_000_000,
        user_credits_per_hour: 10_000_000,
        posts_per_hour: 1_000_000,
        ..Limits::default()
    }
}

/// The server's base URL, parsed.
pub fn base_url(server: &RunningServer) -> Url {
    Url::parse(&server.base_url()).unwrap()
}

/// An app's config and data folders inside `dir` (created on first use by the service).
pub fn app_paths(dir: &Path) -> AppPaths {
    AppPaths {
        config_dir: dir.join("config"),
        data_dir: dir.join("data"),
    }
}

/// A real SQLite database in a temporary folder, and one connection to it.
pub fn temp_database() -> (tempfile::TempDir, Database, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path()).unwrap();
    let conn = db.connect().unwrap();
    (dir, db, conn)
}

/// A manual clock standing at the real time now.
pub fn manual_clock_now() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(UnixMillis::from_system_time(
        std::time::SystemTime::now(),
    )))
}

/// A service that can log in (secrets in a file in the data folder, never the keychain), with
/// one worker, as the CLI and the app open it.
pub fn login_service(
    paths: &AppPaths,
    server: &RunningServer,
    client_id: &str,
    client_secret: &str,
    clock: Arc<dyn Clock>,
) -> UploadService {
    UploadService::open_with_login(
        paths,
        base_url(server),
        client_id,
        RunnerConfig {
            workers: 1,
            ..RunnerConfig::default()
        },
        clock,
        LoginOptions {
            vault: VaultChoice::File,
            client_secret: Some(client_secret.into()),
            callbacks: accepted_callbacks(&["upshot://oauth/callback"]),
        },
    )
    .unwrap()
}

/// A history entry of an anonymous PNG upload from the CLI; tests change what they look at
/// with `NewHistoryEntry { field: …, ..history_entry(id, at) }`.
pub fn history_entry(imgur_id: &str, uploaded_at: i64) -> NewHistoryEntry {
    NewHistoryEntry {
        job_id: None,
        imgur_id: imgur_id.to_owned(),
        link: format!("https://i.imgur.com/{imgur_id}.png"),
        deletehash: Some(format!("del{imgur_id}")),
        mime_type: "image/png".to_owned(),
        size: 10,
        width: None,
        height: None,
        album: None,
        account: None,
        title: None,
        source_path: None,
        origin: Origin::Cli,
        api_base: "https://api.imgur.com".to_owned(),
        uploaded_at,
        preflight: None,
    }
}

/// Writes a real PNG of `width`×`height` (its pixels vary with `seed`) as `dir/name`.
pub fn write_png(dir: &Path, name: &str, width: u32, height: u32, seed: u8) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, fake_imgur::samples::png(width, height, seed)).unwrap();
    path
}

/// The next event on `events` that `wanted` accepts, skipping the others (and any the receiver
/// lagged behind on); panics naming `what` if none comes within 60 s (a hang guard, not a
/// timing assertion).
pub async fn next_event<T: Clone>(
    events: &mut tokio::sync::broadcast::Receiver<T>,
    what: &str,
    mut wanted: impl FnMut(&T) -> bool,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
        match event {
            Ok(event) if wanted(&event) => return event,
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(closed) => panic!("waiting for {what}: {closed}"),
        }
    }
}

/// Sends the stop to the workers when dropped, so a test that ends (or fails) stops them.
pub struct StopOnDrop(pub tokio::sync::watch::Sender<bool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

/// A fake server with generous limits, a service in a temporary directory over it, and two
/// workers uploading until the world is stopped or dropped: for tests of whole uploads (the
/// watcher, preflight) that do not drive the workers themselves.
pub struct World {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
    pub service: UploadService,
    pub stop_workers: StopOnDrop,
}

impl World {
    /// Starts the server (registering `client_id`), opens the service and runs its workers
    /// (a 50 ms back-off base, so retries in tests come quickly).
    pub async fn start(client_id: &str) -> Self {
        let server = fake_server(client_id, "secret", |config| {
            config.limits = generous_limits();
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let service = UploadService::open(
            &app_paths(dir.path()),
            base_url(&server),
            client_id,
            RunnerConfig {
                workers: 2,
                backoff_base: Duration::from_millis(50),
                ..RunnerConfig::default()
            },
        )
        .unwrap();
        let (stop_workers, shutdown) = tokio::sync::watch::channel(false);
        let runner = service.runner().clone();
        tokio::spawn(async move { runner.run(StopWhen::Never, shutdown).await });
        Self {
            server,
            dir,
            service,
            stop_workers: StopOnDrop(stop_workers),
        }
    }

    /// Stops the workers and shuts the server down (its requests in flight finish).
    pub async fn stop(self) {
        let _ = self.stop_workers.0.send(true);
        self.server.shutdown().await;
    }
}
