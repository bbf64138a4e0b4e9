//! What the user must be told about the start: a settings or watched-folder file that could not
//! be read was set aside and the defaults used. The CLI prints these on stderr; the app reads
//! them from the service (any clone: they are shared).

use super::UploadService;
use crate::config_file::ConfigNotice;

impl UploadService {
    /// The notices recorded since the service was opened, oldest first.
    pub fn startup_notices(&self) -> Vec<ConfigNotice> {
        self.notices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Records a notice for the faces to show.
    pub fn note_startup(&self, notice: ConfigNotice) {
        self.notices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(notice);
    }
}

/// Everything that needs the user's attention now, for the app to show in one place: the start
/// notices, and the faults of upload workers (of this or another process) that are retrying a
/// database error. Serializes as `{notices: [...], worker_faults: [...], own_pid}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct Attention {
    /// Config files set aside at start.
    pub notices: Vec<ConfigNotice>,
    /// Workers that cannot record their work (disk full, database busy, …), still retrying.
    pub worker_faults: Vec<crate::queue::WorkerFault>,
    /// This process's id, so a face can tell its own workers' faults from another process's.
    pub own_pid: u32,
}

impl UploadService {
    /// What needs the user's attention now (see [`Attention`]).
    pub async fn attention(&self) -> Result<Attention, super::ServiceError> {
        Ok(Attention {
            notices: self.startup_notices(),
            worker_faults: self.worker_faults().await?,
            own_pid: std::process::id(),
        })
    }
}
