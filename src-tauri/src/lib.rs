//! Upshot's desktop shell.
//!
//! A thin Tauri layer over `upshot-core`: it owns windows, commands, events and the deep link,
//! and nothing else. The work behind each command lives in the core crates, so the CLI and the
//! app stay two faces of one core.

mod attention;
mod bindings;
mod core;
mod error;
mod history;
mod login;
mod paste;
mod preflight;
mod prefs;
mod uploads;
mod watch;
mod window;

pub use error::{Error, ErrorCode};
pub use login::{ACCOUNT_CHANGED, LOGIN_FINISHED};
pub use window::MAIN_WINDOW;

use tauri::Manager;
use tauri_plugin_deep_link::DeepLinkExt;

/// Builds the Tauri app from `tauri.conf.json`, opens the main window and runs until the
/// last window closes.
///
/// # Errors
///
/// Fails when Tauri cannot start, for example without a display or a usable webview.
pub fn run() -> Result<(), Error> {
    init_logging();
    let app = tauri::Builder::default()
        // First: a second launch (say, the browser opening upshot://oauth/callback#…) hands its
        // URL to this instance through the deep-link plugin and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_store::Builder::default().build())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .invoke_handler(bindings::handler())
        .setup(|app| {
            let core = tauri::async_runtime::block_on(core::AppCore::open())?;
            app.manage(core);
            login::forward_logouts(app.handle());
            watch::forward_events(app.handle());
            uploads::forward_events(app.handle());
            register_deep_link(app);
            let handle = app.handle().clone();
            app.deep_link().on_open_url(move |event| {
                login::open_urls(
                    &handle,
                    event.urls().iter().map(ToString::to_string).collect(),
                );
            });
            // A URL that started the app is not lost.
            if let Ok(Some(urls)) = app.deep_link().get_current() {
                login::open_urls(app.handle(), urls.iter().map(ToString::to_string).collect());
            }
            window::open_main_window(app.handle())?;
            Ok(())
        })
        .build(tauri::generate_context!())?;
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event
            && let Some(core) = handle.try_state::<core::AppCore>()
        {
            core.stop_and_wait();
        }
    });
    Ok(())
}

/// Registers `upshot://` with the desktop at run time where the platform allows it (Linux,
/// Windows); installed bundles also declare it. A failure (no `xdg-mime`, say) is logged: a
/// pasted callback still works.
fn register_deep_link(app: &tauri::App) {
    #[cfg(any(target_os = "linux", windows))]
    if let Err(error) = app.deep_link().register_all() {
        tracing::warn!("could not register upshot:// with the desktop: {error}");
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    let _ = app;
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("UPSHOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
