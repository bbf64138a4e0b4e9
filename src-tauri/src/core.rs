//! The app's handle on `upshot-core`: the endpoint the core chooses for the app (Imgur, or
//! the sandbox when no Client ID is configured), the upload service, and its workers running
//! for as long as the app.

use crate::{Error, ErrorCode};
use upshot_core::UploadService;
use upshot_core::paths::SETTINGS_FILE;
use upshot_core::service::{Endpoint, StopWhen};
use upshot_core::watch::{FolderSource, WATCH_FILE, WatchOptions, Watcher};
use upshot_core::window::{WindowEvent, WindowSession};

/// What every command reaches through Tauri's managed state.
pub struct AppCore {
    /// The upload service.
    pub service: UploadService,
    /// Keeps an owned sandbox alive while the app runs.
    _endpoint: Endpoint,
    /// Tells the workers to finish what they are sending and stop.
    stop: tokio::sync::watch::Sender<bool>,
    /// The workers' task: quitting waits for it, so an answer on its way is recorded.
    workers: std::sync::Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    /// Watches the saved folders (`watch.json`, shared with `upshot watch`).
    pub watcher: Watcher,
    /// The saved folders' file.
    pub watch_file: std::path::PathBuf,
    /// `settings.json`, shared with the CLI (the preflight settings are saved there).
    pub settings_file: std::path::PathBuf,
    /// `desktop.json`: the app's own preferences, beside the shared settings.
    pub desktop_file: std::path::PathBuf,
    /// The window's half of the service: batches, the queue and history views, paste.
    pub window: WindowSession,
    /// The window's events until [`crate::uploads::forward_events`] takes them.
    pub window_events: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<WindowEvent>>>,
}

impl AppCore {
    /// Opens the core: sandbox mode when no Client ID is configured.
    pub async fn open() -> Result<Self, Error> {
        let startup =
            |error: &dyn std::fmt::Display| Error::new(ErrorCode::Startup, error.to_string());
        let (settings, endpoint, service) = Endpoint::connect_for_app(2)
            .await
            .map_err(|error| startup(&error))?;
        if endpoint.sandbox.is_some() {
            tracing::info!(api = %endpoint.api_base, "no Client ID configured: sandbox mode");
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let workers = {
            let service = service.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(error) = service.run_workers(StopWhen::Never, stopped).await {
                    tracing::error!("the upload workers stopped: {error}");
                }
            })
        };
        let watch_file = settings.paths.config_dir.join(WATCH_FILE);
        let settings_file = settings.paths.config_dir.join(SETTINGS_FILE);
        let desktop_file = settings.paths.config_dir.join(crate::prefs::DESKTOP_FILE);
        let (window, window_events) = WindowSession::start(service.clone(), settings_file.clone());
        let watcher = Watcher::start(
            &service,
            FolderSource::Saved(watch_file.clone()),
            WatchOptions::default(),
        )
        .map_err(|error| startup(&error))?;
        Ok(Self {
            service,
            _endpoint: endpoint,
            stop,
            workers: std::sync::Mutex::new(Some(workers)),
            watcher,
            watch_file,
            settings_file,
            desktop_file,
            window,
            window_events: std::sync::Mutex::new(Some(window_events)),
        })
    }

    /// Lets the workers finish what they are sending; the rest stays queued.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Quitting: stops taking work and waits until the uploads whose body is on the wire have
    /// their answer recorded (the runner bounds that wait by the answer deadline), so quitting
    /// never loses an image Imgur is about to confirm. Blocks: call it once, as the app exits.
    pub fn stop_and_wait(&self) {
        self.stop();
        let workers = self
            .workers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(workers) = workers {
            tracing::info!("quitting: finishing the uploads in progress");
            if let Err(error) = tauri::async_runtime::block_on(workers) {
                tracing::error!("the upload workers ended badly: {error}");
            }
        }
    }
}
