//! `upshot sandbox`: the built-in Imgur-compatible server in the foreground.

use crate::cli::{GlobalOptions, SandboxArgs};
use crate::context::settings;
use crate::exit::Status;
use upshot_core::CoreError;
use upshot_core::sandbox::{SANDBOX_CLIENT_ID, Sandbox};

pub async fn run(global: &GlobalOptions, args: &SandboxArgs) -> Result<Status, CoreError> {
    let settings = settings(global, None)?;
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
    wait_for_shutdown_signal().await;
    eprintln!("Stopping the sandbox.");
    sandbox.shutdown().await;
    Ok(Status::Success)
}

async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
