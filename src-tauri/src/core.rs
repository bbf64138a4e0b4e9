//! The app's handle on `upshot-core`: settings from the settings file and the environment,
//! Imgur with the configured Client ID or the sandbox when none is configured, the upload
//! service (logged in when an account is), and its workers running for as long as the app.

use crate::{Error, ErrorCode};
use upshot_core::connection::{Connection, config_dir};
use upshot_core::runner::StopWhen;
use upshot_core::{ResolvedSettings, SettingsOverrides, UploadService};
use upshot_imgur::Secret;

/// What every command reaches through Tauri's managed state.
pub struct AppCore {
    /// The upload service.
    pub service: UploadService,
    /// Keeps an owned sandbox alive while the app runs.
    _connection: Connection,
    /// Tells the workers to finish what they are sending and stop.
    stop: tokio::sync::watch::Sender<bool>,
}

impl AppCore {
    /// Opens the core: sandbox mode when no Client ID is configured.
    pub async fn open() -> Result<Self, Error> {
        let startup =
            |error: &dyn std::fmt::Display| Error::new(ErrorCode::Startup, error.to_string());
        let dir = config_dir().map_err(|error| startup(&error))?;
        let settings = ResolvedSettings::resolve(dir, SettingsOverrides::from_env())
            .map_err(|error| startup(&error))?;
        let sandbox = settings.client_id.is_none();
        let client_secret = std::env::var("UPSHOT_CLIENT_SECRET")
            .ok()
            .filter(|secret| !secret.is_empty())
            .map(Secret::new);
        let connection = Connection::open(&settings, sandbox, client_secret)
            .await
            .map_err(|error| startup(&error))?;
        let service = connection
            .service(&settings, 2)
            .map_err(|error| startup(&error))?;
        if sandbox {
            tracing::info!(api = %connection.api_base, "no Client ID configured: sandbox mode");
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let runner = service.runner().clone();
        tauri::async_runtime::spawn(async move {
            if let Err(error) = runner.run(StopWhen::Never, stopped).await {
                tracing::error!("the upload workers stopped: {error}");
            }
        });
        Ok(Self {
            service,
            _connection: connection,
            stop,
        })
    }

    /// Lets the workers finish what they are sending; the rest stays queued.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}
