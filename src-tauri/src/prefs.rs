//! The desktop app's own preferences (copy on upload, notifications, the last view), kept by
//! tauri-plugin-store in `desktop.json` beside the shared `settings.json` in Upshot's config
//! directory. The shape and its defaults are the core's [`DesktopPrefs`].

use crate::Error;
use crate::core::AppCore;
use tauri::{AppHandle, Manager};
use tauri_plugin_store::StoreExt;
use upshot_core::window::DesktopPrefs;

/// The file's name in Upshot's config directory.
pub const DESKTOP_FILE: &str = "desktop.json";

/// The key the preferences are kept under.
const KEY: &str = "prefs";

/// The saved preferences, or the defaults (a missing or unreadable file is the defaults; the
/// store logs why).
pub fn load(app: &AppHandle) -> DesktopPrefs {
    let path = app.state::<AppCore>().desktop_file.clone();
    app.store(path)
        .ok()
        .and_then(|store| store.get(KEY))
        .and_then(|value| serde_json::from_value(value).ok())
        .unwrap_or_default()
}

/// The preferences in force.
#[tauri::command]
pub fn desktop_prefs(app: AppHandle) -> DesktopPrefs {
    load(&app)
}

/// Saves the preferences; answers them as saved.
#[tauri::command]
pub fn set_desktop_prefs(app: AppHandle, prefs: DesktopPrefs) -> Result<DesktopPrefs, Error> {
    let path = app.state::<AppCore>().desktop_file.clone();
    let store = app.store(path).map_err(store_error)?;
    let value = serde_json::to_value(&prefs)
        .map_err(|error| Error::new(crate::ErrorCode::Internal, error.to_string()))?;
    store.set(KEY, value);
    store.save().map_err(store_error)?;
    Ok(prefs)
}

fn store_error(error: tauri_plugin_store::Error) -> Error {
    Error::new(
        crate::ErrorCode::Preferences,
        format!("Could not save the app's preferences (desktop.json): {error}"),
    )
}
