//! Upshot's core: everything the desktop app and the `upshot` CLI share.
//!
//! Data flows one way: a source hands a file to the [`service`], whose [`intake`] planner
//! checks it ([`preflight`], [`media`]) and applies the duplicate rule; the `queue` stores it; a
//! `runner` worker claims it, the [`governor`] admits it, the worker sends it through the Imgur
//! client, the [`history`] keeps the result, and an [`events::QueueEvent`] tells the faces, which
//! turn it into text with a [`link_format::LinkFormat`]. The [`watch`]er is one more source
//! above the service. [`service::UploadService`] is the one handle both faces use, opened by
//! [`service::Endpoint::connect`] (Imgur, or the [`sandbox`] that makes the whole app work with no
//! account and no network). Settings and directories live in [`settings`] and [`paths`].
//!
//! Under all of them, [`types`] holds the vocabulary they share (ids, [`types::Origin`],
//! [`types::PreflightReport`], the one [`types::WaitReason`], [`types::UnixMillis`]) and imports
//! nothing else of the core, so sharing a type never makes an import circle
//! (`tests/module_graph.rs` checks that no module imports one that imports it back).
//!
//! The faces (the CLI and the desktop app) reach the queue, the workers and the database only
//! through [`service`]: `queue`, `runner` and `store` are private to the crate, so the compiler
//! keeps it so. The core's own integration tests and the benchmarks see them through the
//! `testing` feature, which no face enables.

pub mod auth;
pub mod clock;
pub mod commercial;
pub mod config_file;
pub mod content_hash;
pub mod core_error;
pub mod error;
pub mod events;
pub mod governor;
pub mod history;
pub mod human_time;
pub mod intake;
pub mod link_format;
pub mod media;
pub mod paths;
pub mod preflight;
#[cfg(feature = "testing")]
pub mod queue;
#[cfg(not(feature = "testing"))]
pub(crate) mod queue;
#[cfg(feature = "testing")]
pub mod runner;
#[cfg(not(feature = "testing"))]
pub(crate) mod runner;
pub mod sandbox;
pub mod service;
pub mod settings;
pub mod shown_path;
pub mod spool;
#[cfg(feature = "testing")]
pub mod store;
#[cfg(not(feature = "testing"))]
pub(crate) mod store;
pub mod types;
pub mod watch;
pub mod window;

pub use core_error::CoreError;
pub use link_format::LinkFormat;
pub use paths::AppPaths;
pub use service::{FileUpload, ServiceError, UploadService};
pub use settings::{ResolvedSettings, SettingKey, SettingsFile, SettingsOverrides};
