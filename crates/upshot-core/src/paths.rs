//! Where Upshot keeps its settings and data: the platform's own directories, shared by the
//! desktop app and the CLI.

use crate::error::ErrorCode;
use std::path::{Path, PathBuf};

/// Upshot's directories could not be found or created. Its own enum, so the modules below the
/// settings (config files, the store) can use paths without knowing the settings' errors.
#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    /// The platform gives no home, config or data directory.
    #[error("Could not find a {which} directory for Upshot on this system; set {hint}.")]
    NoPlatformDir {
        /// Which directory.
        which: &'static str,
        /// The setting that names it instead.
        hint: &'static str,
    },
    /// Creating a directory or setting its permissions failed.
    #[error("Could not {action} {path}: {source}")]
    Io {
        /// What was being done ("create", "set permissions on").
        action: &'static str,
        /// The directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl ErrorCode for PathsError {
    fn code(&self) -> &'static str {
        match self {
            Self::NoPlatformDir { .. } => "no_platform_dir",
            Self::Io { .. } => "io",
        }
    }
}

crate::error::serialize_as_coded!(PathsError);

impl PathsError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

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
    pub fn platform(data_dir_override: Option<PathBuf>) -> Result<Self, PathsError> {
        let config_dir = Self::platform_config_dir()?;
        let data_dir = match data_dir_override {
            Some(dir) => dir,
            None => dirs::data_dir()
                .ok_or(PathsError::NoPlatformDir {
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
    pub fn platform_config_dir() -> Result<PathBuf, PathsError> {
        Ok(dirs::config_dir()
            .ok_or(PathsError::NoPlatformDir {
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
    pub fn ensure_private_dir(dir: &Path) -> Result<(), PathsError> {
        std::fs::create_dir_all(dir).map_err(|error| PathsError::io("create", dir, error))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|error| PathsError::io("set permissions on", dir, error))?;
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
