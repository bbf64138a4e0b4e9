//! Shared harness: a fake Imgur on loopback, an HTTP client, and helpers to read its answers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fake_imgur::{Controls, RunningServer, ServerConfig};
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::Digest as _;

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret";

pub struct Fake {
    pub server: RunningServer,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

/// A decoded answer.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: not JSON: {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<u64> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().parse().unwrap())
    }

    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    /// `data` of a success envelope, asserting the envelope.
    pub fn data(&self) -> Value {
        let json = self.json();
        assert_eq!(json["success"], true, "{}", self.text);
        assert_eq!(json["status"], 200, "{}", self.text);
        json["data"].clone()
    }

    /// The `data.error` text of a shape A error, asserting the shape.
    pub fn shape_a(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.text);
        let json = self.json();
        assert_eq!(json["success"], false, "{}", self.text);
        assert_eq!(json["status"], status, "{}", self.text);
        assert!(json["data"]["request"].is_string(), "{}", self.text);
        assert!(json["data"]["method"].is_string(), "{}", self.text);
        json["data"]["error"].as_str().unwrap().to_owned()
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Answer {
        status,
        headers,
        text,
    }
}

pub fn anon() -> String {
    format!("Client-ID {CLIENT_ID}")
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub username: String,
    pub account_id: u64,
    pub expires_in: u64,
}

impl Fake {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let mut config = ServerConfig::with_app(CLIENT_ID, CLIENT_SECRET).test_controls(true);
        adjust(&mut config);
        let server = fake_imgur::start(config)
            .await
            .expect("the fake server starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            server,
            http,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    pub fn controls(&self) -> Controls {
        self.server.controls()
    }

    pub async fn get(&self, path: &str, auth: &str) -> Answer {
        answer(
            self.http
                .get(self.url(path))
                .header("Authorization", auth)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A multipart upload with `bytes` as the `field` file part.
    pub async fn upload_as(
        &self,
        auth: &str,
        field: &str,
        bytes: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Answer {
        let mut form = reqwest::multipart::Form::new().part(
            field.to_owned(),
            reqwest::multipart::Part::bytes(bytes).file_name("upload.bin"),
        );
        for (key, value) in extra {
            form = form.text((*key).to_owned(), (*value).to_owned());
        }
        answer(
            self.http
                .post(self.url("/3/image"))
                .header("Authorization", auth)
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// An anonymous multipart upload of `bytes` as the `image` part.
    pub async fn upload(&self, bytes: Vec<u8>) -> Answer {
        self.upload_as(&anon(), "image", bytes, &[]).await
    }

    /// A urlencoded POST.
    pub async fn post_form(&self, path: &str, auth: &str, form: &[(&str, &str)]) -> Answer {
        answer(
            self.http
                .post(self.url(path))
                .header("Authorization", auth)
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn delete(&self, path: &str, auth: &str) -> Answer {
        answer(
            self.http
                .delete(self.url(path))
                .header("Authorization", auth)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Submits the approve form as a browser would; answers the redirect's `Location`.
    pub async fn authorize(&self, username: &str, action: &str, state: &str) -> String {
        let response = self
            .http
            .post(self.url("/oauth2/authorize"))
            .form(&[
                ("client_id", CLIENT_ID),
                ("response_type", "token"),
                ("state", state),
                ("username", username),
                ("action", action),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Logs `username` in and returns the tokens from the redirect fragment.
    pub async fn login(&self, username: &str) -> Tokens {
        let location = self.authorize(username, "allow", "s1").await;
        let pairs = fragment_pairs(&location);
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{key} missing in {location}"))
        };
        Tokens {
            access: get("access_token"),
            refresh: get("refresh_token"),
            username: get("account_username"),
            account_id: get("account_id").parse().unwrap(),
            expires_in: get("expires_in").parse().unwrap(),
        }
    }

    /// Runs curl with `args` (tokio's process API, so the in-process server keeps serving).
    pub async fn curl(&self, args: &[&str]) -> String {
        let output = tokio::process::Command::new("curl")
            .arg("--silent")
            .arg("--show-error")
            .args(args)
            .output()
            .await
            .expect("curl is installed");
        assert!(
            output.status.success(),
            "curl failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

/// The `key=value` pairs after the `#` of a redirect.
pub fn fragment_pairs(location: &str) -> Vec<(String, String)> {
    let fragment = location.split_once('#').expect("a fragment").1;
    url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect()
}
