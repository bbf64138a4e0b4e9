//! Errors that stop the server from starting or saving. Errors answered to HTTP clients live in
//! [`crate::envelope`], because they are part of the wire contract rather than failures.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the fake server could not start (or persist its state).
#[derive(Debug, thiserror::Error)]
pub enum FakeImgurError {
    /// The listening socket could not be opened.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The data directory (or the temporary one) could not be created, read or written.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The file or directory involved.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Another server (in this process or another) runs on the same data directory.
    #[error(
        "data directory {path} is in use by another running fake Imgur (or Upshot sandbox); stop \
         that one, or give this one another data directory"
    )]
    InUse {
        /// The data directory.
        path: PathBuf,
    },
    /// A saved `state.json` or `journal.jsonl` exists but cannot be read back.
    #[error("saved state {path} is unreadable: {source}")]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// What the JSON parser said.
        source: serde_json::Error,
    },
    /// The configuration contradicts itself (for example a Client ID registered twice).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The HTTP client used for URL uploads could not be built.
    #[error("could not build the HTTP client for URL uploads: {0}")]
    HttpClient(#[from] reqwest::Error),
}
