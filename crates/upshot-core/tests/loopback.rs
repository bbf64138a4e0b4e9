//! The loopback login listener over real HTTP: the callback page sends the fragment back, the
//! listener hands the callback to the parser once, and a non-loopback callback is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;
use upshot_core::auth::loopback::{LoopbackError, LoopbackListener};
use upshot_core::auth::parse_callback;
use url::Url;

const PARAMS: &str =
    "access_token=tok1&refresh_token=ref1&expires_in=60&account_username=dave&state=st8";

#[tokio::test]
async fn the_fragment_comes_back_through_the_page_and_is_delivered_once() {
    let listener = LoopbackListener::bind(&Url::parse("http://127.0.0.1:0/cb").unwrap())
        .await
        .unwrap();
    let callback = listener.callback().clone();
    assert_ne!(callback.port(), Some(0));
    let receiving = tokio::spawn(listener.receive(Duration::from_secs(20)));

    // The browser lands on the page (the fragment stays in the browser) ...
    let page = reqwest::get(callback.clone())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("location.hash"), "{page}");
    assert!(page.contains("/cb/complete"), "{page}");
    // ... whose script sends the fragment back as a query.
    let done = reqwest::get(format!("{callback}/complete?{PARAMS}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("close this tab"), "{done}");

    let received = receiving.await.unwrap().unwrap();
    let parsed = parse_callback(&received, &[callback]).unwrap();
    assert_eq!(parsed.state, "st8");
    assert_eq!(parsed.grant.account_username, "dave");
}

#[tokio::test]
async fn tokens_in_the_query_are_delivered_directly() {
    let listener = LoopbackListener::bind(&Url::parse("http://127.0.0.1:0/oauth").unwrap())
        .await
        .unwrap();
    let callback = listener.callback().clone();
    let receiving = tokio::spawn(listener.receive(Duration::from_secs(20)));
    let done = reqwest::get(format!("{callback}?{PARAMS}")).await.unwrap();
    assert!(done.status().is_success());
    let received = receiving.await.unwrap().unwrap();
    assert_eq!(parse_callback(&received, &[callback]).unwrap().state, "st8");
}

#[tokio::test]
async fn nothing_coming_back_times_out_and_other_hosts_are_refused() {
    let listener = LoopbackListener::bind(&Url::parse("http://127.0.0.1:0/cb").unwrap())
        .await
        .unwrap();
    assert!(matches!(
        listener.receive(Duration::from_millis(200)).await,
        Err(LoopbackError::TimedOut(_))
    ));
    for callback in [
        "upshot://oauth/callback",
        "http://example.com:8000/cb",
        "https://127.0.0.1/cb",
    ] {
        assert!(
            matches!(
                LoopbackListener::bind(&Url::parse(callback).unwrap()).await,
                Err(LoopbackError::NotLoopback(_))
            ),
            "{callback}"
        );
    }
}
