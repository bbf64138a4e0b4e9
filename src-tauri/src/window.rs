//! The main window.
//!
//! It is declared in `tauri.conf.json` (size, title, `"create": false`) and opened here, so
//! its webview can get a data directory of its own.

use tauri::{AppHandle, Manager, WebviewWindow, WebviewWindowBuilder};

use crate::{Error, ErrorCode};

/// Label of the main window, as declared in `tauri.conf.json`.
pub const MAIN_WINDOW: &str = "main";

/// Subdirectory of the app's local data directory that holds the webview's own files.
///
/// WebKitGTK otherwise writes its caches and storage straight into
/// `~/.local/share/app.upshot.desktop/`, the directory `upshot-core` keeps its data in.
const WEBVIEW_DATA_DIR: &str = "webview";

/// Opens the main window from its configuration.
pub(crate) fn open_main_window(app: &AppHandle) -> Result<WebviewWindow, Error> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|window| window.label == MAIN_WINDOW)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::Internal,
                format!("tauri.conf.json declares no `{MAIN_WINDOW}` window"),
            )
        })?;
    let webview_data = app.path().app_local_data_dir()?.join(WEBVIEW_DATA_DIR);
    let window = WebviewWindowBuilder::from_config(app, config)?
        .data_directory(webview_data)
        .build()?;
    Ok(window)
}
