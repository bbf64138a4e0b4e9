//! The job queue over a real SQLite file: order, leases, the life of a job, waiting reasons.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;
use upshot_core::clock::ManualClock;
use upshot_core::governor::{GovernorConfig, QuotaGovernor};
use upshot_core::history::{History, NewHistoryEntry};
use upshot_core::queue::{
    JobFailure, JobFilter, JobQueue, JobState, LeaseCheck, ListOrder, NewJob, Waiting,
};
use upshot_core::store::StoreError;
use upshot_core::types::UnixMillis;
use upshot_core::types::{JobId, Origin, WaitReason};
use upshot_imgur::ErrorKind;

const T0: i64 = 1_700_000_000_000;
const LEASE: i64 = 60_000;
const CLIENT: &str = "client-a";

use common::temp_database as setup;

/// A failure as the runner records it: a kind, a code from docs/ERROR_CODES.md, words.
fn failure(kind: ErrorKind, message: &str) -> JobFailure<'_> {
    let code = match kind {
        ErrorKind::Permanent => "imgur_refused",
        ErrorKind::Reauth => "imgur_login_expired",
        ErrorKind::RateLimited => "imgur_rate_limited",
        ErrorKind::RetryLater => "imgur_unavailable",
    };
    JobFailure {
        kind,
        code,
        message,
    }
}

fn job(name: &str, origin: Origin) -> NewJob {
    NewJob::new(format!("/pictures/{name}.png"), origin, CLIENT)
}

fn entry(imgur_id: &str) -> NewHistoryEntry {
    NewHistoryEntry {
        size: 1234,
        width: Some(10),
        height: Some(20),
        origin: Origin::File,
        ..common::history_entry(imgur_id, T0)
    }
}

fn claim_all(queue: &JobQueue<'_>, now: i64) -> Vec<JobId> {
    std::iter::from_fn(|| queue.claim("w", now, LEASE, &[]).unwrap().map(|job| job.id)).collect()
}

#[test]
fn interactive_jobs_run_before_the_backlog_and_each_in_order() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let w1 = queue.enqueue(&job("w1", Origin::Watch), T0).unwrap();
    let w2 = queue.enqueue(&job("w2", Origin::Watch), T0).unwrap();
    let f1 = queue.enqueue(&job("f1", Origin::File), T0).unwrap();
    let c1 = queue.enqueue(&job("c1", Origin::Clipboard), T0).unwrap();
    let w3 = queue.enqueue(&job("w3", Origin::Watch), T0).unwrap();
    let x1 = queue.enqueue(&job("x1", Origin::Cli), T0).unwrap();
    let d1 = queue.enqueue(&job("d1", Origin::Drop), T0).unwrap();
    let s1 = queue.enqueue(&job("s1", Origin::Screenshot), T0).unwrap();
    assert_eq!(claim_all(&queue, T0), [f1, c1, x1, d1, s1, w1, w2, w3]);
}

#[test]
fn a_new_job_is_queued_with_its_origins_priority_and_a_marker() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let mut new = job("a", Origin::Watch);
    new.title = Some("Title".into());
    new.album = Some("album1".into());
    new.description = Some("words".into());
    new.account = Some("alice".into());
    new.bytes_total = 4096;
    let id = queue.enqueue(&new, T0).unwrap();
    let stored = queue.get(id).unwrap().unwrap();
    assert_eq!(stored.state, JobState::Queued);
    assert_eq!(stored.priority, 1);
    assert_eq!(stored.origin, Origin::Watch);
    assert_eq!(stored.source_path, new.source_path);
    assert_eq!(stored.title.as_deref(), Some("Title"));
    assert_eq!(stored.album.as_deref(), Some("album1"));
    assert_eq!(stored.description.as_deref(), Some("words"));
    assert_eq!(stored.account.as_deref(), Some("alice"));
    assert_eq!(stored.bytes_total, 4096);
    assert_eq!(stored.attempts, 0);
    assert_eq!(stored.marker.len(), 32);
    assert!(stored.marker.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(stored.upload_name(), format!("upshot-{}", stored.marker));
    assert_eq!((stored.created_at, stored.updated_at), (T0, T0));
    assert_eq!(
        stored.waiting,
        Some(Waiting {
            reason: WaitReason::InLine,
            until: None
        })
    );
    let other = queue.enqueue(&new, T0).unwrap();
    assert_ne!(queue.get(other).unwrap().unwrap().marker, stored.marker);
    assert!(queue.get(JobId(999)).unwrap().is_none());

    let json = serde_json::to_value(&stored).unwrap();
    assert_eq!(json["state"], "queued");
    assert_eq!(json["origin"], "watch");
    assert_eq!(json["id"], id.0);
    assert_eq!(json["waiting"]["reason"], "in_line");
}

#[test]
fn a_claimed_job_is_hidden_until_its_lease_runs_out_then_taken_over() {
    let (_dir, db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let id = queue.enqueue(&job("a", Origin::File), T0).unwrap();

    let first = queue.claim("worker-1", T0, LEASE, &[]).unwrap().unwrap();
    assert_eq!(first.id, id);
    assert_eq!(first.state, JobState::Uploading);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.lease_owner.as_deref(), Some("worker-1"));
    assert_eq!(first.lease_expires, Some(T0 + LEASE));
    assert_eq!(first.waiting, None);

    // A second claimer, on its own connection, sees nothing while the lease holds.
    let other_conn = db.connect().unwrap();
    let other = JobQueue::new(&other_conn);
    assert!(
        other
            .claim("worker-2", T0 + 1, LEASE, &[])
            .unwrap()
            .is_none()
    );
    assert!(
        other
            .claim("worker-2", T0 + LEASE, LEASE, &[])
            .unwrap()
            .is_none()
    );

    // Renewing pushes the lease out.
    assert_eq!(
        queue
            .renew_lease(id, "worker-1", T0 + 30_000, LEASE)
            .unwrap(),
        LeaseCheck::Held
    );
    assert!(
        other
            .claim("worker-2", T0 + LEASE + 1, LEASE, &[])
            .unwrap()
            .is_none()
    );

    // Then worker-1 goes silent; once the lease is over, worker-2 takes the job over.
    let later = T0 + 30_000 + LEASE + 1;
    let second = other.claim("worker-2", later, LEASE, &[]).unwrap().unwrap();
    assert_eq!(second.id, id);
    assert_eq!(second.attempts, 2);
    assert_eq!(second.lease_owner.as_deref(), Some("worker-2"));
    assert_eq!(
        second.marker, first.marker,
        "the marker stays for crash recovery"
    );

    // worker-1 wakes up: it has lost the job and must not touch it.
    assert_eq!(
        queue.renew_lease(id, "worker-1", later, LEASE).unwrap(),
        LeaseCheck::Lost
    );
    assert_eq!(
        queue
            .record_progress(id, "worker-1", later, 10, 100)
            .unwrap(),
        LeaseCheck::Lost
    );
    assert_eq!(
        queue
            .fail(id, "worker-1", later, failure(ErrorKind::Permanent, "late"))
            .unwrap(),
        LeaseCheck::Lost
    );
    assert_eq!(queue.get(id).unwrap().unwrap().state, JobState::Uploading);
}

#[test]
fn progress_is_recorded_and_completion_writes_the_history_in_one_go() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let id = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    queue.claim("w", T0, LEASE, &[]).unwrap().unwrap();
    assert_eq!(
        queue.record_progress(id, "w", T0 + 5, 400, 1000).unwrap(),
        LeaseCheck::Held
    );
    let job = queue.get(id).unwrap().unwrap();
    assert_eq!(
        (job.bytes_sent, job.bytes_total, job.updated_at),
        (400, 1000, T0 + 5)
    );

    let history_id = queue.complete(id, "w", T0 + 10, &entry("abc1234")).unwrap();
    let job = queue.get(id).unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.history_id, Some(history_id));
    assert_eq!(job.lease_owner, None);
    assert_eq!(job.bytes_sent, 1000);
    let recorded = History::new(&conn).get(history_id).unwrap().unwrap();
    assert_eq!(recorded.job_id, Some(id));
    assert_eq!(recorded.imgur_id, "abc1234");
    assert!(queue.claim("w", T0 + 20, LEASE, &[]).unwrap().is_none());
}

#[test]
fn a_failure_is_kept_listed_with_its_reason() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let id = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    queue.claim("w", T0, LEASE, &[]).unwrap().unwrap();
    assert_eq!(
        queue
            .fail(
                id,
                "w",
                T0 + 1,
                failure(ErrorKind::Permanent, "File type invalid")
            )
            .unwrap(),
        LeaseCheck::Held
    );
    let failed = queue.list(&JobFilter::states(&[JobState::Failed])).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error_kind, Some(ErrorKind::Permanent));
    assert_eq!(failed[0].error_code.as_deref(), Some("imgur_refused"));
    assert_eq!(
        failed[0].error_message.as_deref(),
        Some("File type invalid")
    );
    assert_eq!(failed[0].lease_owner, None);
    assert_eq!(failed[0].waiting, None);
    assert!(queue.claim("w", T0 + 2, LEASE, &[]).unwrap().is_none());
}

#[test]
fn a_deferred_job_becomes_claimable_at_its_time() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let id = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    queue.claim("w", T0, LEASE, &[]).unwrap().unwrap();
    let until = T0 + 4_000;
    assert_eq!(
        queue
            .defer(
                id,
                "w",
                T0 + 1,
                Some(until),
                WaitReason::Backoff,
                Some(failure(ErrorKind::RetryLater, "Imgur is over capacity"))
            )
            .unwrap(),
        LeaseCheck::Held
    );
    let deferred = queue.get(id).unwrap().unwrap();
    assert_eq!(deferred.state, JobState::Deferred);
    assert_eq!(deferred.run_after, Some(until));
    assert_eq!(deferred.wait_reason, Some(WaitReason::Backoff));
    assert_eq!(deferred.error_kind, Some(ErrorKind::RetryLater));
    assert_eq!(deferred.error_code.as_deref(), Some("imgur_unavailable"));
    assert_eq!(deferred.lease_owner, None);
    assert_eq!(
        deferred.waiting,
        Some(Waiting {
            reason: WaitReason::Backoff,
            until: Some(until)
        })
    );

    assert!(queue.claim("w", until - 1, LEASE, &[]).unwrap().is_none());
    let again = queue.claim("w", until, LEASE, &[]).unwrap().unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.attempts, 2);
    assert_eq!(again.run_after, None);
    assert_eq!(again.wait_reason, None);
    assert_eq!(
        again.error_message.as_deref(),
        Some("Imgur is over capacity"),
        "the last failure stays visible while retrying"
    );
}

#[test]
fn a_deferred_job_keeps_its_place_by_priority_and_id() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let first = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    let backlog = queue.enqueue(&job("b", Origin::Watch), T0).unwrap();
    let second = queue.enqueue(&job("c", Origin::File), T0).unwrap();
    queue.claim("w", T0, LEASE, &[]).unwrap().unwrap();
    let _ = queue
        .defer(first, "w", T0, Some(T0 + 10), WaitReason::Backoff, None)
        .unwrap();
    // Due again: it goes before the later interactive job and before the backlog.
    assert_eq!(claim_all(&queue, T0 + 10), [first, second, backlog]);
}

#[test]
fn postponing_before_any_request_gives_the_attempt_back() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let id = queue.enqueue(&job("a", Origin::Watch), T0).unwrap();
    queue.claim("w", T0, LEASE, &[]).unwrap().unwrap();
    let _ = queue
        .postpone(id, "w", T0, Some(T0 + 3_600_000), WaitReason::DailyBudget)
        .unwrap();
    let job = queue.get(id).unwrap().unwrap();
    assert_eq!(job.attempts, 0);
    assert_eq!(job.state, JobState::Deferred);
    assert_eq!(
        job.waiting,
        Some(Waiting {
            reason: WaitReason::DailyBudget,
            until: Some(T0 + 3_600_000)
        })
    );
}

#[test]
fn pause_stops_claims_until_resume_and_survives_reconnecting() {
    let (_dir, db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let id = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    assert!(!queue.is_paused().unwrap());
    queue.pause().unwrap();
    queue.pause().unwrap();
    assert!(queue.is_paused().unwrap());
    assert!(queue.claim("w", T0, LEASE, &[]).unwrap().is_none());
    assert_eq!(
        queue.get(id).unwrap().unwrap().waiting,
        Some(Waiting {
            reason: WaitReason::Paused,
            until: None
        })
    );

    let other_conn = db.connect().unwrap();
    let other = JobQueue::new(&other_conn);
    assert!(other.is_paused().unwrap());
    assert!(other.claim("w2", T0, LEASE, &[]).unwrap().is_none());
    other.resume().unwrap();
    assert!(!queue.is_paused().unwrap());
    assert_eq!(queue.claim("w", T0, LEASE, &[]).unwrap().unwrap().id, id);
}

#[test]
fn cancel_and_retry_follow_the_life_of_a_job() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let a = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    let b = queue.enqueue(&job("b", Origin::File), T0).unwrap();

    let cancelled = queue.cancel(a, T0 + 1).unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(cancelled.waiting, None);
    assert_eq!(queue.cancel(a, T0 + 2).unwrap().state, JobState::Cancelled);
    assert_eq!(claim_all(&queue, T0 + 3), [b]);

    // b fails twice over, then is retried from scratch.
    let _ = queue
        .fail(b, "w", T0 + 4, failure(ErrorKind::Permanent, "nope"))
        .unwrap();
    let retried = queue.retry(b, T0 + 5).unwrap();
    assert_eq!(retried.state, JobState::Queued);
    assert_eq!(retried.attempts, 0);
    assert_eq!(retried.error_kind, None);
    assert_eq!(retried.error_message, None);
    assert_eq!(retried.error_code, None);

    // a cancelled job can be retried too.
    assert_eq!(queue.retry(a, T0 + 6).unwrap().state, JobState::Queued);
    assert_eq!(claim_all(&queue, T0 + 7), [a, b]);

    // Wrong states say what is possible instead.
    let error = queue.retry(a, T0 + 8).unwrap_err();
    assert!(
        matches!(error, StoreError::InvalidTransition { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "invalid_transition");
    assert!(
        error.to_string().contains("only failed or cancelled"),
        "{error}"
    );
    queue.complete(a, "w", T0 + 9, &entry("img0001")).unwrap();
    let error = queue.cancel(a, T0 + 10).unwrap_err();
    assert!(error.to_string().contains("delete the image"), "{error}");
    assert!(matches!(
        queue.cancel(JobId(12345), T0).unwrap_err(),
        StoreError::NotFound {
            what: "job",
            id: 12345
        }
    ));
}

#[test]
fn cancelling_an_uploading_job_tells_its_worker_at_the_next_touch() {
    let (_dir, db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let id = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    queue.claim("w", T0, LEASE, &[]).unwrap().unwrap();

    // The UI cancels from another connection.
    let ui_conn = db.connect().unwrap();
    let ui = JobQueue::new(&ui_conn);
    assert_eq!(ui.cancel(id, T0 + 1).unwrap().state, JobState::Cancelled);

    assert_eq!(
        queue.record_progress(id, "w", T0 + 2, 10, 100).unwrap(),
        LeaseCheck::Cancelled
    );
    assert_eq!(
        queue.renew_lease(id, "w", T0 + 2, LEASE).unwrap(),
        LeaseCheck::Cancelled
    );
    assert_eq!(
        queue
            .fail(id, "w", T0 + 3, failure(ErrorKind::RetryLater, "aborted"))
            .unwrap(),
        LeaseCheck::Cancelled
    );
    assert_eq!(queue.get(id).unwrap().unwrap().state, JobState::Cancelled);
    // Nobody takes a cancelled job over, even once the lease is long gone.
    assert!(
        ui.claim("w2", T0 + 10 * LEASE, LEASE, &[])
            .unwrap()
            .is_none()
    );
}

#[test]
fn an_upload_that_finished_despite_a_cancel_is_kept() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let id = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    queue.claim("w", T0, LEASE, &[]).unwrap().unwrap();
    queue.cancel(id, T0 + 1).unwrap();
    let history_id = queue.complete(id, "w", T0 + 2, &entry("late123")).unwrap();
    let job = queue.get(id).unwrap().unwrap();
    assert_eq!(job.state, JobState::Done, "it is on Imgur: say so");
    assert_eq!(job.history_id, Some(history_id));
}

#[test]
fn retrying_a_job_cancelled_mid_upload_cuts_the_old_worker_off() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let id = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    queue.claim("old", T0, LEASE, &[]).unwrap().unwrap();
    queue.cancel(id, T0 + 1).unwrap();
    queue.retry(id, T0 + 2).unwrap();
    assert_eq!(
        queue.renew_lease(id, "old", T0 + 3, LEASE).unwrap(),
        LeaseCheck::Lost
    );
    let new = queue.claim("new", T0 + 4, LEASE, &[]).unwrap().unwrap();
    assert_eq!((new.id, new.attempts), (id, 1));
    // The old worker's late completion keeps its history but leaves the job to "new".
    let history_id = queue
        .complete(id, "old", T0 + 5, &entry("dup1234"))
        .unwrap();
    let job = queue.get(id).unwrap().unwrap();
    assert_eq!(job.state, JobState::Uploading);
    assert_eq!(job.lease_owner.as_deref(), Some("new"));
    assert!(History::new(&conn).get(history_id).unwrap().is_some());
}

#[test]
fn jobs_of_an_account_are_held_for_a_login_and_released_after() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let mut alice = job("a1", Origin::File);
    alice.account = Some("alice".into());
    let a1 = queue.enqueue(&alice, T0).unwrap();
    let a2 = queue.enqueue(&alice, T0).unwrap();
    let a3 = queue.enqueue(&alice, T0).unwrap();
    let anonymous = queue.enqueue(&job("anon", Origin::File), T0).unwrap();
    let mut bob = job("b1", Origin::File);
    bob.account = Some("bob".into());
    let b1 = queue.enqueue(&bob, T0).unwrap();

    // a1 is being uploaded when the token turns out to be revoked; a2 is in back-off.
    assert_eq!(queue.claim("w", T0, LEASE, &[]).unwrap().unwrap().id, a1);
    assert_eq!(queue.claim("w", T0, LEASE, &[]).unwrap().unwrap().id, a2);
    let _ = queue
        .defer(a2, "w", T0, Some(T0 + 1000), WaitReason::Backoff, None)
        .unwrap();
    let _ = queue
        .defer(
            a1,
            "w",
            T0,
            None,
            WaitReason::LogInAgain,
            Some(failure(ErrorKind::Reauth, "log in again")),
        )
        .unwrap();
    assert_eq!(queue.hold_for_login("alice", T0).unwrap(), 3);

    for id in [a1, a2, a3] {
        let held = queue.get(id).unwrap().unwrap();
        assert_eq!(held.state, JobState::Deferred);
        assert_eq!(held.run_after, None);
        assert_eq!(
            held.waiting,
            Some(Waiting {
                reason: WaitReason::LogInAgain,
                until: None
            })
        );
    }
    // Held jobs never come back on their own, however late it gets.
    assert_eq!(claim_all(&queue, T0 + 1_000_000_000), [anonymous, b1]);

    assert_eq!(queue.release_login("bob", T0).unwrap(), 0);
    assert_eq!(queue.release_login("alice", T0 + 5).unwrap(), 3);
    assert_eq!(claim_all(&queue, T0 + 6), [a1, a2, a3]);
}

#[test]
fn a_client_the_governor_holds_after_a_429_is_skipped_until_its_time() {
    let (_dir, db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let a = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    let b = queue
        .enqueue(&NewJob::new("/b.png", Origin::File, "client-b"), T0)
        .unwrap();
    // The hold is the governor's: it writes it, the queue only reads it.
    let clock = std::sync::Arc::new(ManualClock::new(UnixMillis(T0)));
    let governor = QuotaGovernor::open(&db, clock.clone(), GovernorConfig::default()).unwrap();
    governor
        .rate_limited(CLIENT, Some(UnixMillis(T0 + 60_000)))
        .unwrap();
    assert_eq!(
        queue.get(a).unwrap().unwrap().waiting,
        Some(Waiting {
            reason: WaitReason::RateLimited,
            until: Some(T0 + 60_000)
        })
    );
    assert_eq!(claim_all(&queue, T0), [b]);
    assert_eq!(claim_all(&queue, T0 + 59_999), []);
    assert_eq!(claim_all(&queue, T0 + 60_000), [a]);
    clock.set(UnixMillis(T0 + 60_000));
    assert_eq!(
        governor.status(CLIENT).unwrap().rate_limited_until,
        None,
        "over once past"
    );
}

#[test]
fn claim_skips_the_client_ids_it_is_told_to() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let a = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    let b = queue
        .enqueue(&NewJob::new("/b.png", Origin::Watch, "client-b"), T0)
        .unwrap();
    let got = queue.claim("w", T0, LEASE, &[CLIENT]).unwrap().unwrap();
    assert_eq!(got.id, b);
    assert!(
        queue
            .claim("w", T0, LEASE, &[CLIENT, "client-b"])
            .unwrap()
            .is_none()
    );
    assert_eq!(
        queue
            .claim("w", T0, LEASE, &["client-b"])
            .unwrap()
            .unwrap()
            .id,
        a
    );
}

#[test]
fn list_filters_by_state_and_orders_both_ways_and_counts_add_up() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let ids: Vec<JobId> = (0..6)
        .map(|n| {
            queue
                .enqueue(&job(&format!("j{n}"), Origin::File), T0)
                .unwrap()
        })
        .collect();
    queue.claim("w", T0, LEASE, &[]).unwrap().unwrap(); // ids[0] uploading
    queue.cancel(ids[1], T0).unwrap();
    queue.claim("w", T0, LEASE, &[]).unwrap().unwrap(); // ids[2]
    let _ = queue
        .fail(ids[2], "w", T0, failure(ErrorKind::Permanent, "bad"))
        .unwrap();

    let all = queue.list(&JobFilter::default()).unwrap();
    assert_eq!(
        all.iter().map(|job| job.id).collect::<Vec<_>>(),
        ids.iter().rev().copied().collect::<Vec<_>>()
    );
    let queued_oldest = queue
        .list(&JobFilter {
            states: vec![JobState::Queued],
            order: ListOrder::OldestFirst,
            limit: Some(2),
            offset: 1,
        })
        .unwrap();
    assert_eq!(
        queued_oldest.iter().map(|job| job.id).collect::<Vec<_>>(),
        [ids[4], ids[5]]
    );
    let finished = queue
        .list(&JobFilter::states(&[JobState::Failed, JobState::Cancelled]))
        .unwrap();
    assert_eq!(
        finished.iter().map(|job| job.id).collect::<Vec<_>>(),
        [ids[2], ids[1]]
    );

    let counts = queue.counts().unwrap();
    assert_eq!(
        (
            counts.queued,
            counts.uploading,
            counts.failed,
            counts.cancelled
        ),
        (3, 1, 1, 1)
    );
    assert_eq!((counts.done, counts.deferred), (0, 0));
    assert_eq!(counts.pending(), 4);
    assert_eq!(serde_json::to_value(counts).unwrap()["queued"], 3);
}

#[test]
fn pending_jobs_of_a_client_come_in_the_order_they_will_run() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let w1 = queue.enqueue(&job("w1", Origin::Watch), T0).unwrap();
    let f1 = queue.enqueue(&job("f1", Origin::File), T0).unwrap();
    let f2 = queue.enqueue(&job("f2", Origin::File), T0).unwrap();
    let w2 = queue.enqueue(&job("w2", Origin::Watch), T0).unwrap();
    let f3 = queue.enqueue(&job("f3", Origin::File), T0).unwrap();
    queue
        .enqueue(&NewJob::new("/other.png", Origin::File, "client-b"), T0)
        .unwrap();
    let mut held = job("held", Origin::File);
    held.account = Some("alice".into());
    queue.enqueue(&held, T0).unwrap();
    queue.hold_for_login("alice", T0).unwrap();

    // f1 goes into back-off for a minute, w1 is deferred by the budget for an hour.
    assert_eq!(queue.claim("w", T0, LEASE, &[]).unwrap().unwrap().id, f1);
    let _ = queue
        .defer(f1, "w", T0, Some(T0 + 60_000), WaitReason::Backoff, None)
        .unwrap();
    let uploading = queue.claim("w", T0, LEASE, &[]).unwrap().unwrap().id;
    assert_eq!(uploading, f2);
    let _ = queue.claim("w", T0, LEASE, &[]).unwrap().unwrap(); // f3
    let _ = queue.claim("w", T0, LEASE, &[]).unwrap().unwrap(); // client-b's
    assert_eq!(queue.claim("w", T0, LEASE, &[]).unwrap().unwrap().id, w1);
    let _ = queue
        .postpone(w1, "w", T0, Some(T0 + 3_600_000), WaitReason::DailyBudget)
        .unwrap();
    let _ = queue
        .fail(f3, "w", T0, failure(ErrorKind::Permanent, "x"))
        .unwrap();
    let f4 = queue.enqueue(&job("f4", Origin::File), T0).unwrap();

    let order: Vec<JobId> = queue
        .pending_for_client(CLIENT, T0)
        .unwrap()
        .iter()
        .map(|job| job.id)
        .collect();
    // Interactive first: ready ones (f4) then the one in back-off (f1); then the backlog: w2 is
    // ready, w1 waits an hour. Uploading, failed, held and other clients' jobs are not there.
    assert_eq!(order, [f4, f1, w2, w1]);
    // Once f1's time has come, it runs first again (lower id).
    let later: Vec<JobId> = queue
        .pending_for_client(CLIENT, T0 + 60_000)
        .unwrap()
        .iter()
        .map(|job| job.id)
        .collect();
    assert_eq!(later, [f1, f4, w2, w1]);
}

#[test]
fn ten_thousand_jobs_go_in_quickly_in_one_transaction() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let jobs: Vec<NewJob> = (0..10_000)
        .map(|n| job(&format!("bulk{n}"), Origin::Watch))
        .collect();
    let start = Instant::now();
    let ids = queue.enqueue_many(&jobs, T0).unwrap();
    let took = start.elapsed();
    assert_eq!(ids.len(), 10_000);
    assert!(ids.windows(2).all(|pair| pair[1].0 == pair[0].0 + 1));
    assert_eq!(queue.counts().unwrap().queued, 10_000);
    // Generous for a debug build on a loaded CI machine; release takes a few tens of ms.
    assert!(took.as_secs() < 20, "enqueue_many took {took:?}");
    println!("enqueue_many(10,000) took {took:?} (debug build)");
    // Claiming from a long queue stays quick (indexed probes, not scans).
    let start = Instant::now();
    for _ in 0..100 {
        queue.claim("w", T0, LEASE, &[]).unwrap().unwrap();
    }
    println!("100 claims over 10,000 jobs took {:?}", start.elapsed());
}

#[test]
fn enqueue_many_is_all_or_nothing() {
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    // A real SQLite refusal of one row: the other is rolled back with it.
    conn.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON jobs WHEN NEW.source_path LIKE '%refused%' \
         BEGIN SELECT RAISE(ABORT, 'refused'); END;",
    )
    .unwrap();
    let jobs = vec![job("ok", Origin::File), job("refused", Origin::File)];
    queue.enqueue_many(&jobs, T0).unwrap_err();
    assert_eq!(
        queue.counts().unwrap().queued,
        0,
        "the good one was rolled back"
    );
    assert!(queue.enqueue_many(&[], T0).unwrap().is_empty());
}

/// A path that is not UTF-8 (legal on Linux) is queued and read back byte for byte.
#[cfg(unix)]
#[test]
fn a_path_that_is_not_utf8_is_kept_exactly() {
    use std::os::unix::ffi::OsStrExt;
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let odd = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b"/pics/caf\xe9.png"));
    let mut new = NewJob::new(odd.clone(), Origin::File, CLIENT);
    new.upload_path = Some(odd.with_extension("jpg"));
    let id = queue.enqueue(&new, T0).unwrap();
    let stored = queue.get(id).unwrap().unwrap();
    assert_eq!(stored.source_path, odd);
    assert_eq!(stored.upload_path, Some(odd.with_extension("jpg")));
    let json = serde_json::to_value(&stored).unwrap();
    assert_eq!(json["source_path"], "/pics/caf\u{fffd}.png");
}

#[test]
fn a_spent_post_budget_is_queued_as_the_hourly_budget() {
    // The governor and the queue share one WaitReason; the queue keeps one reason for both
    // hourly budgets, which is what the user sees reset.
    let (_dir, _db, conn) = setup();
    let queue = JobQueue::new(&conn);
    let id = queue.enqueue(&job("a", Origin::File), T0).unwrap();
    queue.claim("w", T0, LEASE, &[]).unwrap().unwrap();
    let until = T0 + 3_600_000;
    let check = queue
        .postpone(id, "w", T0 + 1, Some(until), WaitReason::PostBudget)
        .unwrap();
    assert_eq!(check, LeaseCheck::Held);
    let waiting = queue.get(id).unwrap().unwrap();
    assert_eq!(waiting.wait_reason, Some(WaitReason::HourlyBudget));
    assert_eq!(
        waiting.waiting.map(|w| w.reason),
        Some(WaitReason::HourlyBudget)
    );

    queue.claim("w", until, LEASE, &[]).unwrap().unwrap();
    let check = queue
        .defer(
            id,
            "w",
            until + 1,
            Some(until + 5),
            WaitReason::PostBudget,
            None,
        )
        .unwrap();
    assert_eq!(check, LeaseCheck::Held);
    let waiting = queue.get(id).unwrap().unwrap();
    assert_eq!(waiting.wait_reason, Some(WaitReason::HourlyBudget));
}
