//! `upshot sandbox`: the built-in Imgur-compatible server in the foreground.

use crate::cli::{GlobalOptions, SandboxArgs};
use crate::context::settings;
use crate::exit::Status;
use upshot_core::CoreError;
use upshot_core::sandbox::{SANDBOX_CLIENT_ID, Sandbox};

pub async fn run(global: &GlobalOptions, args: &SandboxArgs) -> Result<Status, CoreError> {
    let settings = settings(global, None)?;
    // Handlers go in before the URL is printed: a supervisor that reads the URL and at once
    // sends SIGTERM must get a clean shutdown, not the default kill.
    let shutdown = ShutdownSignal::install();
    let sandbox = Sandbox::start(&settings.paths.sandbox_dir(), args.port).await?;
    let base = sandbox.api_base().as_str().trim_end_matches('/').to_owned();
    // The URL first, alone on its line, so scripts can read it.
    println!("{base}");
    eprintln!(
        "Upshot sandbox: an Imgur-compatible server on {base} (Client ID {SANDBOX_CLIENT_ID}).\n\
         Files and state are kept in {}.\n\
         Try it: upshot --sandbox upload FILE   (or UPSHOT_API_BASE={base} UPSHOT_CLIENT_ID={SANDBOX_CLIENT_ID} upshot upload FILE)\n\
         Press Ctrl-C to stop.",
        settings.paths.sandbox_dir().display()
    );
    shutdown.wait().await;
    eprintln!("Stopping the sandbox.");
    sandbox.shutdown().await;
    Ok(Status::Success)
}

/// Ctrl-C or SIGTERM, listened for from the moment it is installed.
struct ShutdownSignal {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl ShutdownSignal {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = signal(SignalKind::terminate())
                .and_then(|terminate| Ok((terminate, signal(SignalKind::interrupt())?)))
                .ok();
            Self { signals }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut terminate, mut interrupt)) = self.signals {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
