//! The events the window listens to: each a name and a payload, emitted by the shell as they
//! come (`app.emit(event.name(), &event)`); the TypeScript map of names to payloads is derived
//! from [`WindowEvent::typescript_map`], never written by hand.

use super::views::{
    BatchReport, HistoryItem, LateLink, QueueItem, QueueRemoved, Quota, UploadProgress,
};
use serde::Serialize;
use ts_rs::{Config, TS};

/// Declares [`WindowEvent`] from one list of variant, payload and name, so an event's name,
/// its payload's Rust type and the TypeScript map the UI is typed by cannot disagree.
macro_rules! window_events {
    ($( $(#[$doc:meta])* $variant:ident($payload:ty) => $name:literal, )*) => {
        /// What changed, for the window. Serializes as its payload alone. The busy kinds carry
        /// lists: what changed within a few tens of milliseconds goes as one event
        /// ([`super::coalesce`]), so a 200-file drop is a few dozen events for the webview, not
        /// a thousand.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        pub enum WindowEvent {
            $( $(#[$doc])* $variant($payload), )*
        }

        impl WindowEvent {
            /// The event's name, as the UI listens to it.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $name, )*
                }
            }

            /// Every event's name and its payload's TypeScript type, for the generated
            /// bindings.
            pub fn typescript_map(cfg: &Config) -> Vec<(&'static str, String)> {
                vec![ $( ($name, <$payload as TS>::name(cfg)), )* ]
            }
        }
    };
}

window_events! {
    /// Files were added or changed state (each the whole item, replacing the shown one).
    QueueChanged(Vec<QueueItem>) => "queue-changed",
    /// A file left the list.
    QueueRemoved(QueueRemoved) => "queue-removed",
    /// Bytes sent of running uploads, at most ~10 a second a job.
    UploadProgress(Vec<UploadProgress>) => "upload-progress",
    /// The budget changed.
    QuotaChanged(Quota) => "quota-changed",
    /// Uploads were recorded in the history (oldest first).
    HistoryAdded(Vec<HistoryItem>) => "history-added",
    /// A batch ended: its links to copy and its one notification.
    BatchEnded(BatchReport) => "batch-ended",
    /// A file of a reported batch that had to wait was uploaded: its link alone.
    LateLink(LateLink) => "late-link",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_serializes_as_its_payload_alone() {
        let event = WindowEvent::QueueRemoved(QueueRemoved {
            job: "12".to_owned(),
        });
        assert_eq!(event.name(), "queue-removed");
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({ "job": "12" })
        );
    }

    #[test]
    fn every_event_name_is_in_the_typescript_map() {
        let cfg = Config::new().with_large_int("number");
        let names: Vec<&str> = WindowEvent::typescript_map(&cfg)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names.len(), 7);
        let drop_outcome = crate::window::DropOutcome::decl(&cfg);
        assert!(
            drop_outcome.contains("\"status\": \"confirm\""),
            "{drop_outcome}"
        );
    }
}
