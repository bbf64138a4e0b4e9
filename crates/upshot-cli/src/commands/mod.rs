//! One module per command; each returns how it ended.

mod account;
mod config;
mod delete;
mod history;
mod queue;
mod quota;
mod sandbox;
mod upload;
mod watch;

use crate::cli::{Cli, Command};
use crate::exit::Status;
use upshot_core::error::ErrorCode;
use upshot_core::service::ServiceError;

/// Runs the chosen command.
pub async fn run(cli: Cli) -> Status {
    let result: Result<Status, ServiceError> = match &cli.command {
        Command::Upload(args) => upload::run(&cli.global, args).await,
        Command::Queue(command) => queue::run(&cli.global, command).await,
        Command::History(command) => history::run(&cli.global, command).await,
        Command::Delete(args) => delete::run(&cli.global, args).await,
        Command::Quota(args) => quota::run(&cli.global, args).await,
        Command::Sandbox(args) => sandbox::run(&cli.global, args).await.map_err(Into::into),
        Command::Config(command) => config::run(&cli.global, command).map_err(Into::into),
        Command::Login(args) => account::login(&cli.global, args).await,
        Command::Logout => account::logout(&cli.global).await,
        Command::Whoami(args) => account::whoami(&cli.global, args).await,
        Command::Images(args) => account::images(&cli.global, args).await,
        Command::Albums(args) => account::albums(&cli.global, args).await,
        Command::Album(command) => account::album(&cli.global, command).await,
        Command::Watch(args) => watch::run(&cli.global, args).await,
    };
    match result {
        Ok(status) => status,
        Err(error) => {
            report(&error, cli.command.json());
            match error {
                // Imgur refused or failed: the command was tried.
                ServiceError::Imgur(_)
                | ServiceError::Budget { .. }
                | ServiceError::NotFound(_)
                | ServiceError::Auth(_) => Status::SomeFailed,
                _ => Status::Setup,
            }
        }
    }
}

/// Says why the command failed: `upshot: <message>` on stderr, or with `--json` one line
/// `{"error": {"code": ..., "message": ...}}` on stdout, where the command's other JSON lines go
/// (the code is the lowest layer's: `disk_full`, `imgur_unreachable`, …).
fn report(error: &ServiceError, json: bool) {
    if json {
        print_json(&serde_json::json!({ "error": error_json(error) }));
    } else {
        eprintln!("upshot: {error}");
    }
}

/// Any error of Upshot as the `{code, message}` object of `--json` output.
pub(crate) fn error_json(error: &impl ErrorCode) -> serde_json::Value {
    serde_json::json!({ "code": error.code(), "message": error.to_string() })
}

/// Prints one value as a JSON line.
pub(crate) fn print_json(value: &impl serde::Serialize) {
    if let Ok(text) = serde_json::to_string(value) {
        println!("{text}");
    }
}
