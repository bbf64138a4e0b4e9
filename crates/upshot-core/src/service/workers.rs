//! Running the workers and hearing what they do: the faces start, stop and follow the uploads
//! through these calls, never through the runner itself.

use super::{ServiceError, UploadService};
use crate::events::QueueEvent;
use crate::runner::StopWhen;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

impl UploadService {
    /// The queue's events from now on (what the workers do with each job).
    pub fn subscribe(&self) -> broadcast::Receiver<QueueEvent> {
        self.runner.subscribe()
    }

    /// Works the queue until `stop` says so or `shutdown` turns true (Ctrl-C in the CLI). Uploads
    /// whose body is on the wire get their answer first (bounded by the answer deadline), so
    /// stopping never loses an image Imgur is about to confirm.
    pub async fn run_workers(
        &self,
        stop: StopWhen,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), ServiceError> {
        Ok(self.runner.run(stop, shutdown).await?)
    }

    /// Like [`run_workers`](Self::run_workers), stopped by a cancellation token (the app's
    /// quit): cancel it, then await this to know every answer in flight is recorded.
    pub async fn run_workers_until(
        &self,
        stop: StopWhen,
        cancel: CancellationToken,
    ) -> Result<(), ServiceError> {
        Ok(self.runner.run_until(stop, cancel).await?)
    }

    /// The workers themselves, for the core's tests (enqueue raw jobs, run with a test's stop).
    #[cfg(feature = "testing")]
    pub fn runner(&self) -> &crate::runner::Runner {
        &self.runner
    }
}
