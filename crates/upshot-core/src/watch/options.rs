//! What a watcher is started with: where its folders come from, and the knobs.

use super::config::WatchedFolder;
use std::path::PathBuf;
use std::time::Duration;

/// Where the folders come from.
#[derive(Debug, Clone)]
pub enum FolderSource {
    /// The saved list (`watch.json`); changes to it by any process are followed.
    Saved(PathBuf),
    /// These folders, for this run only (`upshot watch DIR...`), with this settle window.
    Given {
        /// The folders.
        folders: Vec<WatchedFolder>,
        /// The settle window.
        settle: Duration,
    },
}

/// Knobs, mostly for tests and the benchmark.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Events buffered between notify and the watcher before a folder counts as overflowed.
    pub event_capacity: usize,
    /// How often a folder at fault (missing, unreadable) is looked for again.
    pub fault_retry: Duration,
    /// Paths looked at per blocking trip.
    pub batch: usize,
    /// How soon a duplicate whose stand-in upload could not be confirmed on Imgur (no
    /// connection, the budget) is tried again.
    pub confirm_retry: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            event_capacity: 16_384,
            fault_retry: Duration::from_secs(2),
            batch: 1_024,
            confirm_retry: Duration::from_secs(60),
        }
    }
}
