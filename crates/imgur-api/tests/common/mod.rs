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
        std::fs::write(&path, png_bytes(width, height, name.len() as u8)).unwrap();
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

/// A valid PNG: 8-bit greyscale, uncompressed (stored) deflate blocks, correct CRCs. `seed`
/// varies the pixels so files differ.
pub fn png_bytes(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((width + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.push((x as u8).wrapping_mul(3) ^ (y as u8) ^ seed);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (index, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(index + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(&b"IHDR"[..], &ihdr[..]), (b"IDAT", &zlib), (b"IEND", &[])] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(data);
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    png
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
