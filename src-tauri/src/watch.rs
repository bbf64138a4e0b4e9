//! Watched-folder commands and events: the saved list is the core's (`watch.json`, shared with
//! `upshot watch`); the app's watcher follows every change to it, so these commands only edit
//! the list and read the watcher's status.

use crate::Error;
use crate::core::AppCore;
use std::path::PathBuf;
use tauri::{AppHandle, Emitter, Manager, State};
use upshot_core::watch::{AfterUpload, FolderView, WatchList, WatchedFolder};

/// The event carrying each [`upshot_core::watch::WatchEvent`] to the UI.
pub const WATCH_EVENT: &str = "watch-event";

/// The saved folders and their state.
#[tauri::command]
pub fn watch_folders(core: State<'_, AppCore>) -> Result<Vec<FolderView>, Error> {
    Ok(core.watcher.views(WatchList::load(&core.watch_file)?))
}

/// Saves a folder to watch; returns it with its id.
#[tauri::command]
pub fn watch_add(
    core: State<'_, AppCore>,
    path: PathBuf,
    recursive: bool,
    after: String,
) -> Result<WatchedFolder, Error> {
    let mut folder = WatchedFolder::new("", path);
    folder.recursive = recursive;
    folder.after_upload = AfterUpload::parse(&after)?;
    Ok(WatchList::update(&core.watch_file, |list| {
        list.add(folder).cloned()
    })?)
}

/// Stops watching a folder (its files are left alone).
#[tauri::command]
pub fn watch_remove(core: State<'_, AppCore>, id: String) -> Result<(), Error> {
    WatchList::update(&core.watch_file, |list| list.remove(&id).map(|_| ()))?;
    Ok(())
}

/// Pauses or resumes a folder.
#[tauri::command]
pub fn watch_set_enabled(core: State<'_, AppCore>, id: String, enabled: bool) -> Result<(), Error> {
    WatchList::update(&core.watch_file, |list| {
        list.find_mut(&id)?.enabled = enabled;
        Ok(())
    })?;
    Ok(())
}

/// Forwards every watcher event to the UI.
pub fn forward_events(app: &AppHandle) {
    let app = app.clone();
    let mut events = app.state::<AppCore>().watcher.subscribe();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(event) => {
                    let _ = app.emit(WATCH_EVENT, &event);
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
}
