//! Upshot's core: everything the desktop app and the `upshot` CLI share.
//!
//! Data flows one way: a source hands over a file, [`media`] checks what it is, the
//! [`uploader::Uploader`] sends it through the Imgur client, and a [`link_format::LinkFormat`]
//! turns the result into the text the user wanted. Settings and directories live in
//! [`settings`] and [`paths`]; [`sandbox`] runs the built-in Imgur-compatible server so the whole
//! app works with no account and no network.

pub mod clock;
pub mod error;
pub mod governor;
pub mod history;
pub mod link_format;
pub mod media;
pub mod paths;
pub mod queue;
pub mod runner;
pub mod sandbox;
pub mod service;
pub mod settings;
pub mod spool;
pub mod store;
pub mod uploader;
pub mod when;

pub use error::CoreError;
pub use link_format::LinkFormat;
pub use paths::AppPaths;
pub use settings::{ResolvedSettings, SettingKey, SettingsFile, SettingsOverrides};
pub use uploader::{FileUpload, UploadError, Uploader};
