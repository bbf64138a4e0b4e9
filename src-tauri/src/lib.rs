//! Upshot's desktop shell.
//!
//! A thin Tauri layer over `upshot-core`: it owns windows, commands and events and nothing
//! else. The work behind each command lives in the core crates, so the CLI and the app stay
//! two faces of one core.

mod error;
mod window;

pub use error::{Error, ErrorCode};
pub use window::MAIN_WINDOW;

/// Builds the Tauri app from `tauri.conf.json`, opens the main window and runs until the
/// last window closes.
///
/// # Errors
///
/// Fails when Tauri cannot start, for example without a display or a usable webview.
pub fn run() -> Result<(), Error> {
    tauri::Builder::default()
        .setup(|app| {
            window::open_main_window(app.handle())?;
            Ok(())
        })
        .run(tauri::generate_context!())
        .map_err(Error::from)
}
