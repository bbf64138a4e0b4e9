//! Uploads in every encoding, type detection, refusals, serving and deletion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::{CLIENT_ID, Fake, anon, answer, sha256_hex};
use fake_imgur::samples;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn is_alnum(text: &str, len: usize) -> bool {
    text.len() == len && text.chars().all(|c| c.is_ascii_alphanumeric())
}

#[tokio::test]
async fn curl_multipart_upload_is_stored_intact_and_the_link_serves_it() {
    let fake = Fake::start().await;
    let png = samples::png(300, 200, 9);
    let path = fake.write("shot.png", &png);
    let body = fake
        .curl(&[
            "-H",
            &format!("Authorization: Client-ID {CLIENT_ID}"),
            "-F",
            &format!("image=@{}", path.display()),
            "-F",
            "title=Hello",
            "-F",
            "name=ignored-for-anonymous.png",
            &fake.url("/3/image"),
        ])
        .await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["success"], true, "{body}");
    let data = &json["data"];
    let id = data["id"].as_str().unwrap();
    assert!(is_alnum(id, 7), "{id}");
    assert!(is_alnum(data["deletehash"].as_str().unwrap(), 15));
    assert_eq!(data["type"], "image/png");
    assert_eq!(
        (data["width"].as_u64(), data["height"].as_u64()),
        (Some(300), Some(200))
    );
    assert_eq!(data["size"].as_u64(), Some(png.len() as u64));
    assert_eq!(data["title"], "Hello");
    assert_eq!(data["name"], "", "anonymous uploads have no name");
    assert_eq!(data["account_id"], serde_json::Value::Null);
    assert_eq!(data["animated"], false);
    assert_eq!(data["mp4"], "");
    assert_eq!(data["edited"], "0");
    assert_eq!(data["tags"], serde_json::json!([]));
    let link = data["link"].as_str().unwrap();
    assert_eq!(link, fake.url(&format!("/{id}.png")));

    let state = fake.controls().state();
    let stored = &state.uploads[0];
    assert_eq!(stored.sha256, sha256_hex(&png));
    assert_eq!(stored.client_id, CLIENT_ID);
    assert_eq!(state.clients[CLIENT_ID].uploads, 1);

    for served_path in [
        format!("/{id}.png"),
        format!("/{id}s.jpg"),
        format!("/{id}.gif"),
    ] {
        let response = fake.http.get(fake.url(&served_path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{served_path}");
        assert_eq!(response.headers()["content-type"], "image/png");
        assert!(
            response.headers().get("x-ratelimit-clientlimit").is_none(),
            "the CDN is free"
        );
        let bytes = response.bytes().await.unwrap();
        assert_eq!(sha256_hex(&bytes), stored.sha256, "{served_path}");
    }
    let page = answer(
        fake.http
            .get(fake.url(&format!("/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.text.contains(&format!("{id}.png")));
}

#[tokio::test]
async fn the_upload_alias_and_the_video_field_work() {
    let fake = Fake::start().await;
    let mp4 = samples::mp4(64 * 1024);
    let form = reqwest::multipart::Form::new().part(
        "video",
        reqwest::multipart::Part::bytes(mp4.clone()).file_name("clip.mp4"),
    );
    let response = fake
        .http
        .post(fake.url("/3/upload"))
        .header("Authorization", anon())
        .multipart(form)
        .send()
        .await
        .unwrap();
    let data = answer(response).await.data();
    let id = data["id"].as_str().unwrap();
    assert_eq!(data["type"], "video/mp4");
    assert_eq!(data["animated"], true);
    assert_eq!(data["link"], fake.url(&format!("/{id}.mp4")));
    assert_eq!(data["mp4"], fake.url(&format!("/{id}.mp4")));
    assert_eq!(fake.controls().state().uploads[0].sha256, sha256_hex(&mp4));
}

#[tokio::test]
async fn types_come_from_the_bytes_not_the_name() {
    let fake = Fake::start().await;
    let cases = [
        (samples::jpeg(640, 480), "image/jpeg", "jpg", false),
        (samples::gif(1), "image/gif", "gif", false),
        (samples::gif(3), "image/gif", "gif", true),
        (samples::apng(3, 3), "image/png", "png", true),
    ];
    for (bytes, mime, ext, animated) in cases {
        // Every part is called upload.bin: only the bytes can tell.
        let data = fake.upload(bytes).await.data();
        assert_eq!(data["type"], mime);
        assert_eq!(data["animated"], animated, "{mime}");
        assert!(data["link"].as_str().unwrap().ends_with(&format!(".{ext}")));
    }
    let mut webm = b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\x82\x84webm".to_vec();
    webm.resize(4096, 0);
    let data = fake.upload_as(&anon(), "video", webm, &[]).await.data();
    assert_eq!(data["type"], "video/webm");
    assert!(data["link"].as_str().unwrap().ends_with(".webm"));
}

#[tokio::test]
async fn urlencoded_base64_with_and_without_type() {
    let fake = Fake::start().await;
    let png = samples::png(40, 30, 1);
    let encoded = B64.encode(&png);
    let with_type = fake
        .post_form(
            "/3/image",
            &anon(),
            &[
                ("type", "base64"),
                ("image", &encoded),
                ("title", "a/b + c"),
            ],
        )
        .await
        .data();
    assert_eq!(with_type["title"], "a/b + c");
    assert_eq!(
        (with_type["width"].as_u64(), with_type["height"].as_u64()),
        (Some(40), Some(30))
    );
    // No type: not a URL, so base64. Fields may also come after the image.
    let without_type = fake
        .post_form(
            "/3/image",
            &anon(),
            &[("image", &encoded), ("description", "d")],
        )
        .await
        .data();
    assert_eq!(without_type["description"], "d");
    let state = fake.controls().state();
    assert_eq!(state.uploads.len(), 2);
    assert!(state.uploads.iter().all(|u| u.sha256 == sha256_hex(&png)));
}

#[tokio::test]
async fn multipart_text_parts_carry_base64() {
    let fake = Fake::start().await;
    let gif = samples::gif(2);
    let form = reqwest::multipart::Form::new()
        .text("type", "base64")
        .text("image", B64.encode(&gif));
    let response = fake
        .http
        .post(fake.url("/3/image"))
        .header("Authorization", anon())
        .multipart(form)
        .send()
        .await
        .unwrap();
    let data = answer(response).await.data();
    assert_eq!(data["type"], "image/gif");
    assert_eq!(fake.controls().state().uploads[0].sha256, sha256_hex(&gif));
}

#[tokio::test]
async fn multipart_parts_without_a_filename_are_judged_by_their_content() {
    let fake = Fake::start().await;
    let png = samples::png(6, 6, 5);
    let send = |form: reqwest::multipart::Form| {
        fake.http
            .post(fake.url("/3/image"))
            .header("Authorization", anon())
            .multipart(form)
            .send()
    };
    // Raw bytes with neither a filename nor a type field: a file.
    let raw =
        reqwest::multipart::Form::new().part("image", reqwest::multipart::Part::bytes(png.clone()));
    let first = answer(send(raw).await.unwrap()).await.data();
    // A bare text part holding a URL, without a type field: fetched.
    let url =
        reqwest::multipart::Form::new().text("image", first["link"].as_str().unwrap().to_owned());
    answer(send(url).await.unwrap()).await.data();
    // A text part followed by `type=base64` is decoded.
    let declared = reqwest::multipart::Form::new()
        .part(
            "image",
            reqwest::multipart::Part::text(B64.encode(&png))
                .mime_str("text/plain")
                .unwrap(),
        )
        .text("type", "base64");
    answer(send(declared).await.unwrap()).await.data();
    let state = fake.controls().state();
    assert_eq!(state.uploads.len(), 3);
    assert!(state.uploads.iter().all(|u| u.sha256 == sha256_hex(&png)));
}

#[tokio::test]
async fn url_uploads_fetch_the_url() {
    let fake = Fake::start().await;
    let png = samples::png(20, 10, 3);
    let first = fake.upload(png.clone()).await.data();
    let link = first["link"].as_str().unwrap();

    let by_type = fake
        .post_form("/3/image", &anon(), &[("image", link), ("type", "url")])
        .await
        .data();
    let by_prefix = fake
        .post_form("/3/image", &anon(), &[("image", link)])
        .await
        .data();
    assert_ne!(by_type["id"], first["id"]);
    assert_ne!(by_prefix["id"], by_type["id"]);
    let state = fake.controls().state();
    assert_eq!(state.uploads.len(), 3);
    assert!(state.uploads.iter().all(|u| u.sha256 == sha256_hex(&png)));

    let missing = fake.url("/nothere.png");
    let error = fake
        .post_form("/3/image", &anon(), &[("image", &missing), ("type", "url")])
        .await
        .shape_a(400);
    assert!(error.contains("Could not fetch"), "{error}");
}

#[tokio::test]
async fn refusals_have_imgurs_shapes() {
    let fake = Fake::start_with(|config| config.limits.max_image_bytes = 1000).await;
    let png = samples::png(4, 4, 0);

    let stranger = fake
        .upload_as("Client-ID nobody", "image", png.clone(), &[])
        .await;
    assert_eq!(stranger.shape_a(403), "Invalid client_id");
    let no_auth = answer(fake.http.get(fake.url("/3/credits")).send().await.unwrap()).await;
    assert_eq!(no_auth.shape_a(401), "Authentication required");
    let malformed = fake.get("/3/credits", CLIENT_ID).await;
    assert_eq!(malformed.shape_a(403), "Malformed auth header");

    let text = fake
        .upload(b"just some text, not an image at all".to_vec())
        .await;
    assert_eq!(text.status, 400);
    let json = text.json();
    assert_eq!(
        json["data"]["error"],
        serde_json::json!({"code": 1003, "message": "File type invalid (1)", "type": "ImgurException", "exception": []})
    );
    assert_eq!(json["data"]["request"], "/3/image");

    let big = fake.upload(samples::png(200, 200, 0)).await;
    assert_eq!(big.status, 400, "{}", big.text);
    assert_eq!(
        big.json()["data"]["error"]["code"],
        fake_imgur::CODE_TOO_LARGE
    );
    assert_eq!(
        big.json()["data"]["error"]["message"],
        "File is over the size limit"
    );

    let empty = fake
        .post_form("/3/image", &anon(), &[("title", "nothing")])
        .await;
    assert_eq!(
        empty.shape_a(400),
        "No image data was sent to the upload api"
    );
    let zero = fake.upload(Vec::new()).await;
    assert_eq!(
        zero.shape_a(400),
        "No image data was sent to the upload api"
    );

    assert!(fake.controls().state().uploads.is_empty());
    // The small image still fits.
    assert_eq!(fake.upload(png).await.status, 200);
}

#[tokio::test]
async fn a_body_over_the_server_limit_gets_nginx_413() {
    let fake = Fake::start_with(|config| {
        config.limits.max_image_bytes = 1000;
        config.limits.max_video_bytes = 1000;
    })
    .await;
    // The largest body taken is 4/3 of the video limit plus 1 MiB of form overhead.
    let huge = "A".repeat(1024 * 1024 + 4096);
    let answer = fake
        .post_form("/3/image", &anon(), &[("image", &huge)])
        .await;
    assert_eq!(answer.status, 413);
    assert!(answer.content_type().starts_with("text/html"));
    assert!(answer.text.contains("413 Request Entity Too Large"));
}

#[tokio::test]
async fn get_delete_and_the_deletion_page() {
    let fake = Fake::start().await;
    let data = fake.upload(samples::png(8, 8, 0)).await.data();
    let id = data["id"].as_str().unwrap().to_owned();
    let hash = data["deletehash"].as_str().unwrap().to_owned();

    let fetched = fake.get(&format!("/3/image/{id}"), &anon()).await.data();
    assert_eq!(fetched["id"], id.as_str());
    assert!(
        fetched.get("deletehash").is_none(),
        "only the owner sees it"
    );

    let refused = fake.delete(&format!("/3/image/{id}"), &anon()).await;
    assert_eq!(refused.status, 403, "an id is not a deletehash");
    assert_eq!(
        fake.delete(&format!("/3/image/{hash}"), &anon())
            .await
            .data(),
        true
    );
    assert!(fake.controls().state().uploads[0].deleted);
    let gone = fake.get(&format!("/3/image/{id}"), &anon()).await;
    assert_eq!(
        gone.shape_a(404),
        format!("Unable to find an image with the id, {id}")
    );
    let again = fake.delete(&format!("/3/image/{hash}"), &anon()).await;
    assert_eq!(again.status, 404);
    let file = answer(
        fake.http
            .get(fake.url(&format!("/{id}.png")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(file.status, 404);
    assert!(file.content_type().starts_with("text/html"));

    let data = fake.upload(samples::png(8, 8, 1)).await.data();
    let (id, hash) = (
        data["id"].as_str().unwrap(),
        data["deletehash"].as_str().unwrap(),
    );
    let page = answer(
        fake.http
            .get(fake.url(&format!("/delete/{hash}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&format!("action=\"/delete/{hash}\"")));
    let confirm = fake
        .http
        .post(fake.url(&format!("/delete/{hash}")))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 200);
    let state = fake.controls().state();
    assert!(state.uploads.iter().find(|u| u.id == id).unwrap().deleted);
}
