//! Turning the command line into settings and an endpoint: Imgur or the sandbox.

use crate::cli::GlobalOptions;
use upshot_core::auth::VaultKind;
use upshot_core::config_file::ConfigNotice;
use upshot_core::sandbox::Sandbox;
use upshot_core::service::{ServiceError, UploadService};
use upshot_core::{CoreError, LinkFormat, ResolvedSettings, SettingsOverrides};
use upshot_imgur::Secret;

pub use upshot_core::service::config_dir;

/// The settings in force for this invocation. A settings file that could not be read was set
/// aside: that is said on stderr.
pub fn settings(
    global: &GlobalOptions,
    link_format: Option<LinkFormat>,
) -> Result<ResolvedSettings, CoreError> {
    let settings = ResolvedSettings::resolve(
        config_dir()?,
        SettingsOverrides {
            api_base: global.api_base.clone(),
            client_id: global.client_id.clone(),
            data_dir: global.data_dir.clone(),
            link_format,
            // What has no flag: `UPSHOT_ANSWER_DEADLINE`, `UPSHOT_SEND_STALL_TIMEOUT`.
            ..SettingsOverrides::from_env()
        },
    )?;
    settings.notices.iter().for_each(tell);
    Ok(settings)
}

/// Says on stderr that a config file was set aside.
pub fn tell(notice: &ConfigNotice) {
    eprintln!("upshot: {}", notice.message);
}

/// The core's endpoint (Imgur or the sandbox, kept alive while the command runs), with what
/// the CLI says about it on the terminal.
pub struct Endpoint(upshot_core::service::Endpoint);

impl std::ops::Deref for Endpoint {
    type Target = upshot_core::service::Endpoint;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Endpoint {
    /// Connects to Imgur with the configured Client ID, or to the sandbox with `--sandbox`, and
    /// opens the upload service on it with `workers` workers.
    pub async fn connect(
        global: &GlobalOptions,
        settings: &ResolvedSettings,
        workers: u16,
    ) -> Result<(Self, UploadService), ServiceError> {
        let (endpoint, service) = upshot_core::service::Endpoint::connect(
            settings,
            global.sandbox,
            global.client_secret.clone().map(Secret::new),
            usize::from(workers),
        )
        .await?;
        if endpoint.sandbox.as_ref().is_some_and(Sandbox::is_owned) {
            eprintln!(
                "upshot: using a sandbox for this command only; its links work while \
                 `upshot sandbox` runs (start it in another terminal to keep them)."
            );
        }
        if std::env::var_os("UPSHOT_SECRET_STORE").is_none()
            && let Some(session) = service.auth()
            && let Ok(Some(account)) = session.account().await
            && account.secret_store == VaultKind::File
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
        Ok((Self(endpoint), service))
    }

    /// Stops an owned sandbox.
    pub async fn close(self) {
        self.0.close().await;
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
