//! Shared harness: a fake Imgur server on loopback and real files to send it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fake_imgur::{RegisteredApp, RunningServer, ServerConfig};
use std::path::{Path, PathBuf};
use upshot_imgur::{Auth, ClientConfig, ImgurClient, Secret};
use url::Url;

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret-value";

pub struct Harness {
    pub server: RunningServer,
    pub client: ImgurClient,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let mut config = ServerConfig::default();
        config.apps.push(RegisteredApp {
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            callback: "upshot://oauth/callback".to_owned(),
        });
        adjust(&mut config);
        let server = fake_imgur::start(config).await.expect("fake server starts");
        let client =
            ImgurClient::new(ClientConfig::new(Url::parse(&server.base_url()).unwrap())).unwrap();
        Self {
            server,
            client,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn anonymous(&self) -> Auth {
        Auth::client_id(CLIENT_ID)
    }

    /// Writes a real PNG of the given size into the harness's folder.
    pub fn png(&self, name: &str, width: u32, height: u32) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(
            &path,
            fake_imgur::samples::png(width, height, name.len() as u8),
        )
        .unwrap();
        path
    }

    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Logs `username` in through the fake authorize page, as a browser would, and returns the
    /// tokens from the redirect's fragment.
    pub async fn login(&self, username: &str) -> Tokens {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = http
            .get(self.client.authorize_url(CLIENT_ID, "state-123"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "the authorize page is served");
        let answer = http
            .post(format!("{}/oauth2/authorize", self.server.base_url()))
            .form(&[
                ("client_id", CLIENT_ID),
                ("response_type", "token"),
                ("state", "state-123"),
                ("username", username),
                ("action", "allow"),
            ])
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_redirection(), "approval redirects");
        let location = answer.headers()["location"].to_str().unwrap().to_owned();
        let fragment = location.split_once('#').expect("tokens in the fragment").1;
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect();
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.clone())
                .unwrap_or_else(|| panic!("{key} in {location}"))
        };
        assert_eq!(get("state"), "state-123");
        Tokens {
            access: Secret::new(get("access_token")),
            refresh: Secret::new(get("refresh_token")),
            username: get("account_username"),
        }
    }
}

pub struct Tokens {
    pub access: Secret,
    pub refresh: Secret,
    pub username: String,
}

impl Tokens {
    pub fn auth(&self) -> Auth {
        Auth::bearer(self.access.clone())
    }
}

pub fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}
