//! What the client puts on the wire, seen by a bare TCP listener: the path prefix of the base
//! URL, exactly one auth header, the commercial key headers, and headers read in any case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use upshot_imgur::{Auth, ClientConfig, ImgurClient, Secret};
use url::Url;

/// Accepts one connection, records the request head, and answers with `response`.
async fn one_shot_server(response: String) -> (Url, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buffer = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let read = socket.read(&mut buffer).await.unwrap();
            if read == 0 {
                break;
            }
            head.extend_from_slice(&buffer[..read]);
        }
        socket.write_all(response.as_bytes()).await.unwrap();
        socket.shutdown().await.ok();
        String::from_utf8_lossy(&head).into_owned()
    });
    (
        Url::parse(&format!("http://{address}/prefix")).unwrap(),
        task,
    )
}

/// A credits answer in the older serializer's style, with headers in mixed letter case.
fn credits_answer() -> String {
    let body = r#"{"data":{"UserLimit":2000,"UserRemaining":1999,"UserReset":1700003600,"ClientLimit":12500,"ClientRemaining":12000},"success":true,"status":200}"#;
    format!(
        "HTTP/1.1 200 OK\r\n\
         content-type: application/json\r\n\
         X-RATELIMIT-USERLIMIT: 2000\r\n\
         x-ratelimit-userremaining: 1999\r\n\
         X-RateLimit-UserReset: 3600\r\n\
         x-ratelimit-clientlimit: 12500\r\n\
         X-RateLimit-ClientRemaining: 12000\r\n\
         connection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn base_path_prefix_auth_and_commercial_key_reach_the_wire() {
    let (base, server) = one_shot_server(credits_answer()).await;
    let mut config = ClientConfig::new(base);
    config.commercial_key = Some(Secret::new("rapid-key"));
    let client = ImgurClient::new(config).unwrap();
    let response = client.credits(&Auth::client_id("cid")).await.unwrap();

    let head = server.await.unwrap();
    let lower = head.to_lowercase();
    assert!(
        head.starts_with("GET /prefix/3/credits HTTP/1.1\r\n"),
        "{head}"
    );
    assert_eq!(
        lower.matches("\r\nauthorization:").count(),
        1,
        "exactly one auth header"
    );
    assert!(head.contains("Client-ID cid") || lower.contains("authorization: client-id cid"));
    assert!(lower.contains("x-rapidapi-key: rapid-key"));
    assert!(lower.contains("x-mashape-key: rapid-key"));

    assert_eq!(response.data.client_remaining, 12_000);
    let limits = response.rate_limits;
    assert_eq!(limits.user_limit, Some(2000));
    assert_eq!(limits.client_remaining, Some(12_000));
    // `3600` is read as seconds from now, not as a date in 1970.
    assert_eq!(limits.user_reset, Some(limits.observed_at + 3600));
}

#[tokio::test]
async fn bearer_auth_is_sent_as_bearer() {
    let (base, server) = one_shot_server(credits_answer()).await;
    let client = ImgurClient::new(ClientConfig::new(base)).unwrap();
    client
        .credits(&Auth::bearer(Secret::new("tok123")))
        .await
        .unwrap();
    let head = server.await.unwrap().to_lowercase();
    assert!(head.contains("authorization: bearer tok123"), "{head}");
}
