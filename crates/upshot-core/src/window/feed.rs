//! The window's event feed: the queue's events become queue items, throttled progress, history
//! items, batch reports and budget updates. One task reads the service's events in order; a
//! second makes thumbnails off the async runtime, one at a time, so a 200-file drop never
//! competes with its own uploads for more than one core.

use super::event::WindowEvent;
use super::items::{history_item, quota};
use super::session::{WindowSession, file_status};
use super::thumbnail;
use crate::events::QueueEvent;
use crate::types::JobId;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

/// Thumbnails wait while more files than this of the window's batches are still to be sent.
const THUMBNAILS_YIELD_ABOVE: usize = 4;
/// How long thumbnails wait for a drop's uploads at most.
const THUMBNAILS_WAIT_AT_MOST: Duration = Duration::from_secs(15);
/// How often a waiting thumbnail looks again.
const THUMBNAILS_POLL: Duration = Duration::from_millis(100);

/// The budget is sent at most this often (it changes with every upload).
const QUOTA_INTERVAL: Duration = Duration::from_millis(500);

impl WindowSession {
    /// Starts the window's session and its event feed on the current Tokio runtime. The
    /// receiver gets every [`WindowEvent`]; the shell emits each to the window.
    pub fn start(
        service: crate::UploadService,
        settings_file: PathBuf,
    ) -> (Self, mpsc::UnboundedReceiver<WindowEvent>) {
        let (session, raw, thumbnail_jobs) = Self::new(service, settings_file);
        let (out, received) = mpsc::unbounded_channel();
        let events = session.service().subscribe();
        tokio::spawn(relay(session.clone(), events));
        tokio::spawn(make_thumbnails(session.clone(), thumbnail_jobs));
        tokio::spawn(super::coalesce::forward(raw, out));
        (session, received)
    }
}

async fn relay(session: WindowSession, mut events: tokio::sync::broadcast::Receiver<QueueEvent>) {
    let mut quota_tick = tokio::time::interval(QUOTA_INTERVAL);
    quota_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut quota_stale = true;
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(event) => {
                    quota_stale |= !matches!(event, QueueEvent::Progress { .. });
                    if let Err(error) = relay_one(&session, event).await {
                        tracing::warn!("the window missed a queue change: {error}");
                    }
                }
                // Missed events: the jobs' stored states are the truth; the view reloads on
                // its next change and the batches catch up on their jobs' next events.
                Err(RecvError::Lagged(missed)) => tracing::warn!("the window fell {missed} queue events behind"),
                Err(RecvError::Closed) => return,
            },
            _ = quota_tick.tick(), if quota_stale => {
                quota_stale = false;
                match session.service().quota().await {
                    Ok(status) => session.send(WindowEvent::QuotaChanged(quota(&status))),
                    Err(error) => tracing::warn!("could not read the budget: {error}"),
                }
            }
        }
    }
}

async fn relay_one(session: &WindowSession, event: QueueEvent) -> Result<(), crate::ServiceError> {
    let job = match event {
        QueueEvent::Progress { job, sent, total } => {
            let now = session.service().now_millis();
            let progress = session.state().throttle.admit(job, sent, total, now);
            if let Some(progress) = progress {
                session.send(WindowEvent::UploadProgress(vec![progress]));
            }
            return Ok(());
        }
        QueueEvent::Started { job, .. } => {
            session.state().throttle.forget(job);
            job
        }
        QueueEvent::Queued { job }
        | QueueEvent::Waiting { job, .. }
        | QueueEvent::Failed { job, .. }
        | QueueEvent::Cancelled { job }
        | QueueEvent::Done { job, .. } => job,
    };
    session
        .show_stored(job, matches!(event, QueueEvent::Done { .. }))
        .await
}

impl WindowSession {
    /// Tells the window a job's stored state: its item, its history entry when `uploaded`, and
    /// what it means for its batch. For the workers' events, and for the session's own
    /// commands (cancelling or retrying a job no worker holds sends no event).
    pub(super) async fn show_stored(
        &self,
        job: JobId,
        uploaded: bool,
    ) -> Result<(), crate::ServiceError> {
        let Some((stored, entry)) = self.service().outcomes(vec![job]).await?.into_iter().next()
        else {
            return Ok(());
        };
        let format = self.link_format();
        self.send(WindowEvent::QueueChanged(vec![self.item(
            &stored,
            entry.as_ref(),
            format,
            false,
        )]));
        if uploaded && let Some(entry) = &entry {
            self.send(WindowEvent::HistoryAdded(vec![history_item(entry)]));
        }
        let now = self.service().now_millis();
        let status = file_status(&stored, entry.as_ref(), format);
        let news = self.state().batches.update(job, status, now);
        self.publish(news);
        Ok(())
    }
}

async fn make_thumbnails(
    session: WindowSession,
    mut jobs: mpsc::UnboundedReceiver<(JobId, PathBuf)>,
) {
    while let Some((job, path)) = jobs.recv().await {
        // A big drop's uploads go first: while more than a few of its files are still to be
        // sent, decoding pictures for thumbnails would take the CPU they need (the thumbnails
        // follow at once after, or after a while whatever happens).
        let mut waited = Duration::ZERO;
        while session.state().batches.pending() > THUMBNAILS_YIELD_ABOVE
            && waited < THUMBNAILS_WAIT_AT_MOST
        {
            tokio::time::sleep(THUMBNAILS_POLL).await;
            waited += THUMBNAILS_POLL;
        }
        let Ok(made) = tokio::task::spawn_blocking(move || thumbnail::data_url(&path)).await else {
            continue;
        };
        let Some(made) = made else { continue };
        session.state().keep_thumbnail(job, Some(made));
        // The item again, now with its thumbnail.
        if let Ok(Some((stored, entry))) = session
            .service()
            .outcomes(vec![job])
            .await
            .map(|found| found.into_iter().next())
        {
            let format = session.link_format();
            session.send(WindowEvent::QueueChanged(vec![session.item(
                &stored,
                entry.as_ref(),
                format,
                true,
            )]));
        }
    }
}
