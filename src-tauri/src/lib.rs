//! Upshot's desktop shell.
//!
//! A thin Tauri layer over `upshot-core`: it owns windows, commands and events and nothing
//! else. The work behind each command lives in the core crates, so the CLI and the app stay
//! two faces of one core.

mod error;

pub use error::{Error, ErrorCode};

/// Builds the Tauri app from `tauri.conf.json` and runs it until the last window closes.
///
/// # Errors
///
/// Fails when Tauri cannot start, for example without a display or a usable webview.
pub fn run() -> Result<(), Error> {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .map_err(Error::from)
}
