//! Turning the command line into settings and a connection to Imgur (or the sandbox).

use crate::cli::GlobalOptions;
use std::path::PathBuf;
use upshot_core::sandbox::{SANDBOX_PORT, Sandbox};
use upshot_core::{AppPaths, CoreError, LinkFormat, ResolvedSettings, SettingsOverrides, Uploader};

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

/// An uploader plus, in sandbox mode, the sandbox it talks to (kept alive while in use).
pub struct Connection {
    /// Sends the files.
    pub uploader: Uploader,
    /// The sandbox, when `--sandbox` was given.
    pub sandbox: Option<Sandbox>,
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
            // one-off upload, only the links' lifetime differs.
            let sandbox = match sandbox {
                Ok(sandbox) => sandbox,
                Err(_) => Sandbox::join_or_start(&settings.paths, 0).await?,
            };
            if sandbox.is_owned() {
                tracing::warn!(
                    "sandbox: links work while this command runs; run `upshot sandbox` in another terminal to keep them"
                );
            }
            let uploader = Uploader::anonymous(sandbox.api_base().clone(), sandbox.client_id())?;
            return Ok(Self {
                uploader,
                sandbox: Some(sandbox),
            });
        }
        let client_id = settings
            .client_id
            .as_deref()
            .ok_or(CoreError::MissingClientId)?;
        Ok(Self {
            uploader: Uploader::anonymous(settings.api_base.clone(), client_id)?,
            sandbox: None,
        })
    }

    /// Stops an owned sandbox.
    pub async fn close(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}
