//! The state every request handler shares.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::VirtualClock;
use crate::config::{JsonStyle, RegisteredApp, ServerConfig};
use crate::envelope::WireStyle;
use crate::error::FakeImgurError;
use crate::faults::FaultQueue;
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
    pub clock: VirtualClock,
    pub storage: Storage,
    /// Fetches `type=url` uploads.
    pub http: reqwest::Client,
    records: Mutex<Records>,
    faults: Mutex<FaultQueue>,
    requests_seen: AtomicU64,
    /// Serializes state saves so an older snapshot never overwrites a newer one.
    save_lock: Mutex<()>,
}

/// Locks a mutex, shrugging off poisoning: a panicked handler must not take the server down.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    /// Builds the shared state, restoring `saved` if the data directory had some.
    pub(crate) fn new(
        config: ServerConfig,
        base_url: String,
        storage: Storage,
        saved: Option<SavedState>,
    ) -> Result<Self, FakeImgurError> {
        let saved = saved.unwrap_or_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            config,
            base_url,
            clock: VirtualClock::with_offset(saved.clock_offset_millis),
            storage,
            http,
            records: Mutex::new(Records {
                store: saved.store,
                quota: saved.quota,
            }),
            faults: Mutex::new(FaultQueue::default()),
            requests_seen: AtomicU64::new(0),
            save_lock: Mutex::new(()),
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

    /// Saves the state when there is a data directory. Called after every change, so even a
    /// killed server (SIGKILL) restarts with every upload it acknowledged.
    pub(crate) fn persist(&self) {
        if !self.storage.persistent() {
            return;
        }
        let _saving = lock(&self.save_lock);
        let saved = {
            let records = self.records();
            SavedState {
                clock_offset_millis: self.clock.offset_millis(),
                store: records.store.clone(),
                quota: records.quota.clone(),
            }
        };
        if let Err(e) = self.storage.save(&saved) {
            tracing::error!("could not save state: {e}");
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
