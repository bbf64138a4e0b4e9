//! The bottom layer: the vocabulary every other layer shares (ids, where an upload came from,
//! what preflight found, why something waits, and time).
//!
//! It imports nothing else of the core, so any module may use it without making a circle
//! (`tests/module_graph.rs` checks both).

pub mod ids;
pub mod origin;
pub mod preflight_report;
pub mod time;
pub mod wait_reason;

pub use ids::{HistoryId, JobId};
pub use origin::{Origin, PRIORITY_BACKLOG, PRIORITY_INTERACTIVE};
pub use preflight_report::{FitReport, PreflightReport, Removed, can_clean};
pub use time::{DAY_MS, HOUR_MS, UnixMillis};
pub use wait_reason::WaitReason;
