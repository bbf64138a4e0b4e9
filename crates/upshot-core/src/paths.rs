//! Where Upshot keeps its settings and data: the platform's own directories, shared by the
//! desktop app and the CLI.

use crate::error::CoreError;
use std::path::{Path, PathBuf};

/// The desktop app's bundle identifier. Tauri derives its config and data directories from it,
/// so using it here puts the CLI's files in the very same place.
pub const APP_IDENTIFIER: &str = "app.upshot.desktop";

/// The settings file's name inside the config directory.
pub const SETTINGS_FILE: &str = "settings.json";

/// Upshot's directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    /// Settings (`settings.json`).
    pub config_dir: PathBuf,
    /// The queue, the history, screenshots, the sandbox's files.
    pub data_dir: PathBuf,
}

impl AppPaths {
    /// The platform's directories (`~/.config/app.upshot.desktop` and
    /// `~/.local/share/app.upshot.desktop` on Linux), with `data_dir` overridable.
    pub fn platform(data_dir_override: Option<PathBuf>) -> Result<Self, CoreError> {
        let config_dir = Self::platform_config_dir()?;
        let data_dir = match data_dir_override {
            Some(dir) => dir,
            None => dirs::data_dir()
                .ok_or(CoreError::NoPlatformDir {
                    which: "data",
                    hint: "--data-dir or UPSHOT_DATA_DIR",
                })?
                .join(APP_IDENTIFIER),
        };
        Ok(Self {
            config_dir,
            data_dir,
        })
    }

    /// The platform's config directory for Upshot.
    pub fn platform_config_dir() -> Result<PathBuf, CoreError> {
        Ok(dirs::config_dir()
            .ok_or(CoreError::NoPlatformDir {
                which: "config",
                hint: "UPSHOT_CONFIG_DIR",
            })?
            .join(APP_IDENTIFIER))
    }

    /// The settings file.
    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join(SETTINGS_FILE)
    }

    /// Where the sandbox server keeps its state and uploaded files.
    pub fn sandbox_dir(&self) -> PathBuf {
        self.data_dir.join("sandbox")
    }

    /// Creates a directory (and its parents) readable only by the user where the platform allows.
    pub fn ensure_private_dir(dir: &Path) -> Result<(), CoreError> {
        std::fs::create_dir_all(dir).map_err(|error| CoreError::io("create", dir, error))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|error| CoreError::io("set permissions on", dir, error))?;
        }
        Ok(())
    }
}

/// Creates `dir` and its missing parents; the ones created here are 0700 on unix (an existing
/// folder is left as it is: the user may have chosen its mode). Shared by the database, the
/// spool and the config files, which each wrap the error in their own type.
pub(crate) fn create_private_dirs(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}
