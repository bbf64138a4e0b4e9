//! Watched folders: whatever lands in them is uploaded once, when it is complete, and what
//! arrived while Upshot was not running is caught up at start (docs/WATCH.md).
//!
//! - [`config`] holds the saved folders (`watch.json`), shared by the CLI and the app;
//! - [`patterns`] says which paths a folder takes;
//! - [`settle`] says when a file is complete;
//! - [`scan`] catches up;
//! - [`records`] is the database side of exactly once (content hash and path);
//! - [`actions`] keeps, moves or deletes a file after a confirmed upload;
//! - `stand_in` confirms on Imgur the upload a duplicate relies on before that;
//! - [`engine`] does the work, tying them to notify's events and, through the service, the
//!   queue; [`handle`] is the [`Watcher`] that starts and stops it, with [`options`];
//!   [`events`] is what it tells.

pub mod actions;
mod batch;
pub mod config;
pub mod engine;
pub mod error;
pub mod events;
pub mod handle;
pub mod options;
pub mod patterns;
pub mod records;
pub mod scan;
pub mod settle;
mod stand_in;

pub use config::{AfterUpload, WATCH_FILE, WatchList, WatchedFolder};
pub use error::WatchError;
pub use events::{FolderStatus, FolderView, WatchEvent};
pub use handle::Watcher;
pub use options::{FolderSource, WatchOptions};
