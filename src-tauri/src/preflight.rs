//! The preflight settings panel: what is checked, removed and fitted before an upload. The
//! settings live in the shared `settings.json` (so `upshot config` sees the same), and the
//! running service uses them for every job queued from then on, the watcher's included.

use crate::Error;
use crate::core::AppCore;
use tauri::State;
use upshot_core::SettingsFile;
use upshot_core::preflight::PreflightSettings;

/// The settings in force.
#[tauri::command]
pub fn preflight_settings(core: State<'_, AppCore>) -> PreflightSettings {
    core.service.preflight_settings()
}

/// Saves new settings and applies them to jobs queued from now on.
#[tauri::command]
pub fn set_preflight_settings(
    core: State<'_, AppCore>,
    settings: PreflightSettings,
) -> Result<PreflightSettings, Error> {
    SettingsFile::save_preflight(&core.settings_file, &settings)?;
    core.service.set_preflight_settings(settings);
    Ok(settings)
}
