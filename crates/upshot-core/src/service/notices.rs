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
