//! What a drop does: one report a batch with its links in drop order, refused files named,
//! files uploaded before not sent again, large folders asked about, a file that waits for the
//! budget getting its link later.

use crate::common;
use crate::harness::{CLIENT_ID, imgur_id, system_window, window};
use fake_imgur::Limits;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use upshot_core::clock::Clock;
use upshot_core::types::{Origin, UnixMillis};
use upshot_core::window::{DropOutcome, ItemState, WindowEvent};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_of_three_pngs_reports_once_with_their_links_in_drop_order() {
    let mut window = system_window(true).await;
    // The first file is large (4 MB), so it ends last with two workers: the order of the
    // links is the drop's, not the uploads'.
    let large = window.png("large.png", 2000, 2000, 1);
    let second = window.png("second.png", 40, 30, 2);
    let third = window.png("third.png", 50, 20, 3);
    let mut raw = window.service.subscribe();
    let dropped = Instant::now();
    let queued = window.drop_files(&[&large, &second, &third]).await;
    assert_eq!(queued.queued, 3);
    assert!(queued.rejected.is_empty(), "{:?}", queued.rejected);

    let report = window.batch_ended().await;
    let elapsed = dropped.elapsed();
    let mut links = Vec::new();
    for name in ["large.png", "second.png", "third.png"] {
        links.push(window.link_of(name).await);
    }
    assert_eq!(report.links, links.join("\n"));
    assert_eq!(report.batch, queued.batch);
    assert_eq!(report.uploaded, 3);
    assert_eq!(report.title, "3 uploaded, links copied");
    assert!(
        report.failed.is_empty() && report.waiting.is_empty(),
        "{report:?}"
    );

    // The server got each file once.
    let uploads = window.server_uploads();
    assert_eq!(uploads.len(), 3, "{uploads:?}");
    for link in &links {
        let id = imgur_id(link);
        assert_eq!(
            uploads.iter().filter(|(held, _)| held == id).count(),
            1,
            "{link} among {uploads:?}"
        );
    }

    window.settle(Duration::from_millis(300)).await;
    assert_eq!(window.count("batch-ended"), 1, "one report a batch");
    assert_eq!(window.count("history-added"), 3);
    let queue = window.session.queue_list().await.unwrap();
    assert_eq!(queue.len(), 3, "{queue:?}");
    for (item, link) in queue.iter().zip(&links) {
        assert_eq!(item.state, ItemState::Done, "{item:?}");
        assert_eq!(item.link.as_ref(), Some(link), "{item:?}");
        assert_eq!(item.batch.as_ref(), Some(&queued.batch));
        // The window was told so too: the last item it got for the file names the batch,
        // even when the file moved before the batch was recorded.
        let told = window
            .last_told(&item.job)
            .unwrap_or_else(|| panic!("no queue-changed for {}", item.name));
        assert_eq!(told.batch.as_ref(), Some(&queued.batch), "{told:?}");
    }

    // Progress of the large file: the runner reports every 64 KiB (~60 times); the window
    // gets at most one update every 100 ms, plus the first and the last.
    let large_job = window.queue_item("large.png").await.job;
    let shown = window
        .seen
        .iter()
        .filter_map(|event| match event {
            WindowEvent::UploadProgress(updates) => Some(updates),
            _ => None,
        })
        .flatten()
        .filter(|update| update.job == large_job)
        .count();
    let mut reported = 0;
    while let Ok(event) = raw.try_recv() {
        if let upshot_core::events::QueueEvent::Progress { job, .. } = event {
            reported += usize::from(job.to_string() == large_job);
        }
    }
    let allowed = usize::try_from(elapsed.as_millis() / 100).unwrap() + 3;
    assert!(shown >= 1, "no progress shown for the large file");
    assert!(
        shown <= allowed,
        "{shown} progress updates in {elapsed:?} (the runner reported {reported}): more than \
         one every 100 ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_file_is_named_in_the_answer_and_the_report() {
    let mut window = system_window(true).await;
    let good = window.png("good.png", 30, 30, 9);
    let notes = window.files().join("notes.txt");
    std::fs::write(&notes, "not a picture at all").unwrap();
    let queued = window.drop_files(&[&notes, &good]).await;
    assert_eq!(queued.queued, 1);
    assert_eq!(queued.rejected.len(), 1, "{:?}", queued.rejected);
    let rejected = &queued.rejected[0];
    assert!(rejected.path.ends_with("notes.txt"), "{rejected:?}");
    assert!(rejected.message.len() > 10, "says why: {rejected:?}");

    let report = window.batch_ended().await;
    assert_eq!(report.title, "1 uploaded, link copied · 1 failed");
    assert_eq!(report.links, window.link_of("good.png").await);
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].name, "notes.txt");
    assert!(
        report
            .body
            .contains(&format!("notes.txt: {}", reported(rejected))),
        "the body names the file and why: {:?}",
        report.body
    );
    assert_eq!(window.server_uploads().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_dropped_again_reports_at_once_with_its_link_and_is_not_sent_again() {
    let mut window = system_window(true).await;
    let photo = window.png("photo.png", 64, 48, 5);
    window.drop_files(&[&photo]).await;
    let first = window.batch_ended().await;
    assert_eq!(first.uploaded, 1);

    let again = window.drop_files(&[&photo]).await;
    assert!(again.rejected.is_empty(), "{:?}", again.rejected);
    // Reported as the drop is answered, in the next burst of events (nothing to send).
    let report = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match window.events.recv().await {
                Some(WindowEvent::BatchEnded(report)) => break report,
                Some(other) => window.seen.push(other),
                None => panic!("the window's events ended"),
            }
        }
    })
    .await
    .expect("the second batch was not reported at once");
    assert_eq!(report.batch, again.batch);
    assert_eq!(report.links, first.links);
    assert_eq!(report.title, "1 uploaded, link copied");
    assert_eq!(window.server_uploads().len(), 1, "sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_more_than_a_hundred_files_is_asked_about_first() {
    let window = system_window(false).await;
    let folder = window.files().join("album");
    std::fs::create_dir_all(folder.join("nested")).unwrap();
    for index in 0..101u32 {
        let sub = if index % 2 == 0 { "" } else { "nested" };
        let (width, height) = (8 + index % 16, 8 + index / 16);
        common::write_png(
            &folder.join(sub),
            &format!("{index:03}.png"),
            width,
            height,
            u8::try_from(index).unwrap(),
        );
    }
    std::fs::write(folder.join("readme.txt"), "skipped, not refused").unwrap();

    let asked = window
        .session
        .upload_paths(vec![folder.clone()], Origin::Drop, false)
        .await
        .unwrap();
    assert_eq!(asked, DropOutcome::Confirm { files: 101 });
    assert!(window.session.queue_list().await.unwrap().is_empty());

    let confirmed = window
        .session
        .upload_paths(vec![folder], Origin::Drop, true)
        .await
        .unwrap();
    let DropOutcome::Queued(queued) = confirmed else {
        panic!("expected the confirmed drop queued, got {confirmed:?}");
    };
    assert_eq!(queued.queued, 101);
    assert!(queued.rejected.is_empty(), "the text file is skipped");
    assert_eq!(window.session.queue_list().await.unwrap().len(), 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_waits_for_the_budget_gets_its_link_after_the_reset() {
    let clock = common::manual_clock_now();
    let limits = Limits {
        client_credits_per_day: 1000,
        ..common::generous_limits()
    };
    let mut window = window(clock.clone(), limits, false).await;
    // Another install spent the day down to 65 credits: above the reserve (50), one upload.
    assert_eq!(
        window
            .server
            .controls()
            .spend_client_credits(CLIENT_ID, 935),
        Some(true)
    );
    window.service.server_credits().await.unwrap();
    assert_eq!(window.session.quota().await.unwrap().uploads_left, Some(1));

    let first = window.png("first.png", 20, 20, 1);
    let second = window.png("second.png", 21, 20, 2);
    window.start_workers();
    window.drop_files(&[&first, &second]).await;
    let report = window.batch_ended().await;
    assert_eq!(report.uploaded, 1, "{report:?}");
    assert_eq!(report.title, "1 uploaded, link copied · 1 file waiting");
    assert_eq!(report.waiting.len(), 1, "{report:?}");
    let waiting = report.waiting[0].clone();
    let done = if waiting.name == "first.png" {
        "second.png"
    } else {
        "first.png"
    };
    assert_eq!(report.links, window.link_of(done).await);
    let until = waiting.until.expect("the waiting file says until when");
    assert!(until > clock.now().as_millis(), "{waiting:?}");
    assert!(
        report
            .body
            .contains("Each link is copied when it is uploaded"),
        "{}",
        report.body
    );
    assert_eq!(window.server_uploads().len(), 1);

    // The day ends for Imgur and for Upshot.
    let server_now = UnixMillis::from_system_time(window.server.controls().now()).as_millis();
    let past_reset = until + 60_000;
    window
        .server
        .controls()
        .advance_clock(Duration::from_millis(
            u64::try_from(past_reset - server_now).unwrap_or(0),
        ));
    clock.set(UnixMillis(past_reset));
    let late = match window
        .wait_for("the waiting file's late link", |event| {
            matches!(event, WindowEvent::LateLink(_))
        })
        .await
    {
        WindowEvent::LateLink(late) => late,
        _ => unreachable!(),
    };
    assert_eq!(late.batch, report.batch);
    assert_eq!(late.name, waiting.name);
    assert_eq!(late.link, window.link_of(&waiting.name).await);
    assert_eq!(window.server_uploads().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_png_is_refused_and_named() {
    let mut window = system_window(true).await;
    let good = window.png("fine.png", 30, 30, 19);
    // A PNG cut short inside its pixel data, as a copy interrupted halfway leaves it.
    let whole = fake_imgur::samples::png(300, 300, 7);
    let damaged = window.files().join("damaged.png");
    std::fs::write(&damaged, &whole[..whole.len() / 3]).unwrap();
    let queued = window.drop_files(&[&good, &damaged]).await;
    assert_eq!(queued.queued, 1);
    assert_eq!(queued.rejected.len(), 1, "{:?}", queued.rejected);
    let rejected = &queued.rejected[0];
    assert!(rejected.path.ends_with("damaged.png"), "{rejected:?}");
    assert!(
        rejected.message.contains("damaged"),
        "says why: {rejected:?}"
    );

    let report = window.batch_ended().await;
    assert_eq!(report.title, "1 uploaded, link copied · 1 failed");
    assert_eq!(report.links, window.link_of("fine.png").await);
    assert!(
        report
            .body
            .starts_with(&format!("damaged.png: {}", reported(rejected))),
        "{:?}",
        report.body
    );
    assert_eq!(window.server_uploads().len(), 1, "nothing damaged was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_come_in_the_format_the_settings_name() {
    let mut window = system_window(true).await;
    let settings = upshot_core::SettingsFile {
        link_format: Some(upshot_core::LinkFormat::Markdown),
        ..upshot_core::SettingsFile::default()
    };
    settings.save(&window.settings_file()).unwrap();
    let one = window.png("one.png", 30, 30, 41);
    let two = window.png("two.png", 31, 30, 42);
    window.drop_files(&[&one, &two]).await;
    let report = window.batch_ended().await;
    let mut expected = Vec::new();
    for name in ["one.png", "two.png"] {
        let entry = window.history("").await;
        let markdown = entry
            .iter()
            .find(|item| item.name == name)
            .and_then(|item| item.links.iter().find(|link| link.format == "markdown"))
            .unwrap_or_else(|| panic!("no markdown link for {name}: {entry:?}"));
        assert!(markdown.text.starts_with("!["), "{markdown:?}");
        expected.push(markdown.text.clone());
        let item = window.queue_item(name).await;
        assert_eq!(item.link.as_deref(), expected.last().map(String::as_str));
    }
    assert_eq!(report.links, expected.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_dropped_twice_before_it_is_sent_ends_both_batches() {
    let mut window = system_window(false).await;
    let photo = window.png("twice.png", 44, 33, 51);
    let first = window.drop_files(&[&photo]).await;
    let second = window.drop_files(&[&photo]).await;
    assert_ne!(first.batch, second.batch);
    window.start_workers();
    let mut reports = [window.batch_ended().await, window.batch_ended().await];
    reports.sort_by(|a, b| a.batch.cmp(&b.batch));
    let link = window.link_of("twice.png").await;
    for (report, batch) in reports.iter().zip([&first.batch, &second.batch]) {
        assert_eq!(&report.batch, batch);
        assert_eq!(report.links, link, "{report:?}");
        assert_eq!(report.title, "1 uploaded, link copied");
    }
    assert_eq!(window.server_uploads().len(), 1, "sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_given_twice_in_one_drop_is_sent_once_and_the_batch_ends() {
    let mut window = system_window(true).await;
    let photo = window.png("same.png", 45, 33, 52);
    let queued = window.drop_files(&[&photo, &photo]).await;
    assert!(queued.rejected.is_empty(), "{:?}", queued.rejected);
    let report = window.batch_ended().await;
    let link = window.link_of("same.png").await;
    assert_eq!(report.links, format!("{link}\n{link}"), "{report:?}");
    assert_eq!(window.server_uploads().len(), 1, "sent once");
    let queue = window.session.queue_list().await.unwrap();
    assert_eq!(queue.len(), 1, "one job for both: {queue:?}");
}

/// A refusal as the batch's report says it: after the file's name, without its path again.
fn reported(rejected: &upshot_core::window::RejectedPath) -> String {
    match rejected.message.strip_prefix(&rejected.path) {
        Some(rest) => format!("it{rest}"),
        None => rejected.message.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_queued_file_is_told_with_its_batch() {
    // No workers: the only changes the window hears are the files being queued, which the
    // feed may read before the drop has recorded their batch.
    let mut window = system_window(false).await;
    let files: Vec<PathBuf> = (0..6u8)
        .map(|n| window.png(&format!("q{n}.png"), 8 + u32::from(n), 8, 40 + n))
        .collect();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let queued = window.drop_files(&paths).await;
    window.settle(Duration::from_millis(300)).await;
    for item in window.session.queue_list().await.unwrap() {
        let told = window
            .last_told(&item.job)
            .unwrap_or_else(|| panic!("no queue-changed for {}", item.name));
        assert_eq!(told.batch.as_ref(), Some(&queued.batch), "{told:?}");
    }
}
