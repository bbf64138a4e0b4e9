//! Exit statuses, so scripts can tell a failed upload from a setup problem.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything worked.
    Success,
    /// At least one file failed to upload (the others may have succeeded).
    SomeFailed,
    /// Nothing could be tried: a missing Client ID, a bad setting, an unusable directory.
    Setup,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        match status {
            Status::Success => ExitCode::SUCCESS,
            Status::SomeFailed => ExitCode::from(1),
            Status::Setup => ExitCode::from(2),
        }
    }
}
