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
    /// Your Imgur application's client secret (needed to keep a login fresh; kept in the
    /// keychain once given).
    #[arg(
        long,
        global = true,
        env = "UPSHOT_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
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
    /// Queue files, upload them and print their links.
    Upload(UploadArgs),
    /// Show and manage the upload queue.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Show, search and export the uploads you made.
    #[command(subcommand)]
    History(HistoryCommand),
    /// Delete an upload from Imgur (and mark it deleted in the history).
    Delete(DeleteArgs),
    /// Show the day's budget: what the governor plans and what Imgur says.
    Quota(QuotaArgs),
    /// Run the sandbox server in the foreground, for trying Upshot by hand.
    Sandbox(SandboxArgs),
    /// Show or change settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Log in with Imgur: uploads then go to your account.
    Login(LoginArgs),
    /// Log out: forget the tokens (queued uploads of the account wait for a new login).
    Logout,
    /// Who is logged in.
    Whoami(JsonArgs),
    /// Your account's images, newest first.
    Images(ImagesArgs),
    /// Your account's albums.
    Albums(JsonArgs),
    /// Make albums and add images to them.
    #[command(subcommand)]
    Album(AlbumCommand),
    /// Upload whatever lands in watched folders (in the foreground), or manage the saved ones.
    Watch(WatchArgs),
}

impl Command {
    /// Whether the command was asked for `--json` output: then a failure of the whole command is
    /// printed as `{"error": {"code": ..., "message": ...}}` too.
    pub fn json(&self) -> bool {
        match self {
            Self::Upload(args) => args.json,
            Self::Queue(QueueCommand::List { json, .. } | QueueCommand::Run { json, .. }) => *json,
            Self::History(
                HistoryCommand::List { json, .. } | HistoryCommand::Search { json, .. },
            ) => *json,
            Self::Delete(args) => args.json,
            Self::Quota(args) => args.json,
            Self::Login(args) => args.json,
            Self::Whoami(args) | Self::Albums(args) => args.json,
            Self::Images(args) => args.json,
            Self::Album(AlbumCommand::Create { json, .. }) => *json,
            Self::Watch(args) => match &args.command {
                Some(WatchCommand::List(list)) => list.json,
                Some(_) => false,
                None => args.json,
            },
            Self::Queue(_)
            | Self::History(_)
            | Self::Sandbox(_)
            | Self::Config(_)
            | Self::Logout
            | Self::Album(_) => false,
        }
    }
}

/// `upshot watch`: run in the foreground, or `add|remove|list|pause|resume|settle`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WatchArgs {
    /// Manage the saved folders instead of watching.
    #[command(subcommand)]
    pub command: Option<WatchCommand>,
    /// Folders to watch for this run only (the saved folders when none is named).
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// How folders named here are watched.
    #[command(flatten)]
    pub folder: FolderArgs,
    /// How long a file must be still before it is uploaded (e.g. 1s, 500ms); default: the
    /// saved setting, 1s.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub settle: Option<std::time::Duration>,
    /// Only queue what lands; leave uploading to the desktop app or `upshot queue run`.
    #[arg(long)]
    pub queue_only: bool,
    /// One JSON object per event and per line.
    #[arg(long)]
    pub json: bool,
    /// Uploads at once.
    #[arg(short = 'j', long, default_value_t = 2, value_name = "N")]
    pub jobs: u16,
}

/// How one folder is watched.
#[derive(Debug, Args, Clone, Default)]
pub struct FolderArgs {
    /// Subfolders too.
    #[arg(short, long)]
    pub recursive: bool,
    /// Upload only names matching this pattern (repeatable; default: the image and video
    /// types Imgur takes).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip names matching this pattern (repeatable; default: dotfiles, *.tmp, *.part,
    /// *.crdownload, *~).
    #[arg(long, value_name = "GLOB")]
    pub ignore: Vec<String>,
    /// Upload into this album (deletehash when anonymous, id when logged in).
    #[arg(long, value_name = "ALBUM")]
    pub album: Option<String>,
    /// After a confirmed upload: keep, delete, or move:<subfolder>.
    #[arg(long, value_name = "ACTION", default_value = "keep")]
    pub after: String,
    /// Upload copies of content uploaded before (default: report the existing link).
    #[arg(long)]
    pub upload_copies: bool,
}

/// `upshot watch add|remove|list|pause|resume|settle`.
#[derive(Debug, Subcommand)]
pub enum WatchCommand {
    /// Save a folder to watch (by the desktop app and `upshot watch`).
    Add {
        /// The folder.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// How it is watched.
        #[command(flatten)]
        folder: FolderArgs,
        /// Save it paused.
        #[arg(long)]
        paused: bool,
    },
    /// Stop watching a saved folder (by id or path); its files stay as they are.
    Remove {
        /// Id (see `list`) or path.
        folder: String,
    },
    /// The saved folders.
    List(JsonArgs),
    /// Pause a saved folder: nothing is queued from it until `resume`.
    Pause {
        /// Id or path.
        folder: String,
    },
    /// Resume a paused folder (what landed meanwhile is caught up).
    Resume {
        /// Id or path.
        folder: String,
    },
    /// Show or set how long a file must be still before it is uploaded.
    Settle {
        /// E.g. 1s, 500ms, 2s.
        #[arg(value_name = "DURATION", value_parser = humantime::parse_duration)]
        duration: Option<std::time::Duration>,
    },
}

/// `upshot login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Complete the login with the address the browser was sent to after you approved.
    #[arg(long, value_name = "URL")]
    pub callback: Option<String>,
    /// Print `{"url", "state"}` as JSON and return (complete later with --callback).
    #[arg(long)]
    pub json: bool,
    /// Do not open the browser; only print the address.
    #[arg(long)]
    pub no_browser: bool,
}

/// Just `--json`.
#[derive(Debug, Args)]
pub struct JsonArgs {
    /// As JSON.
    #[arg(long)]
    pub json: bool,
}

/// `upshot images`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Page, from 0 (100 images each).
    #[arg(long, default_value_t = 0)]
    pub page: u32,
    /// As JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// `upshot album`.
#[derive(Debug, Subcommand)]
pub enum AlbumCommand {
    /// Create an album, with images (Imgur ids or history numbers) in it.
    Create {
        /// Title.
        #[arg(long)]
        title: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Make an anonymous album (images by their deletehashes) even when logged in.
        #[arg(long)]
        anonymous: bool,
        /// As JSON.
        #[arg(long)]
        json: bool,
        /// Images to put in it.
        #[arg(value_name = "IMAGE")]
        images: Vec<String>,
    },
    /// Add images to an album (its id when logged in, its deletehash when anonymous).
    Add {
        /// The album.
        album: String,
        /// Images to add (Imgur ids or history numbers).
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<String>,
        /// The album is anonymous (given by its deletehash) even when logged in.
        #[arg(long)]
        anonymous: bool,
    },
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
    /// Upload anonymously even when logged in.
    #[arg(long)]
    pub anonymous: bool,
    /// Queue the files, make at most one attempt now that the budget allows, print each file's
    /// status (uploaded, queued, deferred with when, failed) and return.
    #[arg(long)]
    pub no_wait: bool,
    /// Send a file even if the same content was uploaded before (otherwise its existing link is
    /// printed with the status `duplicate`).
    #[arg(long)]
    pub force: bool,
    /// Fit an oversize picture under the limit (a JPEG, scaled down if needed); the original
    /// file is not changed. Default: the `fit-files` setting (off).
    #[arg(long, conflicts_with = "no_fit")]
    pub fit: bool,
    /// Refuse an oversize picture instead of fitting it.
    #[arg(long)]
    pub no_fit: bool,
    /// Send pictures with their metadata (location, camera, owner) instead of removing it.
    #[arg(long)]
    pub keep_metadata: bool,
}

/// `upshot queue`.
#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// List the jobs that are waiting, uploading or failed (`--all` for every job).
    List {
        /// Every job, done and cancelled ones included.
        #[arg(long)]
        all: bool,
        /// One JSON object per job and per line.
        #[arg(long)]
        json: bool,
    },
    /// Stop starting uploads (in every Upshot sharing this data directory).
    Pause,
    /// Start uploading again.
    Resume,
    /// Cancel a job that is not uploaded yet.
    Cancel {
        /// The job's number (from `upshot queue list`).
        id: i64,
    },
    /// Queue a failed or cancelled job again.
    Retry {
        /// The job's number.
        id: i64,
    },
    /// Work the queue until it is empty (or, with --follow, until stopped).
    Run {
        /// Keep running and upload what is queued later (e.g. by the desktop app).
        #[arg(long)]
        follow: bool,
        /// Uploads at once.
        #[arg(long, short = 'j', default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
        jobs: u16,
        /// Progress as JSON events, one per line.
        #[arg(long)]
        json: bool,
    },
}

/// `upshot history`.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// The newest uploads first.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// One JSON object per upload and per line.
        #[arg(long)]
        json: bool,
    },
    /// Uploads whose title, file name, link or id contain TEXT.
    Search {
        /// What to look for (case-insensitive).
        text: String,
        /// How many at most.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// One JSON object per upload and per line.
        #[arg(long)]
        json: bool,
    },
    /// The whole history as JSON (default) or CSV.
    Export {
        /// CSV instead of JSON.
        #[arg(long)]
        csv: bool,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// `upshot delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The uploads' Imgur ids (or history numbers); several are deleted one after another.
    #[arg(
        required_unless_present = "last",
        conflicts_with = "last",
        value_name = "ID"
    )]
    pub ids: Vec<String>,
    /// The most recent upload.
    #[arg(long)]
    pub last: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `upshot quota`.
#[derive(Debug, Args)]
pub struct QuotaArgs {
    /// As JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not ask Imgur for `/3/credits` (costs one credit); show the governor's view only.
    #[arg(long)]
    pub local: bool,
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
    /// Change one setting in the settings file (rapidapi-key goes to the keychain and is never
    /// shown; give `-` to read it from standard input).
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
