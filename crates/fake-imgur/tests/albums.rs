//! Anonymous albums (by deletehash) and account albums (by id).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fake, anon, answer, bearer};
use fake_imgur::samples;

/// Uploads `count` images with `auth`; answers (id, deletehash) pairs.
async fn images(fake: &Fake, auth: &str, count: u8) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for seed in 0..count {
        let data = fake
            .upload_as(auth, "image", samples::png(4, 4, seed), &[])
            .await
            .data();
        out.push((
            data["id"].as_str().unwrap().to_owned(),
            data["deletehash"].as_str().unwrap().to_owned(),
        ));
    }
    out
}

#[tokio::test]
async fn anonymous_albums_work_through_deletehashes() {
    let fake = Fake::start().await;
    let images = images(&fake, &anon(), 4).await;
    let created = fake
        .post_form(
            "/3/album",
            &anon(),
            &[
                ("deletehashes[]", &images[0].1),
                ("deletehashes[]", &images[1].1),
                ("title", "Holiday"),
                ("description", "Sun"),
            ],
        )
        .await
        .data();
    let id = created["id"].as_str().unwrap().to_owned();
    let deletehash = created["deletehash"].as_str().unwrap().to_owned();
    assert_eq!((id.len(), deletehash.len()), (7, 15));

    // Comma lists are accepted too.
    let added = fake
        .post_form(
            &format!("/3/album/{deletehash}/add"),
            &anon(),
            &[("deletehashes", &images[2].1)],
        )
        .await;
    assert_eq!(added.data(), true);
    // So is uploading straight into the album with its deletehash.
    let into = fake
        .upload_as(
            &anon(),
            "image",
            samples::png(4, 4, 50),
            &[("album", &deletehash)],
        )
        .await
        .data();

    let album = fake.get(&format!("/3/album/{id}"), &anon()).await.data();
    assert_eq!(album["title"], "Holiday");
    assert_eq!(album["description"], "Sun");
    assert_eq!(album["images_count"], 4);
    assert_eq!(album["link"], fake.url(&format!("/a/{id}")));
    assert_eq!(album["cover"], images[0].0.as_str());
    assert_eq!(album["account_url"], serde_json::Value::Null);
    assert!(album.get("deletehash").is_none());
    let listed: Vec<&str> = album["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![
            images[0].0.as_str(),
            images[1].0.as_str(),
            images[2].0.as_str(),
            into["id"].as_str().unwrap()
        ]
    );
    let only_images = fake
        .get(&format!("/3/album/{id}/images"), &anon())
        .await
        .data();
    assert_eq!(only_images.as_array().unwrap().len(), 4);
    let state = fake.controls().state();
    assert_eq!(state.albums[0].images.len(), 4);
    assert_eq!(state.uploads[0].album.as_deref(), Some(id.as_str()));

    let page = answer(
        fake.http
            .get(fake.url(&format!("/a/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&format!("{}.png", images[2].0)));

    // The album id is not enough for an anonymous caller, nor are image ids.
    let by_id = fake
        .post_form(
            &format!("/3/album/{id}/add"),
            &anon(),
            &[("deletehashes[]", &images[3].1)],
        )
        .await;
    assert!(
        by_id
            .shape_a(400)
            .starts_with(&format!("You are not the owner of album '{id}'"))
    );
    let with_ids = fake
        .post_form(
            &format!("/3/album/{deletehash}/add"),
            &anon(),
            &[("ids[]", &images[3].0)],
        )
        .await;
    assert!(
        with_ids
            .shape_a(403)
            .starts_with("You must own all the image ids")
    );
    let upload_by_id = fake
        .upload_as(&anon(), "image", samples::png(4, 4, 51), &[("album", &id)])
        .await;
    assert_eq!(upload_by_id.status, 400);
    let unknown = fake.get("/3/album/zzzzzzz", &anon()).await;
    assert_eq!(
        unknown.shape_a(404),
        "Unable to find an album with the id, zzzzzzz"
    );

    // A deleted image leaves the album.
    fake.delete(&format!("/3/image/{}", images[1].1), &anon())
        .await;
    let album = fake.get(&format!("/3/album/{id}"), &anon()).await.data();
    assert_eq!(album["images_count"], 3);
}

#[tokio::test]
async fn account_albums_work_through_ids() {
    let fake = Fake::start().await;
    let tokens = fake.login("frank").await;
    let user = bearer(&tokens.access);
    let mine = images(&fake, &user, 3).await;
    let theirs = images(&fake, &anon(), 1).await;

    // Multipart form this time.
    let form = reqwest::multipart::Form::new()
        .text("ids[]", mine[0].0.clone())
        .text("ids[]", mine[1].0.clone())
        .text("title", "Mine")
        .text("cover", mine[1].0.clone());
    let created = answer(
        fake.http
            .post(fake.url("/3/album"))
            .header("Authorization", &user)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await
    .data();
    let id = created["id"].as_str().unwrap().to_owned();

    let added = fake
        .post_form(
            &format!("/3/album/{id}/add"),
            &user,
            &[("ids[]", &mine[2].0)],
        )
        .await;
    assert_eq!(added.data(), true);
    let foreign = fake
        .post_form(
            &format!("/3/album/{id}/add"),
            &user,
            &[("ids[]", &theirs[0].0)],
        )
        .await;
    assert_eq!(foreign.status, 403);
    // A deletehash grants access to anyone's image.
    let by_hash = fake
        .post_form(
            &format!("/3/album/{id}/add"),
            &user,
            &[("deletehashes[]", &theirs[0].1)],
        )
        .await;
    assert_eq!(by_hash.status, 200);
    let uploaded = fake
        .upload_as(&user, "image", samples::png(4, 4, 77), &[("album", &id)])
        .await;
    assert_eq!(uploaded.status, 200);

    let album = fake.get(&format!("/3/album/{id}"), &user).await.data();
    assert_eq!(album["images_count"], 5);
    assert_eq!(album["account_url"], "frank");
    assert_eq!(album["account_id"], tokens.account_id);
    assert_eq!(album["cover"], mine[1].0.as_str());
    assert!(album["deletehash"].is_string(), "the owner sees it");

    let listed = fake.get("/3/account/me/albums", &user).await.data();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["images_count"], 5);
    assert!(
        fake.get("/3/account/me/albums/1", &user)
            .await
            .data()
            .as_array()
            .unwrap()
            .is_empty()
    );

    let stranger = fake.login("gina").await;
    let not_theirs = fake
        .post_form(
            &format!("/3/album/{id}/add"),
            &bearer(&stranger.access),
            &[("ids[]", &mine[0].0)],
        )
        .await;
    assert_eq!(not_theirs.status, 400);

    assert_eq!(
        fake.delete(&format!("/3/album/{id}"), &user).await.data(),
        true
    );
    assert_eq!(fake.get(&format!("/3/album/{id}"), &user).await.status, 404);
    assert!(
        fake.get("/3/account/me/albums", &user)
            .await
            .data()
            .as_array()
            .unwrap()
            .is_empty()
    );
}
