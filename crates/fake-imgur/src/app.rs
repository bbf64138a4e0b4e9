//! The state every request handler shares.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::VirtualClock;
use crate::config::{JsonStyle, RegisteredApp, ServerConfig};
use crate::envelope::WireStyle;
use crate::error::FakeImgurError;
use crate::faults::FaultQueue;
use crate::host::HostGuard;
use crate::journal::Change;
use crate::quota::Quota;
use crate::records::StateSnapshot;
use crate::store::{SavedState, Storage, Store};

/// Records and counters, behind one lock so a snapshot is consistent.
#[derive(Debug, Default)]
pub(crate) struct Records {
    pub store: Store,
    pub quota: Quota,
}

/// One running fake Imgur.
#[derive(Debug)]
pub(crate) struct App {
    pub config: ServerConfig,
    /// `http://127.0.0.1:PORT`, used in every link the server hands out.
    pub base_url: String,
    /// Which `Host` values (and control-request origins) are answered.
    pub host_guard: HostGuard,
    pub clock: VirtualClock,
    pub storage: Storage,
    /// Fetches `type=url` uploads.
    pub http: reqwest::Client,
    records: Mutex<Records>,
    faults: Mutex<FaultQueue>,
    requests_seen: AtomicU64,
}

/// Locks a mutex, shrugging off poisoning: a panicked handler must not take the server down.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    /// Builds the shared state, restoring `saved` if the data directory had some.
    pub(crate) fn new(
        config: ServerConfig,
        served: SocketAddr,
        storage: Storage,
        saved: Option<SavedState>,
    ) -> Result<Self, FakeImgurError> {
        let saved = saved.unwrap_or_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            config,
            base_url: format!("http://{served}"),
            host_guard: HostGuard::new(served),
            clock: VirtualClock::with_offset(saved.clock_offset_millis),
            storage,
            http,
            records: Mutex::new(Records {
                store: saved.store,
                quota: saved.quota,
            }),
            faults: Mutex::new(FaultQueue::default()),
            requests_seen: AtomicU64::new(0),
        })
    }

    /// The records, locked. Never hold the guard across an `.await`.
    pub(crate) fn records(&self) -> MutexGuard<'_, Records> {
        lock(&self.records)
    }

    /// The fault queue, locked.
    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultQueue> {
        lock(&self.faults)
    }

    /// Virtual time in epoch seconds.
    pub(crate) fn now(&self) -> u64 {
        self.clock.epoch_secs()
    }

    /// The serializer this request imitates: fixed, or alternating request by request.
    pub(crate) fn next_style(&self) -> WireStyle {
        match self.config.json_style {
            JsonStyle::Legacy => WireStyle::Legacy,
            JsonStyle::Modern => WireStyle::Modern,
            JsonStyle::Alternate => {
                if self
                    .requests_seen
                    .fetch_add(1, Ordering::Relaxed)
                    .is_multiple_of(2)
                {
                    WireStyle::Legacy
                } else {
                    WireStyle::Modern
                }
            }
        }
    }

    /// The registered application with this Client ID.
    pub(crate) fn registered(&self, client_id: &str) -> Option<&RegisteredApp> {
        self.config
            .apps
            .iter()
            .find(|app| app.client_id == client_id)
    }

    /// The largest request body accepted at all: a base64-encoded maximal video plus form
    /// overhead. Beyond it the answer is nginx's 413 page, as on Imgur.
    pub(crate) fn body_limit(&self) -> u64 {
        let limits = &self.config.limits;
        let largest = limits.max_video_bytes.max(limits.max_image_bytes);
        largest.saturating_mul(4) / 3 + 1024 * 1024
    }

    /// Records the changes made since the last call in the journal, when there is a data
    /// directory; the write is the size of the changed records, whatever the size of the state.
    /// Called after every change, before it is answered, so even a killed server (SIGKILL)
    /// restarts with every upload it acknowledged.
    pub(crate) fn persist(&self) {
        // The journal lock first, held while the changes are taken and written, so lines are
        // appended in the order the changes were made.
        let mut journal = self.storage.journal();
        let mut changes = {
            let mut records = self.records();
            let mut changes = records.store.take_changes();
            if records.quota.take_changed() {
                changes.push(Change::Quota(records.quota.clone()));
            }
            changes
        };
        let Some(journal) = journal.as_mut() else {
            return;
        };
        changes.extend(journal.clock_change(self.clock.offset_millis()));
        if let Err(e) = journal.append(&changes) {
            tracing::error!("could not save state: {e}");
            return;
        }
        if journal.wants_compaction() {
            let saved = self.saved_state();
            if let Err(e) = journal.compact(&saved) {
                tracing::error!("could not compact the saved state: {e}");
            }
        }
    }

    /// Everything that is saved, as of now.
    fn saved_state(&self) -> SavedState {
        let records = self.records();
        SavedState {
            clock_offset_millis: self.clock.offset_millis(),
            store: records.store.clone(),
            quota: records.quota.clone(),
        }
    }

    /// Everything observable, for `GET /_fake/state`.
    pub(crate) fn snapshot(&self) -> StateSnapshot {
        let now = self.now();
        let records = self.records();
        StateSnapshot {
            now,
            uploads: records.store.uploads.clone(),
            albums: records.store.albums.clone(),
            clients: self
                .config
                .apps
                .iter()
                .map(|app| {
                    let usage = records
                        .quota
                        .usage(&self.config.limits, &app.client_id, now);
                    (app.client_id.clone(), usage)
                })
                .collect(),
            accounts: records.store.account_records(),
        }
    }
}
