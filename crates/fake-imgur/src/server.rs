//! Listening, serving connections, and stopping.
//!
//! The accept loop is hand-written (rather than `axum::serve`) for one reason: a fault must be
//! able to kill its own TCP connection mid-request. Each connection gets a [`ConnectionKill`]
//! token in its requests' extensions; cancelling it makes the loop drop the connection with
//! `SO_LINGER` 0, so the client sees a reset instead of an HTTP answer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::Service as _;

use crate::app::App;
use crate::config::ServerConfig;
use crate::controls::Controls;
use crate::error::FakeImgurError;
use crate::routes;
use crate::store::Storage;

/// How long a graceful shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Put in every request's extensions: cancelling it resets the request's TCP connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionKill(pub CancellationToken);

/// Put in every request's extensions: the remote address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerAddr(pub SocketAddr);

/// A fake Imgur serving on a local port. Dropping it stops the server too (without waiting);
/// [`RunningServer::shutdown`] waits for requests in flight and saves the state.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    app: Arc<App>,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts a fake Imgur on `config.bind` and returns once it accepts connections.
pub async fn start(config: ServerConfig) -> Result<RunningServer, FakeImgurError> {
    for (index, app) in config.apps.iter().enumerate() {
        if config.apps[..index]
            .iter()
            .any(|other| other.client_id == app.client_id)
        {
            return Err(FakeImgurError::Config(format!(
                "Client ID {:?} is registered twice",
                app.client_id
            )));
        }
    }
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| FakeImgurError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| FakeImgurError::Bind {
            addr: config.bind,
            source,
        })?;
    let (storage, saved) =
        Storage::open(config.data_dir.as_deref(), config.temp_parent.as_deref())?;
    let app = Arc::new(App::new(config, reachable(addr), storage, saved)?);
    let router = routes::router(app.clone());
    let stop = CancellationToken::new();
    let task = tokio::spawn(accept_loop(listener, router, stop.clone()));
    tracing::info!("fake Imgur listening on {}", app.base_url);
    Ok(RunningServer {
        addr,
        app,
        stop,
        task: Some(task),
    })
}

/// The address clients should dial: a wildcard bind is reached through loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

impl RunningServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash: the API base is `{base_url}/3/`.
    pub fn base_url(&self) -> String {
        self.app.base_url.clone()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where state and files are kept: the configured data directory, or the temporary
    /// directory that is removed when the server goes away.
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.app.storage.root.clone()
    }

    /// A remote control for the clock, faults, state and tokens.
    pub fn controls(&self) -> Controls {
        Controls::new(self.app.clone())
    }

    /// Stops accepting, lets requests in flight finish (up to 10 s), and saves the state when
    /// there is a data directory.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::error!("accept loop ended badly: {e}");
        }
        self.app.persist();
        self.app.storage.release();
        tracing::info!("fake Imgur stopped");
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn accept_loop(listener: TcpListener, router: Router, stop: CancellationToken) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, router.clone(), stop.clone()));
                }
                Err(e) => {
                    // Usually EMFILE: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}; cutting them off");
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    stop: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    // A second handle on the same socket, so SO_LINGER can still be set after hyper owns the
    // stream.
    let (stream, spare) = match split_handle(stream) {
        Ok(pair) => pair,
        Err(e) => {
            tracing::warn!("could not prepare connection from {peer}: {e}");
            return;
        }
    };
    let kill = CancellationToken::new();
    let request_kill = kill.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut router = router.clone();
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(PeerAddr(peer));
        request
            .extensions_mut()
            .insert(ConnectionKill(request_kill.clone()));
        async move {
            std::future::poll_fn(|cx| {
                <Router as tower::Service<axum::extract::Request>>::poll_ready(&mut router, cx)
            })
            .await?;
            router.call(request).await
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("connection from {peer} ended: {e}");
                }
                return;
            }
            () = kill.cancelled() => {
                let socket = TcpSocket::from_std_stream(spare);
                if let Err(e) = socket.set_zero_linger() {
                    tracing::warn!("could not arm the connection reset: {e}");
                }
                tracing::info!("resetting connection from {peer} (injected fault)");
                return;
            }
            () = stop.cancelled(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

fn split_handle(stream: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let std_stream = stream.into_std()?;
    let spare = std_stream.try_clone()?;
    Ok((TcpStream::from_std(std_stream)?, spare))
}
