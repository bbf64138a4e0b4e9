//! Every error shape and fault the fake server can produce, read by the client: the right kind,
//! a plain message, and the header snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Harness;
use fake_imgur::Fault;
use std::time::{Duration, Instant};
use upshot_imgur::{ErrorKind, ImgurError, MediaKind, UploadRequest};

async fn upload_with_fault(fault: Fault) -> (Harness, Result<upshot_imgur::Image, ImgurError>) {
    let harness = Harness::start().await;
    // Large enough that a reset part-way through the body really is part-way.
    let path = harness.png("fault.png", 600, 400);
    harness.server.controls().inject(fault, 1, None);
    let result = harness
        .client
        .upload(
            &harness.anonymous(),
            &UploadRequest::file(&path, MediaKind::Image, "image/png"),
            None,
        )
        .await
        .map(|response| response.data);
    (harness, result)
}

fn assert_plain(error: &ImgurError) {
    assert!(!error.message.is_empty());
    assert!(
        !error.message.contains('<'),
        "no markup in: {}",
        error.message
    );
    assert!(error.message.len() < 300, "short: {}", error.message);
}

#[tokio::test]
async fn server_errors_are_retry_later() {
    for status in [500, 502, 503] {
        let (_harness, result) = upload_with_fault(Fault::ServerError { status }).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind, ErrorKind::RetryLater, "{status}");
        assert_eq!(error.status, Some(status));
        assert_plain(&error);
        assert!(
            error.rate_limits.client_limit.is_some(),
            "headers on faults"
        );
    }
}

#[tokio::test]
async fn over_capacity_403_is_retry_later_not_reauth() {
    let (_harness, result) = upload_with_fault(Fault::OverCapacity).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::RetryLater);
    assert_eq!(error.status, Some(403));
    assert!(error.message.contains("over capacity"));
}

#[tokio::test]
async fn html_429_page_is_rate_limited_with_a_retry_time() {
    let (_harness, result) = upload_with_fault(Fault::Html429).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(error.status, Some(429));
    assert!(error.retry_at.is_some());
    assert_plain(&error);
}

#[tokio::test]
async fn gateway_429_is_rate_limited() {
    let (_harness, result) = upload_with_fault(Fault::Gateway429).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(error.code, Some(429));
    assert_plain(&error);
}

#[tokio::test]
async fn upload_too_fast_400_with_inner_429_waits_the_minutes_it_says() {
    let (_harness, result) = upload_with_fault(Fault::UploadTooFast { minutes: 7 }).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(error.status, Some(400));
    assert_eq!(error.code, Some(429));
    let retry_at = error.retry_at.unwrap();
    let expected = error.rate_limits.observed_at + 7 * 60;
    assert!(retry_at.abs_diff(expected) <= 2, "{retry_at} vs {expected}");
    assert!(error.message.contains("uploading too fast"));
}

#[tokio::test]
async fn payload_too_large_is_permanent_and_upload_failed_is_retry_later() {
    let (_harness, result) = upload_with_fault(Fault::PayloadTooLarge).await;
    let error = result.unwrap_err();
    assert_eq!(
        (error.kind, error.status),
        (ErrorKind::Permanent, Some(413))
    );
    assert_plain(&error);

    let (_harness, result) = upload_with_fault(Fault::UploadFailed).await;
    let error = result.unwrap_err();
    assert_eq!(
        (error.kind, error.status),
        (ErrorKind::RetryLater, Some(417))
    );
}

#[tokio::test]
async fn html_pages_never_leak_markup() {
    let (_harness, result) = upload_with_fault(Fault::Html404).await;
    let error = result.unwrap_err();
    assert_eq!(
        (error.kind, error.status),
        (ErrorKind::Permanent, Some(404))
    );
    assert_plain(&error);

    let (_harness, result) = upload_with_fault(Fault::HtmlOverCapacity).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::RetryLater);
    assert_plain(&error);
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_a_network_failure_to_retry() {
    let (harness, result) = upload_with_fault(Fault::ResetMidBody).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::RetryLater);
    assert_eq!(error.status, None, "no answer arrived");
    assert_plain(&error);
    assert!(harness.server.controls().state().uploads.is_empty());
}

#[tokio::test]
async fn a_truncated_answer_is_retry_later() {
    let (_harness, result) = upload_with_fault(Fault::TruncatedBody).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::RetryLater);
    assert_plain(&error);
}

#[tokio::test]
async fn latency_delays_but_succeeds() {
    let started = Instant::now();
    let (_harness, result) = upload_with_fault(Fault::Latency { millis: 300 }).await;
    assert!(result.is_ok());
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn faults_apply_to_the_next_n_matching_requests_only() {
    let harness = Harness::start().await;
    let anon = harness.anonymous();
    harness.server.controls().inject(
        Fault::ServerError { status: 500 },
        2,
        Some("/3/credits".into()),
    );
    assert_eq!(
        harness.client.credits(&anon).await.unwrap_err().kind,
        ErrorKind::RetryLater
    );
    let path = harness.png("unaffected.png", 3, 3);
    harness
        .client
        .upload(
            &anon,
            &UploadRequest::file(&path, MediaKind::Image, "image/png"),
            None,
        )
        .await
        .expect("other paths are not affected");
    assert!(harness.client.credits(&anon).await.is_err());
    assert!(
        harness.client.credits(&anon).await.is_ok(),
        "only two were injected"
    );
}

#[tokio::test]
async fn spending_the_budget_gets_429_with_the_reset_time_and_the_clock_restores_it() {
    let harness = Harness::start_with(|config| config.limits.client_credits_per_day = 25).await;
    let anon = harness.anonymous();
    let path = harness.png("q.png", 3, 3);
    let request = UploadRequest::file(&path, MediaKind::Image, "image/png");
    let first = harness.client.upload(&anon, &request, None).await.unwrap();
    assert_eq!(first.rate_limits.client_remaining, Some(15));
    let second = harness.client.upload(&anon, &request, None).await.unwrap();
    assert_eq!(second.rate_limits.client_remaining, Some(5));

    let error = harness
        .client
        .upload(&anon, &request, None)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(error.status, Some(429));
    assert_eq!(error.rate_limits.client_remaining, Some(5));
    assert!(error.retry_at.is_some());
    let state = harness.server.controls().state();
    assert_eq!(state.uploads.len(), 2);

    harness
        .server
        .controls()
        .advance_clock(Duration::from_secs(86_400));
    let after = harness.client.upload(&anon, &request, None).await.unwrap();
    assert_eq!(after.rate_limits.client_remaining, Some(15));
}
