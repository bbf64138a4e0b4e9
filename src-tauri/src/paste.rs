//! Ctrl+V in the window: the shell reads the clipboard (copied files as `text/uri-list`, an
//! image, text) with arboard, the library under the clipboard plugin, which also reads copied
//! files; the core decides what to upload.

use crate::core::AppCore;
use crate::{Error, ErrorCode};
use tauri::State;
use upshot_core::window::{DropOutcome, Pasted};

/// Uploads what the clipboard holds as one batch.
#[tauri::command]
pub async fn paste_clipboard(core: State<'_, AppCore>) -> Result<DropOutcome, Error> {
    let pasted = tokio::task::spawn_blocking(read_clipboard)
        .await
        .map_err(|error| Error::new(ErrorCode::Internal, error.to_string()))??;
    Ok(core.window.paste(pasted).await?)
}

/// The most useful thing on the clipboard: files, then an image, then text.
fn read_clipboard() -> Result<Pasted, Error> {
    let mut clipboard = arboard::Clipboard::new().map_err(|error| {
        Error::new(
            ErrorCode::Clipboard,
            format!("Could not read the clipboard: {error}"),
        )
    })?;
    if let Ok(files) = clipboard.get().file_list()
        && !files.is_empty()
    {
        return Ok(Pasted::Files(files));
    }
    if let Ok(image) = clipboard.get_image() {
        return Ok(Pasted::Pixels {
            width: u32::try_from(image.width).unwrap_or(0),
            height: u32::try_from(image.height).unwrap_or(0),
            rgba: image.bytes.into_owned(),
        });
    }
    match clipboard.get_text() {
        Ok(text) => Ok(Pasted::Text(text)),
        Err(_) => Ok(Pasted::Text(String::new())),
    }
}
