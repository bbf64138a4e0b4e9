//! Config files on a real disk: a corrupt `settings.json` or `watch.json` is set aside (renamed
//! with the time) and the start goes on from the defaults with a notice the faces show; every
//! write is atomic, owner-only and locked, so a failed write leaves the old file whole and
//! concurrent writers lose nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use upshot_core::config_file::{self, ConfigNotice};
use upshot_core::runner::RunnerConfig;
use upshot_core::service::Endpoint;
use upshot_core::watch::{FolderSource, WATCH_FILE, WatchList, WatchOptions, Watcher};
use upshot_core::{AppPaths, ResolvedSettings, SettingsFile, SettingsOverrides, UploadService};

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `<name>.corrupt-YYYYMMDDTHHMMSSZ`, holding exactly `content`.
fn assert_set_aside(notice: &ConfigNotice, file: &Path, content: &[u8]) {
    assert_eq!(notice.code, "config_set_aside");
    assert_eq!(notice.file, file);
    assert!(!file.exists(), "the corrupt file is no longer in the way");
    let name = notice
        .set_aside_as
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let prefix = format!("{}.corrupt-", file.file_name().unwrap().to_string_lossy());
    let stamp = name.strip_prefix(&prefix).expect("named after the file");
    assert_eq!(stamp.len(), 16, "{stamp}");
    assert!(
        stamp.chars().enumerate().all(|(i, c)| match i {
            8 => c == 'T',
            15 => c == 'Z',
            _ => c.is_ascii_digit(),
        }),
        "{stamp}"
    );
    assert_eq!(notice.set_aside_as.parent(), file.parent());
    assert_eq!(std::fs::read(&notice.set_aside_as).unwrap(), content);
    assert!(
        notice
            .message
            .contains(&notice.set_aside_as.display().to_string()),
        "{}",
        notice.message
    );
    let json = serde_json::to_value(notice).unwrap();
    assert_eq!(json["code"], "config_set_aside");
    assert!(json["message"].is_string());
}

fn overrides(dir: &Path) -> SettingsOverrides {
    SettingsOverrides {
        api_base: Some("https://api.imgur.com".to_owned()),
        client_id: Some("config-test".to_owned()),
        data_dir: Some(dir.join("data")),
        link_format: None,
        answer_deadline: None,
        send_stall_timeout: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_settings_file_is_set_aside_with_a_notice_and_the_defaults_used() {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    let file = config_dir.join("settings.json");
    // What a crash half-way through the old, non-atomic write left.
    let corrupt = br#"{"link_format": "bbcode", "strip_metad"#;
    std::fs::write(&file, corrupt).unwrap();

    let settings = ResolvedSettings::resolve(config_dir.clone(), overrides(dir.path())).unwrap();
    assert_eq!(settings.notices.len(), 1);
    assert_set_aside(&settings.notices[0], &file, corrupt);
    assert!(settings.notices[0].message.contains("ends too early"));
    assert_eq!(settings.link_format, upshot_core::LinkFormat::default());
    assert!(settings.preflight.strip_metadata, "the default");

    // The service the faces open carries the notice for the app to show.
    let (endpoint, service) = Endpoint::connect(&settings, false, None, 1).await.unwrap();
    assert_eq!(service.startup_notices(), settings.notices);
    assert_eq!(service.clone().startup_notices().len(), 1, "every clone");

    // The next start finds nothing to say, and a wrong type counts as corrupt too.
    let again = ResolvedSettings::resolve(config_dir.clone(), overrides(dir.path())).unwrap();
    assert!(again.notices.is_empty());
    std::fs::write(&file, br#"{"strip_metadata": "maybe"}"#).unwrap();
    let (loaded, notice) = SettingsFile::load_or_set_aside(&file).unwrap();
    assert_eq!(loaded, SettingsFile::default());
    let notice = notice.unwrap();
    assert!(notice.message.contains("wrong type"), "{}", notice.message);
    assert_ne!(
        notice.set_aside_as, settings.notices[0].set_aside_as,
        "a second corrupt file in the same second gets its own name"
    );
    assert!(settings.notices[0].set_aside_as.exists());
    drop(service);
    endpoint.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_watch_file_is_set_aside_with_a_notice_and_no_folder_watched() {
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths {
        config_dir: dir.path().join("config"),
        data_dir: dir.path().join("data"),
    };
    std::fs::create_dir_all(&paths.config_dir).unwrap();
    let file = paths.config_dir.join(WATCH_FILE);
    let corrupt = b"{\"folders\": [{\"id\": \"1\", \"path\": \xff}]}";
    std::fs::write(&file, corrupt).unwrap();
    let service = UploadService::open(
        &paths,
        url::Url::parse("http://127.0.0.1:9").unwrap(),
        "config-test",
        RunnerConfig::default(),
    )
    .unwrap();

    let watcher = Watcher::start(
        &service,
        FolderSource::Saved(file.clone()),
        WatchOptions::default(),
    )
    .expect("a corrupt list does not stop the start");
    let notices = service.startup_notices();
    assert_eq!(notices.len(), 1);
    assert_set_aside(&notices[0], &file, corrupt);
    assert!(notices[0].message.contains("watch add"));
    assert!(watcher.status().is_empty(), "no folder is watched");

    // The list works again from empty, written owner-only.
    let folder = dir.path().join("shots");
    WatchList::update(&file, |list| {
        list.add(upshot_core::watch::WatchedFolder::new("", &folder))
            .map(|_| ())
    })
    .unwrap();
    assert_eq!(WatchList::load(&file).unwrap().folders.len(), 1);
    assert_owner_only(&file);
    watcher.stop().await;
}

fn assert_owner_only(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{} is {mode:o}", file.display());
    }
}

#[test]
fn atomic_writes_leave_an_owner_only_file_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    std::fs::write(&file, b"{}").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    config_file::write_atomic(&file, b"{\"client_id\": \"new\"}\n").unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), b"{\"client_id\": \"new\"}\n");
    assert_owner_only(&file);
    assert_owner_only(&config_file::lock_path(&file));
    assert_eq!(
        names_in(dir.path()),
        ["settings.json", "settings.json.lock"]
    );

    // A folder that does not exist yet is created, private.
    let nested = dir.path().join("new").join("config").join("watch.json");
    config_file::write_atomic(&nested, b"{}").unwrap();
    assert_owner_only(&nested);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(nested.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
}

#[test]
fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();

    // The rename cannot happen (a folder is in the way): the error names the file, nothing is
    // left behind, the folder is untouched.
    let blocked = dir.path().join("settings.json");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("inside"), b"keep").unwrap();
    let error = config_file::write_atomic(&blocked, b"{}").unwrap_err();
    assert!(error.to_string().contains("settings.json"), "{error}");
    assert_eq!(std::fs::read(blocked.join("inside")).unwrap(), b"keep");
    assert_eq!(
        names_in(dir.path()),
        ["settings.json", "settings.json.lock"]
    );

    // A writer killed half-way leaves its temporary file, never a half file: the old one is
    // whole, and the next write (under the same lock) clears the leftover.
    let file = dir.path().join("watch.json");
    std::fs::write(&file, b"{\"settle_ms\": 1000}").unwrap();
    let leftover = dir.path().join(".watch.json.k1lled.tmp");
    std::fs::write(&leftover, b"{\"settle_ms\": 2").unwrap();
    assert_eq!(WatchList::load(&file).unwrap().settle_ms, 1000);
    WatchList::update(&file, |list| {
        list.settle_ms = 3000;
        Ok(())
    })
    .unwrap();
    assert!(!leftover.exists());
    assert_eq!(WatchList::load(&file).unwrap().settle_ms, 3000);

    // The file's folder cannot be made (a file is in the way): an error, nothing written.
    let not_a_dir = dir.path().join("plain");
    std::fs::write(&not_a_dir, b"plain").unwrap();
    assert!(config_file::write_atomic(&not_a_dir.join("settings.json"), b"{}").is_err());
    assert_eq!(std::fs::read(&not_a_dir).unwrap(), b"plain");
}

#[test]
fn concurrent_updates_under_the_lock_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file: PathBuf = dir.path().join("settings.json");
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let file = file.clone();
            std::thread::spawn(move || {
                for i in 0..15 {
                    SettingsFile::update(&file, |settings| {
                        settings
                            .other
                            .insert(format!("w{writer}-{i}"), serde_json::Value::Bool(true));
                        Ok(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let settings = SettingsFile::load(&file).unwrap();
    assert_eq!(settings.other.len(), 60, "every writer's change is kept");
    assert_owner_only(&file);
}
