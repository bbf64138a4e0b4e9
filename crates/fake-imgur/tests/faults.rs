//! Every injected fault produces its status and shape, carries the rate-limit headers, costs
//! nothing, and is consumed in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{CLIENT_ID, Fake, anon, answer};
use fake_imgur::{Fault, samples};

/// Injects `fault` once and uploads a PNG into it.
async fn upload_into(fault: Fault) -> (Fake, common::Answer) {
    let fake = Fake::start().await;
    fake.controls().inject(fault, 1, None);
    let answer = fake.upload(samples::png(64, 64, 0)).await;
    (fake, answer)
}

fn assert_free(fake: &Fake) {
    let state = fake.controls().state();
    assert!(state.uploads.is_empty(), "a faulted upload stores nothing");
    assert_eq!(state.clients[CLIENT_ID].requests, 0, "faults cost nothing");
    assert_eq!(state.clients[CLIENT_ID].credits_spent_today, 0);
}

fn assert_headers(answer: &common::Answer) {
    assert_eq!(answer.header("x-ratelimit-clientlimit"), Some(12_500));
    assert_eq!(answer.header("x-ratelimit-clientremaining"), Some(12_500));
    assert!(answer.header("x-ratelimit-userreset").is_some());
    assert!(answer.header("x-post-rate-limit-remaining").is_some());
}

#[tokio::test]
async fn server_errors_are_shape_c_with_their_status() {
    for status in [500, 502, 503] {
        let (fake, answer) = upload_into(Fault::ServerError { status }).await;
        assert_eq!(answer.status, status);
        let json = answer.json();
        assert_eq!(json["success"], false);
        assert_eq!(json["status"], status);
        assert!(json["data"]["error"].is_string());
        assert!(
            json["data"].get("request").is_none(),
            "shape C has no request"
        );
        assert_headers(&answer);
        assert_free(&fake);
    }
}

#[tokio::test]
async fn over_capacity_is_a_403_shape_c() {
    let (fake, answer) = upload_into(Fault::OverCapacity).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.json(),
        serde_json::json!({"data": {"error": "Imgur is temporarily over capacity. Please try again later."}, "success": false, "status": 403})
    );
    assert_headers(&answer);
    assert_free(&fake);
}

#[tokio::test]
async fn html_faults_are_html() {
    let cases = [
        (Fault::Html429, 429, "Too Many Requests"),
        (Fault::Html404, 404, "wrong turn"),
        (Fault::HtmlOverCapacity, 503, "over capacity"),
        (Fault::PayloadTooLarge, 413, "413 Request Entity Too Large"),
    ];
    for (fault, status, text) in cases {
        let (fake, answer) = upload_into(fault.clone()).await;
        assert_eq!(answer.status, status, "{fault:?}");
        assert!(answer.content_type().starts_with("text/html"), "{fault:?}");
        assert!(answer.text.contains(text), "{fault:?}: {}", answer.text);
        assert!(serde_json::from_str::<serde_json::Value>(&answer.text).is_err());
        assert_headers(&answer);
        assert_free(&fake);
    }
}

#[tokio::test]
async fn gateway_429_has_no_envelope() {
    let (fake, answer) = upload_into(Fault::Gateway429).await;
    assert_eq!(answer.status, 429);
    let json = answer.json();
    let error = &json["errors"][0];
    assert_eq!(error["code"], "429");
    assert_eq!(error["status"], "Too Many Requests");
    assert!(error["id"].is_string() && error["detail"].is_string());
    assert!(json.get("data").is_none());
    assert_headers(&answer);
    assert_free(&fake);
}

#[tokio::test]
async fn upload_too_fast_is_a_400_with_an_inner_429() {
    let (fake, answer) = upload_into(Fault::UploadTooFast { minutes: 7 }).await;
    assert_eq!(answer.status, 400);
    let json = answer.json();
    assert_eq!(json["data"]["error"]["code"], 429);
    assert_eq!(
        json["data"]["error"]["message"],
        "You are uploading too fast. Please wait 7 more minutes."
    );
    assert_eq!(json["data"]["error"]["type"], "ImgurException");
    assert_free(&fake);
}

#[tokio::test]
async fn upload_failed_is_a_417_shape_a() {
    let (fake, answer) = upload_into(Fault::UploadFailed).await;
    assert_eq!(answer.shape_a(417), "Upload failed");
    assert_free(&fake);
}

#[tokio::test]
async fn latency_delays_then_answers_normally() {
    let started = Instant::now();
    let (fake, answer) = upload_into(Fault::Latency { millis: 300 }).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer.status, 200);
    assert_eq!(fake.controls().state().uploads.len(), 1);
}

#[tokio::test]
async fn reset_mid_body_is_a_connection_error() {
    let fake = Fake::start().await;
    fake.controls().inject(Fault::ResetMidBody, 2, None);
    let form = reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(samples::png(600, 400, 1)).file_name("big.png"),
    );
    let error = fake
        .http
        .post(fake.url("/3/image"))
        .header("Authorization", anon())
        .multipart(form)
        .send()
        .await
        .expect_err("no HTTP answer arrives");
    assert!(error.status().is_none(), "{error:?}");
    // A bodiless request is reset too.
    let error = fake
        .http
        .get(fake.url("/3/credits"))
        .header("Authorization", anon())
        .send()
        .await
        .expect_err("no HTTP answer arrives");
    assert!(error.status().is_none(), "{error:?}");
    assert_free(&fake);
    // The server is fine afterwards.
    assert_eq!(fake.upload(samples::png(3, 3, 0)).await.status, 200);
}

#[tokio::test]
async fn truncated_body_cuts_the_answer_short() {
    let fake = Fake::start().await;
    fake.controls()
        .inject(Fault::TruncatedBody, 1, Some("/3/image".into()));
    let form = reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(samples::png(10, 10, 1)).file_name("a.png"),
    );
    let response = fake
        .http
        .post(fake.url("/3/image"))
        .header("Authorization", anon())
        .multipart(form)
        .send()
        .await
        .expect("the head arrives");
    assert_eq!(response.status(), 200);
    assert!(response.content_length().unwrap() > 100);
    assert!(
        response
            .headers()
            .get("x-ratelimit-clientremaining")
            .is_some()
    );
    assert!(response.bytes().await.is_err(), "the body stops short");
    // The upload itself happened: a client that retries makes a duplicate, as on Imgur.
    assert_eq!(fake.controls().state().uploads.len(), 1);
}

#[tokio::test]
async fn authorize_broken_only_breaks_the_authorize_page() {
    let fake = Fake::start().await;
    fake.controls().inject(Fault::AuthorizeBroken, 1, None);
    assert_eq!(fake.get("/3/credits", &anon()).await.status, 200);
    let url = fake.url(&format!(
        "/oauth2/authorize?client_id={CLIENT_ID}&response_type=token&state=x"
    ));
    let broken = answer(fake.http.get(&url).send().await.unwrap()).await;
    assert_eq!(broken.status, 500);
    assert!(broken.content_type().starts_with("text/html"));
    assert!(!broken.text.contains("<form"));
    let fine = answer(fake.http.get(&url).send().await.unwrap()).await;
    assert_eq!(fine.status, 200);
    assert!(fine.text.contains("<form"));
}

#[tokio::test]
async fn faults_hit_the_next_n_matching_requests_in_order() {
    let fake = Fake::start().await;
    let controls = fake.controls();
    controls.inject(
        Fault::ServerError { status: 502 },
        2,
        Some("/3/credits".into()),
    );
    controls.inject(Fault::OverCapacity, 1, None);
    assert_eq!(fake.get("/3/credits", &anon()).await.status, 502);
    // Another path skips the credits rule and takes the next one that matches.
    assert_eq!(fake.get("/3/image/abcdefg", &anon()).await.status, 403);
    assert_eq!(fake.get("/3/image/abcdefg", &anon()).await.status, 404);
    assert_eq!(fake.get("/3/credits", &anon()).await.status, 502);
    assert_eq!(fake.get("/3/credits", &anon()).await.status, 200);
    assert!(controls.pending_faults().is_empty());

    controls.inject(Fault::Html404, 5, None);
    controls.clear_faults();
    assert_eq!(fake.get("/3/credits", &anon()).await.status, 200);
}

#[tokio::test]
async fn faults_can_be_driven_over_http() {
    let fake = Fake::start().await;
    let queued: serde_json::Value = fake
        .http
        .post(fake.url("/_fake/faults"))
        .body(r#"{"fault": {"kind": "upload_too_fast", "minutes": 2}, "count": 2, "path_prefix": "/3/image"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queued["pending"][0]["remaining"], 2);
    assert_eq!(queued["pending"][0]["fault"]["kind"], "upload_too_fast");
    assert_eq!(fake.upload(samples::png(3, 3, 0)).await.status, 400);

    let bad = fake
        .http
        .post(fake.url("/_fake/faults"))
        .body(r#"{"fault": {"kind": "server_error", "status": 200}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let cleared: serde_json::Value = fake
        .http
        .delete(fake.url("/_fake/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["pending"], serde_json::json!([]));
    assert_eq!(fake.upload(samples::png(3, 3, 0)).await.status, 200);
}
