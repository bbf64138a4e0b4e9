//! A one-shot listener on 127.0.0.1, for applications registered with an
//! `http://127.0.0.1:PORT/…` callback instead of the deep link.
//!
//! The tokens arrive in the URL fragment, which a browser never sends to a server. So the
//! callback page is a tiny script that sends the fragment back as a query; the listener turns it
//! into the callback address (the registered one plus the parameters), hands it to the same
//! parser as every other way in, and stops.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

/// Why the listener could not deliver a callback.
#[derive(Debug, thiserror::Error)]
pub enum LoopbackError {
    /// The callback is not a loopback `http` address.
    #[error("{0} is not a loopback callback (http://127.0.0.1:PORT/…)")]
    NotLoopback(String),
    /// The port is taken or cannot be bound.
    #[error(
        "cannot listen on {address} for the login callback: {reason}; close what uses the port or register another callback"
    )]
    Bind {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// Nothing came back in time.
    #[error("no login came back within {0} s; start the login again")]
    TimedOut(u64),
}

impl crate::error::ErrorCode for LoopbackError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotLoopback(_) => "not_loopback_callback",
            Self::Bind { .. } => "callback_port_unavailable",
            Self::TimedOut(_) => "login_timed_out",
        }
    }
}

crate::error::serialize_as_coded!(LoopbackError);

/// The listener, bound and waiting.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    callback: Url,
}

/// What the handlers share: where to send the one callback.
#[derive(Clone)]
struct Shared {
    callback: Url,
    deliver: Arc<Mutex<Option<oneshot::Sender<String>>>>,
}

impl LoopbackListener {
    /// Binds the callback's port on 127.0.0.1 (port 0 picks a free one, for tests).
    pub async fn bind(callback: &Url) -> Result<Self, LoopbackError> {
        let host = callback.host_str().unwrap_or_default();
        if callback.scheme() != "http" || !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(LoopbackError::NotLoopback(callback.to_string()));
        }
        let port = callback.port().unwrap_or(80);
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = TcpListener::bind(address)
            .await
            .map_err(|error| LoopbackError::Bind {
                address: address.to_string(),
                reason: error.to_string(),
            })?;
        let mut callback = callback.clone();
        if let Ok(bound) = listener.local_addr() {
            let _ = callback.set_port(Some(bound.port()));
        }
        Ok(Self { listener, callback })
    }

    /// The callback address as bound (with the real port when 0 was asked).
    pub fn callback(&self) -> &Url {
        &self.callback
    }

    /// Serves until one callback arrives or `timeout` passes; returns the callback address with
    /// its parameters, for [`parse_callback`](super::parse_callback).
    pub async fn receive(self, timeout: Duration) -> Result<String, LoopbackError> {
        let (deliver, delivered) = oneshot::channel();
        let shared = Shared {
            callback: self.callback.clone(),
            deliver: Arc::new(Mutex::new(Some(deliver))),
        };
        let path = self.callback.path().to_owned();
        let complete = format!("{}/complete", path.trim_end_matches('/'));
        let app = Router::new()
            .route(&path, get(page))
            .route(&complete, get(complete_login))
            .with_state(shared);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = axum::serve(self.listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        let serving = tokio::spawn(async move { server.await });
        let outcome = tokio::time::timeout(timeout, delivered).await;
        let _ = stop.send(());
        // Let the browser get its "you can close this tab" page.
        let _ = tokio::time::timeout(Duration::from_secs(2), serving).await;
        match outcome {
            Ok(Ok(callback)) => Ok(callback),
            _ => Err(LoopbackError::TimedOut(timeout.as_secs())),
        }
    }
}

/// The callback page: parameters in the query are the callback itself; a fragment is sent back
/// by the script.
async fn page(State(shared): State<Shared>, RawQuery(query): RawQuery) -> Html<String> {
    if let Some(query) = query.filter(|query| !query.is_empty()) {
        return deliver(&shared, &query);
    }
    let complete = format!("{}/complete", shared.callback.path().trim_end_matches('/'));
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>Upshot</title>\
         <p id=m>Finishing the login…</p>\
         <script>var f=location.hash.slice(1);\
         if(f){{location.replace('{complete}?'+f)}}\
         else{{document.getElementById('m').textContent='No login came back; start it again from Upshot.'}}</script>"
    ))
}

async fn complete_login(State(shared): State<Shared>, RawQuery(query): RawQuery) -> Html<String> {
    deliver(&shared, query.as_deref().unwrap_or_default())
}

fn deliver(shared: &Shared, query: &str) -> Html<String> {
    let mut callback = shared.callback.clone();
    callback.set_query(Some(query));
    let sender = shared
        .deliver
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    match sender {
        Some(sender) => {
            let _ = sender.send(callback.to_string());
            Html(
                "<!doctype html><meta charset=utf-8><title>Upshot</title>\
                 <p>Back to Upshot: you can close this tab.</p>"
                    .to_owned(),
            )
        }
        None => Html(
            "<!doctype html><meta charset=utf-8><title>Upshot</title>\
             <p>This login was already received.</p>"
                .to_owned(),
        ),
    }
}
