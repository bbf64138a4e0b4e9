//! Watched folders end to end: real folders, real file writes, the real watcher (notify), the
//! queue's workers uploading to the fake Imgur server over HTTP. Every test ends by checking the
//! server's state: each file arrived exactly once, and never a partial file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, next_event};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::broadcast;
use upshot_core::queue::{JobFilter, JobState};
use upshot_core::watch::{
    AfterUpload, FolderSource, WatchEvent, WatchList, WatchOptions, WatchedFolder, Watcher,
};

const CLIENT_ID: &str = "watch-test";
const SETTLE: Duration = Duration::from_millis(300);

/// The shared world (a generous fake server, a service, two workers), with this file's helpers.
impl World {
    async fn new() -> Self {
        Self::start(CLIENT_ID).await
    }

    fn folder(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    fn watch(&self, folders: Vec<WatchedFolder>) -> Watcher {
        self.watch_with(folders, WatchOptions::default())
    }

    fn watch_with(&self, folders: Vec<WatchedFolder>, options: WatchOptions) -> Watcher {
        self.watch_settling(folders, options, SETTLE)
    }

    fn watch_settling(
        &self,
        folders: Vec<WatchedFolder>,
        options: WatchOptions,
        settle: Duration,
    ) -> Watcher {
        Watcher::start(
            &self.service,
            FolderSource::Given { folders, settle },
            options,
        )
        .unwrap()
    }

    /// SHA-256 of every upload the server holds, with how many times each arrived.
    fn uploaded(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for upload in self.server.controls().state().uploads {
            *counts.entry(upload.sha256).or_insert(0) += 1;
        }
        counts
    }

    /// Waits until the server holds `count` uploads (and a little longer, so an extra upload
    /// would show), then checks that they are exactly `files`' final contents, once each.
    async fn expect_exactly(&self, files: &[PathBuf]) {
        let contents: Vec<Vec<u8>> = files
            .iter()
            .map(|path| std::fs::read(path).unwrap())
            .collect();
        self.expect_contents(&contents).await;
    }

    /// [`expect_exactly`](Self::expect_exactly) by content (for files since removed).
    async fn expect_contents(&self, contents: &[Vec<u8>]) {
        let expected: HashMap<String, usize> =
            contents.iter().map(|bytes| (sha256(bytes), 1)).collect();
        wait_for("every file to arrive", Duration::from_secs(120), || {
            self.server.controls().state().uploads.len() >= expected.len()
        })
        .await;
        tokio::time::sleep(SETTLE * 3).await;
        let uploaded = self.uploaded();
        assert_eq!(
            uploaded.len(),
            expected.len(),
            "distinct uploads differ from the files"
        );
        for (hash, count) in &uploaded {
            assert_eq!(
                expected.get(hash),
                Some(&1),
                "upload {hash} arrived {count}× or is not a final file"
            );
            assert_eq!(*count, 1, "upload {hash} arrived {count} times");
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A valid PNG unique to `n` (below 2,500).
fn png(n: usize) -> Vec<u8> {
    fake_imgur::samples::png(8 + (n % 50) as u32, 8 + (n / 50) as u32, (n % 251) as u8)
}

fn folder(path: &Path) -> WatchedFolder {
    WatchedFolder::new("t", path)
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_writer_is_waited_for_and_only_the_complete_file_is_uploaded() {
    let world = World::new().await;
    let inbox = world.folder("inbox");
    // A window wide enough that a loaded CI machine never stretches a pause past it.
    let settle = Duration::from_secs(1);
    let watcher = world.watch_settling(vec![folder(&inbox)], WatchOptions::default(), settle);
    let path = inbox.join("slow.png");
    let bytes = png(1);
    let mut file = std::fs::File::create(&path).unwrap();
    // Ten chunks, each written well inside the settle window of the one before.
    for chunk in bytes.chunks(bytes.len().div_ceil(10)) {
        file.write_all(chunk).unwrap();
        file.flush().unwrap();
        tokio::time::sleep(settle / 8).await;
    }
    drop(file);
    world.expect_exactly(&[path]).await;
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_saved_under_a_temporary_name_then_renamed_is_uploaded_once() {
    let world = World::new().await;
    let inbox = world.folder("inbox");
    let watcher = world.watch(vec![folder(&inbox)]);
    let mut finals = Vec::new();
    for (index, temporary) in [
        "a.png.part",
        "b.png.crdownload",
        ".c.png.syncthing.tmp",
        "d.png.tmp",
    ]
    .iter()
    .enumerate()
    {
        let temporary = inbox.join(temporary);
        std::fs::write(&temporary, png(index)).unwrap();
        let final_path = inbox.join(format!("renamed-{index}.png"));
        tokio::time::sleep(SETTLE * 2).await; // Still under its temporary name: never taken.
        std::fs::rename(&temporary, &final_path).unwrap();
        finals.push(final_path);
    }
    world.expect_exactly(&finals).await;
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_directory_moved_in_is_uploaded_file_by_file() {
    let world = World::new().await;
    let inbox = world.folder("inbox");
    let mut watched = folder(&inbox);
    watched.recursive = true;
    let watcher = world.watch(vec![watched]);
    let outside = world.folder("elsewhere/holiday");
    std::fs::create_dir(outside.join("day2")).unwrap();
    let mut files = Vec::new();
    for n in 0..6 {
        let relative = if n % 2 == 0 {
            format!("{n}.png")
        } else {
            format!("day2/{n}.png")
        };
        std::fs::write(outside.join(&relative), png(n)).unwrap();
        files.push(inbox.join("holiday").join(relative));
    }
    std::fs::rename(&outside, inbox.join("holiday")).unwrap();
    world.expect_exactly(&files).await;
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_a_thousand_files_is_uploaded_exactly_once_even_when_events_overflow() {
    let world = World::new().await;
    let inbox = world.folder("inbox");
    // A tiny event buffer forces the overflow path: the folder is rescanned, nothing is lost.
    let watcher = world.watch_with(
        vec![folder(&inbox)],
        WatchOptions {
            event_capacity: 64,
            ..WatchOptions::default()
        },
    );
    let mut events = watcher.subscribe();
    let mut files = Vec::new();
    for n in 0..1_000 {
        let path = inbox.join(format!("burst-{n:04}.png"));
        std::fs::write(&path, png(n)).unwrap();
        files.push(path);
    }
    world.expect_exactly(&files).await;
    let jobs = world.service.jobs(JobFilter::default()).await.unwrap();
    assert_eq!(jobs.len(), 1_000, "one job per file");
    let mut overflowed = false;
    while let Ok(event) = events.try_recv() {
        overflowed |= matches!(event, WatchEvent::Overflowed { .. });
    }
    assert!(
        overflowed,
        "the burst was meant to overflow the event buffer"
    );
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_deleted_before_upload_has_its_job_cancelled_with_the_reason() {
    let world = World::new().await;
    world.service.pause().await.unwrap();
    let inbox = world.folder("inbox");
    let watcher = world.watch(vec![folder(&inbox)]);
    let mut events = watcher.subscribe();
    let doomed = inbox.join("doomed.png");
    std::fs::write(&doomed, png(1)).unwrap();
    let WatchEvent::Queued { job, .. } = next_event(&mut events, "the file to be queued", |e| {
        matches!(e, WatchEvent::Queued { .. })
    })
    .await
    else {
        unreachable!()
    };
    std::fs::remove_file(&doomed).unwrap();
    next_event(
        &mut events,
        "the cancellation",
        |e| matches!(e, WatchEvent::Cancelled { job: cancelled, .. } if *cancelled == job),
    )
    .await;
    let cancelled = world.service.job(job).await.unwrap().unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert!(
        cancelled
            .error_message
            .as_deref()
            .unwrap_or_default()
            .contains("removed"),
        "{cancelled:?}"
    );
    let kept = inbox.join("kept.png");
    std::fs::write(&kept, png(2)).unwrap();
    next_event(&mut events, "the second file", |e| {
        matches!(e, WatchEvent::Queued { .. })
    })
    .await;
    world.service.resume().await.unwrap();
    world.expect_exactly(&[kept]).await;
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_copy_or_rename_of_an_uploaded_file_reports_the_existing_link() {
    let world = World::new().await;
    let inbox = world.folder("inbox");
    let watcher = world.watch(vec![folder(&inbox)]);
    let mut events = watcher.subscribe();
    let original = inbox.join("original.png");
    std::fs::write(&original, png(7)).unwrap();
    world.expect_exactly(std::slice::from_ref(&original)).await;

    std::fs::copy(&original, inbox.join("copy.png")).unwrap();
    let duplicate = next_event(&mut events, "the copy to be recognised", |e| {
        matches!(e, WatchEvent::Duplicate { .. })
    })
    .await;
    let WatchEvent::Duplicate { link, .. } = duplicate else {
        unreachable!()
    };
    let uploaded = world.server.controls().state().uploads;
    assert!(
        link.as_deref()
            .is_some_and(|link| link.contains(&uploaded[0].id)),
        "{link:?}"
    );
    std::fs::rename(&original, inbox.join("renamed.png")).unwrap();
    tokio::time::sleep(SETTLE * 4).await;
    world.expect_exactly(&[inbox.join("renamed.png")]).await;
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn files_added_while_stopped_are_caught_up_and_earlier_ones_not_sent_again() {
    let world = World::new().await;
    let inbox = world.folder("inbox");
    let first: Vec<PathBuf> = (0..3)
        .map(|n| inbox.join(format!("before-{n}.png")))
        .collect();
    for (n, path) in first.iter().enumerate() {
        std::fs::write(path, png(n)).unwrap();
    }
    let watcher = world.watch(vec![folder(&inbox)]);
    world.expect_exactly(&first).await;
    watcher.stop().await;

    let mut all = first.clone();
    for n in 3..8 {
        let path = inbox.join(format!("while-stopped-{n}.png"));
        std::fs::write(&path, png(n)).unwrap();
        all.push(path);
    }
    let watcher = world.watch(vec![folder(&inbox)]);
    world.expect_exactly(&all).await;
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_removed_and_recreated_is_picked_up_again_while_the_others_keep_working() {
    let world = World::new().await;
    let fragile = world.folder("fragile");
    let steady = world.folder("steady");
    let watcher = world.watch_with(
        vec![folder(&fragile), folder(&steady)],
        WatchOptions {
            fault_retry: Duration::from_millis(200),
            ..WatchOptions::default()
        },
    );
    let mut events = watcher.subscribe();
    let first = fragile.join("first.png");
    std::fs::write(&first, png(1)).unwrap();
    world.expect_exactly(std::slice::from_ref(&first)).await;

    std::fs::remove_dir_all(&fragile).unwrap();
    next_event(&mut events, "the fault", |e| {
        matches!(e, WatchEvent::FolderFault { folder, message } if *folder == fragile && message.contains("does not exist"))
    })
    .await;
    assert!(
        watcher
            .status()
            .iter()
            .any(|s| s.path == fragile && s.state == "fault")
    );
    let other = steady.join("other.png");
    std::fs::write(&other, png(2)).unwrap();
    world.expect_contents(&[png(1), png(2)]).await;

    std::fs::create_dir(&fragile).unwrap();
    next_event(
        &mut events,
        "the folder to come back",
        |e| matches!(e, WatchEvent::Watching { folder, .. } if *folder == fragile),
    )
    .await;
    let again = fragile.join("again.png");
    std::fs::write(&again, png(3)).unwrap();
    world.expect_contents(&[png(1), png(2), png(3)]).await;
    watcher.stop().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_symlink_loop_is_reported_and_the_rest_of_the_folder_still_works() {
    let world = World::new().await;
    let inbox = world.folder("inbox");
    std::fs::create_dir(inbox.join("sub")).unwrap();
    std::os::unix::fs::symlink(&inbox, inbox.join("sub/loop")).unwrap();
    let mut watched = folder(&inbox);
    watched.recursive = true;
    let watcher = world.watch(vec![watched]);
    let mut events = watcher.subscribe();
    let path = inbox.join("sub/shot.png");
    std::fs::write(&path, png(4)).unwrap();
    world.expect_exactly(std::slice::from_ref(&path)).await;
    watcher.rescan();
    next_event(&mut events, "the loop warning", |e| {
        matches!(e, WatchEvent::FolderWarning { message, .. } if message.contains("symlink loop"))
    })
    .await;
    assert!(
        watcher.status()[0]
            .warnings
            .iter()
            .any(|w| w.contains("symlink loop"))
    );
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn uploaded_files_are_moved_or_deleted_as_the_folder_says() {
    let world = World::new().await;
    let moving = world.folder("moving");
    let deleting = world.folder("deleting");
    let mut move_folder = folder(&moving);
    move_folder.after_upload = AfterUpload::Move {
        subfolder: "uploaded".to_owned(),
    };
    let mut delete_folder = folder(&deleting);
    delete_folder.after_upload = AfterUpload::Delete;
    let watcher = world.watch(vec![move_folder, delete_folder]);
    let moved = moving.join("m.png");
    let deleted = deleting.join("d.png");
    std::fs::write(&moved, png(1)).unwrap();
    std::fs::write(&deleted, png(2)).unwrap();
    let expected = HashMap::from([(sha256(&png(1)), 1), (sha256(&png(2)), 1)]);
    wait_for("both files handled", Duration::from_secs(60), || {
        !moved.exists() && !deleted.exists()
    })
    .await;
    assert_eq!(
        std::fs::read(moving.join("uploaded/m.png")).unwrap(),
        png(1)
    );
    tokio::time::sleep(SETTLE * 3).await;
    assert_eq!(
        world.uploaded(),
        expected,
        "each uploaded once; the move is not a new file"
    );
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_added_to_the_saved_list_by_another_process_is_watched_at_once() {
    let world = World::new().await;
    let list_file = world
        .dir
        .path()
        .join("config")
        .join(upshot_core::watch::WATCH_FILE);
    WatchList::update(&list_file, |list| {
        list.settle_ms = SETTLE.as_millis() as u64;
        Ok(())
    })
    .unwrap();
    let watcher = Watcher::start(
        &world.service,
        FolderSource::Saved(list_file.clone()),
        WatchOptions::default(),
    )
    .unwrap();
    let mut events = watcher.subscribe();
    let later = world.folder("later");
    WatchList::update(&list_file, |list| list.add(folder(&later)).map(|_| ())).unwrap();
    next_event(&mut events, "the new folder", |e| {
        matches!(e, WatchEvent::Watching { .. })
    })
    .await;
    let path = later.join("x.png");
    std::fs::write(&path, png(5)).unwrap();
    world.expect_exactly(std::slice::from_ref(&path)).await;

    WatchList::update(&list_file, |list| {
        list.find_mut("1")?.enabled = false;
        Ok(())
    })
    .unwrap();
    wait_for("the pause", Duration::from_secs(10), || {
        watcher.status().iter().any(|s| s.state == "paused")
    })
    .await;
    let views = watcher.views(WatchList::load(&list_file).unwrap());
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].state, "paused");
    assert_eq!(views[0].folder.path, later);
    std::fs::write(later.join("while-paused.png"), png(6)).unwrap();
    tokio::time::sleep(SETTLE * 4).await;
    assert_eq!(world.uploaded().len(), 1, "a paused folder queues nothing");
    watcher.stop().await;
}

/// `dir/<name>` where `name` is raw bytes (not UTF-8: legal on Linux, e.g. from an old archive).
#[cfg(unix)]
fn raw_name(dir: &Path, name: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    dir.join(std::ffi::OsStr::from_bytes(name))
}

/// Whether the watch record of `path` says its after-upload action was dealt with.
fn action_done(world: &World, path: &Path) -> bool {
    let db = upshot_core::store::Database::open_in(&world.dir.path().join("data")).unwrap();
    let conn = db.connect().unwrap();
    let done: Option<bool> = conn
        .query_row(
            "SELECT action_done FROM watch_files WHERE path = ?1",
            [upshot_core::store::os_path::SqlPath(path)],
            |row| row.get(0),
        )
        .ok();
    done == Some(true)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_file_name_that_is_not_utf8_is_uploaded_and_holds_no_other_file_back() {
    let world = World::new().await;
    let first = world.folder("first");
    let second = world.folder("second");
    let before = first.join("before.png");
    let odd = raw_name(&first, b"caf\xe9.png");
    std::fs::write(&before, png(1)).unwrap();
    std::fs::write(&odd, png(2)).unwrap();
    let watcher = world.watch(vec![folder(&first), folder(&second)]);
    // Written after the odd one, in both folders: they must not be held back by it.
    let after = first.join("after.png");
    let elsewhere = second.join("elsewhere.png");
    std::fs::write(&after, png(3)).unwrap();
    std::fs::write(&elsewhere, png(4)).unwrap();
    let all = [
        before.clone(),
        odd.clone(),
        after.clone(),
        elsewhere.clone(),
    ];
    world.expect_exactly(&all).await;
    wait_for("every job done", Duration::from_secs(60), || {
        jobs_done(&world, 4)
    })
    .await;

    // The job keeps the exact bytes of the name; JSON shows it readably.
    let jobs = world.service.jobs(JobFilter::default()).await.unwrap();
    let job = jobs
        .iter()
        .find(|job| job.source_path == odd)
        .expect("a job with the exact path");
    let json = serde_json::to_string(job).unwrap();
    assert!(json.contains("caf\u{fffd}.png"), "{json}");
    // So does the history, and its CSV export.
    let db = upshot_core::store::Database::open_in(&world.dir.path().join("data")).unwrap();
    let conn = db.connect().unwrap();
    let history = upshot_core::history::History::new(&conn);
    let entries = history.list(100, 0).unwrap();
    assert!(
        entries
            .iter()
            .any(|entry| entry.source_path.as_deref() == Some(odd.as_path()))
    );
    assert_eq!(history.search("caf", 10).unwrap().len(), 1);
    let mut csv = Vec::new();
    history.export_csv(&mut csv).unwrap();
    assert!(String::from_utf8(csv).unwrap().contains("caf\u{fffd}.png"));
    let mut exported = Vec::new();
    history.export_json(&mut exported).unwrap();
    assert!(
        String::from_utf8(exported)
            .unwrap()
            .contains("caf\u{fffd}.png")
    );
    watcher.stop().await;

    // A restart recognises the odd file from its record: nothing is sent again.
    let watcher = world.watch(vec![folder(&first), folder(&second)]);
    let later = second.join("later.png");
    std::fs::write(&later, png(5)).unwrap();
    let mut all = all.to_vec();
    all.push(later);
    world.expect_exactly(&all).await;
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_whose_record_fails_is_reported_alone_and_the_others_go_on() {
    let world = World::new().await;
    // A real SQLite failure for one row only: the database refuses to queue this one file.
    let db = upshot_core::store::Database::open_in(&world.dir.path().join("data")).unwrap();
    db.connect()
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER poison BEFORE INSERT ON jobs WHEN NEW.source_path LIKE '%poison%' \
             BEGIN SELECT RAISE(ABORT, 'this row is refused'); END;",
        )
        .unwrap();
    let first = world.folder("first");
    let second = world.folder("second");
    let files = [
        first.join("a.png"),
        first.join("poison.png"),
        first.join("b.png"),
    ];
    for (n, path) in files.iter().enumerate() {
        std::fs::write(path, png(n)).unwrap();
    }
    let watcher = world.watch(vec![folder(&first), folder(&second)]);
    let mut events = watcher.subscribe();
    let later = second.join("later.png");
    std::fs::write(&later, png(9)).unwrap();
    world
        .expect_exactly(&[files[0].clone(), files[2].clone(), later])
        .await;
    watcher.rescan();
    next_event(&mut events, "the refused file reported", |e| {
        matches!(e, WatchEvent::Skipped { path, reason } if *path == files[1] && reason.contains("refused"))
    })
    .await;
    watcher.stop().await;
}

/// Whether `count` jobs are done.
fn jobs_done(world: &World, count: usize) -> bool {
    let db = upshot_core::store::Database::open_in(&world.dir.path().join("data")).unwrap();
    let conn = db.connect().unwrap();
    let done: i64 = conn
        .query_row(
            "SELECT count(*) FROM jobs WHERE state = 'done'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    done as usize >= count
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn delete_after_upload_never_follows_a_symlink_out_of_the_folder() {
    let world = World::new().await;
    let outside = world.folder("outside");
    std::fs::create_dir(outside.join("sub")).unwrap();
    let target = outside.join("target.png");
    let inner = outside.join("sub/inner.png");
    std::fs::write(&target, png(1)).unwrap();
    std::fs::write(&inner, png(2)).unwrap();
    let deleting = world.folder("deleting");
    let link = deleting.join("link.png");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    std::os::unix::fs::symlink(outside.join("sub"), deleting.join("linked")).unwrap();
    let plain = deleting.join("plain.png");
    std::fs::write(&plain, png(3)).unwrap();
    let mut watched = folder(&deleting);
    watched.recursive = true;
    watched.after_upload = AfterUpload::Delete;
    let watcher = world.watch(vec![watched]);
    // All three contents are uploaded (the scan follows links into what it uploads)…
    world.expect_contents(&[png(1), png(2), png(3)]).await;
    wait_for("the plain file deleted", Duration::from_secs(60), || {
        !plain.exists()
    })
    .await;
    let through_link = deleting.join("linked/inner.png");
    wait_for("every action dealt with", Duration::from_secs(60), || {
        action_done(&world, &link) && action_done(&world, &through_link)
    })
    .await;
    // …but only the plain file in the folder is deleted: never a link or what it leads to.
    assert!(target.exists(), "the link's target outside was deleted");
    assert!(
        inner.exists(),
        "a file outside, reached through a link, was deleted"
    );
    assert!(
        std::fs::symlink_metadata(&link).is_ok(),
        "the link was removed"
    );
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_after_upload_keeps_a_file_replaced_with_the_same_size_and_time() {
    let world = World::new().await;
    world.service.pause().await.unwrap();
    let deleting = world.folder("deleting");
    let mut watched = folder(&deleting);
    watched.after_upload = AfterUpload::Delete;
    let same = deleting.join("same.png");
    let swapped = deleting.join("swapped.png");
    std::fs::write(&same, png(1)).unwrap();
    std::fs::write(&swapped, png(2)).unwrap();
    let watcher = world.watch(vec![watched.clone()]);
    wait_for("both queued", Duration::from_secs(60), || {
        recorded(&world, &same) && recorded(&world, &swapped)
    })
    .await;
    watcher.stop().await;

    world.service.resume().await.unwrap();
    world.expect_contents(&[png(1), png(2)]).await;
    wait_for("both jobs done", Duration::from_secs(60), || {
        jobs_done(&world, 2)
    })
    .await;

    // Uploaded, then replaced before its action (nobody watching): other bytes, same
    // length, modification time put back.
    let meta = std::fs::metadata(&swapped).unwrap();
    let mut other = png(2);
    let last = other.len() - 5; // Inside the PNG's final CRC: still the same length.
    other[last] ^= 0xff;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&swapped)
        .unwrap();
    (&file).write_all(&other).unwrap();
    file.set_modified(meta.modified().unwrap()).unwrap();
    drop(file);
    let now = std::fs::metadata(&swapped).unwrap();
    assert_eq!(
        (now.len(), now.modified().unwrap()),
        (meta.len(), meta.modified().unwrap())
    );

    let watcher = world.watch(vec![watched]);
    wait_for("the actions dealt with", Duration::from_secs(60), || {
        action_done(&world, &same) && action_done(&world, &swapped)
    })
    .await;
    assert!(!same.exists(), "the unchanged file is deleted");
    assert_eq!(
        std::fs::read(&swapped).unwrap(),
        other,
        "a file whose content is not what was uploaded was deleted"
    );
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_after_upload_keeps_a_file_whose_upload_was_deleted_since() {
    let world = World::new().await;
    world.service.pause().await.unwrap();
    let deleting = world.folder("deleting");
    let mut watched = folder(&deleting);
    watched.after_upload = AfterUpload::Delete;
    let control = deleting.join("control.png");
    let withdrawn = deleting.join("withdrawn.png");
    std::fs::write(&control, png(1)).unwrap();
    std::fs::write(&withdrawn, png(2)).unwrap();
    let watcher = world.watch(vec![watched.clone()]);
    wait_for("both queued", Duration::from_secs(60), || {
        recorded(&world, &control) && recorded(&world, &withdrawn)
    })
    .await;
    watcher.stop().await;
    world.service.resume().await.unwrap();
    world.expect_contents(&[png(1), png(2)]).await;
    wait_for("both jobs done", Duration::from_secs(60), || {
        jobs_done(&world, 2)
    })
    .await;

    // Its image is deleted (from the history) before the action runs: the file is its only copy.
    let jobs = world.service.jobs(JobFilter::default()).await.unwrap();
    let job = jobs
        .iter()
        .find(|job| job.source_path == withdrawn)
        .unwrap();
    let db = upshot_core::store::Database::open_in(&world.dir.path().join("data")).unwrap();
    let conn = db.connect().unwrap();
    upshot_core::history::History::new(&conn)
        .mark_deleted(job.history_id.unwrap(), 1)
        .unwrap();

    // Both actions are looked at in one pass: once the control file is gone, it is decided.
    let watcher = world.watch(vec![watched]);
    wait_for("the control file deleted", Duration::from_secs(60), || {
        !control.exists()
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    assert!(withdrawn.exists(), "deleted though its upload is deleted");
    watcher.stop().await;
}

/// Whether a watch record of `path` exists (it was handed over).
fn recorded(world: &World, path: &Path) -> bool {
    let db = upshot_core::store::Database::open_in(&world.dir.path().join("data")).unwrap();
    let conn = db.connect().unwrap();
    conn.query_row(
        "SELECT count(*) FROM watch_files WHERE path = ?1",
        [upshot_core::store::os_path::SqlPath(path)],
        |row| row.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}

#[tokio::test(flavor = "multi_thread")]
async fn a_copy_uploaded_to_another_album_is_not_taken_for_this_folders_upload() {
    let world = World::new().await;
    let plain = world.folder("plain");
    let albums = world.folder("albums");
    let mut into_album = folder(&albums);
    into_album.album = Some("no-such-album".to_owned());
    into_album.after_upload = AfterUpload::Delete;
    let watcher = world.watch(vec![folder(&plain), into_album]);
    let mut events = watcher.subscribe();
    let original = plain.join("original.png");
    std::fs::write(&original, png(7)).unwrap();
    world.expect_exactly(std::slice::from_ref(&original)).await;
    wait_for("the job done", Duration::from_secs(60), || {
        jobs_done(&world, 1)
    })
    .await;

    // The same content, for another album: its own job, not "already uploaded".
    let copy = albums.join("copy.png");
    std::fs::copy(&original, &copy).unwrap();
    let event = next_event(&mut events, "the copy handed over", |e| {
        matches!(e, WatchEvent::Queued { path, .. } | WatchEvent::Duplicate { path, .. } if *path == copy)
    })
    .await;
    let WatchEvent::Queued { job, .. } = event else {
        panic!("taken for the upload to another album: {event:?}");
    };
    // That album does not exist: the upload fails, and the file stays.
    wait_for("the album's job to end", Duration::from_secs(60), || {
        let db = upshot_core::store::Database::open_in(&world.dir.path().join("data")).unwrap();
        let conn = db.connect().unwrap();
        conn.query_row("SELECT state FROM jobs WHERE id = ?1", [job.0], |row| {
            row.get::<_, String>(0)
        })
        .is_ok_and(|state| state == "failed")
    })
    .await;
    tokio::time::sleep(SETTLE * 3).await;
    assert!(copy.exists(), "deleted though never uploaded to its album");
    watcher.stop().await;
}

/// A watched file whose content was uploaded by a job pruned since (its retention passed) is a
/// duplicate of that upload, reported with its link and no job, and its after-upload action
/// is carried out; nothing is sent again.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_of_content_whose_job_was_pruned_is_a_duplicate_and_its_action_is_carried_out() {
    let world = World::new().await;
    let deleting = world.folder("deleting");
    let mut watched = folder(&deleting);
    watched.after_upload = AfterUpload::Delete;
    let watcher = world.watch(vec![watched.clone()]);
    let mut events = watcher.subscribe();
    let original = deleting.join("original.png");
    std::fs::write(&original, png(11)).unwrap();
    wait_for(
        "the original uploaded and deleted",
        Duration::from_secs(60),
        || !original.exists(),
    )
    .await;
    let uploaded = world.server.controls().state().uploads;
    assert_eq!(uploaded.len(), 1);

    // Its retention passes: the job goes, its history stays.
    let db = upshot_core::store::Database::open_in(&world.dir.path().join("data")).unwrap();
    let conn = db.connect().unwrap();
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 31 * 86_400_000;
    let queue = upshot_core::queue::JobQueue::new(&conn);
    // A newer job: pruning always keeps the newest row (job ids are never given out again).
    let newer = upshot_core::queue::NewJob::new(
        "/elsewhere/newer.png",
        upshot_core::types::Origin::Cli,
        "newer-job",
    );
    let newer = queue.enqueue(&newer, later).unwrap();
    queue.cancel(newer, later).unwrap();
    let pruned = queue.prune_finished(later).unwrap();
    assert_eq!(pruned.jobs, 1);

    let copy = deleting.join("copy.png");
    std::fs::write(&copy, png(11)).unwrap();
    let event = next_event(&mut events, "the copy handed over", |e| {
        matches!(e, WatchEvent::Queued { path, .. } | WatchEvent::Duplicate { path, .. } if *path == copy)
    })
    .await;
    let WatchEvent::Duplicate { job, link, .. } = event else {
        panic!("sent again: {event:?}");
    };
    assert_eq!(job, None, "its job was pruned: no job to show");
    assert!(
        link.as_deref()
            .is_some_and(|link| link.contains(&uploaded[0].id)),
        "{link:?}"
    );
    watcher.stop().await;

    // The upload stands in: the copy's action (delete) is carried out at the next start.
    let watcher = world.watch(vec![watched]);
    wait_for("the copy deleted", Duration::from_secs(60), || {
        !copy.exists()
    })
    .await;
    world.expect_contents(&[png(11)]).await;
    watcher.stop().await;
}

/// Deletes an upload on the fake server as the website would: by its deletehash, straight
/// over HTTP, so Upshot's history does not know.
async fn delete_on_imgur(world: &World, sha: &str) {
    let upload = world
        .server
        .controls()
        .state()
        .uploads
        .into_iter()
        .find(|upload| upload.sha256 == sha && !upload.deleted)
        .unwrap();
    let response = reqwest::Client::new()
        .delete(format!(
            "{}/3/image/{}",
            world.server.base_url().trim_end_matches('/'),
            upload.deletehash
        ))
        .header("Authorization", format!("Client-ID {CLIENT_ID}"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

/// The server's uploads of `bytes`: (how many, how many of them still there).
fn uploads_of(world: &World, bytes: &[u8]) -> (usize, usize) {
    let sha = sha256(bytes);
    let uploads: Vec<_> = world
        .server
        .controls()
        .state()
        .uploads
        .into_iter()
        .filter(|upload| upload.sha256 == sha)
        .collect();
    let live = uploads.iter().filter(|upload| !upload.deleted).count();
    (uploads.len(), live)
}

/// Everything the watcher told `events` until it stopped.
fn drain(events: &mut broadcast::Receiver<WatchEvent>) -> Vec<WatchEvent> {
    let mut seen = Vec::new();
    loop {
        match events.try_recv() {
            Ok(event) => seen.push(event),
            Err(broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => return seen,
        }
    }
}

/// A Keep folder and a Delete folder, and `bytes` uploaded from the Keep one (its job done).
async fn uploaded_from_a_kept_folder(world: &World, bytes: &[u8]) -> (WatchedFolder, PathBuf) {
    let kept = world.folder("kept");
    let deleting = world.folder("deleting");
    let mut delete_folder = folder(&deleting);
    delete_folder.after_upload = AfterUpload::Delete;
    let original = kept.join("original.png");
    std::fs::write(&original, bytes).unwrap();
    let watcher = world.watch(vec![folder(&kept), delete_folder.clone()]);
    world.expect_exactly(std::slice::from_ref(&original)).await;
    wait_for("the job done", Duration::from_secs(60), || {
        jobs_done(world, 1)
    })
    .await;
    watcher.stop().await;
    (delete_folder, kept)
}

/// The image a duplicate stands in for was deleted on imgur.com (not through Upshot, so the
/// history still shows it): the duplicate in a Delete folder is not deleted on its strength
/// (the user's only copy), it is uploaded again, and only then deleted.
#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_of_an_image_deleted_on_imgur_is_uploaded_again_before_it_is_deleted() {
    let world = World::new().await;
    let bytes = png(21);
    let (delete_folder, kept) = uploaded_from_a_kept_folder(&world, &bytes).await;
    delete_on_imgur(&world, &sha256(&bytes)).await;

    let watcher = world.watch(vec![folder(&kept), delete_folder.clone()]);
    let mut events = watcher.subscribe();
    let copy = delete_folder.path.join("copy.png");
    std::fs::write(&copy, &bytes).unwrap();
    let event = next_event(&mut events, "the copy handed over", |e| {
        matches!(e, WatchEvent::Queued { path, .. } | WatchEvent::Duplicate { path, .. } if *path == copy)
    })
    .await;
    assert!(
        matches!(event, WatchEvent::Duplicate { .. }),
        "the history still shows the upload: {event:?}"
    );
    // Its action is due at once, and again at every start: a restart must not delete it either.
    watcher.stop().await;
    let told = drain(&mut events);
    assert!(
        told.iter()
            .any(|e| matches!(e, WatchEvent::Reuploading { path, .. } if *path == copy)),
        "not found gone on Imgur: {told:?}"
    );
    // (It may be uploaded again and deleted already, if the stop came late.)
    assert!(
        copy.exists() || uploads_of(&world, &bytes) == (2, 1),
        "deleted though its upload is gone from Imgur"
    );

    let watcher = world.watch(vec![folder(&kept), delete_folder]);
    wait_for("the copy deleted", Duration::from_secs(60), || {
        !copy.exists()
    })
    .await;
    assert_eq!(
        uploads_of(&world, &bytes),
        (2, 1),
        "deleted without being uploaded again"
    );
    tokio::time::sleep(SETTLE * 3).await;
    assert_eq!(
        uploads_of(&world, &bytes),
        (2, 1),
        "uploaded more than once"
    );
    watcher.stop().await;
}

/// A duplicate whose image is still on Imgur stands in for the file: its action (delete) is
/// carried out, nothing is sent again.
#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_of_an_image_still_on_imgur_is_deleted_without_a_new_upload() {
    let world = World::new().await;
    let bytes = png(22);
    let (delete_folder, kept) = uploaded_from_a_kept_folder(&world, &bytes).await;

    let watcher = world.watch(vec![folder(&kept), delete_folder.clone()]);
    let mut events = watcher.subscribe();
    let copy = delete_folder.path.join("copy.png");
    std::fs::write(&copy, &bytes).unwrap();
    next_event(
        &mut events,
        "the copy deleted",
        |e| matches!(e, WatchEvent::Deleted { path } if *path == copy),
    )
    .await;
    assert!(!copy.exists());
    tokio::time::sleep(SETTLE * 3).await;
    assert_eq!(uploads_of(&world, &bytes), (1, 1), "sent again");
    watcher.stop().await;
}

/// While Imgur cannot say whether the image is there (errors), the duplicate is left alone
/// and asked about again; once Imgur answers that it is there, the action is carried out.
#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_is_left_alone_while_its_image_cannot_be_confirmed() {
    let world = World::new().await;
    let bytes = png(23);
    let (delete_folder, kept) = uploaded_from_a_kept_folder(&world, &bytes).await;
    let id = world.server.controls().state().uploads[0].id.clone();
    world.server.controls().inject(
        fake_imgur::Fault::ServerError { status: 503 },
        10_000,
        Some(format!("/3/image/{id}")),
    );

    let watcher = world.watch_with(
        vec![folder(&kept), delete_folder.clone()],
        WatchOptions {
            confirm_retry: Duration::from_millis(200),
            ..WatchOptions::default()
        },
    );
    let copy = delete_folder.path.join("copy.png");
    std::fs::write(&copy, &bytes).unwrap();
    let remaining = || {
        world
            .server
            .controls()
            .pending_faults()
            .iter()
            .map(|rule| rule.remaining)
            .sum::<u32>()
    };
    wait_for(
        "the image asked about twice",
        Duration::from_secs(60),
        || remaining() <= 10_000 - 2,
    )
    .await;
    assert!(copy.exists(), "deleted though its image was not confirmed");
    world.server.controls().clear_faults();
    wait_for("the copy deleted", Duration::from_secs(60), || {
        !copy.exists()
    })
    .await;
    assert_eq!(uploads_of(&world, &bytes), (1, 1), "sent again");
    watcher.stop().await;
}
