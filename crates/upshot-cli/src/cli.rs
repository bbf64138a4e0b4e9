//! The command line, as clap reads it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use upshot_core::LinkFormat;

/// Upload images and videos to Imgur, and manage what you uploaded.
#[derive(Debug, Parser)]
#[command(name = "upshot", version, about, long_about = None)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalOptions,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Settings given on the command line win over the environment, which wins over the settings
/// file.
#[derive(Debug, Args)]
pub struct GlobalOptions {
    /// Imgur API base URL (default https://api.imgur.com).
    #[arg(long, global = true, env = "UPSHOT_API_BASE", value_name = "URL")]
    pub api_base: Option<String>,
    /// Your Imgur application's Client ID.
    #[arg(long, global = true, env = "UPSHOT_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// Where the queue, history and sandbox files live.
    #[arg(long, global = true, env = "UPSHOT_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use the built-in Imgur-compatible sandbox server instead of Imgur (no account needed).
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload files and print their links.
    Upload(UploadArgs),
    /// Run the sandbox server in the foreground, for trying Upshot by hand.
    Sandbox(SandboxArgs),
    /// Show or change settings.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `upshot upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Files to upload (images or videos).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// One JSON object per file and per line instead of links.
    #[arg(long)]
    pub json: bool,
    /// Title for every file.
    #[arg(long, value_name = "T")]
    pub title: Option<String>,
    /// Description for every file.
    #[arg(long, value_name = "D")]
    pub description: Option<String>,
    /// Album to add the files to (its deletehash for anonymous uploads).
    #[arg(long, value_name = "A")]
    pub album: Option<String>,
    /// Link format: direct, page, markdown, markdown-linked, bbcode, html, delete.
    #[arg(long, short, value_name = "F", value_parser = parse_link_format)]
    pub format: Option<LinkFormat>,
    /// How many files are sent at once.
    #[arg(long, short = 'j', default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub jobs: u16,
}

fn parse_link_format(text: &str) -> Result<LinkFormat, String> {
    text.parse()
        .map_err(|error: upshot_core::link_format::UnknownLinkFormat| error.to_string())
}

/// `upshot sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (fixed by default so links keep working across restarts).
    #[arg(long, default_value_t = upshot_core::sandbox::SANDBOX_PORT)]
    pub port: u16,
}

/// `upshot config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the settings file's path and the data directory.
    Path,
    /// Print every setting in force and where it came from.
    List,
    /// Print one setting (api-base, client-id, data-dir, link-format).
    Get {
        /// The setting.
        key: String,
    },
    /// Change one setting in the settings file.
    Set {
        /// The setting.
        key: String,
        /// Its new value.
        value: String,
    },
    /// Remove one setting from the settings file.
    Unset {
        /// The setting.
        key: String,
    },
}
