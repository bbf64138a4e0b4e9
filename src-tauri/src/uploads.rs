//! The upload window's commands and events: drop, pick and paste go to the core's
//! [`WindowSession`](upshot_core::window::WindowSession) as interactive batches; its events are
//! emitted to the window as they come, and a batch's report becomes the clipboard's text and one
//! notification (as the desktop preferences say).

use crate::Error;
use crate::core::AppCore;
use std::path::PathBuf;
use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_notification::NotificationExt;
use upshot_core::types::Origin;
use upshot_core::window::{BatchReport, DropOutcome, QueueItem, Quota, WindowEvent};

/// Queues dropped paths as one interactive batch (folders opened; asks first above 100 files:
/// call again with `confirmed`).
#[tauri::command]
pub async fn upload_paths(
    core: State<'_, AppCore>,
    paths: Vec<PathBuf>,
    confirmed: bool,
) -> Result<DropOutcome, Error> {
    Ok(core
        .window
        .upload_paths(paths, Origin::Drop, confirmed)
        .await?)
}

/// Opens the system file picker and queues what is picked as one batch.
#[tauri::command]
pub async fn upload_pick(app: AppHandle, core: State<'_, AppCore>) -> Result<DropOutcome, Error> {
    let (picked, chosen) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Upload to Imgur")
        .add_filter("Images and videos", &upshot_core::media::EXTENSIONS)
        .pick_files(move |files| {
            let _ = picked.send(files);
        });
    let paths: Vec<PathBuf> = chosen
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|file| file.into_path().ok())
        .collect();
    if paths.is_empty() {
        return Ok(DropOutcome::Nothing);
    }
    Ok(core.window.upload_paths(paths, Origin::File, true).await?)
}

/// The queue view's files.
#[tauri::command]
pub async fn queue_list(core: State<'_, AppCore>) -> Result<Vec<QueueItem>, Error> {
    Ok(core.window.queue_list().await?)
}

/// A failed or waiting file tries again now.
#[tauri::command]
pub async fn queue_retry(core: State<'_, AppCore>, job: String) -> Result<(), Error> {
    Ok(core.window.retry(&job).await?)
}

/// A file still to be sent is cancelled.
#[tauri::command]
pub async fn queue_cancel(core: State<'_, AppCore>, job: String) -> Result<(), Error> {
    Ok(core.window.cancel(&job).await?)
}

/// An ended file leaves the list (its history entry stays).
#[tauri::command]
pub async fn queue_remove(core: State<'_, AppCore>, job: String) -> Result<(), Error> {
    Ok(core.window.remove(&job).await?)
}

/// Today's budget.
#[tauri::command]
pub async fn quota(core: State<'_, AppCore>) -> Result<Quota, Error> {
    Ok(core.window.quota().await?)
}

/// Emits the window's events as they come; a batch's report and a late link also reach the
/// clipboard and the notification area.
pub fn forward_events(app: &AppHandle) {
    let events = app
        .state::<AppCore>()
        .window_events
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    let Some(mut events) = events else { return };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        while let Some(event) = events.recv().await {
            match &event {
                WindowEvent::BatchEnded(report) => announce(&app, report),
                WindowEvent::LateLink(late) if crate::prefs::load(&app).copy_on_upload => {
                    copy(&app, &late.link);
                }
                _ => {}
            }
            if let Err(error) = app.emit(event.name(), &event) {
                tracing::warn!("could not tell the window about {}: {error}", event.name());
            }
        }
    });
}

/// A batch's links on the clipboard and one notification, as the preferences say.
fn announce(app: &AppHandle, report: &BatchReport) {
    let prefs = crate::prefs::load(app);
    let copied = prefs.copy_on_upload && !report.links.is_empty();
    if copied {
        copy(app, &report.links);
    }
    if prefs.notifications {
        let title = if copied {
            &report.title
        } else {
            &report.uncopied_title
        };
        let mut notification = app.notification().builder().title(title);
        if !report.body.is_empty() {
            notification = notification.body(&report.body);
        }
        if let Err(error) = notification.show() {
            tracing::warn!("could not show the notification: {error}");
        }
    }
}

/// Puts text on the clipboard; a failure is logged (the link is in the window and history).
pub fn copy(app: &AppHandle, text: &str) {
    if let Err(error) = app.clipboard().write_text(text.to_owned()) {
        tracing::warn!("could not copy to the clipboard: {error}");
    }
}
