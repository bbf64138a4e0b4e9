//! One module per command; each returns how it ended.

mod config;
mod delete;
mod history;
mod queue;
mod quota;
mod sandbox;
mod upload;

use crate::cli::{Cli, Command};
use crate::exit::Status;
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
    };
    match result {
        Ok(status) => status,
        Err(error) => {
            eprintln!("upshot: {error}");
            match error {
                // Imgur refused or failed: the command was tried.
                ServiceError::Imgur(_)
                | ServiceError::Budget { .. }
                | ServiceError::NotFound(_) => Status::SomeFailed,
                _ => Status::Setup,
            }
        }
    }
}

/// Prints one value as a JSON line.
pub(crate) fn print_json(value: &impl serde::Serialize) {
    if let Ok(text) = serde_json::to_string(value) {
        println!("{text}");
    }
}
