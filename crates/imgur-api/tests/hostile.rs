//! The API client against a hostile server on loopback: redirects to another host, a 1 GiB
//! answer, a dripping answer, a cut-off answer, unreadable answers. Each call ends within 30 s
//! (answer deadline 2 s) with a clear `{kind, message}`, bounded memory, and nothing sent to
//! the other host.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod hostile_server;

use hostile_server::{Behaviour, Server, good_upload_answer, nested_json, own_peak_kib};
use std::future::Future;
use std::time::{Duration, Instant};
use upshot_imgur::{
    Auth, ClientConfig, ErrorKind, ImgurClient, ImgurError, MediaKind, Secret, UploadRequest,
};
use url::Url;

const DEADLINE: Duration = Duration::from_secs(2);
const GUARD: Duration = Duration::from_secs(30);
const RAPIDAPI_KEY: &str = "rapid-key-must-stay-home";

fn client_for(server: &Server, deadline: Duration) -> ImgurClient {
    let mut config = ClientConfig::new(Url::parse(&server.base_url()).unwrap());
    config.answer_deadline = deadline;
    config.commercial_key = Some(Secret::new(RAPIDAPI_KEY));
    ImgurClient::new(config).unwrap()
}

fn small_upload() -> UploadRequest {
    UploadRequest::bytes(
        fake_imgur::samples::png(16, 16, 1).into(),
        "small.png",
        MediaKind::Image,
        "image/png",
    )
}

/// Runs a call under the 30 s guard and returns its error.
async fn fails<T: std::fmt::Debug>(
    call: impl Future<Output = Result<T, ImgurError>>,
) -> ImgurError {
    let error = tokio::time::timeout(GUARD, call)
        .await
        .expect("the call ends within 30 s")
        .expect_err("a hostile answer is an error");
    assert_clear(&error);
    error
}

/// A `{code, kind, message}` a person can read.
fn assert_clear(error: &ImgurError) {
    let json = serde_json::to_value(error).unwrap();
    assert_eq!(json["code"], error.error_code(), "{json}");
    assert!(json["kind"].is_string(), "{json}");
    assert!(json["message"].is_string(), "{json}");
    assert!(!error.message.is_empty());
    assert!(!error.message.contains('<'), "no markup: {}", error.message);
    assert!(error.message.len() < 300, "short: {}", error.message);
    assert!(
        !error.message.contains(RAPIDAPI_KEY),
        "no secret: {}",
        error.message
    );
}

async fn upload_against(behaviour: Behaviour) -> (Server, ImgurError) {
    let server = hostile_server::start(behaviour).await;
    let client = client_for(&server, DEADLINE);
    let error = fails(client.upload(&Auth::client_id("hostile"), &small_upload(), None)).await;
    (server, error)
}

#[tokio::test]
async fn a_redirect_is_an_error_that_names_its_target_and_reaches_no_other_host() {
    for status in [302u16, 307, 308] {
        let bystander = hostile_server::start_bystander().await;
        let target = format!("{}/3/image", bystander.base_url());
        let (server, error) = upload_against(Behaviour::Redirect {
            status,
            location: format!("{target}?access_token=leaked"),
        })
        .await;
        assert_eq!(error.kind, ErrorKind::RetryLater, "{status}");
        assert_eq!(error.status, Some(status));
        assert!(
            !error.outcome_unknown,
            "a redirect is an answer: not accepted"
        );
        assert!(
            error.message.contains(&target),
            "{status}: {}",
            error.message
        );
        assert!(!error.message.contains("leaked"), "{}", error.message);
        assert!(error.message.contains("redirect"), "{}", error.message);
        // The API base got the key; the other host got nothing at all.
        let seen = server.requests();
        assert_eq!(seen.len(), 1, "{status}: sent once, not again");
        assert!(seen[0].head.to_lowercase().contains("x-rapidapi-key"));
        assert_eq!(
            bystander.connection_count(),
            0,
            "{status}: nothing reached the other host"
        );
    }

    // A read is not followed either (reqwest would keep the key headers on a cross-host hop).
    let bystander = hostile_server::start_bystander().await;
    let server = hostile_server::start(Behaviour::Redirect {
        status: 302,
        location: format!("{}/3/account/me", bystander.base_url()),
    })
    .await;
    let client = client_for(&server, DEADLINE);
    let error = fails(client.account_me(&Auth::bearer("user-token"))).await;
    assert_eq!(error.status, Some(302));
    assert_eq!(bystander.connection_count(), 0);
}

#[tokio::test]
async fn a_307_on_the_refresh_form_does_not_resend_the_secrets_elsewhere() {
    let bystander = hostile_server::start_bystander().await;
    let server = hostile_server::start(Behaviour::Redirect {
        status: 307,
        location: format!("{}/oauth2/token", bystander.base_url()),
    })
    .await;
    let client = client_for(&server, DEADLINE);
    let error = fails(client.refresh_token(
        "hostile",
        &Secret::new("client-secret-stays-home"),
        &Secret::new("refresh-token-stays-home"),
    ))
    .await;
    assert_eq!(error.status, Some(307));
    assert!(
        error.message.contains(&bystander.base_url()),
        "{}",
        error.message
    );
    assert!(!error.message.contains("stays-home"));
    assert_eq!(bystander.connection_count(), 0);
    let received = bystander.received_text();
    assert!(!received.contains("stays-home") && !received.contains(RAPIDAPI_KEY));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_1_gib_answer_is_refused_past_1_mib() {
    for behaviour in [Behaviour::HugeWithLength, Behaviour::HugeChunked] {
        let (_server, error) = upload_against(behaviour.clone()).await;
        assert_eq!(error.kind, ErrorKind::RetryLater, "{behaviour:?}");
        assert!(
            error.message.contains("larger than 1024 KiB"),
            "{}",
            error.message
        );
        assert!(
            error.outcome_unknown,
            "a 200 nobody can read: the upload may be there"
        );
        assert!(error.message.contains("may already be on Imgur"));
    }
    let peak_mib = own_peak_kib() / 1024;
    assert!(
        peak_mib < 100,
        "peak memory {peak_mib} MiB: the answer was buffered"
    );
}

#[tokio::test]
async fn a_dripping_answer_ends_at_the_answer_deadline() {
    let started = Instant::now();
    let (_server, error) = upload_against(Behaviour::Drip).await;
    assert!(started.elapsed() >= DEADLINE, "not before the deadline");
    assert_eq!(error.kind, ErrorKind::RetryLater);
    assert_eq!(error.status, Some(200));
    assert!(error.outcome_unknown);
    assert!(error.message.contains("within 2 s"), "{}", error.message);
    assert!(
        error.message.contains("may already be on Imgur"),
        "{}",
        error.message
    );

    // Silence after the request: no status at all.
    let (_server, error) = upload_against(Behaviour::Silent).await;
    assert_eq!(error.status, None);
    assert!(error.outcome_unknown);
    assert!(error.message.contains("within 2 s"));

    // A read that gets no answer costs a retry only: its outcome is not in doubt.
    let server = hostile_server::start(Behaviour::Drip).await;
    let client = client_for(&server, DEADLINE);
    let error = fails(client.image(&Auth::client_id("hostile"), "abc")).await;
    assert!(!error.outcome_unknown);
    assert!(!error.message.contains("may already"));
}

#[tokio::test]
async fn a_cut_off_answer_is_retry_later_with_an_unknown_outcome() {
    let (_server, error) = upload_against(Behaviour::Truncated).await;
    assert_eq!(error.kind, ErrorKind::RetryLater);
    assert!(error.outcome_unknown);
    assert!(error.message.contains("cut off"), "{}", error.message);
}

#[tokio::test]
async fn a_connection_closed_after_the_body_leaves_the_outcome_unknown() {
    let (server, error) = upload_against(Behaviour::Hangup).await;
    assert_eq!(server.requests().len(), 1, "the whole request arrived");
    assert_eq!(error.kind, ErrorKind::RetryLater);
    assert_eq!(error.status, None);
    assert!(error.outcome_unknown, "{}", error.message);
    assert!(
        error.message.contains("may already be on Imgur"),
        "{}",
        error.message
    );

    // Nothing listening: nothing was sent, so nothing is in doubt.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = ImgurClient::new(ClientConfig::new(Url::parse(&base).unwrap())).unwrap();
    let error = fails(client.upload(&Auth::client_id("x"), &small_upload(), None)).await;
    assert!(!error.outcome_unknown, "{}", error.message);
    assert!(
        error.message.contains("Could not connect"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn unreadable_success_answers_are_clear_errors() {
    let cases: [(&str, Vec<u8>); 5] = [
        (
            "unexpected data",
            br#"{"data":{"id":5,"link":["x"]},"success":true,"status":200}"#.to_vec(),
        ),
        (
            "not JSON",
            b"<html><body>Welcome to the hotel Wi-Fi</body></html>".to_vec(),
        ),
        ("not JSON", b"ok, stored".to_vec()),
        ("it was empty", Vec::new()),
        ("nested too deeply", nested_json(200_000)),
    ];
    for (detail, body) in cases {
        let (_server, error) = upload_against(Behaviour::Body { status: 200, body }).await;
        assert_eq!(error.kind, ErrorKind::RetryLater, "{detail}");
        assert_eq!(error.status, Some(200));
        assert!(
            error.message.contains(detail),
            "{detail}: {}",
            error.message
        );
        assert!(error.outcome_unknown, "{detail}");
    }
    // Deep nesting in a failure answer and in an OAuth answer: no stack overflow either.
    let (_server, error) = upload_against(Behaviour::Body {
        status: 400,
        body: nested_json(200_000),
    })
    .await;
    assert_eq!(error.kind, ErrorKind::Permanent);
    assert!(!error.outcome_unknown);
    let server = hostile_server::start(Behaviour::Body {
        status: 200,
        body: nested_json(200_000),
    })
    .await;
    let client = client_for(&server, DEADLINE);
    let error = fails(client.refresh_token("id", &Secret::new("s"), &Secret::new("r"))).await;
    assert!(
        error.message.contains("nested too deeply"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn the_answer_deadline_starts_when_the_body_has_been_sent() {
    // 12 MiB through a reader that takes the first 8 MiB at 2.5 MiB/s: more than three
    // seconds of sending, against a deadline of one second. The deadline must not cut it.
    let server = hostile_server::start(Behaviour::SlowReader {
        slow_bytes: 8 << 20,
        chunk: 256 * 1024,
        pause: Duration::from_millis(100),
        body: good_upload_answer(),
    })
    .await;
    let deadline = Duration::from_secs(1);
    let client = client_for(&server, deadline);
    let big = vec![7u8; 12 << 20];
    let upload = UploadRequest::bytes(big.into(), "big.png", MediaKind::Image, "image/png");
    let started = Instant::now();
    let answer = tokio::time::timeout(GUARD, client.upload(&Auth::client_id("x"), &upload, None))
        .await
        .expect("ends within 30 s")
        .expect("a slow upload is not cut by the answer deadline");
    assert_eq!(answer.data.id, "Good123");
    assert!(
        started.elapsed() > deadline * 2,
        "the body took longer than the deadline to send, or this test proves nothing"
    );
    assert!(server.requests()[0].body_len > 12 << 20);
}

#[tokio::test]
async fn a_server_that_stops_reading_the_body_ends_the_upload_with_a_known_outcome() {
    // 32 MiB is far more than the socket buffers and the HTTP stack's own buffer hold, so the
    // body stops moving once the server stops reading; the answer deadline has not started.
    const SIZE: usize = 32 << 20;
    let big = bytes::Bytes::from(vec![7u8; SIZE]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mp4");
    std::fs::write(&path, &big).unwrap();
    let uploads = [
        UploadRequest::bytes(big, "big.png", MediaKind::Image, "image/png"),
        UploadRequest::file(&path, MediaKind::Video, "video/mp4"),
    ];
    for upload in uploads {
        let server = hostile_server::start(Behaviour::Deaf).await;
        let mut config = ClientConfig::new(Url::parse(&server.base_url()).unwrap());
        config.answer_deadline = DEADLINE;
        config.send_stall_timeout = Duration::from_secs(1);
        let client = ImgurClient::new(config).unwrap();
        let error = fails(client.upload(&Auth::client_id("x"), &upload, None)).await;
        assert_eq!(error.kind, ErrorKind::RetryLater, "{}", error.message);
        assert_eq!(error.status, None);
        assert!(
            !error.outcome_unknown,
            "the body was not all sent, so Imgur cannot have it: {}",
            error.message
        );
        assert!(
            error
                .message
                .contains("Imgur stopped taking the upload after"),
            "{}",
            error.message
        );
        assert!(error.message.contains("of 32.0 MiB"), "{}", error.message);
        assert!(!error.message.contains("may already"), "{}", error.message);
        assert_eq!(server.requests().len(), 1, "the request reached the server");
    }
}

#[tokio::test]
async fn an_anonymous_request_refused_for_a_token_is_reauth_with_fitting_words() {
    let refused =
        br#"{"data":{"error":"The access token provided is invalid.","request":"\/3\/image","method":"POST"},"success":false,"status":403}"#;
    let (_server, error) = upload_against(Behaviour::Body {
        status: 403,
        body: refused.to_vec(),
    })
    .await;
    assert_eq!(error.kind, ErrorKind::Reauth);
    assert!(error.message.contains("anonymous"), "{}", error.message);
    assert!(error.message.contains("Client ID"), "{}", error.message);
    assert!(!error.advice().contains("again"), "{}", error.advice());
    assert!(error.advice().contains("Client ID"), "{}", error.advice());

    // The same answer to a logged-in user: log in again.
    let server = hostile_server::start(Behaviour::Body {
        status: 403,
        body: refused.to_vec(),
    })
    .await;
    let client = client_for(&server, DEADLINE);
    let error = fails(client.upload(&Auth::bearer("expired"), &small_upload(), None)).await;
    assert_eq!(error.kind, ErrorKind::Reauth);
    assert_eq!(error.message, "The access token provided is invalid.");
    assert!(error.advice().contains("Log in to Imgur again"));
}

#[tokio::test]
async fn the_commercial_routes_rate_limit_headers_reach_the_snapshot() {
    let server = hostile_server::start(Behaviour::WithHeaders {
        headers: "X-RateLimit-Requests-Limit: 500\r\nX-RateLimit-Requests-Remaining: 0\r\n\
                  X-RateLimit-Requests-Reset: 3600\r\nX-RateLimit-Limit: 10\r\n\
                  X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 30\r\n"
            .to_owned(),
        body: good_upload_answer(),
    })
    .await;
    let client = client_for(&server, DEADLINE);
    let answer = client
        .upload(&Auth::client_id("commercial"), &small_upload(), None)
        .await
        .unwrap();
    let limits = answer.rate_limits;
    // The plan's quota is the application's budget on this route; a spent window holds.
    assert_eq!(limits.client_limit, Some(500));
    assert_eq!(limits.client_remaining, Some(0));
    assert_eq!(limits.client_reset, Some(limits.observed_at + 3600));
    assert_eq!(limits.retry_after, Some(limits.observed_at + 30));
    assert_eq!(limits.exhausted_until(), Some(limits.observed_at + 3600));
    // The key went with the request, under both names.
    let head = server.requests()[0].head.to_lowercase();
    assert!(head.contains("x-rapidapi-key: rapid-key-must-stay-home"));
    assert!(head.contains("x-mashape-key: rapid-key-must-stay-home"));
    assert_eq!(
        upshot_imgur::RAPIDAPI_BASE,
        "https://imgur-apiv3.p.rapidapi.com"
    );
}
