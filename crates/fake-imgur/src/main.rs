//! `fake-imgur`: runs the fake Imgur server until SIGTERM or SIGINT.
//!
//! The first line on stdout is exactly the base URL (`http://127.0.0.1:PORT`), flushed at once,
//! so a test can spawn the binary with `--port 0` and read where it listens. Logs go to stderr.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fake_imgur::{DEFAULT_CALLBACK, JsonStyle, Limits, RegisteredApp, ServerConfig};

/// An Imgur-compatible local server for tests and sandboxes.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// A registered Client ID; repeat for several applications.
    #[arg(long = "client-id", required = true)]
    client_ids: Vec<String>,
    /// The secret of the n-th --client-id.
    #[arg(long = "client-secret")]
    client_secrets: Vec<String>,
    /// The callback URL of the n-th --client-id (default upshot://oauth/callback).
    #[arg(long = "callback")]
    callbacks: Vec<String>,
    /// Keep state and files here, across restarts (default: a temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 2_419_200)]
    token_lifetime: u64,
    /// Credits per Client ID per day.
    #[arg(long)]
    client_credits: Option<u32>,
    /// Credits per user (Client ID + IP) per hour.
    #[arg(long)]
    user_credits: Option<u32>,
    /// POST requests per IP per hour.
    #[arg(long)]
    post_limit: Option<u32>,
    /// Largest still image in bytes.
    #[arg(long)]
    max_image_bytes: Option<u64>,
    /// Largest video in bytes.
    #[arg(long)]
    max_video_bytes: Option<u64>,
    /// Issue a new refresh token on every refresh (and revoke the old one).
    #[arg(long)]
    rotate_refresh_tokens: bool,
    /// JSON serializer to imitate: alternate, legacy or modern.
    #[arg(long, default_value = "alternate")]
    json_style: JsonStyle,
    /// Serve the `/_fake/*` test control API (state with every record, clock, faults,
    /// revocation). For test harnesses only: leave it off for anything a browser can reach.
    #[arg(long)]
    test_controls: bool,
}

impl Args {
    fn into_config(self) -> Result<ServerConfig, String> {
        if self.client_secrets.len() != self.client_ids.len() {
            return Err(format!(
                "{} --client-id but {} --client-secret: give one secret per Client ID",
                self.client_ids.len(),
                self.client_secrets.len()
            ));
        }
        if self.callbacks.len() > self.client_ids.len() {
            return Err("more --callback than --client-id".to_owned());
        }
        let apps = self
            .client_ids
            .into_iter()
            .zip(self.client_secrets)
            .enumerate()
            .map(|(index, (client_id, client_secret))| RegisteredApp {
                client_id,
                client_secret,
                callback: self
                    .callbacks
                    .get(index)
                    .cloned()
                    .unwrap_or_else(|| DEFAULT_CALLBACK.to_owned()),
            })
            .collect();
        let defaults = Limits::default();
        Ok(ServerConfig {
            apps,
            bind: SocketAddr::new(self.bind, self.port),
            data_dir: self.data_dir,
            temp_parent: None,
            limits: Limits {
                client_credits_per_day: self
                    .client_credits
                    .unwrap_or(defaults.client_credits_per_day),
                user_credits_per_hour: self.user_credits.unwrap_or(defaults.user_credits_per_hour),
                posts_per_hour: self.post_limit.unwrap_or(defaults.posts_per_hour),
                max_image_bytes: self.max_image_bytes.unwrap_or(defaults.max_image_bytes),
                max_video_bytes: self.max_video_bytes.unwrap_or(defaults.max_video_bytes),
            },
            token_lifetime: Duration::from_secs(self.token_lifetime),
            rotate_refresh_tokens: self.rotate_refresh_tokens,
            json_style: self.json_style,
            test_controls: self.test_controls,
            hello_key: None,
        })
    }
}

/// Resolves when the process is asked to stop.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = match Args::parse().into_config() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("fake-imgur: {message}");
            return ExitCode::from(2);
        }
    };
    let server = match fake_imgur::start(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("fake-imgur: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut stdout = std::io::stdout().lock();
        // If stdout is gone there is nobody to tell; keep serving anyway.
        let _ = writeln!(stdout, "{}", server.base_url());
        let _ = stdout.flush();
    }
    stop_requested().await;
    tracing::info!("stopping");
    server.shutdown().await;
    ExitCode::SUCCESS
}
