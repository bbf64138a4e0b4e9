//! Where an upload came from: decides its priority in the queue and is kept in the history.

use serde::{Deserialize, Serialize};

/// Priority of interactive jobs: someone is waiting for the link.
pub const PRIORITY_INTERACTIVE: i64 = 0;
/// Priority of the backlog (watched folders): runs when interactive jobs do not need the budget.
pub const PRIORITY_BACKLOG: i64 = 1;

/// Where a job came from. It decides the job's priority and is kept in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Dropped on the window or the tray.
    Drop,
    /// Chosen in a file dialog.
    File,
    /// Pasted from the clipboard (the bytes are spooled first).
    Clipboard,
    /// A screenshot Upshot took (spooled first).
    Screenshot,
    /// Found in a watched folder: the backlog.
    Watch,
    /// `upshot upload` on the command line.
    Cli,
}

impl Origin {
    /// Every origin, for listings and tests.
    pub const ALL: [Origin; 6] = [
        Self::Drop,
        Self::File,
        Self::Clipboard,
        Self::Screenshot,
        Self::Watch,
        Self::Cli,
    ];

    /// The word stored in the database and shown in `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Drop => "drop",
            Self::File => "file",
            Self::Clipboard => "clipboard",
            Self::Screenshot => "screenshot",
            Self::Watch => "watch",
            Self::Cli => "cli",
        }
    }

    /// The origin a stored word names.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|origin| origin.as_str() == word)
    }

    /// Lower runs first: a watched folder's backlog ([`PRIORITY_BACKLOG`]) yields to anything a
    /// person asked for just now ([`PRIORITY_INTERACTIVE`]).
    pub fn priority(self) -> i64 {
        match self {
            Self::Watch => PRIORITY_BACKLOG,
            _ => PRIORITY_INTERACTIVE,
        }
    }
}
