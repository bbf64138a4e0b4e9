//! The client against the fake Imgur server over real HTTP, endpoint by endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CLIENT_ID, CLIENT_SECRET, Harness, sha256_hex};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use upshot_imgur::{
    AlbumImages, Auth, ErrorKind, MediaKind, NewAlbum, Secret, UploadProgress, UploadRequest,
};

#[tokio::test]
async fn upload_streams_the_file_reports_progress_and_arrives_intact() {
    let harness = Harness::start().await;
    let path = harness.png("shot.png", 300, 200);
    let events: Arc<Mutex<Vec<UploadProgress>>> = Arc::default();
    let sink = events.clone();
    let mut request = UploadRequest::file(&path, MediaKind::Image, "image/png");
    request.title = Some("A title".into());
    request.description = Some("A description".into());

    let response = harness
        .client
        .upload(
            &harness.anonymous(),
            &request,
            Some(Arc::new(move |progress| {
                sink.lock().unwrap().push(progress)
            })),
        )
        .await
        .expect("upload succeeds");

    let image = response.data;
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(image.id.len(), 7);
    assert_eq!(image.deletehash.as_deref().map(str::len), Some(15));
    assert_eq!(image.mime_type, "image/png");
    assert_eq!((image.width, image.height), (300, 200));
    assert_eq!(image.size, size);
    assert_eq!(image.title.as_deref(), Some("A title"));
    assert!(image.account_id.unwrap_or(0) == 0, "anonymous upload");

    let events = events.lock().unwrap().clone();
    assert_eq!(events.last().map(|p| (p.sent, p.total)), Some((size, size)));
    assert!(events.windows(2).all(|pair| pair[0].sent <= pair[1].sent));

    // The snapshot shows the 10 credits an upload costs.
    let limits = &response.rate_limits;
    assert_eq!(limits.client_limit, Some(12_500));
    assert_eq!(limits.client_remaining, Some(12_490));
    assert!(limits.user_remaining.is_some() && limits.user_reset.is_some());
    assert!(limits.post_remaining.is_some() && limits.post_reset.is_some());

    // What reached the server is byte for byte the file, and the link serves it back.
    let state = harness.server.controls().state();
    let stored = state.uploads.iter().find(|u| u.id == image.id).unwrap();
    assert_eq!(stored.sha256, sha256_hex(&path));
    assert_eq!(stored.client_id, CLIENT_ID);
    assert!(stored.account.is_none());
    let served = reqwest::get(&image.link)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(served.as_ref(), std::fs::read(&path).unwrap().as_slice());
}

#[tokio::test]
async fn video_goes_in_the_video_field() {
    let harness = Harness::start().await;
    let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    mp4.resize(64 * 1024, 7);
    let path = harness.file("clip.mp4", &mp4);
    let image = harness
        .client
        .upload(
            &harness.anonymous(),
            &UploadRequest::file(&path, MediaKind::Video, "video/mp4"),
            None,
        )
        .await
        .unwrap()
        .data;
    assert_eq!(image.mime_type, "video/mp4");
    assert!(image.link.ends_with(".mp4"));
}

#[tokio::test]
async fn url_upload_fetches_the_url() {
    let harness = Harness::start().await;
    let path = harness.png("source.png", 20, 10);
    let first = harness
        .client
        .upload(
            &harness.anonymous(),
            &UploadRequest::file(&path, MediaKind::Image, "image/png"),
            None,
        )
        .await
        .unwrap()
        .data;
    let from_url = harness
        .client
        .upload(
            &harness.anonymous(),
            &UploadRequest::url(first.link.parse().unwrap()),
            None,
        )
        .await
        .unwrap()
        .data;
    assert_ne!(from_url.id, first.id);
    let state = harness.server.controls().state();
    let hashes: Vec<&str> = state.uploads.iter().map(|u| u.sha256.as_str()).collect();
    assert_eq!(hashes, vec![sha256_hex(&path); 2]);
}

#[tokio::test]
async fn get_and_delete_by_deletehash() {
    let harness = Harness::start().await;
    let anon = harness.anonymous();
    let path = harness.png("gone.png", 8, 8);
    let image = harness
        .client
        .upload(
            &anon,
            &UploadRequest::file(&path, MediaKind::Image, "image/png"),
            None,
        )
        .await
        .unwrap()
        .data;
    let fetched = harness.client.image(&anon, &image.id).await.unwrap().data;
    assert_eq!(fetched.id, image.id);

    let deleted = harness
        .client
        .delete_image(&anon, image.deletehash.as_deref().unwrap())
        .await
        .unwrap();
    assert!(deleted.data);
    assert!(harness.server.controls().state().uploads[0].deleted);

    let again = harness.client.image(&anon, &image.id).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::Permanent);
    assert_eq!(again.status, Some(404));
    assert!(again.message.contains(&image.id), "{}", again.message);
    assert!(
        again.rate_limits.client_remaining.is_some(),
        "errors carry headers too"
    );
}

#[tokio::test]
async fn anonymous_albums_by_deletehash() {
    let harness = Harness::start().await;
    let anon = harness.anonymous();
    let mut hashes = Vec::new();
    let mut ids = Vec::new();
    for name in ["a.png", "b.png", "c.png"] {
        let path = harness.png(name, 4, 4);
        let image = harness
            .client
            .upload(
                &anon,
                &UploadRequest::file(&path, MediaKind::Image, "image/png"),
                None,
            )
            .await
            .unwrap()
            .data;
        hashes.push(image.deletehash.unwrap());
        ids.push(image.id);
    }
    let album = harness
        .client
        .create_album(
            &anon,
            &NewAlbum {
                title: Some("Holiday".into()),
                images: Some(AlbumImages::DeleteHashes(hashes[..2].to_vec())),
                ..NewAlbum::default()
            },
        )
        .await
        .unwrap()
        .data;
    let album_hash = album
        .deletehash
        .clone()
        .expect("anonymous albums have a deletehash");
    harness
        .client
        .add_to_album(
            &anon,
            &album_hash,
            &AlbumImages::DeleteHashes(vec![hashes[2].clone()]),
        )
        .await
        .unwrap();
    let fetched = harness.client.album(&anon, &album.id).await.unwrap().data;
    assert_eq!(fetched.title.as_deref(), Some("Holiday"));
    let mut got: Vec<String> = fetched.images.iter().map(|i| i.id.clone()).collect();
    got.sort();
    ids.sort();
    assert_eq!(got, ids);
}

#[tokio::test]
async fn logged_in_account_images_albums_and_delete_by_id() {
    let harness = Harness::start().await;
    let tokens = harness.login("alice").await;
    let user = tokens.auth();

    let me = harness.client.account_me(&user).await.unwrap().data;
    assert_eq!(me.url, "alice");

    let mut ids = Vec::new();
    for index in 0..5 {
        let path = harness.png(&format!("u{index}.png"), 5, 5);
        let image = harness
            .client
            .upload(
                &user,
                &UploadRequest::file(&path, MediaKind::Image, "image/png"),
                None,
            )
            .await
            .unwrap()
            .data;
        assert_eq!(image.account_url.as_deref(), Some("alice"));
        ids.push(image.id);
    }
    let state = harness.server.controls().state();
    assert!(
        state
            .uploads
            .iter()
            .all(|u| u.account.as_deref() == Some("alice"))
    );

    let first = harness
        .client
        .account_images(&user, 0, 2)
        .await
        .unwrap()
        .data;
    let second = harness
        .client
        .account_images(&user, 1, 2)
        .await
        .unwrap()
        .data;
    let third = harness
        .client
        .account_images(&user, 2, 2)
        .await
        .unwrap()
        .data;
    assert_eq!((first.len(), second.len(), third.len()), (2, 2, 1));
    let mut listed: Vec<String> = [first, second, third]
        .concat()
        .into_iter()
        .map(|i| i.id)
        .collect();
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected, "paging covers every image once");

    let album = harness
        .client
        .create_album(
            &user,
            &NewAlbum {
                title: Some("Mine".into()),
                images: Some(AlbumImages::Ids(ids[..2].to_vec())),
                ..NewAlbum::default()
            },
        )
        .await
        .unwrap()
        .data;
    harness
        .client
        .add_to_album(&user, &album.id, &AlbumImages::Ids(vec![ids[2].clone()]))
        .await
        .unwrap();
    assert_eq!(
        harness
            .client
            .album(&user, &album.id)
            .await
            .unwrap()
            .data
            .images
            .len(),
        3
    );
    let albums = harness.client.account_albums(&user, 0).await.unwrap().data;
    assert!(albums.iter().any(|a| a.id == album.id));

    assert!(
        harness
            .client
            .delete_image(&user, &ids[0])
            .await
            .unwrap()
            .data
    );
    let remaining = harness
        .client
        .account_images(&user, 0, 100)
        .await
        .unwrap()
        .data;
    assert_eq!(remaining.len(), 4);
}

#[tokio::test]
async fn credits_and_token_refresh() {
    let harness = Harness::start().await;
    let credits = harness
        .client
        .credits(&harness.anonymous())
        .await
        .unwrap()
        .data;
    assert_eq!(credits.client_limit, 12_500);
    assert!(credits.user_remaining > 0 && credits.user_reset > 0);

    let tokens = harness.login("bob").await;
    let grant = harness
        .client
        .refresh_token(CLIENT_ID, &Secret::new(CLIENT_SECRET), &tokens.refresh)
        .await
        .unwrap()
        .data;
    assert_ne!(grant.access_token, tokens.access);
    assert!(grant.expires_in > 0);
    assert_eq!(grant.account_username.as_deref(), Some("bob"));
    let me = harness
        .client
        .account_me(&Auth::bearer(grant.access_token.clone()))
        .await
        .unwrap();
    assert_eq!(me.data.url, "bob");

    let wrong = harness
        .client
        .refresh_token(
            CLIENT_ID,
            &Secret::new(CLIENT_SECRET),
            &Secret::new("not-a-token"),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::Reauth);
    assert!(
        wrong.message.contains("Invalid refresh token"),
        "{}",
        wrong.message
    );
}

#[tokio::test]
async fn an_expired_token_asks_for_reauth() {
    let harness = Harness::start().await;
    let tokens = harness.login("carol").await;
    harness.client.account_me(&tokens.auth()).await.unwrap();
    harness
        .server
        .controls()
        .advance_clock(Duration::from_secs(2_419_200 + 60));
    let error = harness.client.account_me(&tokens.auth()).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Reauth);
    assert_eq!(error.status, Some(403));
    assert_eq!(error.message, "The access token provided is invalid.");
    assert!(!error.message.contains(tokens.access.expose()));
}

#[tokio::test]
async fn unknown_client_id_and_refused_files_are_permanent() {
    let harness = Harness::start_with(|config| config.limits.max_image_bytes = 1024).await;
    let stranger = Auth::client_id("nobody-registered-this");
    let path = harness.png("x.png", 4, 4);
    let request = UploadRequest::file(&path, MediaKind::Image, "image/png");
    let error = harness
        .client
        .upload(&stranger, &request, None)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Permanent);
    assert_eq!(error.status, Some(403));
    assert!(error.message.contains("Invalid client_id"));

    let text = harness.file("notes.png", b"just some text, not an image at all");
    let error = harness
        .client
        .upload(
            &harness.anonymous(),
            &UploadRequest::file(&text, MediaKind::Image, "image/png"),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Permanent);
    assert_eq!(error.code, Some(1003));

    let big = harness.png("big.png", 200, 200);
    let error = harness
        .client
        .upload(
            &harness.anonymous(),
            &UploadRequest::file(&big, MediaKind::Image, "image/png"),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Permanent, "{error:?}");
    assert!(harness.server.controls().state().uploads.is_empty());
}

#[tokio::test]
async fn a_missing_local_file_fails_before_any_request() {
    let harness = Harness::start().await;
    let request = UploadRequest::file(
        harness.dir.path().join("nope.png"),
        MediaKind::Image,
        "image/png",
    );
    let error = harness
        .client
        .upload(&harness.anonymous(), &request, None)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Permanent);
    assert_eq!(error.status, None);
    assert!(error.message.contains("nope.png"));
    let state = harness.server.controls().state();
    assert_eq!(
        state
            .clients
            .get(CLIENT_ID)
            .map(|c| c.requests)
            .unwrap_or(0),
        0
    );
}
