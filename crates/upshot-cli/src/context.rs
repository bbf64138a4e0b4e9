//! Turning the command line into settings and a connection to Imgur (or the sandbox).

use crate::cli::GlobalOptions;
use std::path::PathBuf;
use std::sync::Arc;
use upshot_core::auth::{DEEP_LINK_CALLBACK, VaultChoice, VaultKind};
use upshot_core::clock::SystemClock;
use upshot_core::runner::RunnerConfig;
use upshot_core::sandbox::{SANDBOX_CLIENT_SECRET, SANDBOX_PORT, Sandbox};
use upshot_core::service::LoginOptions;
use upshot_core::service::{ServiceError, UploadService};
use upshot_core::{AppPaths, CoreError, LinkFormat, ResolvedSettings, SettingsOverrides};
use upshot_imgur::Secret;
use url::Url;

/// The config directory: `UPSHOT_CONFIG_DIR` when set (tests and portable installs), else the
/// platform's.
pub fn config_dir() -> Result<PathBuf, CoreError> {
    match std::env::var_os("UPSHOT_CONFIG_DIR") {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => AppPaths::platform_config_dir(),
    }
}

/// The settings in force for this invocation.
pub fn settings(
    global: &GlobalOptions,
    link_format: Option<LinkFormat>,
) -> Result<ResolvedSettings, CoreError> {
    ResolvedSettings::resolve(
        config_dir()?,
        SettingsOverrides {
            api_base: global.api_base.clone(),
            client_id: global.client_id.clone(),
            data_dir: global.data_dir.clone(),
            link_format,
        },
    )
}

/// Where requests go (Imgur, or the sandbox kept alive while in use) and as which Client ID.
pub struct Connection {
    /// The API base.
    pub api_base: Url,
    /// The Client ID.
    pub client_id: String,
    /// The sandbox, when `--sandbox` was given.
    pub sandbox: Option<Sandbox>,
    /// The client secret given (flag or environment), or the sandbox's.
    pub client_secret: Option<Secret>,
}

impl Connection {
    /// Connects to Imgur with the configured Client ID, or to the sandbox with `--sandbox`.
    pub async fn open(
        global: &GlobalOptions,
        settings: &ResolvedSettings,
    ) -> Result<Self, CoreError> {
        if global.sandbox {
            let sandbox = Sandbox::join_or_start(&settings.paths, SANDBOX_PORT).await;
            // The fixed port may be taken by something else: any free port still works for a
            // one-off command, only the links' lifetime differs.
            let sandbox = match sandbox {
                Ok(sandbox) => sandbox,
                Err(_) => Sandbox::join_or_start(&settings.paths, 0).await?,
            };
            if sandbox.is_owned() {
                eprintln!(
                    "upshot: using a sandbox for this command only; its links work while \
                     `upshot sandbox` runs (start it in another terminal to keep them)."
                );
            }
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
            client_secret: global.client_secret.clone().map(Secret::new),
        })
    }

    /// The upload service for this connection.
    pub async fn service(
        &self,
        settings: &ResolvedSettings,
        workers: u16,
    ) -> Result<UploadService, ServiceError> {
        let config = RunnerConfig {
            workers: usize::from(workers.max(1)),
            ..RunnerConfig::default()
        };
        let service = UploadService::open_with_login(
            &settings.paths,
            self.api_base.clone(),
            &self.client_id,
            config,
            Arc::new(SystemClock),
            login_options(self.client_secret.clone()),
        )?;
        if let Some(session) = service.auth()
            && session.secret_store() == VaultKind::File
            && std::env::var_os("UPSHOT_SECRET_STORE").is_none()
            && session_has_login(session).await
        {
            eprintln!(
                "upshot: no system keychain answered; the login is kept in {} (readable only by you).",
                settings
                    .paths
                    .data_dir
                    .join(upshot_core::auth::vault::SECRETS_FILE)
                    .display()
            );
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

/// A `watch` channel that turns true on Ctrl-C or SIGTERM: workers finish what they are
/// sending, nothing is lost, and the rest stays queued. A second Ctrl-C stops at once: a job cut
/// off mid-upload is taken over by the next run.
pub fn shutdown_on_signal() -> tokio::sync::watch::Receiver<bool> {
    let (sender, receiver) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = sender.send(true);
        eprintln!("upshot: finishing the uploads in progress; press Ctrl-C again to stop now.");
        wait_for_signal().await;
        eprintln!("upshot: stopped; unfinished uploads stay queued.");
        std::process::exit(130);
    });
    receiver
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// How the CLI logs in: tokens in the keychain (or, with `UPSHOT_SECRET_STORE=file` or no
/// keychain, a private file), the deep-link callback, and a loopback one when
/// `UPSHOT_OAUTH_CALLBACK` names the application's registered `http://127.0.0.1:PORT/…` callback.
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
        callbacks: upshot_core::auth::callback::accepted_callbacks(&callbacks),
    }
}

async fn session_has_login(session: &upshot_core::auth::AuthSession) -> bool {
    matches!(session.account().await, Ok(Some(_)))
}
