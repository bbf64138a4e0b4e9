//! One module per command; each returns how it ended.

mod config;
mod sandbox;
mod upload;

use crate::cli::{Cli, Command};
use crate::exit::Status;

/// Runs the chosen command.
pub async fn run(cli: Cli) -> Status {
    let result = match &cli.command {
        Command::Upload(args) => upload::run(&cli.global, args).await,
        Command::Sandbox(args) => sandbox::run(&cli.global, args).await,
        Command::Config(command) => config::run(&cli.global, command),
    };
    match result {
        Ok(status) => status,
        Err(error) => {
            eprintln!("upshot: {error}");
            Status::Setup
        }
    }
}
