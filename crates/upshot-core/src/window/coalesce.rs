//! The window's events in bursts: what the feed says within [`WINDOW`] goes to the shell as one
//! event of each busy kind — every changed item once (its latest state; a thumbnail already
//! sent is kept), the latest progress of each job, the new history items — then the rest in
//! order (the budget only once, its latest). Each event the webview receives costs it a script
//! evaluation; a 200-file drop is otherwise more than a thousand of them.

use super::event::WindowEvent;
use super::views::{HistoryItem, QueueItem, UploadProgress};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a burst is gathered after its first event: short enough to feel immediate, long
/// enough to take a drop's dozens of changes at once.
pub const WINDOW: Duration = Duration::from_millis(40);

/// The events of one burst, merged.
#[derive(Debug, Default)]
pub struct Burst {
    changed: Vec<QueueItem>,
    progress: Vec<UploadProgress>,
    history: Vec<HistoryItem>,
    rest: Vec<WindowEvent>,
}

impl Burst {
    /// Takes one event in.
    pub fn push(&mut self, event: WindowEvent) {
        match event {
            WindowEvent::QueueChanged(items) => {
                for item in items {
                    match self.changed.iter_mut().find(|shown| shown.job == item.job) {
                        Some(shown) => {
                            let thumbnail =
                                item.thumbnail.clone().or_else(|| shown.thumbnail.take());
                            *shown = QueueItem { thumbnail, ..item };
                        }
                        None => self.changed.push(item),
                    }
                }
            }
            WindowEvent::UploadProgress(updates) => {
                for update in updates {
                    match self
                        .progress
                        .iter_mut()
                        .find(|shown| shown.job == update.job)
                    {
                        Some(shown) => *shown = update,
                        None => self.progress.push(update),
                    }
                }
            }
            WindowEvent::HistoryAdded(items) => self.history.extend(items),
            WindowEvent::QuotaChanged(quota) => {
                self.rest
                    .retain(|event| !matches!(event, WindowEvent::QuotaChanged(_)));
                self.rest.push(WindowEvent::QuotaChanged(quota));
            }
            other => self.rest.push(other),
        }
    }

    /// The burst as events: the changed items first (a batch's report follows its items).
    pub fn take(&mut self) -> Vec<WindowEvent> {
        let mut events = Vec::with_capacity(3 + self.rest.len());
        if !self.changed.is_empty() {
            events.push(WindowEvent::QueueChanged(std::mem::take(&mut self.changed)));
        }
        if !self.progress.is_empty() {
            events.push(WindowEvent::UploadProgress(std::mem::take(
                &mut self.progress,
            )));
        }
        if !self.history.is_empty() {
            events.push(WindowEvent::HistoryAdded(std::mem::take(&mut self.history)));
        }
        events.append(&mut self.rest);
        events
    }
}

/// Forwards `raw` to `out` in bursts until `raw` closes.
pub async fn forward(
    mut raw: mpsc::UnboundedReceiver<WindowEvent>,
    out: mpsc::UnboundedSender<WindowEvent>,
) {
    let mut burst = Burst::default();
    while let Some(first) = raw.recv().await {
        burst.push(first);
        let until = tokio::time::Instant::now() + WINDOW;
        let mut open = true;
        while open {
            tokio::select! {
                next = raw.recv() => match next {
                    Some(event) => burst.push(event),
                    None => open = false,
                },
                () = tokio::time::sleep_until(until) => break,
            }
        }
        for event in burst.take() {
            if out.send(event).is_err() {
                return;
            }
        }
        if !open {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::views::{ItemState, QueueRemoved};

    fn item(job: &str, state: ItemState, thumbnail: Option<&str>) -> QueueItem {
        QueueItem {
            job: job.to_owned(),
            batch: None,
            name: format!("{job}.png"),
            size: 1,
            state,
            wait: None,
            progress: None,
            link: None,
            error: None,
            thumbnail: thumbnail.map(str::to_owned),
        }
    }

    fn progress(job: &str, sent: u64) -> UploadProgress {
        UploadProgress {
            job: job.to_owned(),
            sent,
            total: 100,
            bytes_per_second: 0,
        }
    }

    #[test]
    fn a_burst_merges_the_busy_kinds_and_keeps_the_rest_in_order() {
        let mut burst = Burst::default();
        burst.push(WindowEvent::QueueChanged(vec![item(
            "1",
            ItemState::Queued,
            None,
        )]));
        burst.push(WindowEvent::QueueChanged(vec![item(
            "2",
            ItemState::Queued,
            None,
        )]));
        burst.push(WindowEvent::QueueChanged(vec![item(
            "1",
            ItemState::Queued,
            Some("data:t"),
        )]));
        burst.push(WindowEvent::UploadProgress(vec![progress("1", 10)]));
        burst.push(WindowEvent::QueueRemoved(QueueRemoved {
            job: "9".to_owned(),
        }));
        burst.push(WindowEvent::UploadProgress(vec![progress("1", 50)]));
        burst.push(WindowEvent::QueueChanged(vec![item(
            "1",
            ItemState::Done,
            None,
        )]));
        let events = burst.take();
        assert_eq!(events.len(), 3, "{events:?}");
        let WindowEvent::QueueChanged(changed) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(changed.len(), 2);
        // The latest state, with the thumbnail sent earlier in the burst kept.
        assert_eq!(changed[0].state, ItemState::Done);
        assert_eq!(changed[0].thumbnail.as_deref(), Some("data:t"));
        assert_eq!(
            events[1],
            WindowEvent::UploadProgress(vec![progress("1", 50)])
        );
        assert!(matches!(events[2], WindowEvent::QueueRemoved(_)));
        assert!(burst.take().is_empty());
    }

    #[tokio::test]
    async fn forward_sends_a_burst_at_once_and_ends_with_its_input() {
        let (raw, raw_rx) = mpsc::unbounded_channel();
        let (out, mut out_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(forward(raw_rx, out));
        for job in 0..200 {
            raw.send(WindowEvent::QueueChanged(vec![item(
                &job.to_string(),
                ItemState::Queued,
                None,
            )]))
            .unwrap();
        }
        let first = out_rx.recv().await.unwrap();
        let WindowEvent::QueueChanged(items) = first else {
            panic!("{first:?}")
        };
        assert_eq!(items.len(), 200);
        drop(raw);
        task.await.unwrap();
        assert!(out_rx.recv().await.is_none());
    }
}
