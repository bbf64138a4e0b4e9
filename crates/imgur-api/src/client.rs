//! The HTTP client: one method per endpoint, each returning a typed [`Response`] or an
//! [`ImgurError`].

use crate::answer::{BodyWatch, MAX_ANSWER_BYTES, ReadFault, read_bounded};
use crate::auth::Auth;
use crate::envelope::{read_failure, read_success};
use crate::error::{Effect, ImgurError};
use crate::models::{
    Account, Album, AlbumCreated, AlbumImages, Credits, Image, NewAlbum, TokenGrant,
};
use crate::rate_limit::{RateLimitSnapshot, unix_now};
use crate::secret::Secret;
use crate::upload::{ProgressFn, UploadRequest, UploadSource, progress_body, progress_bytes_body};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use url::Url;

/// Imgur's production API host. OAuth lives under the same host at `/oauth2/`.
pub const IMGUR_API_BASE: &str = "https://api.imgur.com";

/// The commercial route: Imgur's API through RapidAPI's proxy (the same paths, `/3/...`), for
/// applications that make money. It needs the RapidAPI key ([`ClientConfig::commercial_key`])
/// and reports its plan's limits in RapidAPI's own `X-RateLimit-*` headers, which
/// [`crate::RateLimitSnapshot`] reads.
pub const RAPIDAPI_BASE: &str = "https://imgur-apiv3.p.rapidapi.com";

/// How long an answer may take once a request has been sent, unless configured otherwise:
/// Imgur answers in seconds, but a large video is processed before the answer comes.
pub const DEFAULT_ANSWER_DEADLINE: Duration = Duration::from_secs(5 * 60);

/// How long an upload's body may stand still while it is being sent, unless configured
/// otherwise: as long as the read timeout, since a slow uplink drains a full socket buffer in
/// far less, and a server that stopped reading is over by then.
pub const DEFAULT_SEND_STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// How the client reaches Imgur.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The API base without `/3`: `https://api.imgur.com`, the commercial route, or the sandbox.
    /// It may carry a path prefix (`http://127.0.0.1:9/prefix` sends uploads to
    /// `/prefix/3/image`).
    pub api_base: Url,
    /// The commercial (RapidAPI/Mashape) key, sent as both `X-RapidAPI-Key` and `X-Mashape-Key`.
    pub commercial_key: Option<Secret>,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed between two reads of an answer. There is deliberately no total timeout: a
    /// 200 MB video on a slow uplink may take many minutes and must not be cut off.
    pub read_timeout: Duration,
    /// Time allowed for the whole answer (status, headers and body) once the request body has
    /// been handed to the connection. It starts only then, so a slow upload is never cut; it
    /// ends a server that stalls or drips its answer, which the read timeout cannot catch.
    pub answer_deadline: Duration,
    /// Time allowed without the connection taking any byte of a request body while it is
    /// being sent. The read timeout does not cover writes and the answer deadline has not
    /// started yet, so without it a server that accepts the request and stops reading would
    /// keep an upload waiting forever.
    pub send_stall_timeout: Duration,
}

impl From<Url> for ClientConfig {
    fn from(api_base: Url) -> Self {
        Self::new(api_base)
    }
}

impl ClientConfig {
    /// A configuration with sensible timeouts for the given base URL.
    pub fn new(api_base: Url) -> Self {
        Self {
            api_base,
            commercial_key: None,
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(120),
            answer_deadline: DEFAULT_ANSWER_DEADLINE,
            send_stall_timeout: DEFAULT_SEND_STALL_TIMEOUT,
        }
    }

    /// The commercial route ([`RAPIDAPI_BASE`]) with its key.
    pub fn rapidapi(key: Secret) -> Self {
        // A constant, not input: the unit tests below parse it.
        #[allow(clippy::expect_used)]
        let base = Url::parse(RAPIDAPI_BASE).expect("RAPIDAPI_BASE is a valid URL");
        Self {
            commercial_key: Some(key),
            ..Self::new(base)
        }
    }

    /// Imgur's production API.
    pub fn imgur() -> Self {
        // A constant, not input: the unit tests below parse it.
        #[allow(clippy::expect_used)]
        let base = Url::parse(IMGUR_API_BASE).expect("IMGUR_API_BASE is a valid URL");
        Self::new(base)
    }
}

/// A successful answer with what its headers said about the rate limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<T> {
    /// The payload (`data` of the envelope).
    pub data: T,
    /// The HTTP status.
    pub status: u16,
    /// The rate-limit headers of this answer.
    pub rate_limits: RateLimitSnapshot,
}

/// The Imgur API client. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct ImgurClient {
    http: reqwest::Client,
    base: Url,
    commercial_key: Option<Secret>,
    answer_deadline: Duration,
    send_stall_timeout: Duration,
}

/// What came back for a request: the head, and the body unless it was a redirect.
struct Answered {
    status: u16,
    rate_limits: RateLimitSnapshot,
    now: u64,
    body: Vec<u8>,
    /// For a redirect: where it pointed (it is never followed).
    location: Option<Option<String>>,
}

impl ImgurClient {
    /// Builds a client. Fails only if the TLS backend cannot be set up.
    ///
    /// It follows no redirects: a redirected POST becomes a GET whose answer would pass for
    /// Imgur's, and the commercial key headers and an OAuth form would go to the other host.
    pub fn new(config: ClientConfig) -> Result<Self, ImgurError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("Upshot/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .build()
            .map_err(|error| ImgurError::local(format!("Could not set up HTTPS: {error}")))?;
        let mut base = config.api_base;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Self {
            http,
            base,
            commercial_key: config.commercial_key,
            answer_deadline: config.answer_deadline,
            send_stall_timeout: config.send_stall_timeout,
        })
    }

    /// The API base this client talks to (always ending in `/`).
    pub fn api_base(&self) -> &Url {
        &self.base
    }

    /// The URL that starts a login in the user's browser (implicit grant, `response_type=token`).
    pub fn authorize_url(&self, client_id: &str, state: &str) -> Url {
        let mut url = self.endpoint(&["oauth2", "authorize"]);
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("response_type", "token")
            .append_pair("state", state);
        url
    }

    /// Loads the authorize page the browser is about to be sent to. Since mid-2025 Imgur has at
    /// times answered it with an HTML error page; a user sent there sees only that, so the app
    /// checks first and can say so plainly. An error or unreadable page comes back as an
    /// [`ImgurError`] whose message names what Imgur answered.
    pub async fn check_authorize_page(&self, url: &Url) -> Result<(), ImgurError> {
        let answered = self
            .answer(
                self.http.get(url.clone()),
                Effect::Read,
                BodyWatch::in_memory(),
            )
            .await?;
        let Answered {
            status,
            rate_limits,
            now,
            body,
            ..
        } = answered;
        // A redirect is the page sending the browser on (to sign in): the page works.
        if (200..400).contains(&status) {
            return Ok(());
        }
        let mut error = read_failure(status, &body, false, &rate_limits, now);
        error.message = format!(
            "Imgur's login page is not working right now (HTTP {status}: {}). Uploads go on anonymously; try logging in later.",
            error.message.trim_end_matches('.')
        );
        if error.kind == crate::ErrorKind::Permanent {
            error.kind = crate::ErrorKind::RetryLater;
        }
        Err(error)
    }

    /// Uploads an image or video. A file is streamed from disk with progress reports; a URL is
    /// fetched by Imgur. Costs 10 credits and one POST.
    pub async fn upload(
        &self,
        auth: &Auth,
        upload: &UploadRequest,
        progress: Option<ProgressFn>,
    ) -> Result<Response<Image>, ImgurError> {
        let url = self.endpoint(&["3", "image"]);
        let request = match &upload.source {
            UploadSource::File {
                path,
                kind,
                mime_type,
            } => {
                let file = tokio::fs::File::open(path).await.map_err(|error| {
                    ImgurError::local(format!("Could not read {}: {error}", path.display()))
                })?;
                let total = file
                    .metadata()
                    .await
                    .map_err(|error| {
                        ImgurError::local(format!("Could not read {}: {error}", path.display()))
                    })?
                    .len();
                let file_name = path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "upload".to_owned());
                let (body, watch) = progress_body(file, total, progress);
                let request =
                    self.multipart(url, upload, *kind, body, total, file_name, mime_type)?;
                (request, watch)
            }
            UploadSource::Bytes {
                bytes,
                file_name,
                kind,
                mime_type,
            } => {
                let total = bytes.len() as u64;
                let (body, watch) = progress_bytes_body(bytes.clone(), progress);
                let request = self.multipart(
                    url,
                    upload,
                    *kind,
                    body,
                    total,
                    file_name.clone(),
                    mime_type,
                )?;
                (request, watch)
            }
            UploadSource::Url(source) => {
                let mut fields = vec![("image", source.to_string()), ("type", "url".to_owned())];
                fields.extend(upload.text_fields());
                (self.http.post(url).form(&fields), BodyWatch::in_memory())
            }
        };
        let (request, watch) = request;
        let call = Call {
            enveloped: true,
            as_user: auth.is_user(),
            effect: Effect::Upload,
        };
        self.send_with(request, Some(auth), call, watch).await
    }

    /// The multipart request of a file or in-memory upload: `type=file`, the text fields, and
    /// the body as the `image` or `video` part.
    #[allow(clippy::too_many_arguments)]
    fn multipart(
        &self,
        url: url::Url,
        upload: &UploadRequest,
        kind: crate::upload::MediaKind,
        body: reqwest::Body,
        total: u64,
        file_name: String,
        mime_type: &str,
    ) -> Result<RequestBuilder, ImgurError> {
        let part = Part::stream_with_length(body, total)
            .file_name(file_name)
            .mime_str(mime_type)
            .map_err(|_| ImgurError::local(format!("Not a MIME type: {mime_type}")))?;
        let mut form = Form::new().text("type", "file");
        for (key, value) in upload.text_fields() {
            form = form.text(key, value);
        }
        Ok(self
            .http
            .post(url)
            .multipart(form.part(kind.field_name(), part)))
    }

    /// Fetches one image's details.
    pub async fn image(&self, auth: &Auth, id: &str) -> Result<Response<Image>, ImgurError> {
        let url = self.endpoint(&["3", "image", id]);
        self.send(self.http.get(url), Some(auth), true).await
    }

    /// Deletes an image: by deletehash anonymously, or by id (or deletehash) when logged in.
    pub async fn delete_image(
        &self,
        auth: &Auth,
        id_or_deletehash: &str,
    ) -> Result<Response<bool>, ImgurError> {
        let url = self.endpoint(&["3", "image", id_or_deletehash]);
        self.send(self.http.delete(url), Some(auth), true).await
    }

    /// Creates an album, anonymous (images by deletehash) or on the account (images by id).
    pub async fn create_album(
        &self,
        auth: &Auth,
        album: &NewAlbum,
    ) -> Result<Response<AlbumCreated>, ImgurError> {
        let mut fields: Vec<(String, String)> = Vec::new();
        let optional = [
            ("title", &album.title),
            ("description", &album.description),
            ("cover", &album.cover),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                fields.push((key.to_owned(), value.clone()));
            }
        }
        if let Some(images) = &album.images {
            fields.extend(images.form_pairs());
        }
        let url = self.endpoint(&["3", "album"]);
        self.send(self.http.post(url).form(&fields), Some(auth), true)
            .await
    }

    /// Adds images to an album: `album` is its deletehash when anonymous, its id when logged in.
    pub async fn add_to_album(
        &self,
        auth: &Auth,
        album: &str,
        images: &AlbumImages,
    ) -> Result<Response<bool>, ImgurError> {
        let url = self.endpoint(&["3", "album", album, "add"]);
        self.send(
            self.http.post(url).form(&images.form_pairs()),
            Some(auth),
            true,
        )
        .await
    }

    /// Fetches an album with its images.
    pub async fn album(&self, auth: &Auth, id: &str) -> Result<Response<Album>, ImgurError> {
        let url = self.endpoint(&["3", "album", id]);
        self.send(self.http.get(url), Some(auth), true).await
    }

    /// The logged-in account.
    pub async fn account_me(&self, auth: &Auth) -> Result<Response<Account>, ImgurError> {
        let url = self.endpoint(&["3", "account", "me"]);
        self.send(self.http.get(url), Some(auth), true).await
    }

    /// One page of the logged-in account's images, newest first (`per_page` at most 100).
    pub async fn account_images(
        &self,
        auth: &Auth,
        page: u32,
        per_page: u32,
    ) -> Result<Response<Vec<Image>>, ImgurError> {
        let url = self.endpoint(&["3", "account", "me", "images", &page.to_string()]);
        let per_page = per_page.clamp(1, 100).to_string();
        self.send(
            self.http.get(url).query(&[("perPage", per_page)]),
            Some(auth),
            true,
        )
        .await
    }

    /// One page of the logged-in account's albums.
    pub async fn account_albums(
        &self,
        auth: &Auth,
        page: u32,
    ) -> Result<Response<Vec<Album>>, ImgurError> {
        let url = self.endpoint(&["3", "account", "me", "albums", &page.to_string()]);
        self.send(self.http.get(url), Some(auth), true).await
    }

    /// The credits left for this application and user (`GET /3/credits`).
    pub async fn credits(&self, auth: &Auth) -> Result<Response<Credits>, ImgurError> {
        let url = self.endpoint(&["3", "credits"]);
        self.send(self.http.get(url), Some(auth), true).await
    }

    /// Trades a refresh token for a new access token. OAuth calls cost no credits.
    /// An `Invalid refresh token` answer comes back as [`crate::ErrorKind::Reauth`].
    pub async fn refresh_token(
        &self,
        client_id: &str,
        client_secret: &Secret,
        refresh_token: &Secret,
    ) -> Result<Response<TokenGrant>, ImgurError> {
        let url = self.endpoint(&["oauth2", "token"]);
        let fields = [
            ("refresh_token", refresh_token.expose()),
            ("client_id", client_id),
            ("client_secret", client_secret.expose()),
            ("grant_type", "refresh_token"),
        ];
        // No Authorization header; failures are read as a user's (a bad refresh token is reauth).
        let call = Call {
            enveloped: false,
            as_user: true,
            effect: Effect::Change,
        };
        self.send_with(
            self.http.post(url).form(&fields),
            None,
            call,
            BodyWatch::in_memory(),
        )
        .await
    }

    /// `base` + path segments, each percent-encoded so an id can never change the path.
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends a request whose body is held in memory (no body, a form).
    async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        auth: Option<&Auth>,
        enveloped: bool,
    ) -> Result<Response<T>, ImgurError> {
        let effect = match request.try_clone().and_then(|clone| clone.build().ok()) {
            Some(built) if built.method() == Method::GET => Effect::Read,
            _ => Effect::Change,
        };
        let call = Call {
            enveloped,
            as_user: auth.is_some_and(Auth::is_user),
            effect,
        };
        self.send_with(request, auth, call, BodyWatch::in_memory())
            .await
    }

    async fn send_with<T: DeserializeOwned>(
        &self,
        mut request: RequestBuilder,
        auth: Option<&Auth>,
        call: Call,
        watch: BodyWatch,
    ) -> Result<Response<T>, ImgurError> {
        if let Some(auth) = auth {
            request = request.header(reqwest::header::AUTHORIZATION, auth.header_value());
        }
        if let Some(key) = &self.commercial_key {
            request = request
                .header("X-RapidAPI-Key", key.expose())
                .header("X-Mashape-Key", key.expose());
        }
        let Answered {
            status,
            rate_limits,
            now,
            body,
            location,
        } = self.answer(request, call.effect, watch).await?;
        if let Some(location) = location {
            return Err(ImgurError::redirected(
                status,
                location.as_deref(),
                rate_limits,
            ));
        }
        if (200..300).contains(&status) {
            let data = read_success(
                status,
                &body,
                call.enveloped,
                &rate_limits,
                now,
                call.effect,
            )?;
            Ok(Response {
                data,
                status,
                rate_limits,
            })
        } else {
            Err(read_failure(status, &body, call.as_user, &rate_limits, now))
        }
    }

    /// Sends the request and waits for its answer: while the body is being sent it must keep
    /// moving (the send stall timeout), the answer deadline starts once `watch` says the body
    /// has left, and the body is read up to [`MAX_ANSWER_BYTES`]. A redirect is returned with
    /// its location and no body.
    async fn answer(
        &self,
        request: RequestBuilder,
        effect: Effect,
        watch: BodyWatch,
    ) -> Result<Answered, ImgurError> {
        let head: Mutex<Option<(u16, RateLimitSnapshot)>> = Mutex::new(None);
        let deadline = async {
            watch.done().await;
            tokio::time::sleep(self.answer_deadline).await;
        };
        let answered = tokio::select! {
            answered = self.exchange(request, effect, &watch, &head) => answered,
            stalled = watch.stalled(self.send_stall_timeout) => {
                tracing::debug!(taken = stalled.taken, total = stalled.total, "request body stalled");
                Err(ImgurError::send_stalled(
                    stalled.taken,
                    stalled.total,
                    self.send_stall_timeout,
                ))
            }
            () = deadline => {
                let (status, rate_limits) = head
                    .lock()
                    .ok()
                    .and_then(|mut head| head.take())
                    .map_or((None, RateLimitSnapshot::default()), |(status, limits)| {
                        (Some(status), limits)
                    });
                // A failure status already said Imgur did not act on it.
                let effect = match status {
                    Some(status) if !(200..300).contains(&status) => Effect::Read,
                    _ => effect,
                };
                tracing::debug!(?status, "no answer within the answer deadline");
                Err(ImgurError::answer_deadline_for(
                    self.answer_deadline,
                    status,
                    rate_limits,
                    effect,
                ))
            }
        };
        answered
    }

    async fn exchange(
        &self,
        request: RequestBuilder,
        effect: Effect,
        watch: &BodyWatch,
        head: &Mutex<Option<(u16, RateLimitSnapshot)>>,
    ) -> Result<Answered, ImgurError> {
        let started = Instant::now();
        let (method, path) = request
            .try_clone()
            .and_then(|clone| clone.build().ok())
            .map(|built| (built.method().clone(), built.url().path().to_owned()))
            .unwrap_or((Method::POST, String::from("(streamed)")));
        let sent = || watch.all_sent().then_some(effect);

        let response = request.send().await.map_err(|error| {
            tracing::debug!(%method, %path, "request failed");
            ImgurError::network(&error, RateLimitSnapshot::default(), sent())
        })?;
        let status = response.status().as_u16();
        let now = unix_now();
        let rate_limits = RateLimitSnapshot::from_headers(response.headers(), now);
        if let Ok(mut head) = head.lock() {
            *head = Some((status, rate_limits.clone()));
        }
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
            tracing::debug!(%method, %path, status, "redirect refused");
            return Ok(Answered {
                status,
                rate_limits,
                now,
                body: Vec::new(),
                location: Some(location),
            });
        }
        // Only a success leaves the outcome unknown when its body cannot be read.
        let sent_if_success = || sent().filter(|_| (200..300).contains(&status));
        let body = read_bounded(response, MAX_ANSWER_BYTES)
            .await
            .map_err(|fault| match fault {
                ReadFault::TooLarge => ImgurError::answer_too_large(
                    status,
                    MAX_ANSWER_BYTES,
                    rate_limits.clone(),
                    sent_if_success(),
                ),
                ReadFault::Network(error) => {
                    ImgurError::network(&error, rate_limits.clone(), sent_if_success())
                }
            })?;
        tracing::debug!(%method, %path, status, elapsed_ms = started.elapsed().as_millis() as u64, "imgur answered");
        Ok(Answered {
            status,
            rate_limits,
            now,
            body,
            location: None,
        })
    }
}

/// How one request's answer is read.
#[derive(Debug, Clone, Copy)]
struct Call {
    /// Whether the answer is in Imgur's `{data, success, status}` envelope (OAuth's is not).
    enveloped: bool,
    /// Whether a 401/403 is read as a user's token refused.
    as_user: bool,
    /// What the request changes, for an answer that does not come.
    effect: Effect,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_with_prefix_keeps_the_prefix() {
        let client = ImgurClient::new(ClientConfig::new(
            Url::parse("http://127.0.0.1:9/prefix").unwrap(),
        ))
        .unwrap();
        assert_eq!(
            client.endpoint(&["3", "image"]).as_str(),
            "http://127.0.0.1:9/prefix/3/image"
        );
        let bare = ImgurClient::new(ClientConfig::imgur()).unwrap();
        assert_eq!(
            bare.endpoint(&["3", "image", "a/b"]).as_str(),
            "https://api.imgur.com/3/image/a%2Fb"
        );
    }

    #[test]
    fn the_commercial_route_is_a_named_choice_with_its_key() {
        let config = ClientConfig::rapidapi(Secret::new("key"));
        assert_eq!(
            config.api_base.as_str(),
            "https://imgur-apiv3.p.rapidapi.com/"
        );
        assert!(config.commercial_key.is_some());
        assert_eq!(config.answer_deadline, DEFAULT_ANSWER_DEADLINE);
    }

    #[test]
    fn authorize_url_uses_the_implicit_grant() {
        let client = ImgurClient::new(ClientConfig::imgur()).unwrap();
        let url = client.authorize_url("abc123", "s t");
        assert_eq!(
            url.as_str(),
            "https://api.imgur.com/oauth2/authorize?client_id=abc123&response_type=token&state=s+t"
        );
    }
}
