//! A local, Imgur-compatible server for tests and Upshot's sandbox mode.
//!
//! Imgur itself is unreachable from our machines, so every client test runs against this fake.
//! It answers the API v3 endpoints Upshot uses (upload, image, album, account, credits, OAuth)
//! with Imgur's real envelopes, error shapes and rate-limit headers; it serves the uploaded
//! files back; and it lets a test move a virtual clock and inject the faults the real service is
//! seen to produce (see [`Fault`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), fake_imgur::FakeImgurError> {
//! let config = fake_imgur::ServerConfig::with_app("my-client", "my-secret").test_controls(true);
//! let server = fake_imgur::start(config).await?;
//! let api_base = format!("{}/3/", server.base_url());
//! server.controls().inject(fake_imgur::Fault::OverCapacity, 1, Some("/3/image".into()));
//! // … point the client at `api_base` …
//! server.shutdown().await;
//! # let _ = api_base;
//! # Ok(())
//! # }
//! ```
//!
//! # Controlling a `fake-imgur` subprocess over HTTP
//!
//! The same controls exist under `/_fake/` when the server is started with test controls
//! (`fake-imgur --test-controls`, or [`ServerConfig::test_controls`]); otherwise those routes
//! answer 403, because they read every record and a web page could reach them. They are free,
//! unauthenticated and never faulted, refuse requests carrying another web origin, and take
//! JSON bodies whatever their Content-Type:
//!
//! | Request | Body | Answer |
//! |---|---|---|
//! | `GET /_fake/state` | | [`StateSnapshot`] |
//! | `POST /_fake/clock` | `{"advance_secs": 86400}` | `{"now": <epoch secs>}` |
//! | `POST /_fake/faults` | `{"fault": {"kind": "server_error", "status": 503}, "count": 2, "path_prefix": "/3/image"}` (`count` defaults to 1, `path_prefix` is optional) | `{"pending": [`[`FaultRule`]`…]}` |
//! | `GET /_fake/faults` | | `{"pending": […]}` |
//! | `DELETE /_fake/faults` | | `{"pending": []}` |
//! | `POST /_fake/revoke` | `{"refresh_token": "…"}` or `{"account": "name"}` | `{"revoked": <tokens revoked>}` |
//! | `POST /_fake/spend` | `{"client_id": "…", "credits": 300}`: another install of the app spends from its daily budget | `{"charged": true, "client_remaining": N}` |
//!
//! Invalid bodies get `400 {"error": "…"}`.
//!
//! # Who is answered
//!
//! Every route checks that `Host` names the loopback address the server is reached at
//! (`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`) and answers anything else `421`, so a page
//! that rebinds its own DNS name to 127.0.0.1 cannot read it. State shows token digests
//! (`token_sha256`), never tokens or client secrets, and only digests are saved.
//!
//! # What is charged
//!
//! Every `/3/…` request that authenticates costs credits (an upload 10, anything else 1),
//! whether it then succeeds or fails; a request the budgets cannot cover is answered 429 and
//! costs nothing. OAuth, file serving and `/_fake` are free. Injected faults that answer in
//! place of the API cost nothing; `latency` and `truncated_body` let the request through and
//! it is charged normally.

mod app;
mod auth;
mod clock;
mod config;
mod controls;
mod envelope;
mod error;
mod faults;
mod form;
mod gate;
mod hello;
mod host;
mod html;
mod ids;
mod journal;
mod media;
mod models;
mod quota;
mod records;
mod routes;
pub mod samples;
mod server;
mod spool;
mod store;

pub use config::{DEFAULT_CALLBACK, JsonStyle, Limits, RegisteredApp, ServerConfig};
pub use controls::Controls;
pub use envelope::{CODE_INVALID_TYPE, CODE_TOO_LARGE};
pub use error::FakeImgurError;
pub use faults::{Fault, FaultRule};
pub use hello::{HELLO_PATH, HelloKey, hello_proof};
pub use media::sniff_file;
pub use records::{
    AccountRecord, AlbumRecord, ClientUsage, StateSnapshot, TokenRecord, UploadRecord,
};
pub use server::{RunningServer, start};
