//! Imgur API v3 client for Upshot.
//!
//! This crate knows HTTP and Imgur's wire format and nothing of queues: it sends one request and
//! turns whatever comes back (any of the envelope shapes, error shapes A–E, HTML pages, network
//! faults) into either a typed [`Response`] or an [`ImgurError`] whose [`ErrorKind`] tells the
//! caller what to do next. Every response and error carries a [`RateLimitSnapshot`] so the quota
//! governor can learn from every exchange.
//!
//! Uploads stream the file from disk with byte progress; a file is never read whole into memory.

mod answer;
mod auth;
mod client;
mod envelope;
mod error;
mod links;
mod models;
mod rate_limit;
mod secret;
mod upload;

pub use answer::MAX_ANSWER_BYTES;
pub use auth::Auth;
pub use client::{
    ClientConfig, DEFAULT_ANSWER_DEADLINE, DEFAULT_SEND_STALL_TIMEOUT, IMGUR_API_BASE, ImgurClient,
    RAPIDAPI_BASE, Response,
};
pub use error::{ErrorKind, ImgurError};
pub use links::{ImageLinks, ThumbnailSize};
pub use models::{Account, Album, AlbumCreated, AlbumImages, Credits, Image, NewAlbum, TokenGrant};
pub use rate_limit::RateLimitSnapshot;
pub use secret::Secret;
pub use upload::{MediaKind, ProgressFn, UploadProgress, UploadRequest, UploadSource};
