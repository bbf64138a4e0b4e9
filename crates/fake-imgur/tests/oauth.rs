//! The implicit grant, refresh, expiry and revocation, and what a logged-in user can do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{CLIENT_ID, CLIENT_SECRET, Fake, anon, answer, bearer, fragment_pairs};
use fake_imgur::{RegisteredApp, samples};

fn refresh_form<'a>(refresh: &'a str, secret: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("refresh_token", refresh),
        ("client_id", CLIENT_ID),
        ("client_secret", secret),
        ("grant_type", "refresh_token"),
    ]
}

#[tokio::test]
async fn the_authorize_page_is_a_form_and_bad_requests_get_error_pages() {
    let fake = Fake::start().await;
    let page = answer(
        fake.http
            .get(fake.url(&format!(
                "/oauth2/authorize?client_id={CLIENT_ID}&response_type=token&state=n%26once"
            )))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.content_type().starts_with("text/html"));
    assert!(
        page.text
            .contains(r#"<form method="post" action="/oauth2/authorize">"#)
    );
    assert!(
        page.text
            .contains(r#"name="username" value="sandbox-user""#)
    );
    assert!(page.text.contains(r#"value="allow""#) && page.text.contains(r#"value="deny""#));
    assert!(page.text.contains(r#"name="state" value="n&amp;once""#));

    for query in [
        "client_id=unknown&response_type=token",
        &format!("client_id={CLIENT_ID}&response_type=code"),
        &format!("client_id={CLIENT_ID}&response_type=pin"),
        "response_type=token",
    ] {
        let error = answer(
            fake.http
                .get(fake.url(&format!("/oauth2/authorize?{query}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(error.status, 400, "{query}");
        assert!(error.content_type().starts_with("text/html"), "{query}");
        assert!(!error.text.contains("<form"), "{query}");
    }
}

#[tokio::test]
async fn allow_redirects_with_tokens_and_deny_with_access_denied() {
    let fake = Fake::start().await;
    let location = fake.authorize("alice", "allow", "state 1&2").await;
    assert!(
        location.starts_with("upshot://oauth/callback#"),
        "{location}"
    );
    let pairs = fragment_pairs(&location);
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).unwrap().1.clone();
    let access = get("access_token");
    assert_eq!(access.len(), 40);
    assert!(access.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(get("expires_in"), "2419200");
    assert_eq!(get("token_type"), "bearer");
    assert_eq!(get("account_username"), "alice");
    assert_eq!(get("state"), "state 1&2");
    assert!(!get("refresh_token").is_empty());
    let account_id: u64 = get("account_id").parse().unwrap();

    let me = fake.get("/3/account/me", &bearer(&access)).await.data();
    assert_eq!(me["url"], "alice");
    assert_eq!(me["id"], account_id);
    assert_eq!(me["pro_expiration"], false);

    let denied = fake.authorize("alice", "deny", "s9").await;
    assert_eq!(
        denied,
        "upshot://oauth/callback#error=access_denied&state=s9"
    );
    let state = fake.controls().state();
    assert_eq!(
        state.accounts.len(),
        1,
        "accounts are created on first approval only"
    );
    assert_eq!(state.accounts[0].access_tokens.len(), 1);
}

#[tokio::test]
async fn each_application_redirects_to_its_own_callback() {
    let fake = Fake::start_with(|config| {
        let mut other = RegisteredApp::new("other-app", "other-secret");
        other.callback = "http://127.0.0.1:9/cb".to_owned();
        config.apps.push(other);
    })
    .await;
    let response = fake
        .http
        .post(fake.url("/oauth2/authorize"))
        .form(&[
            ("client_id", "other-app"),
            ("username", "dora"),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:9/cb#access_token="),
        "{location}"
    );
}

#[tokio::test]
async fn refresh_returns_a_new_access_token_and_the_same_refresh_token() {
    let fake = Fake::start().await;
    let tokens = fake.login("bob").await;
    let refreshed = fake
        .post_form(
            "/oauth2/token",
            "",
            &refresh_form(&tokens.refresh, CLIENT_SECRET),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let json = refreshed.json();
    assert!(
        json.get("data").is_none(),
        "the token answer has no envelope"
    );
    assert_ne!(json["access_token"], tokens.access.as_str());
    assert_eq!(json["refresh_token"], tokens.refresh.as_str());
    assert_eq!(json["token_type"], "bearer");
    assert_eq!(json["expires_in"], 2_419_200);
    assert_eq!(json["scope"], serde_json::Value::Null);
    assert_eq!(json["account_username"], "bob");
    assert_eq!(json["account_id"], tokens.account_id);
    let new_access = json["access_token"].as_str().unwrap();
    assert_eq!(
        fake.get("/3/account/me", &bearer(new_access)).await.status,
        200
    );
    assert_eq!(
        fake.get("/3/account/me", &bearer(&tokens.access))
            .await
            .status,
        200
    );

    // JSON bodies work too.
    let by_json = fake
        .http
        .post(fake.url("/oauth2/token"))
        .json(&serde_json::json!({
            "refresh_token": tokens.refresh, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "grant_type": "refresh_token"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(by_json.status(), 200);

    let wrong_secret = fake
        .post_form("/oauth2/token", "", &refresh_form(&tokens.refresh, "nope"))
        .await;
    assert_eq!(wrong_secret.shape_a(401), "Invalid client_secret");
    let wrong_token = fake
        .post_form(
            "/oauth2/token",
            "",
            &refresh_form("not-a-token", CLIENT_SECRET),
        )
        .await;
    assert_eq!(wrong_token.shape_a(400), "Invalid refresh token");
}

#[tokio::test]
async fn rotation_issues_a_new_refresh_token_and_retires_the_old() {
    let fake = Fake::start_with(|config| config.rotate_refresh_tokens = true).await;
    let tokens = fake.login("rita").await;
    let json = fake
        .post_form(
            "/oauth2/token",
            "",
            &refresh_form(&tokens.refresh, CLIENT_SECRET),
        )
        .await
        .json();
    let rotated = json["refresh_token"].as_str().unwrap();
    assert_ne!(rotated, tokens.refresh);
    let old = fake
        .post_form(
            "/oauth2/token",
            "",
            &refresh_form(&tokens.refresh, CLIENT_SECRET),
        )
        .await;
    assert_eq!(old.shape_a(400), "Invalid refresh token");
    let again = fake
        .post_form("/oauth2/token", "", &refresh_form(rotated, CLIENT_SECRET))
        .await;
    assert_eq!(again.status, 200);
}

#[tokio::test]
async fn expired_tokens_get_403_and_refresh_brings_them_back() {
    let fake = Fake::start_with(|config| config.token_lifetime = Duration::from_secs(3600)).await;
    let tokens = fake.login("carol").await;
    assert_eq!(tokens.expires_in, 3600);
    fake.controls().advance_clock(Duration::from_secs(3599));
    assert_eq!(
        fake.get("/3/account/me", &bearer(&tokens.access))
            .await
            .status,
        200
    );
    fake.controls().advance_clock(Duration::from_secs(2));
    let expired = fake.get("/3/account/me", &bearer(&tokens.access)).await;
    assert_eq!(
        expired.shape_a(403),
        "The access token provided is invalid."
    );
    let unknown = fake.get("/3/account/me", &bearer("0123456789abcdef")).await;
    assert_eq!(
        unknown.shape_a(403),
        "The access token provided is invalid."
    );

    let json = fake
        .post_form(
            "/oauth2/token",
            "",
            &refresh_form(&tokens.refresh, CLIENT_SECRET),
        )
        .await
        .json();
    let access = json["access_token"].as_str().unwrap();
    assert_eq!(fake.get("/3/account/me", &bearer(access)).await.status, 200);
}

#[tokio::test]
async fn revocation_of_a_refresh_token_and_of_an_account() {
    let fake = Fake::start().await;
    let tokens = fake.login("dave").await;
    let revoked: serde_json::Value = fake
        .http
        .post(fake.url("/_fake/revoke"))
        .body(format!(r#"{{"refresh_token": "{}"}}"#, tokens.refresh))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revoked["revoked"], 1);
    let refused = fake
        .post_form(
            "/oauth2/token",
            "",
            &refresh_form(&tokens.refresh, CLIENT_SECRET),
        )
        .await;
    assert_eq!(refused.shape_a(400), "Invalid refresh token");
    assert_eq!(
        fake.get("/3/account/me", &bearer(&tokens.access))
            .await
            .status,
        200,
        "issued access tokens live until they expire"
    );

    let second = fake.login("dave").await;
    // Both access tokens and the second refresh token (the first is already revoked).
    assert_eq!(fake.controls().revoke_account("dave"), 3);
    for access in [&second.access, &tokens.access] {
        assert_eq!(fake.get("/3/account/me", &bearer(access)).await.status, 403);
    }
    let refused = fake
        .post_form(
            "/oauth2/token",
            "",
            &refresh_form(&second.refresh, CLIENT_SECRET),
        )
        .await;
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn user_only_endpoints_refuse_a_client_id() {
    let fake = Fake::start().await;
    for path in [
        "/3/account/me",
        "/3/account/me/images",
        "/3/account/me/albums/0",
    ] {
        let answer = fake.get(path, &anon()).await;
        assert_eq!(answer.status, 403, "{path}");
        assert!(answer.shape_a(403).contains("Bearer"), "{path}");
    }
}

#[tokio::test]
async fn account_images_are_paged_newest_first_and_deletable_by_id() {
    let fake = Fake::start().await;
    let tokens = fake.login("erin").await;
    let user = bearer(&tokens.access);
    let mut ids = Vec::new();
    for seed in 0..5 {
        let data = fake
            .upload_as(
                &user,
                "image",
                samples::png(5, 5, seed),
                &[("name", "shot.png")],
            )
            .await
            .data();
        assert_eq!(data["account_url"], "erin");
        assert_eq!(data["account_id"], tokens.account_id);
        assert_eq!(data["name"], "shot.png");
        ids.push(data["id"].as_str().unwrap().to_owned());
        // A new second per upload, so "newest first" is well defined.
        fake.controls().advance_clock(Duration::from_secs(1));
    }
    let anonymous = fake.upload(samples::png(5, 5, 99)).await.data();

    let mut listed = Vec::new();
    for (page, expected) in [(0, 2), (1, 2), (2, 1), (3, 0)] {
        let data = fake
            .get(&format!("/3/account/me/images/{page}?perPage=2"), &user)
            .await
            .data();
        let images = data.as_array().unwrap();
        assert_eq!(images.len(), expected, "page {page}");
        listed.extend(images.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        assert!(
            images.iter().all(|i| i["deletehash"].is_string()),
            "the owner sees deletehashes"
        );
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(listed, newest_first);
    let all = fake.get("/3/account/erin/images", &user).await.data();
    assert_eq!(
        all.as_array().unwrap().len(),
        5,
        "default page size holds them all"
    );

    assert_eq!(
        fake.delete(&format!("/3/image/{}", ids[0]), &user)
            .await
            .data(),
        true
    );
    let not_mine = fake
        .delete(
            &format!("/3/image/{}", anonymous["id"].as_str().unwrap()),
            &user,
        )
        .await;
    assert_eq!(not_mine.status, 403);
    let remaining = fake
        .get("/3/account/me/images?perPage=100", &user)
        .await
        .data();
    assert_eq!(remaining.as_array().unwrap().len(), 4);
    let state = fake.controls().state();
    assert!(
        state
            .uploads
            .iter()
            .find(|u| u.id == ids[0])
            .unwrap()
            .deleted
    );
}
