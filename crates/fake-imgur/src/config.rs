//! What a fake server is started with: registered applications, limits, and wire style.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The callback URL an application gets when none is given, Upshot's own deep link.
pub const DEFAULT_CALLBACK: &str = "upshot://oauth/callback";

/// Everything [`crate::start`] needs. `Default` gives Imgur's real limits and no applications.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Applications whose Client IDs the server accepts. With none, every API call is refused
    /// with `Invalid client_id`, exactly as Imgur would treat an unregistered ID.
    pub apps: Vec<RegisteredApp>,
    /// Where to listen; port 0 picks a free port (read it back with `RunningServer::base_url`).
    pub bind: SocketAddr,
    /// `Some`: state and uploaded files persist in this directory across restarts.
    /// `None`: a temporary directory that is removed when the server is dropped.
    pub data_dir: Option<PathBuf>,
    /// Without a data directory: where the temporary directory is made (`None`: the system's
    /// temporary directory). Long runs that store many uploads put it on a tmpfs, because
    /// removing thousands of files from a disk mounted with `discard` takes minutes.
    pub temp_parent: Option<PathBuf>,
    /// Rate limits and size limits.
    pub limits: Limits,
    /// How long an access token lives on the virtual clock (Imgur: 28 days).
    pub token_lifetime: Duration,
    /// Imgur normally returns the same refresh token on refresh; `true` issues a new one
    /// each time and revokes the old, so clients can prove they store the returned token.
    pub rotate_refresh_tokens: bool,
    /// Which of Imgur's two JSON serializers the envelopes imitate.
    pub json_style: JsonStyle,
    /// Serves the `/_fake/*` test control API over HTTP. Off by default: those routes read
    /// every record and move the clock, so only a test harness turns them on (the in-process
    /// [`crate::Controls`] work either way). See [`ServerConfig::test_controls`].
    pub test_controls: bool,
    /// A secret whose knowledge `GET /_sandbox/hello?nonce=…` proves (an HMAC of the nonce),
    /// so a process that finds a record of a running server can tell this server from whatever
    /// else listens on that port, without the secret ever crossing the wire. `None`: no such
    /// route.
    pub hello_key: Option<crate::HelloKey>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            apps: Vec::new(),
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            data_dir: None,
            temp_parent: None,
            limits: Limits::default(),
            token_lifetime: Duration::from_secs(2_419_200),
            rotate_refresh_tokens: false,
            json_style: JsonStyle::default(),
            test_controls: false,
            hello_key: None,
        }
    }
}

impl ServerConfig {
    /// A default configuration with one registered application (callback
    /// [`DEFAULT_CALLBACK`]): the common case in tests.
    pub fn with_app(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            apps: vec![RegisteredApp::new(client_id, client_secret)],
            ..Self::default()
        }
    }

    /// Turns the `/_fake/*` HTTP control API on or off (the `--test-controls` flag of the
    /// binary). Tests that drive the server over HTTP turn it on; a sandbox never does.
    #[must_use]
    pub fn test_controls(mut self, on: bool) -> Self {
        self.test_controls = on;
        self
    }
}

/// An application registered with the fake Imgur, as on imgur.com/account/settings/apps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredApp {
    /// The public Client ID sent as `Authorization: Client-ID <id>`.
    pub client_id: String,
    /// The secret needed to refresh tokens.
    pub client_secret: String,
    /// Where the authorize page redirects; Imgur takes no `redirect_uri` parameter.
    /// Defaults to [`DEFAULT_CALLBACK`] when absent from JSON.
    #[serde(default = "default_callback")]
    pub callback: String,
}

fn default_callback() -> String {
    DEFAULT_CALLBACK.to_owned()
}

impl RegisteredApp {
    /// An application with the default callback [`DEFAULT_CALLBACK`].
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            callback: default_callback(),
        }
    }
}

/// Credit budgets and upload size limits. `Default` is what Imgur documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Credits per Client ID per UTC day (upload 10, other API calls 1).
    pub client_credits_per_day: u32,
    /// Credits per user (Client ID + remote IP) per clock hour.
    pub user_credits_per_hour: u32,
    /// POST requests per remote IP per clock hour, across all endpoints.
    pub posts_per_hour: u32,
    /// Largest accepted still image, in bytes.
    pub max_image_bytes: u64,
    /// Largest accepted video, in bytes.
    pub max_video_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            client_credits_per_day: 12_500,
            user_credits_per_hour: 2_000,
            posts_per_hour: 1_250,
            max_image_bytes: 10 * 1024 * 1024,
            max_video_bytes: 200 * 1024 * 1024,
        }
    }
}

/// Imgur answers with two JSON serializers; clients must cope with both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonStyle {
    /// Switch between `Legacy` and `Modern` on every request, so clients meet both.
    #[default]
    Alternate,
    /// Keys in the order `data, success, status`, slashes escaped (`"image\/png"`).
    Legacy,
    /// Keys in the order `status, success, data`, slashes as they are.
    Modern,
}

impl FromStr for JsonStyle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "alternate" => Ok(Self::Alternate),
            "legacy" => Ok(Self::Legacy),
            "modern" => Ok(Self::Modern),
            other => Err(format!(
                "unknown JSON style {other:?} (expected alternate, legacy or modern)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_without_a_callback_gets_upshots() {
        let app: RegisteredApp =
            serde_json::from_str(r#"{"client_id": "a", "client_secret": "b"}"#).unwrap();
        assert_eq!(app, RegisteredApp::new("a", "b"));
        assert_eq!(app.callback, DEFAULT_CALLBACK);
    }

    #[test]
    fn json_styles_parse_from_the_command_line() {
        assert_eq!("Legacy".parse::<JsonStyle>(), Ok(JsonStyle::Legacy));
        assert_eq!("modern".parse::<JsonStyle>(), Ok(JsonStyle::Modern));
        assert!("pretty".parse::<JsonStyle>().is_err());
    }
}
