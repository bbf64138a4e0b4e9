//! The whole login against the fake Imgur server over real HTTP: start, the authorize page's
//! redirect, completion, uploads as the user, a token that expires (refresh and retry), a
//! refresh ahead of expiry, a revoked login (jobs wait, nothing lost), a new login, logout.
//! Every log line of the run is captured and searched for the tokens and the client secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use fake_imgur::RunningServer;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use upshot_core::auth::{AuthError, StateRejected};
use upshot_core::clock::{Clock, ManualClock};
use upshot_core::queue::JobState;
use upshot_core::runner::StopWhen;
use upshot_core::service::{FileUpload, UploadService};
use upshot_core::types::{JobId, Origin, WaitReason};

const CLIENT_ID: &str = "login-flow-client";
const CLIENT_SECRET: &str = "login-flow-secret-5e1f";

/// Every log line of the process, whatever the level or the crate.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

struct World {
    server: RunningServer,
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    service: UploadService,
    /// Every token seen on the way, to search the logs for.
    seen_tokens: Vec<String>,
}

impl World {
    async fn start() -> Self {
        let server = common::fake_server(CLIENT_ID, CLIENT_SECRET, |config| {
            config.token_lifetime = Duration::from_secs(3600);
            config.rotate_refresh_tokens = true;
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let paths = common::app_paths(dir.path());
        let clock = common::manual_clock_now();
        let service =
            common::login_service(&paths, &server, CLIENT_ID, CLIENT_SECRET, clock.clone());
        Self {
            server,
            dir,
            clock,
            service,
            seen_tokens: Vec::new(),
        }
    }

    /// Starts a login and approves it on the fake authorize page as a browser would: returns
    /// the address the browser is sent to.
    async fn approve(&mut self, username: &str) -> String {
        let start = self.service.auth().unwrap().start_login().await.unwrap();
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = browser.get(start.url.clone()).send().await.unwrap();
        assert!(page.status().is_success(), "the authorize page loads");
        let query: Vec<(String, String)> = start.url.query_pairs().into_owned().collect();
        let mut form = query.clone();
        form.push(("username".into(), username.into()));
        form.push(("action".into(), "allow".into()));
        let answer = browser
            .post(format!("{}/oauth2/authorize", self.server.base_url()))
            .form(&form)
            .send()
            .await
            .unwrap();
        let location = answer.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with("upshot://oauth/callback#"),
            "{location}"
        );
        for (key, value) in
            url::form_urlencoded::parse(location.split_once('#').unwrap().1.as_bytes())
        {
            if key.ends_with("_token") {
                self.seen_tokens.push(value.into_owned());
            }
        }
        location
    }

    fn file(&self, name: &str, seed: u8) -> FileUpload {
        let path = self.dir.path().join(name);
        std::fs::write(
            &path,
            fake_imgur::samples::png(30 + u32::from(seed), 20, seed),
        )
        .unwrap();
        FileUpload {
            path,
            ..FileUpload::default()
        }
    }

    async fn upload(&self, name: &str, seed: u8) -> JobId {
        let outcomes = self
            .service
            .enqueue_files(&[self.file(name, seed)], Origin::Drop)
            .await
            .unwrap();
        let id = outcomes[0].1.queued().unwrap();
        let (_stop, shutdown) = tokio::sync::watch::channel(false);
        self.service
            .runner()
            .run(StopWhen::Settled(vec![id]), shutdown)
            .await
            .unwrap();
        id
    }

    fn stored_tokens(&self) -> Option<String> {
        let file = self.dir.path().join("data").join("secrets.json");
        let map: std::collections::BTreeMap<String, String> =
            serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
        map.get(&format!("tokens:{CLIENT_ID}")).cloned()
    }

    fn advance_both(&self, by: Duration) {
        self.server.controls().advance_clock(by);
        self.clock.advance(by);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_login_flow_keeps_uploads_safe_and_secrets_out_of_logs() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .try_init()
        .unwrap();

    let mut world = World::start().await;
    let auth = world.service.auth().unwrap().clone();
    assert!(auth.account().await.unwrap().is_none());

    // Log in; the same callback again is refused (and keeps nothing new).
    let callback = world.approve("alice").await;
    let account = auth.complete_login(&callback).await.unwrap();
    assert_eq!(account.username, "alice");
    assert!(account.is_active());
    let replay = auth.complete_login(&callback).await.unwrap_err();
    assert!(
        matches!(replay, AuthError::State(StateRejected::Reused)),
        "{replay:?}"
    );
    let tokens_after_login = world.stored_tokens().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(world.dir.path().join("data").join("secrets.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the user reads the secrets file");
    }
    // Tokens are nowhere in the settings or the database.
    let db_bytes = std::fs::read(world.dir.path().join("data").join("upshot.db")).unwrap();
    for token in &world.seen_tokens {
        assert!(
            !String::from_utf8_lossy(&db_bytes).contains(token.as_str()),
            "a token in the database"
        );
    }

    // Upload as the user.
    let first = world.upload("one.png", 1).await;
    let job = world.service.job(first).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.account.as_deref(), Some("alice"));

    // The server's clock passes the token's expiry while ours does not know: Imgur answers
    // 403 invalid token, the login is refreshed once and the upload sent again.
    world
        .server
        .controls()
        .advance_clock(Duration::from_secs(2 * 3600));
    let second = world.upload("two.png", 2).await;
    assert_eq!(
        world.service.job(second).await.unwrap().unwrap().state,
        JobState::Done
    );
    let tokens_after_retry = world.stored_tokens().unwrap();
    assert_ne!(
        tokens_after_retry, tokens_after_login,
        "the refreshed tokens (and the rotated refresh token) are kept"
    );

    // Both clocks near the expiry: refreshed ahead, before the upload.
    world.advance_both(Duration::from_secs(3600 - 60));
    let third = world.upload("three.png", 3).await;
    assert_eq!(
        world.service.job(third).await.unwrap().unwrap().state,
        JobState::Done
    );
    let tokens_after_ahead = world.stored_tokens().unwrap();
    assert_ne!(tokens_after_ahead, tokens_after_retry);
    for stored in [
        &tokens_after_login,
        &tokens_after_retry,
        &tokens_after_ahead,
    ] {
        let value: serde_json::Value = serde_json::from_str(stored).unwrap();
        world
            .seen_tokens
            .push(value["access_token"].as_str().unwrap().to_owned());
        world
            .seen_tokens
            .push(value["refresh_token"].as_str().unwrap().to_owned());
    }

    // Imgur revokes the login: the upload waits for a new login, nothing fails or is lost.
    assert!(world.server.controls().revoke_account("alice") > 0);
    let fourth = world.upload("four.png", 4).await;
    let waiting = world.service.job(fourth).await.unwrap().unwrap();
    assert_eq!(waiting.state, JobState::Deferred, "{waiting:?}");
    assert_eq!(waiting.wait_reason, Some(WaitReason::LogInAgain));
    let logged_out = auth.account().await.unwrap().unwrap();
    assert!(!logged_out.is_active());
    assert!(
        logged_out
            .logged_out_reason
            .as_deref()
            .unwrap()
            .contains("log in again")
    );
    assert!(
        world.stored_tokens().is_none(),
        "revoked tokens are forgotten"
    );
    assert_eq!(
        world.service.upload_account().await.unwrap(),
        None,
        "new uploads go anonymously meanwhile"
    );

    // Logging in again sends what waited.
    let callback = world.approve("alice").await;
    auth.complete_login(&callback).await.unwrap();
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    world
        .service
        .runner()
        .run(StopWhen::Finished(vec![fourth]), shutdown)
        .await
        .unwrap();
    assert_eq!(
        world.service.job(fourth).await.unwrap().unwrap().state,
        JobState::Done
    );

    // Every file arrived once, in alice's account.
    let uploads = world.server.controls().state().uploads;
    assert_eq!(uploads.len(), 4, "{uploads:?}");
    assert!(
        uploads
            .iter()
            .all(|u| u.account.as_deref() == Some("alice"))
    );

    // Logging out forgets the tokens.
    assert_eq!(auth.logout().await.unwrap().as_deref(), Some("alice"));
    assert!(world.stored_tokens().is_none());
    assert!(auth.account().await.unwrap().is_none());
    let _ = world.clock.now();

    // Nothing secret in any log line.
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("login refreshed"),
        "the capture works: {} bytes",
        logs.len()
    );
    assert!(!world.seen_tokens.is_empty());
    for secret in world
        .seen_tokens
        .iter()
        .map(String::as_str)
        .chain([CLIENT_SECRET])
    {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}
