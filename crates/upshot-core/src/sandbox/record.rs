//! `server.json`: where the running sandbox listens, which process runs it, and the random key
//! it proves it holds. Another process joins that sandbox only when the recorded process is
//! alive and this user's, and the server at the URL answers a fresh nonce with the key's HMAC
//! (`GET /_sandbox/hello`, see [`fake_imgur::hello_proof`]): a stale record, a reused pid or
//! port, or another user's server are never joined.

use crate::core_error::CoreError;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;
use url::Url;

/// How long the recorded server has to answer the hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(2);

/// What `server.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SandboxRecord {
    /// The server's base URL.
    pub url: String,
    /// The process serving it.
    pub pid: u32,
    /// The key the server proves it holds (64 hex digits). Records of older versions have
    /// none and are never joined.
    #[serde(default)]
    pub key: String,
}

/// Why a record was not joined; logged, so a user can tell why a new sandbox started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NotJoined {
    #[error("no usable server record ({0})")]
    Unreadable(String),
    #[error("the recorded process {0} is not running")]
    Dead(u32),
    #[error("the recorded process {0} belongs to another user")]
    Foreign(u32),
    #[error("the recorded URL {0} is not a loopback address")]
    NotLoopback(String),
    #[error("the server at {0} did not prove it holds the recorded key: {1}")]
    NoProof(String, String),
}

/// The most of a hello answer read (a proof is about a hundred bytes).
const MAX_HELLO_BYTES: usize = 4096;

/// A fresh random key for a new server.
pub(crate) fn new_key() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the record readable by this user only (0600), replacing any old one atomically.
pub(crate) fn write(path: &Path, record: &SandboxRecord) -> Result<(), CoreError> {
    let text = serde_json::to_vec(record).map_err(|error| CoreError::Sandbox(error.to_string()))?;
    // The one writer of config and secret files: atomic, fsynced, owner-only.
    crate::config_file::write_atomic(path, &text)?;
    Ok(())
}

/// The record's URL if it may be joined (see the module documentation).
pub(crate) async fn joinable(path: &Path) -> Result<Url, NotJoined> {
    let text =
        std::fs::read_to_string(path).map_err(|error| NotJoined::Unreadable(error.to_string()))?;
    let record: SandboxRecord =
        serde_json::from_str(&text).map_err(|error| NotJoined::Unreadable(error.to_string()))?;
    match process_state(record.pid, own_uid()) {
        ProcessState::Dead => return Err(NotJoined::Dead(record.pid)),
        ProcessState::Foreign => return Err(NotJoined::Foreign(record.pid)),
        ProcessState::Ours => {}
    }
    let url = Url::parse(&record.url).map_err(|error| NotJoined::Unreadable(error.to_string()))?;
    if !is_loopback(&url) {
        return Err(NotJoined::NotLoopback(record.url));
    }
    verify_hello(&url, &record.key)
        .await
        .map_err(|reason| NotJoined::NoProof(record.url.clone(), reason))?;
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Asks the server at `url` to prove it holds `key`.
async fn verify_hello(url: &Url, key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the record has no key (written by an older version)".to_owned());
    }
    let nonce = new_key();
    let mut hello = url
        .join(fake_imgur::HELLO_PATH)
        .map_err(|error| error.to_string())?;
    hello.query_pairs_mut().append_pair("nonce", &nonce);
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HELLO_TIMEOUT)
        .build()
        .map_err(|error| error.to_string())?;
    let response = client
        .get(hello)
        .send()
        .await
        .map_err(|error| format!("no answer ({error})"))?;
    if !response.status().is_success() {
        return Err(format!("answered {}", response.status()));
    }
    #[derive(Deserialize)]
    struct Proof {
        proof: String,
    }
    // Read at most a few KiB: whatever holds the recorded port now may answer with anything.
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| format!("unreadable answer ({error})"))?
    {
        if body.len() + chunk.len() > MAX_HELLO_BYTES {
            return Err(format!("an answer over {MAX_HELLO_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    let proof: Proof =
        serde_json::from_slice(&body).map_err(|error| format!("unreadable answer ({error})"))?;
    if proof.proof == fake_imgur::hello_proof(key, &nonce) {
        Ok(())
    } else {
        Err("wrong proof".to_owned())
    }
}

/// Whether a process runs, and as whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProcessState {
    /// No such process.
    Dead,
    /// It runs as another user.
    Foreign,
    /// It runs as `uid`.
    Ours,
}

/// This process's user id, as `/proc` shows owners (`None` where it is not read that way).
pub(crate) fn own_uid() -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata("/proc/self").ok().map(|meta| meta.uid())
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Whether `pid` runs as `uid` (`None`: any owner will do).
pub(crate) fn process_state(pid: u32, uid: Option<u32>) -> ProcessState {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt as _;
        match std::fs::metadata(format!("/proc/{pid}")) {
            Err(_) => ProcessState::Dead,
            Ok(meta) if uid.is_some_and(|uid| meta.uid() != uid) => ProcessState::Foreign,
            Ok(_) => ProcessState::Ours,
        }
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        use nix::errno::Errno;
        let Ok(raw) = i32::try_from(pid) else {
            return ProcessState::Dead;
        };
        // Signal 0 checks without signalling: EPERM means it runs as someone else.
        match nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None) {
            Ok(()) => ProcessState::Ours,
            Err(Errno::EPERM) => ProcessState::Foreign,
            Err(_) => {
                let _ = uid;
                ProcessState::Dead
            }
        }
    }
    #[cfg(not(unix))]
    {
        // No cheap owner check here: the hello proof alone decides.
        let _ = (pid, uid);
        ProcessState::Ours
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_process_is_ours_only_under_our_uid() {
        let me = std::process::id();
        assert_eq!(process_state(me, own_uid()), ProcessState::Ours);
        #[cfg(target_os = "linux")]
        {
            let other = own_uid().map(|uid| uid.wrapping_add(1));
            assert_eq!(process_state(me, other), ProcessState::Foreign);
        }
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert_eq!(process_state(pid, own_uid()), ProcessState::Dead);
    }

    #[cfg(unix)]
    #[test]
    fn the_record_is_written_for_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.json");
        std::fs::write(&path, "old").unwrap();
        let record = SandboxRecord {
            url: "http://127.0.0.1:1".to_owned(),
            pid: 1,
            key: new_key(),
        };
        write(&path, &record).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let read: SandboxRecord =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(read, record);
        assert_eq!(record.key.len(), 64);
    }
}
