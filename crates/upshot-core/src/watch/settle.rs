//! When a file is complete: it has been still (no event, same size and modification time) for
//! the settle window, and can be opened for reading.
//!
//! The [`Settler`] only keeps deadlines: which path to look at when. It never polls: a path is
//! looked at when its deadline comes, and a watcher with nothing pending sleeps until the next
//! file-system event. [`judge`] does the looking (a `stat`, an open, a hash) on a blocking
//! thread.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// A file's size and modification time: if either moves, it is still being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileStamp {
    /// Bytes.
    pub size: u64,
    /// Modification time, ns since the epoch (negative before it).
    pub mtime_ns: i64,
}

impl FileStamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &std::fs::Metadata) -> Self {
        let mtime_ns = meta.modified().map(nanos_since_epoch).unwrap_or(0);
        Self {
            size: meta.len(),
            mtime_ns,
        }
    }
}

fn nanos_since_epoch(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_nanos()).unwrap_or(i64::MAX),
    }
}

/// A path waiting to be looked at, with the folder it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePath {
    /// The path.
    pub path: PathBuf,
    /// The folder's slot in the watcher.
    pub folder: u64,
    /// What the last look saw, if one was made.
    pub previous: Option<FileStamp>,
    /// How many looks found it unreadable.
    pub unreadable: u32,
}

#[derive(Debug)]
struct Entry {
    folder: u64,
    due: Instant,
    previous: Option<FileStamp>,
    unreadable: u32,
}

/// Deadlines of the paths that changed and have not been judged yet.
#[derive(Debug, Default)]
pub struct Settler {
    entries: HashMap<PathBuf, Entry>,
    /// One heap item per entry at most is live; stale items (the entry moved its deadline or
    /// left) are skipped when they surface.
    heap: BinaryHeap<Reverse<(Instant, PathBuf)>>,
}

impl Settler {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Looks at `path` at `due` at the earliest: an event just came for it (due is then now plus
    /// the window), or a scan found it (due now). A later deadline than the one set wins.
    pub fn touch(&mut self, path: PathBuf, folder: u64, due: Instant) {
        match self.entries.get_mut(&path) {
            Some(entry) => {
                entry.folder = folder;
                if due > entry.due {
                    entry.due = due;
                }
            }
            None => {
                self.heap.push(Reverse((due, path.clone())));
                self.entries.insert(
                    path,
                    Entry {
                        folder,
                        due,
                        previous: None,
                        unreadable: 0,
                    },
                );
            }
        }
    }

    /// Puts back a path judged not ready, with what was seen, to look again at `due`.
    pub fn wait(&mut self, due_path: DuePath, due: Instant) {
        let DuePath {
            path,
            folder,
            previous,
            unreadable,
        } = due_path;
        self.touch(path.clone(), folder, due);
        if let Some(entry) = self.entries.get_mut(&path) {
            entry.previous = previous;
            entry.unreadable = unreadable;
        }
    }

    /// The earliest deadline.
    pub fn next_due(&mut self) -> Option<Instant> {
        while let Some(Reverse((due, path))) = self.heap.peek() {
            match self.entries.get(path) {
                Some(entry) if entry.due == *due => return Some(*due),
                Some(entry) => {
                    let fresh = Reverse((entry.due, path.clone()));
                    self.heap.pop();
                    self.heap.push(fresh);
                }
                None => {
                    self.heap.pop();
                }
            }
        }
        None
    }

    /// Takes up to `limit` paths whose deadline has come (they leave the tracker).
    pub fn take_due(&mut self, now: Instant, limit: usize) -> Vec<DuePath> {
        let mut due_paths = Vec::new();
        while due_paths.len() < limit {
            match self.next_due() {
                Some(due) if due <= now => {}
                _ => break,
            }
            let Some(Reverse((_, path))) = self.heap.pop() else {
                break;
            };
            if let Some(entry) = self.entries.remove(&path) {
                due_paths.push(DuePath {
                    path,
                    folder: entry.folder,
                    previous: entry.previous,
                    unreadable: entry.unreadable,
                });
            }
        }
        due_paths
    }

    /// Forgets every path of a folder (it was removed, paused or faulted).
    pub fn forget_folder(&mut self, folder: u64) {
        self.entries.retain(|_, entry| entry.folder != folder);
    }
}

/// What a look at a path found.
#[derive(Debug)]
pub enum Judgement {
    /// Complete: still for the window and readable; its content hash.
    Ready {
        /// Size and modification time when hashed (unchanged after hashing).
        stamp: FileStamp,
        /// BLAKE3 of the content.
        hash: String,
    },
    /// Still changing, or too fresh, or not openable yet: look again after `after`.
    NotYet {
        /// What was seen.
        stamp: Option<FileStamp>,
        /// How long to wait.
        after: Duration,
        /// It could not be opened (counts towards giving up).
        unreadable: bool,
    },
    /// Empty: a writer created it and has not written yet; its next write brings an event.
    Empty,
    /// Gone (removed or renamed away).
    Gone,
    /// A directory (created, or moved in): scan it.
    Directory,
    /// Not a regular file (a socket, a device): never uploaded.
    Other,
    /// `stat` failed for another reason.
    Failed(io::Error),
}

/// Looks at `path`: the window is `settle`; `previous` is what the last look saw.
pub fn judge(path: &Path, previous: Option<FileStamp>, settle: Duration) -> Judgement {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Judgement::Gone,
        Err(error) => return Judgement::Failed(error),
    };
    if meta.is_dir() {
        return Judgement::Directory;
    }
    if !meta.is_file() {
        return Judgement::Other;
    }
    let stamp = FileStamp::of(&meta);
    if stamp.size == 0 {
        return Judgement::Empty;
    }
    let not_yet = |after: Duration, unreadable: bool| Judgement::NotYet {
        stamp: Some(stamp),
        after,
        unreadable,
    };
    if previous.is_some_and(|seen| seen != stamp) {
        return not_yet(settle, false);
    }
    // The modification time is the writer's own evidence: a file written within the window is
    // not still yet, however the events arrived.
    let age = meta
        .modified()
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
        .unwrap_or(Duration::ZERO);
    if age < settle {
        return not_yet((settle - age).max(Duration::from_millis(1)), false);
    }
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Judgement::Gone,
        Err(_) => return not_yet(settle, true),
    };
    let hash = match crate::content_hash::hash_reader(file) {
        Ok(hash) => hash,
        Err(_) => return not_yet(settle, true),
    };
    // Written to while being hashed: the hash may mix old and new bytes.
    match std::fs::metadata(path) {
        Ok(after) if FileStamp::of(&after) == stamp => Judgement::Ready { stamp, hash },
        Ok(after) => Judgement::NotYet {
            stamp: Some(FileStamp::of(&after)),
            after: settle,
            unreadable: false,
        },
        Err(_) => Judgement::Gone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_in_order_and_later_events_push_them_back() {
        let start = Instant::now();
        let mut settler = Settler::new();
        let second = Duration::from_secs(1);
        settler.touch("a".into(), 1, start + second);
        settler.touch("b".into(), 1, start + 2 * second);
        settler.touch("a".into(), 1, start + 3 * second);
        assert_eq!(settler.next_due(), Some(start + 2 * second));
        let due = settler.take_due(start + 2 * second, 10);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].path, PathBuf::from("b"));
        assert!(settler.take_due(start + 2 * second, 10).is_empty());
        let due = settler.take_due(start + 3 * second, 10);
        assert_eq!(due[0].path, PathBuf::from("a"));
        assert!(settler.is_empty());
        assert_eq!(settler.next_due(), None);
    }

    #[test]
    fn a_fresh_file_waits_out_the_window_and_an_old_one_is_ready() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.png");
        std::fs::write(&path, b"content").expect("write");
        let settle = Duration::from_secs(60);
        assert!(matches!(
            judge(&path, None, settle),
            Judgement::NotYet { after, .. } if after <= settle
        ));
        match judge(&path, None, Duration::ZERO) {
            Judgement::Ready { stamp, hash } => {
                assert_eq!(stamp.size, 7);
                assert_eq!(hash, crate::content_hash::hash_bytes(b"content"));
            }
            other => panic!("expected ready, got {other:?}"),
        }
        let moved = FileStamp {
            size: 3,
            mtime_ns: 0,
        };
        assert!(matches!(
            judge(&path, Some(moved), Duration::ZERO),
            Judgement::NotYet { .. }
        ));
        std::fs::write(&path, b"").expect("truncate");
        assert!(matches!(
            judge(&path, None, Duration::ZERO),
            Judgement::Empty
        ));
        std::fs::remove_file(&path).expect("remove");
        assert!(matches!(
            judge(&path, None, Duration::ZERO),
            Judgement::Gone
        ));
        assert!(matches!(
            judge(dir.path(), None, Duration::ZERO),
            Judgement::Directory
        ));
    }
}
