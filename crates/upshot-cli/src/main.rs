//! `upshot`: the headless face of Upshot. It shares the core, the settings and the data
//! directory with the desktop app.

mod cli;
mod commands;
mod context;
mod exit;
mod progress;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("upshot: could not start: {error}");
            return exit::Status::Setup.into();
        }
    };
    let status = runtime.block_on(commands::run(cli));
    status.into()
}

/// Logs go to stderr so stdout stays clean for links and `--json` lines.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,upshot=info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("UPSHOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
