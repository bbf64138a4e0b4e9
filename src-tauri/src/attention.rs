//! What needs the user's attention: config files set aside at start and upload workers that
//! are retrying a database fault (of this app or of an `upshot` command). The core gathers it;
//! the UI asks at start, on focus and every few seconds, and shows it above everything else.

use crate::Error;
use crate::core::AppCore;
use tauri::State;
use upshot_core::service::Attention;

/// The start notices and the live worker faults.
#[tauri::command]
pub async fn attention(core: State<'_, AppCore>) -> Result<Attention, Error> {
    Ok(core.service.attention().await?)
}
