//! The desktop window's face of the core: what its commands call ([`WindowSession`]) and what
//! its events carry ([`WindowEvent`]), in plain view types whose TypeScript declarations are
//! generated from here. Batches, thumbnails, link formats and the progress throttle live here,
//! not in the shell, so the shell stays a few lines a command and all of it is tested without
//! a display.
//!
//! Above the service: it calls [`crate::service::UploadService`] and listens to its events;
//! nothing below imports it.

mod batches;
mod coalesce;
mod event;
mod expand;
mod feed;
mod items;
mod paste;
mod session;
mod throttle;
mod thumbnail;
mod views;

pub use batches::{BatchEntry, BatchNews, Batches, FileStatus};
pub use event::WindowEvent;
pub use expand::ASK_ABOVE_FILES;
pub use paste::Pasted;
pub use session::WindowSession;
pub use throttle::PROGRESS_INTERVAL_MS;
pub use views::*;
