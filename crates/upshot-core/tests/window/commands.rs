//! The window's commands and the events they cause: cancel, retry and remove in the queue; the
//! history searched, deleted and exported; the budget; thumbnails.

use crate::harness::{imgur_id, system_window, window};
use fake_imgur::Limits;
use std::sync::Arc;
use upshot_core::clock::SystemClock;
use upshot_core::error::ErrorCode;
use upshot_core::runner::StopWhen;
use upshot_core::types::Origin;
use upshot_core::window::{DropOutcome, ItemState, WindowEvent};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_jobs_are_cancelled_before_removal_and_retried_on_demand() {
    let mut window = system_window(false).await;
    let photo = window.png("photo.png", 33, 22, 4);
    window.drop_files(&[&photo]).await;
    let item = window.queue_item("photo.png").await;
    assert_eq!(
        item.state,
        ItemState::Queued,
        "waits only its turn: {item:?}"
    );
    let job = item.job;
    window.service.pause().await.unwrap();
    let paused = window.queue_item("photo.png").await;
    assert_eq!(paused.state, ItemState::Waiting, "{paused:?}");
    assert_eq!(paused.wait.unwrap().reason, "paused");
    window.service.resume().await.unwrap();

    let refused = window.session.remove(&job).await.unwrap_err();
    assert!(
        refused.to_string().contains("photo.png")
            && refused.to_string().contains("cancel it first"),
        "{refused}"
    );
    assert_eq!(window.session.queue_list().await.unwrap().len(), 1);

    window.session.cancel(&job).await.unwrap();
    let cancelled = window
        .wait_for("the cancelled item", |event| {
            matches!(event, WindowEvent::QueueChanged(items)
                if items.iter().any(|item| item.job == job && item.state == ItemState::Cancelled))
        })
        .await;
    assert!(matches!(cancelled, WindowEvent::QueueChanged(_)));
    let report = window.batch_ended().await;
    assert_eq!(report.title, "1 cancelled");

    // A cancelled job is queued again and uploaded.
    window.session.retry(&job).await.unwrap();
    assert_eq!(
        window.queue_item("photo.png").await.state,
        ItemState::Queued
    );
    let id = upshot_core::types::JobId(job.parse().unwrap());
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    window
        .service
        .run_workers(StopWhen::Finished(vec![id]), shutdown)
        .await
        .unwrap();
    let item = window.queue_item("photo.png").await;
    assert_eq!(item.state, ItemState::Done);
    assert_eq!(item.link, Some(window.link_of("photo.png").await));

    // An ended job leaves the list, and the window is told.
    window.session.remove(&job).await.unwrap();
    window
        .wait_for(
            "the queue-removed event",
            |event| matches!(event, WindowEvent::QueueRemoved(removed) if removed.job == job),
        )
        .await;
    assert!(window.session.queue_list().await.unwrap().is_empty());
    assert_eq!(window.history("").await.len(), 1, "its history stays");

    for bad in ["424242", "not-a-job"] {
        let error = window.session.remove(bad).await.unwrap_err();
        assert_eq!(error.code(), "not_found");
        assert!(error.to_string().contains(bad), "{error}");
        let error = window.session.cancel(bad).await.unwrap_err();
        assert_eq!(error.code(), "not_found", "{error}");
        let error = window.session.retry(bad).await.unwrap_err();
        assert_eq!(error.code(), "not_found", "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_searched_deleted_and_exported() {
    let mut window = system_window(true).await;
    let beach = window.png("sunset-beach.png", 40, 40, 11);
    let city = window.png("city.png", 41, 40, 12);
    window.drop_files(&[&beach, &city]).await;
    assert_eq!(window.batch_ended().await.uploaded, 2);

    assert_eq!(window.history("").await.len(), 2);
    let found = window.history("sunset").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, "sunset-beach.png");
    let city_link = window.link_of("city.png").await;
    let by_link = window.history(imgur_id(&city_link)).await;
    assert_eq!(by_link.len(), 1, "{by_link:?}");
    assert_eq!(by_link[0].name, "city.png");
    assert!(
        by_link[0]
            .links
            .iter()
            .any(|link| link.format == "markdown" && link.text.contains(&city_link)),
        "{:?}",
        by_link[0].links
    );

    let deleted = window
        .session
        .history_delete(vec![by_link[0].id.clone()])
        .await
        .unwrap();
    assert_eq!(deleted, vec![by_link[0].id.clone()]);
    let reloaded = window.history("").await;
    for item in &reloaded {
        assert_eq!(item.deleted, item.name == "city.png", "{item:?}");
    }
    let uploads = window.server_uploads();
    assert!(
        uploads
            .iter()
            .any(|(id, gone)| id == imgur_id(&city_link) && *gone),
        "the server no longer has it: {uploads:?}"
    );
    assert_eq!(uploads.iter().filter(|(_, gone)| !gone).count(), 1);

    let beach_link = window.link_of("sunset-beach.png").await;
    for name in ["history.csv", "history.json"] {
        let path = window.dir.path().join(name);
        let written = window.session.history_export(path.clone()).await.unwrap();
        assert_eq!(written, 2, "{name}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(&beach_link) && text.contains(&city_link),
            "{name}: {text}"
        );
        if name.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|error| panic!("{name} is not JSON ({error}): {text}"));
        } else {
            assert!(text.lines().count() >= 3, "a header and two rows: {text}");
        }
    }
    let nowhere = window.dir.path().join("missing-folder").join("h.csv");
    let error = window.session.history_export(nowhere).await.unwrap_err();
    assert!(
        error.to_string().contains("Choose another place"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_shown_follows_the_governor_after_uploads() {
    // Imgur's own limits, which the governor assumes until it has seen a header.
    let mut window = window(Arc::new(SystemClock), Limits::default(), true).await;
    window.service.server_credits().await.unwrap();
    let before = window.session.quota().await.unwrap();
    let one = window.png("one.png", 30, 31, 21);
    let two = window.png("two.png", 31, 30, 22);
    window.drop_files(&[&one, &two]).await;
    assert_eq!(window.batch_ended().await.uploaded, 2);

    let after = window.session.quota().await.unwrap();
    let status = window.service.quota().await.unwrap();
    assert_eq!(after.uploads_left, Some(status.uploads_left_today));
    assert_eq!(after.credits_left, Some(status.credits_left_today));
    assert_eq!(after.reserve, status.reserve);
    assert_eq!(
        after.uploads_left.unwrap(),
        before.uploads_left.unwrap() - 2,
        "{before:?} then {after:?}"
    );
    assert!(
        after.credits_left.unwrap() <= before.credits_left.unwrap() - 20,
        "{before:?} then {after:?}"
    );
    assert_eq!(after.credits_limit, Some(12_500));
    // The meter is told (at most every 500 ms, so the last change comes after the uploads).
    window
        .wait_for("a quota-changed event with the budget after the uploads", |event| {
            matches!(event, WindowEvent::QuotaChanged(quota) if quota.uploads_left == after.uploads_left)
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_png_gets_a_thumbnail_made_by_the_core() {
    use base64::Engine;
    let mut window = system_window(false).await;
    let wide = window.png("wide.png", 400, 200, 31);
    window.drop_files(&[&wide]).await;
    let job = window.queue_item("wide.png").await.job;
    let event = window
        .wait_for("the item with its thumbnail", |event| {
            matches!(event, WindowEvent::QueueChanged(items)
                if items.iter().any(|item| item.job == job && item.thumbnail.is_some()))
        })
        .await;
    let WindowEvent::QueueChanged(items) = event else {
        unreachable!()
    };
    let item = items.into_iter().find(|item| item.job == job).unwrap();
    let url = item.thumbnail.unwrap();
    // An opaque picture's thumbnail is a JPEG (a few KB on the wire).
    let encoded = url
        .strip_prefix("data:image/jpeg;base64,")
        .unwrap_or_else(|| panic!("not a JPEG data URL: {url:.60}"));
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let thumbnail = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((thumbnail.width(), thumbnail.height()), (96, 48));
    // The list keeps it.
    assert_eq!(
        window.queue_item("wide.png").await.thumbnail.as_deref(),
        Some(url.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_image_is_a_batch_of_one() {
    let mut window = system_window(true).await;
    let pasted = window
        .session
        .upload_bytes(fake_imgur::samples::png(50, 40, 61), Origin::Clipboard)
        .await
        .unwrap();
    let DropOutcome::Queued(queued) = pasted else {
        panic!("expected the paste queued, got {pasted:?}");
    };
    assert_eq!(queued.queued, 1);
    let report = window.batch_ended().await;
    assert_eq!(report.batch, queued.batch);
    assert_eq!(report.title, "1 uploaded, link copied");
    let history = window.history("").await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(report.links, history[0].link);

    // Bytes that are no image: refused with why, and the batch ends with nothing to copy.
    let garbage = window
        .session
        .upload_bytes(b"not an image".to_vec(), Origin::Clipboard)
        .await
        .unwrap();
    let DropOutcome::Queued(refused) = garbage else {
        panic!("expected the paste answered as a batch, got {garbage:?}");
    };
    assert_eq!(refused.queued, 0);
    assert_eq!(refused.rejected.len(), 1, "{refused:?}");
    assert!(
        refused.rejected[0].message.contains("not an image"),
        "{refused:?}"
    );
    let report = window.batch_ended().await;
    assert_eq!(report.batch, refused.batch);
    assert_eq!((report.uploaded, report.links.as_str()), (0, ""));
    assert_eq!(report.title, "1 failed");
}
