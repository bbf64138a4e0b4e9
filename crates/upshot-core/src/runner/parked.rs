//! Imgur answers a stopping runner could not write to the database (a full disk): each is
//! parked in `<data_dir>/pending-answers/<job id>.json`, owner-only, and recorded at the next
//! start. The deletehash exists nowhere else, so quitting must neither drop it nor hang on it.

use crate::history::NewHistoryEntry;
use crate::types::JobId;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What completing the job needs: the same arguments as [`JobQueue::complete`].
///
/// [`JobQueue::complete`]: crate::queue::JobQueue::complete
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Answer {
    /// The job uploaded.
    pub job: JobId,
    /// The lease owner that sent it.
    pub owner: String,
    /// The history entry made from Imgur's answer (deletehash included).
    pub entry: NewHistoryEntry,
}

/// The folder of parked answers under `data_dir`.
pub(crate) fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("pending-answers")
}

/// Writes `answer` atomically, owner-only, into `dir`.
pub(crate) fn park(dir: &Path, answer: &Answer) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|error| {
        format!(
            "could not create {}: {error}; free some disk space",
            dir.display()
        )
    })?;
    let bytes = serde_json::to_vec_pretty(answer).map_err(|error| error.to_string())?;
    let path = dir.join(format!("{}.json", answer.job.0));
    crate::config_file::write_atomic(&path, &bytes).map_err(|error| error.to_string())
}

/// The parked answers in `dir` with their files (unreadable ones are logged and skipped).
pub(crate) fn list(dir: &Path) -> Vec<(PathBuf, Answer)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut answers = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|ext| ext.to_str()) != Some("json") {
            continue;
        }
        match std::fs::read(&path)
            .map_err(|error| error.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|error| error.to_string()))
        {
            Ok(answer) => answers.push((path, answer)),
            Err(error) => {
                tracing::warn!(path = %path.display(), "could not read a parked answer: {error}");
            }
        }
    }
    answers
}
