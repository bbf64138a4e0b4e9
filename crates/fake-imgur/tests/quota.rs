//! Credits, POST limits, their headers and windows on the virtual clock, and the two JSON styles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::{CLIENT_ID, Fake, anon};
use fake_imgur::{JsonStyle, samples};

fn now(fake: &Fake) -> u64 {
    fake.controls()
        .now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn the_daily_client_budget_counts_down_refuses_and_resets_at_midnight() {
    let fake = Fake::start_with(|config| config.limits.client_credits_per_day = 25).await;
    let first = fake.upload(samples::png(3, 3, 0)).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-clientremaining"), Some(15));
    assert_eq!(first.header("x-ratelimit-clientlimit"), Some(25));
    let reset = first.header("x-ratelimit-clientreset").unwrap();
    assert_eq!(
        reset,
        86_400 - now(&fake) % 86_400,
        "seconds to UTC midnight"
    );
    let second = fake.upload(samples::png(3, 3, 1)).await;
    assert_eq!(second.header("x-ratelimit-clientremaining"), Some(5));

    let refused = fake.upload(samples::png(3, 3, 2)).await;
    assert_eq!(refused.shape_a(429), "Too Many Requests");
    assert_eq!(
        refused.header("x-ratelimit-clientremaining"),
        Some(5),
        "refusals cost nothing"
    );
    // A cheaper call still fits in what is left.
    let credits = fake.get("/3/credits", &anon()).await;
    assert_eq!(credits.data()["ClientRemaining"], 4);
    let usage = &fake.controls().state().clients[CLIENT_ID];
    assert_eq!(usage.rate_limited, 1);
    assert_eq!(usage.daily_limit_hits, 1);
    assert_eq!(usage.credits_spent_today, 21);
    assert_eq!(usage.uploads, 2);

    fake.controls().advance_clock(Duration::from_secs(86_400));
    let next_day = fake.upload(samples::png(3, 3, 3)).await;
    assert_eq!(next_day.status, 200);
    assert_eq!(next_day.header("x-ratelimit-clientremaining"), Some(15));
}

#[tokio::test]
async fn the_hourly_user_budget_and_its_epoch_reset() {
    let fake = Fake::start_with(|config| config.limits.user_credits_per_hour = 3).await;
    for remaining in [2, 1, 0] {
        let answer = fake.get("/3/credits", &anon()).await;
        assert_eq!(answer.header("x-ratelimit-userremaining"), Some(remaining));
        assert_eq!(answer.data()["UserRemaining"], remaining);
        let reset = answer.header("x-ratelimit-userreset").unwrap();
        let now = now(&fake);
        assert!(
            reset > now && reset <= now + 3600 && reset % 3600 == 0,
            "{reset}"
        );
        assert!(
            answer.headers.get("x-post-rate-limit-limit").is_none(),
            "GET"
        );
    }
    let refused = fake.get("/3/credits", &anon()).await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        fake.controls().state().clients[CLIENT_ID].daily_limit_hits,
        0
    );

    // Over HTTP this time.
    let clock: serde_json::Value = fake
        .http
        .post(fake.url("/_fake/clock"))
        .body(r#"{"advance_secs": 3600}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(clock["now"].as_u64().unwrap() >= now(&fake) - 1);
    assert_eq!(fake.get("/3/credits", &anon()).await.status, 200);
}

#[tokio::test]
async fn posts_per_hour_are_limited_per_ip() {
    let fake = Fake::start_with(|config| config.limits.posts_per_hour = 2).await;
    for remaining in [1, 0] {
        let answer = fake.post_form("/3/album", &anon(), &[("title", "t")]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(
            answer.header("x-post-rate-limit-remaining"),
            Some(remaining)
        );
        assert_eq!(answer.header("x-post-rate-limit-limit"), Some(2));
        assert!(answer.header("x-post-rate-limit-reset").unwrap() <= 3600);
    }
    let refused = fake.post_form("/3/album", &anon(), &[("title", "t")]).await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        fake.get("/3/credits", &anon()).await.status,
        200,
        "GETs still pass"
    );
    assert_eq!(
        fake.controls().state().clients[CLIENT_ID].posts_this_hour,
        2
    );
}

#[tokio::test]
async fn errors_and_oauth_answers_carry_the_headers() {
    let fake = Fake::start().await;
    let missing = fake.get("/3/image/nothing", &anon()).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("x-ratelimit-clientremaining"), Some(12_499));
    let unauthenticated = fake.get("/3/credits", "").await;
    assert!(unauthenticated.header("x-ratelimit-clientlimit").is_some());
    let token = fake
        .post_form(
            "/oauth2/token",
            "",
            &[
                ("client_id", CLIENT_ID),
                ("client_secret", "x"),
                ("grant_type", "refresh_token"),
            ],
        )
        .await;
    assert_eq!(token.status, 401);
    assert_eq!(
        token.header("x-ratelimit-clientremaining"),
        Some(12_499),
        "OAuth is free"
    );
    assert!(token.header("x-post-rate-limit-remaining").is_some());
}

#[tokio::test]
async fn alternate_style_switches_serializers_request_by_request() {
    let fake = Fake::start().await;
    let mut legacy = 0;
    let mut modern = 0;
    for seed in 0..4 {
        let answer = fake.upload(samples::png(2, 2, seed)).await;
        if answer.text.starts_with(r#"{"data":"#) {
            assert!(
                answer.text.contains(r#""type":"image\/png""#),
                "{}",
                answer.text
            );
            assert!(answer.text.ends_with(r#""success":true,"status":200}"#));
            legacy += 1;
        } else {
            assert!(
                answer
                    .text
                    .starts_with(r#"{"status":200,"success":true,"data":"#)
            );
            assert!(
                answer.text.contains(r#""type":"image/png""#),
                "{}",
                answer.text
            );
            modern += 1;
        }
    }
    assert_eq!((legacy, modern), (2, 2));
}

#[tokio::test]
async fn fixed_styles_stay_fixed() {
    for (style, prefix) in [
        (JsonStyle::Legacy, r#"{"data":"#),
        (JsonStyle::Modern, r#"{"status":"#),
    ] {
        let fake = Fake::start_with(|config| config.json_style = style).await;
        for _ in 0..3 {
            let answer = fake.get("/3/image/nothing", &anon()).await;
            assert!(
                answer.text.starts_with(prefix),
                "{style:?}: {}",
                answer.text
            );
        }
    }
}

#[tokio::test]
async fn another_install_spends_the_shared_daily_budget_but_not_our_hourly_one() {
    let fake = Fake::start_with(|config| config.limits.client_credits_per_day = 100).await;
    assert_eq!(
        fake.controls().spend_client_credits(CLIENT_ID, 60),
        Some(true)
    );
    assert_eq!(fake.controls().spend_client_credits("nobody", 1), None);
    let ours = fake.upload(samples::png(2, 2, 0)).await;
    assert_eq!(ours.status, 200);
    assert_eq!(
        ours.header("x-ratelimit-clientremaining"),
        Some(30),
        "the other install's spend shows in the shared daily budget"
    );
    assert_eq!(
        ours.header("x-ratelimit-userremaining"),
        Some(1_990),
        "but not in our IP's hourly budget"
    );

    // Over HTTP: more than is left is refused, costs nothing and counts as a daily-limit hit.
    let refused: serde_json::Value = fake
        .http
        .post(fake.url("/_fake/spend"))
        .body(format!(r#"{{"client_id": "{CLIENT_ID}", "credits": 31}}"#))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refused["charged"], false);
    assert_eq!(refused["client_remaining"], 30);
    let usage = &fake.controls().state().clients[CLIENT_ID];
    assert_eq!(usage.daily_limit_hits, 1);
    assert_eq!(usage.credits_spent_today, 70);
    let unknown = fake
        .http
        .post(fake.url("/_fake/spend"))
        .body(r#"{"client_id": "nobody", "credits": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
}
