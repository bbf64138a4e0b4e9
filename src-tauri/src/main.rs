//! Upshot desktop app: starts the Tauri shell in `upshot_desktop::run`.

// Release builds on Windows get no console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    match upshot_desktop::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("upshot-desktop: {error}");
            ExitCode::FAILURE
        }
    }
}
