//! Upshot's core: everything the desktop app and the `upshot` CLI share.
//!
//! Data flows one way: a source hands over a file, [`media`] checks what it is, the
//! [`queue`] stores it, the [`governor`] admits it, a [`runner`] worker sends it through the
//! Imgur client, the [`history`] keeps the result, and a [`link_format::LinkFormat`] turns it
//! into the text the user wanted. [`service::UploadService`] is the one handle both faces use. Settings and directories live in
//! [`settings`] and [`paths`]; [`sandbox`] runs the built-in Imgur-compatible server so the whole
//! app works with no account and no network.
//!
//! Under all of them, [`types`] holds the vocabulary they share (ids, [`types::Origin`],
//! [`types::PreflightReport`], the one [`types::WaitReason`], [`types::UnixMillis`]) and imports
//! nothing else of the core, so sharing a type never makes an import circle
//! (`tests/module_graph.rs` checks that no module imports one that imports it back).

pub mod auth;
pub mod clock;
pub mod commercial;
pub mod config_file;
pub mod connection;
pub mod content_hash;
pub mod core_error;
pub mod error;
pub mod events;
pub mod governor;
pub mod history;
pub mod intake;
pub mod link_format;
pub mod media;
pub mod paths;
pub mod preflight;
pub mod queue;
pub mod runner;
pub mod sandbox;
pub mod service;
pub mod settings;
pub mod shown_path;
pub mod spool;
pub mod store;
pub mod types;
pub mod watch;
pub mod when;

pub use core_error::CoreError;
pub use link_format::LinkFormat;
pub use paths::AppPaths;
pub use service::{FileUpload, ServiceError, UploadService};
pub use settings::{ResolvedSettings, SettingKey, SettingsFile, SettingsOverrides};
