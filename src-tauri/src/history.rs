//! The history view's commands: list and search, copy a link in any format, open it, delete
//! uploads, export. The entries and their links in every format come from the core.

use crate::Error;
use crate::core::AppCore;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;
use upshot_core::window::HistoryItem;

/// History entries, newest first, matching `query` (empty for all).
#[tauri::command]
pub async fn history_list(
    core: State<'_, AppCore>,
    query: String,
    limit: u32,
) -> Result<Vec<HistoryItem>, Error> {
    Ok(core.window.history_list(query, limit).await?)
}

/// Deletes uploads from Imgur and marks them deleted; answers the ids deleted.
#[tauri::command]
pub async fn history_delete(
    core: State<'_, AppCore>,
    ids: Vec<String>,
) -> Result<Vec<String>, Error> {
    Ok(core.window.history_delete(ids).await?)
}

/// Asks where to save the history (CSV or JSON by the name's extension) and writes it there;
/// answers how many entries were written (`null`: the user cancelled).
#[tauri::command]
pub async fn history_export(
    app: AppHandle,
    core: State<'_, AppCore>,
) -> Result<Option<u32>, Error> {
    let (chosen, answer) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Export the upload history")
        .set_file_name("upshot-history.csv")
        .add_filter("CSV", &["csv"])
        .add_filter("JSON", &["json"])
        .save_file(move |path| {
            let _ = chosen.send(path);
        });
    let Some(path) = answer
        .await
        .ok()
        .flatten()
        .and_then(|path| path.into_path().ok())
    else {
        return Ok(None);
    };
    let written = core.window.history_export(path).await?;
    Ok(Some(u32::try_from(written).unwrap_or(u32::MAX)))
}

/// Puts text (a link in the chosen format) on the clipboard.
#[tauri::command]
pub fn copy_text(app: AppHandle, text: String) {
    crate::uploads::copy(&app, &text);
}

/// Opens an upload's page in the browser.
#[tauri::command]
pub fn open_link(app: AppHandle, url: String) -> Result<(), Error> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::new(
            crate::ErrorCode::Internal,
            format!("{url} is not a web address"),
        ));
    }
    app.opener().open_url(url, None::<&str>).map_err(|error| {
        Error::new(
            crate::ErrorCode::Internal,
            format!("Could not open the browser: {error}"),
        )
    })
}
