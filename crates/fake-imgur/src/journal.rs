//! Saving the records in writes proportional to each change: `state.json` is a snapshot, and
//! `journal.jsonl` lists, one JSON line each, the records changed since (each line the new value
//! of one whole record, so replaying a line twice changes nothing).
//!
//! A change appends its lines with one `write` before the request is answered, so a killed
//! server (SIGKILL) restarts with everything it acknowledged. At start, and whenever the journal
//! has grown past the snapshot's size (and at least [`COMPACT_AT_LEAST`]), the snapshot is
//! rewritten (temporary file, then rename) and the journal emptied: the rewrite costs the
//! state's size once per as many journal bytes, so the work per change stays proportional to
//! the change. There is deliberately no fsync: surviving a power cut is not a test server's job.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::FakeImgurError;
use crate::quota::Quota;
use crate::records::{AlbumRecord, UploadRecord};
use crate::store::{AccessGrant, Account, RefreshGrant, SavedState, Store};

/// The snapshot's file name in the data directory.
pub(crate) const STATE_FILE: &str = "state.json";
/// The journal's file name in the data directory.
pub(crate) const JOURNAL_FILE: &str = "journal.jsonl";
/// The journal is never compacted below this size, so small states are not rewritten often.
pub(crate) const COMPACT_AT_LEAST: u64 = 1024 * 1024;

/// The new value of one record (or of the counters, or the clock).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    Upload(UploadRecord),
    Album(AlbumRecord),
    Account(Account),
    Access(AccessGrant),
    Refresh(RefreshGrant),
    Quota(Quota),
    /// The virtual clock's lead over real time, in milliseconds.
    Clock(u64),
}

/// The open journal of one data directory.
#[derive(Debug)]
pub(crate) struct Journal {
    state_path: PathBuf,
    journal_path: PathBuf,
    /// Opened for appending.
    file: File,
    /// Bytes in the journal.
    len: u64,
    /// Bytes in the snapshot when it was last written.
    snapshot_len: u64,
    /// The clock offset last recorded, so an unchanged clock is not written again.
    clock_offset_millis: u64,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> FakeImgurError + '_ {
    move |source| FakeImgurError::DataDir {
        path: path.to_owned(),
        source,
    }
}

fn corrupt(path: &Path) -> impl FnOnce(serde_json::Error) -> FakeImgurError + '_ {
    move |source| FakeImgurError::CorruptState {
        path: path.to_owned(),
        source,
    }
}

impl Journal {
    /// Reads the snapshot and replays the journal of `dir`, then compacts them into a fresh
    /// snapshot and an empty journal.
    pub(crate) fn open(dir: &Path) -> Result<(Self, SavedState), FakeImgurError> {
        let state_path = dir.join(STATE_FILE);
        let journal_path = dir.join(JOURNAL_FILE);
        let mut state = if state_path.exists() {
            let text = std::fs::read(&state_path).map_err(io_error(&state_path))?;
            serde_json::from_slice::<SavedState>(&text).map_err(corrupt(&state_path))?
        } else {
            SavedState::default()
        };
        state.store.digest_legacy_tokens();
        if journal_path.exists() {
            let text = std::fs::read(&journal_path).map_err(io_error(&journal_path))?;
            replay(&text, &journal_path, &mut state)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(&journal_path)
            .map_err(io_error(&journal_path))?;
        let mut journal = Self {
            state_path,
            journal_path,
            file,
            len: 0,
            snapshot_len: 0,
            clock_offset_millis: state.clock_offset_millis,
        };
        journal.compact(&state)?;
        Ok((journal, state))
    }

    /// The changes to record for a clock now `clock_offset_millis` ahead: none if unchanged.
    pub(crate) fn clock_change(&self, clock_offset_millis: u64) -> Option<Change> {
        (clock_offset_millis != self.clock_offset_millis)
            .then_some(Change::Clock(clock_offset_millis))
    }

    /// Appends `changes`, one line each, in one write. A write that fails leaves the journal
    /// as it was (see [`append_whole`]), so the next append starts on a fresh line.
    pub(crate) fn append(&mut self, changes: &[Change]) -> Result<(), FakeImgurError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::new();
        let mut clock = None;
        for change in changes {
            serde_json::to_writer(&mut lines, change).map_err(corrupt(&self.journal_path))?;
            lines.push(b'\n');
            if let Change::Clock(offset) = change {
                clock = Some(*offset);
            }
        }
        append_whole(&mut self.file, self.len, &lines).map_err(io_error(&self.journal_path))?;
        self.len += lines.len() as u64;
        if let Some(offset) = clock {
            self.clock_offset_millis = offset;
        }
        Ok(())
    }

    /// Whether the journal has grown enough that rewriting the snapshot pays for itself.
    pub(crate) fn wants_compaction(&self) -> bool {
        self.len >= COMPACT_AT_LEAST && self.len >= self.snapshot_len
    }

    /// Writes `state` (which must include everything journaled) as the new snapshot, atomically,
    /// then empties the journal. A crash in between leaves a journal whose lines the snapshot
    /// already holds: replaying them again changes nothing.
    pub(crate) fn compact(&mut self, state: &SavedState) -> Result<(), FakeImgurError> {
        let json = serde_json::to_vec(state).map_err(corrupt(&self.state_path))?;
        write_atomic(&self.state_path, &json).map_err(io_error(&self.state_path))?;
        self.file.set_len(0).map_err(io_error(&self.journal_path))?;
        self.len = 0;
        self.snapshot_len = json.len() as u64;
        self.clock_offset_millis = state.clock_offset_millis;
        Ok(())
    }
}

/// Replaces `path` with `bytes` as Upshot writes its own config files (`upshot_core::config_file`,
/// which this crate cannot use: Upshot depends on it, not the reverse): a temporary file in the
/// same folder, synced, owner-only, renamed over the old one, the folder synced; a crash leaves
/// the old snapshot or the new one, never half of one.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".state.")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    temp.persist(path).map_err(|error| error.error)?;
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Appends `lines` to `file`, whose whole lines end at `whole_len`, all or nothing.
///
/// A write that fails part-way (a full disk) leaves the start of a line without its newline;
/// the next append would join onto it, and the joined line, no longer the last, would make the
/// journal unreadable at the next start. So a failed write is cut back to `whole_len`, and
/// anything past it (a remnant whose cut failed too) is cut before the next write.
fn append_whole(file: &mut File, whole_len: u64, lines: &[u8]) -> std::io::Result<()> {
    if file.metadata()?.len() != whole_len {
        file.set_len(whole_len)?;
    }
    file.write_all(lines).inspect_err(|_| {
        if let Err(error) = file.set_len(whole_len) {
            tracing::warn!("could not cut a failed journal write back: {error}");
        }
    })
}

/// Applies every complete line of a journal to `state`. A last line without its newline is
/// a write cut short by a crash, before its request was answered: it is dropped.
fn replay(text: &[u8], path: &Path, state: &mut SavedState) -> Result<(), FakeImgurError> {
    let mut index = Index::of(&state.store);
    let mut lines = text.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let change = match serde_json::from_slice::<Change>(line) {
            Ok(change) => change,
            Err(error) if last => {
                tracing::warn!(
                    "dropping the unfinished last line of {}: {error}",
                    path.display()
                );
                break;
            }
            Err(error) => return Err(corrupt(path)(error)),
        };
        index.apply(state, change);
    }
    Ok(())
}

/// Where each record is in the store, by key, so a replay finds it without a search.
#[derive(Debug, Default)]
struct Index {
    uploads: HashMap<String, usize>,
    albums: HashMap<String, usize>,
    accounts: HashMap<String, usize>,
    access: HashMap<String, usize>,
    refresh: HashMap<String, usize>,
}

fn positions<'a>(keys: impl Iterator<Item = &'a String>) -> HashMap<String, usize> {
    keys.enumerate().map(|(i, key)| (key.clone(), i)).collect()
}

/// Replaces the record stored under `key`, or appends it.
fn upsert<T>(items: &mut Vec<T>, index: &mut HashMap<String, usize>, key: String, item: T) {
    if let Some(slot) = index.get(&key).and_then(|&i| items.get_mut(i)) {
        *slot = item;
    } else {
        index.insert(key, items.len());
        items.push(item);
    }
}

impl Index {
    fn of(store: &Store) -> Self {
        Self {
            uploads: positions(store.uploads.iter().map(|u| &u.id)),
            albums: positions(store.albums.iter().map(|a| &a.id)),
            accounts: positions(store.accounts.iter().map(|a| &a.username)),
            access: positions(store.access_tokens.iter().map(|g| &g.token_sha256)),
            refresh: positions(store.refresh_tokens.iter().map(|g| &g.token_sha256)),
        }
    }

    fn apply(&mut self, state: &mut SavedState, change: Change) {
        let store = &mut state.store;
        match change {
            Change::Upload(record) => {
                upsert(
                    &mut store.uploads,
                    &mut self.uploads,
                    record.id.clone(),
                    record,
                );
            }
            Change::Album(record) => {
                upsert(
                    &mut store.albums,
                    &mut self.albums,
                    record.id.clone(),
                    record,
                );
            }
            Change::Account(account) => {
                let key = account.username.clone();
                upsert(&mut store.accounts, &mut self.accounts, key, account);
            }
            Change::Access(grant) => {
                let key = grant.token_sha256.clone();
                upsert(&mut store.access_tokens, &mut self.access, key, grant);
            }
            Change::Refresh(grant) => {
                let key = grant.token_sha256.clone();
                upsert(&mut store.refresh_tokens, &mut self.refresh, key, grant);
            }
            Change::Quota(quota) => state.quota = quota,
            Change::Clock(offset) => state.clock_offset_millis = offset,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn clock_line(offset: u64) -> String {
        format!(
            "{}\n",
            serde_json::to_string(&Change::Clock(offset)).unwrap()
        )
    }

    #[test]
    fn replay_keeps_the_last_value_and_drops_an_unfinished_last_line() {
        let mut text = clock_line(5) + &clock_line(7);
        text.push_str(r#"{"clock": 9"#);
        let mut state = SavedState::default();
        replay(text.as_bytes(), Path::new("journal.jsonl"), &mut state).unwrap();
        assert_eq!(state.clock_offset_millis, 7);
    }

    #[test]
    fn a_damaged_line_before_the_end_is_an_error() {
        let text = format!("{{\"clock\": \n{}", clock_line(7));
        let mut state = SavedState::default();
        let error = replay(text.as_bytes(), Path::new("journal.jsonl"), &mut state).unwrap_err();
        assert!(
            matches!(error, FakeImgurError::CorruptState { .. }),
            "{error}"
        );
    }

    #[test]
    fn compaction_empties_the_journal_and_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, state) = Journal::open(dir.path()).unwrap();
        assert_eq!(state.clock_offset_millis, 0);
        journal.append(&[Change::Clock(42)]).unwrap();
        assert!(
            std::fs::metadata(dir.path().join(JOURNAL_FILE))
                .unwrap()
                .len()
                > 0
        );
        drop(journal);
        let (journal, state) = Journal::open(dir.path()).unwrap();
        assert_eq!(state.clock_offset_millis, 42);
        assert_eq!(
            std::fs::metadata(dir.path().join(JOURNAL_FILE))
                .unwrap()
                .len(),
            0
        );
        assert!(!journal.wants_compaction());
    }

    #[test]
    fn an_append_after_a_write_cut_short_starts_on_a_whole_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        journal.append(&[Change::Clock(5)]).unwrap();
        // What a write that failed part-way (a full disk) leaves: a line without its newline.
        let mut other = OpenOptions::new().append(true).open(&path).unwrap();
        other.write_all(br#"{"clock":9"#).unwrap();
        drop(other);
        journal.append(&[Change::Clock(7)]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            clock_line(5) + &clock_line(7),
            "the remnant is gone and the new line stands alone"
        );
        drop(journal);
        let (_, state) = Journal::open(dir.path()).expect("the server starts again");
        assert_eq!(state.clock_offset_millis, 7);
    }

    #[test]
    fn compaction_is_wanted_once_the_journal_outgrows_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = Journal::open(dir.path()).unwrap();
        let batch: Vec<Change> = (0..1000).map(Change::Clock).collect();
        while !journal.wants_compaction() {
            journal.append(&batch).unwrap();
        }
        assert!(journal.len >= COMPACT_AT_LEAST);
        let state = SavedState {
            clock_offset_millis: 999,
            ..SavedState::default()
        };
        journal.compact(&state).unwrap();
        assert_eq!(
            std::fs::metadata(dir.path().join(JOURNAL_FILE))
                .unwrap()
                .len(),
            0
        );
        journal.append(&[Change::Clock(1000)]).unwrap();
        drop(journal);
        let (_, state) = Journal::open(dir.path()).unwrap();
        assert_eq!(
            state.clock_offset_millis, 1000,
            "appends after a compaction replay"
        );
    }
}
