//! The spool: durable private copies of clipboard images and screenshots, and what survives a
//! crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use upshot_core::queue::{JobQueue, JobState, NewJob};

use upshot_core::spool::Spool;
use upshot_core::store::{Database, StoreError};
use upshot_core::types::Origin;

const T0: i64 = 1_700_000_000_000;

#[test]
fn stored_bytes_land_in_a_new_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let spool = Spool::new(&data_dir);
    assert_eq!(spool.dir(), data_dir.join("spool"));
    let png = fake_imgur::samples::png(4, 3, 7);
    let first = spool.store(&png, "png").unwrap();
    let second = spool.store(&png, "png").unwrap();
    assert_ne!(first, second);
    assert_eq!(first.parent().unwrap(), spool.dir());
    assert_eq!(first.extension().unwrap(), "png");
    assert_eq!(std::fs::read(&first).unwrap(), png);
    assert_eq!(spool.files().unwrap().len(), 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&first), 0o600);
        assert_eq!(mode(spool.dir()), 0o700);
        assert_eq!(mode(&data_dir), 0o700);
    }
}

#[test]
fn odd_extensions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::new(dir.path());
    for bad in ["", "../png", "p/ng", "png.exe.", "waytoolongext", ".png"] {
        let error = spool.store(b"x", bad).unwrap_err();
        assert!(
            matches!(error, StoreError::BadExtension { .. }),
            "{bad:?}: {error:?}"
        );
    }
    assert!(spool.files().unwrap().is_empty());
}

#[test]
fn remove_deletes_spooled_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::new(&dir.path().join("data"));
    let spooled = spool.store(b"bytes", "png").unwrap();
    let users_file = dir.path().join("photo.png");
    std::fs::write(&users_file, b"precious").unwrap();

    let error = spool.remove(&users_file).unwrap_err();
    assert!(matches!(error, StoreError::NotInSpool { .. }), "{error:?}");
    assert_eq!(error.code(), "not_in_spool");
    // A path that walks out of the spool is refused too.
    let sneaky = spool.dir().join("..").join("..").join("photo.png");
    assert!(spool.remove(&sneaky).is_err());
    assert!(spool.remove(spool.dir()).is_err());
    assert!(users_file.exists());

    assert!(spool.remove(&spooled).unwrap());
    assert!(!spooled.exists());
    assert!(!spool.remove(&spooled).unwrap(), "already gone is fine");
}

#[test]
fn partial_files_from_a_crash_are_not_listed_and_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::new(dir.path());
    let kept = spool.store(b"complete", "png").unwrap();
    std::fs::write(spool.dir().join(".partial-deadbeef.png"), b"half").unwrap();
    assert_eq!(spool.files().unwrap(), std::slice::from_ref(&kept));
    assert_eq!(spool.sweep_partial().unwrap(), 1);
    assert_eq!(spool.sweep_partial().unwrap(), 0);
    assert!(kept.exists());
}

#[test]
fn a_queued_spooled_job_survives_a_crash_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let png = fake_imgur::samples::png(16, 16, 3);
    let (path, id) = {
        // The "process" that pasted an image: spool first, then queue, then die mid-upload.
        let spool = Spool::new(&data_dir);
        let db = Database::open_in(&data_dir).unwrap();
        let conn = db.connect().unwrap();
        let queue = JobQueue::new(&conn);
        let path = spool.store(&png, "png").unwrap();
        let mut new = NewJob::new(&path, Origin::Clipboard, "client");
        new.spooled = true;
        new.bytes_total = png.len() as u64;
        let id = queue.enqueue(&new, T0).unwrap();
        queue
            .claim("dying-worker", T0, 1_000, &[])
            .unwrap()
            .unwrap();
        (path, id)
        // Dropped without completing, failing or cleaning up anything.
    };

    // The next start: the job is taken over once the lease has run out, and its file is intact.
    let spool = Spool::new(&data_dir);
    let db = Database::open_in(&data_dir).unwrap();
    let conn = db.connect().unwrap();
    let queue = JobQueue::new(&conn);
    let job = queue
        .claim("new-worker", T0 + 60_000, 60_000, &[])
        .unwrap()
        .unwrap();
    assert_eq!(job.id, id);
    assert!(job.spooled);
    assert_eq!(job.attempts, 2);
    assert_eq!(job.source_path, path);
    assert_eq!(std::fs::read(&job.source_path).unwrap(), png);
    assert_eq!(spool.files().unwrap(), std::slice::from_ref(&path));

    // After the confirmed upload the runner removes the file.
    let entry = upshot_core::history::NewHistoryEntry {
        job_id: None,
        imgur_id: "aaaaaaa".into(),
        link: "https://i.imgur.com/aaaaaaa.png".into(),
        deletehash: None,
        mime_type: "image/png".into(),
        size: png.len() as u64,
        width: Some(16),
        height: Some(16),
        album: None,
        account: None,
        title: None,
        source_path: Some(path.clone()),
        origin: Origin::Clipboard,
        api_base: "https://api.imgur.com".into(),
        uploaded_at: T0 + 61_000,
        preflight: None,
    };
    queue
        .complete(job.id, "new-worker", T0 + 61_000, &entry)
        .unwrap();
    assert!(spool.remove(&job.source_path).unwrap());
    assert_eq!(queue.get(id).unwrap().unwrap().state, JobState::Done);
    assert!(spool.files().unwrap().is_empty());
}
