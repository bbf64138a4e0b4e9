//! The faces' one way in: which server and Client ID they talk to (Imgur with the configured
//! Client ID, or the built-in sandbox: for the CLI with `--sandbox`, for the app whenever no
//! Client ID is configured), read from the settings and the environment, and the
//! [`UploadService`] opened on it. The CLI and the desktop app both open their service through
//! [`Endpoint::connect`], so the wiring is written once.

use crate::auth::callback::accepted_callbacks;
use crate::auth::{AuthError, DEEP_LINK_CALLBACK, SecretVault, VaultChoice};
use crate::clock::SystemClock;
use crate::commercial;
use crate::core_error::CoreError;
use crate::runner::RunnerConfig;
use crate::sandbox::{SANDBOX_CLIENT_SECRET, SANDBOX_PORT, Sandbox};
use crate::service::{LoginOptions, ServiceError, UploadService};
use crate::settings::ResolvedSettings;
use crate::settings::SettingsOverrides;
use std::path::PathBuf;
use std::sync::Arc;
use upshot_imgur::{ClientConfig, Secret};
use url::Url;

/// Where requests go and as which Client ID; owns the sandbox while it is in use.
#[derive(Debug)]
pub struct Endpoint {
    /// The API base.
    pub api_base: Url,
    /// The Client ID.
    pub client_id: String,
    /// The sandbox, when one is used.
    pub sandbox: Option<Sandbox>,
    /// The client secret given (flag or environment), or the sandbox's.
    pub client_secret: Option<Secret>,
}

impl Endpoint {
    /// Imgur with the configured Client ID (an error says how to set one), or the sandbox when
    /// `sandbox` is true. The sandbox's fixed port keeps its links alive across runs; when the
    /// port is taken by something else, any free port still works.
    async fn open(
        settings: &ResolvedSettings,
        sandbox: bool,
        client_secret: Option<Secret>,
    ) -> Result<Self, CoreError> {
        if sandbox {
            let sandbox = match Sandbox::join_or_start(&settings.paths, SANDBOX_PORT).await {
                Ok(sandbox) => sandbox,
                Err(_) => Sandbox::join_or_start(&settings.paths, 0).await?,
            };
            return Ok(Self {
                api_base: sandbox.api_base().clone(),
                client_id: sandbox.client_id().to_owned(),
                sandbox: Some(sandbox),
                client_secret: Some(Secret::new(SANDBOX_CLIENT_SECRET)),
            });
        }
        let client_id = settings
            .client_id
            .clone()
            .ok_or(CoreError::MissingClientId)?;
        Ok(Self {
            api_base: settings.api_base.clone(),
            client_id,
            sandbox: None,
            client_secret,
        })
    }

    /// The one constructor of both faces: the endpoint (`sandbox`: the built-in server, else
    /// Imgur with the configured Client ID) and the upload service on it with `workers`
    /// workers. Keep the endpoint alive as long as the service: it owns the sandbox, if any.
    pub async fn connect(
        settings: &ResolvedSettings,
        sandbox: bool,
        client_secret: Option<Secret>,
        workers: usize,
    ) -> Result<(Self, UploadService), ServiceError> {
        let endpoint = Self::open(settings, sandbox, client_secret).await?;
        match endpoint.service(settings, workers) {
            Ok(service) => Ok((endpoint, service)),
            Err(error) => {
                endpoint.close().await;
                Err(error)
            }
        }
    }

    /// How the desktop app (which takes no flags) connects: settings from the file and the
    /// environment, the sandbox when no Client ID is configured, the client secret from
    /// `UPSHOT_CLIENT_SECRET`; then [`connect`](Self::connect).
    pub async fn connect_for_app(
        workers: usize,
    ) -> Result<(ResolvedSettings, Self, UploadService), ServiceError> {
        let settings = ResolvedSettings::resolve(config_dir()?, SettingsOverrides::from_env())?;
        let sandbox = settings.client_id.is_none();
        let client_secret = std::env::var("UPSHOT_CLIENT_SECRET")
            .ok()
            .filter(|secret| !secret.is_empty())
            .map(Secret::new);
        let (endpoint, service) = Self::connect(&settings, sandbox, client_secret, workers).await?;
        Ok((settings, endpoint, service))
    }

    /// The upload service for this endpoint, logged in as the account of its Client ID
    /// when there is one, sending the RapidAPI key where one is needed ([`commercial`]), and
    /// holding the settings' start notices.
    fn service(
        &self,
        settings: &ResolvedSettings,
        workers: usize,
    ) -> Result<UploadService, ServiceError> {
        let config = RunnerConfig {
            workers: workers.max(1),
            job_retention: settings.job_retention,
            ..RunnerConfig::default()
        };
        let login = login_options(self.client_secret.clone());
        let mut client = ClientConfig {
            answer_deadline: settings.answer_deadline,
            send_stall_timeout: settings.send_stall_timeout,
            ..ClientConfig::new(self.api_base.clone())
        };
        if self.sandbox.is_none() {
            let vault = SecretVault::open(&settings.paths.data_dir, login.vault);
            client.commercial_key =
                commercial::key_for(&self.api_base, &vault).map_err(AuthError::from)?;
        }
        let service = UploadService::assemble_with_login(
            &settings.paths,
            client,
            &self.client_id,
            config,
            Arc::new(SystemClock),
            login,
        )?;
        service.set_preflight_settings(settings.preflight);
        for notice in &settings.notices {
            service.note_startup(notice.clone());
        }
        Ok(service)
    }

    /// Stops an owned sandbox.
    pub async fn close(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// The config directory: `UPSHOT_CONFIG_DIR` when set (tests and portable installs), else the
/// platform's.
pub fn config_dir() -> Result<PathBuf, CoreError> {
    match std::env::var_os("UPSHOT_CONFIG_DIR") {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => Ok(crate::paths::AppPaths::platform_config_dir()?),
    }
}

/// How to log in: tokens in the keychain (or a private file with `UPSHOT_SECRET_STORE=file`, or
/// where no keychain answers); callbacks: the deep link, and a loopback one when
/// `UPSHOT_OAUTH_CALLBACK` names the application's registered `http://127.0.0.1:PORT/…`.
pub fn login_options(client_secret: Option<Secret>) -> LoginOptions {
    let vault = match std::env::var("UPSHOT_SECRET_STORE").as_deref() {
        Ok("file") => VaultChoice::File,
        _ => VaultChoice::Auto,
    };
    let mut callbacks = vec![DEEP_LINK_CALLBACK.to_owned()];
    if let Ok(extra) = std::env::var("UPSHOT_OAUTH_CALLBACK")
        && !extra.is_empty()
    {
        callbacks.push(extra);
    }
    let callbacks: Vec<&str> = callbacks.iter().map(String::as_str).collect();
    LoginOptions {
        vault,
        client_secret,
        callbacks: accepted_callbacks(&callbacks),
    }
}
