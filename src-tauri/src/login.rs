//! Logging in from the app. Every way a callback arrives (the deep link of a running app, the
//! URL a second launch hands over, the URL that started the app, the field the user pastes
//! into) ends in [`complete`], which asks the core and tells the UI through the
//! `login-finished` event. The commands are a few lines over `AuthSession`.

use crate::core::AppCore;
use crate::{Error, ErrorCode};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_opener::OpenerExt;
use upshot_core::auth::{Account, AuthSession, DEEP_LINK_CALLBACK};

/// The event the UI listens to.
pub const LOGIN_FINISHED: &str = "login-finished";

/// Sent when the account's state may have changed behind the UI's back (Imgur logged it out
/// during an upload): the UI asks `account` again.
pub const ACCOUNT_CHANGED: &str = "account-changed";

/// What the UI is told when a login ends.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum LoginFinished {
    /// Logged in.
    LoggedIn {
        /// Who.
        account: Account,
    },
    /// The callback was refused; nothing was kept.
    Failed {
        /// Why.
        error: Error,
    },
}

fn session(core: &AppCore) -> Result<&AuthSession, Error> {
    core.service.auth().map(AsRef::as_ref).ok_or_else(|| {
        Error::new(
            ErrorCode::Internal,
            "the core was opened without a login session",
        )
    })
}

/// Starts a login and opens Imgur's authorize page in the system browser. Returns the page's
/// address too, for the UI to show when no browser opens.
#[tauri::command]
pub async fn login_start(app: AppHandle, core: State<'_, AppCore>) -> Result<String, Error> {
    let start = session(&core)?.start_login().await?;
    if let Err(error) = app.opener().open_url(start.url.as_str(), None::<&str>) {
        tracing::warn!("could not open the browser: {error}");
    }
    Ok(start.url.to_string())
}

/// Completes a login with an address the user pasted.
#[tauri::command]
pub async fn login_complete(app: AppHandle, callback: String) -> Result<Account, Error> {
    complete(&app, &callback).await
}

/// Who is logged in (or was logged out by Imgur, with the reason).
#[tauri::command]
pub async fn account(core: State<'_, AppCore>) -> Result<Option<Account>, Error> {
    Ok(session(&core)?.account().await?)
}

/// Logs out; returns who was logged in.
#[tauri::command]
pub async fn logout(core: State<'_, AppCore>) -> Result<Option<String>, Error> {
    Ok(session(&core)?.logout().await?)
}

/// Completes a login from a callback address and tells the UI either way.
pub async fn complete(app: &AppHandle, callback: &str) -> Result<Account, Error> {
    let core = app.state::<AppCore>();
    let result = match session(&core) {
        Ok(auth) => auth.complete_login(callback).await.map_err(Error::from),
        Err(error) => Err(error),
    };
    let event = match &result {
        Ok(account) => {
            tracing::info!(account = %account.username, "logged in");
            LoginFinished::LoggedIn {
                account: account.clone(),
            }
        }
        Err(error) => {
            tracing::warn!(code = %error.code, "a login callback was refused");
            LoginFinished::Failed {
                error: error.clone(),
            }
        }
    };
    let _ = app.emit(LOGIN_FINISHED, event);
    result
}

/// Handles URLs the app was asked to open: login callbacks are completed, anything else is
/// ignored (and logged without its parameters, which may hold tokens).
pub fn open_urls(app: &AppHandle, urls: Vec<String>) {
    for url in urls {
        if !url.starts_with(DEEP_LINK_CALLBACK) {
            tracing::warn!(
                scheme = url.split(':').next().unwrap_or(""),
                "ignored a URL that is not a login callback"
            );
            continue;
        }
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let _ = complete(&app, &url).await;
        });
    }
}

/// Tells the UI whenever an upload starts waiting for a login: Imgur logged the account out.
pub fn forward_logouts(app: &AppHandle) {
    let app = app.clone();
    let mut events = app.state::<AppCore>().service.subscribe();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        use upshot_core::events::QueueEvent;
        use upshot_core::types::WaitReason;
        loop {
            match events.recv().await {
                Ok(QueueEvent::Waiting {
                    reason: WaitReason::LogInAgain,
                    ..
                }) => {
                    tracing::info!("an upload waits for a new login; the UI was told");
                    let _ = app.emit(ACCOUNT_CHANGED, ());
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
}
