//! The one error scheme: every error serializes as `{code, message}`, a wrapping error reports
//! its source's code, and the codes are exactly the committed list in `docs/ERROR_CODES.md`
//! (each once), so a code cannot change or appear without the list saying so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use upshot_core::ServiceError;
use upshot_core::auth::{AuthError, StateRejected, VaultError};
use upshot_core::error::ErrorCode;
use upshot_core::governor::GovernorError;
use upshot_core::media::FileRejected;
use upshot_core::paths::PathsError;
use upshot_core::store::StoreError;
use upshot_core::watch::WatchError;
use upshot_core::{CoreError, runner::RunnerError};
use upshot_imgur::{ErrorKind, ImgurError};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `{code, message}` and nothing else, with the code asked for and the error's own words.
fn assert_coded<E: ErrorCode + serde::Serialize>(error: &E, code: &str) {
    let value = serde_json::to_value(error).unwrap();
    assert_eq!(
        value,
        json!({ "code": code, "message": error.to_string() }),
        "{value}"
    );
    assert_eq!(error.code(), code);
}

fn disk_full() -> StoreError {
    StoreError::DiskFull {
        path: "/data/upshot.db".into(),
    }
}

fn unreachable() -> ImgurError {
    ImgurError {
        kind: ErrorKind::RetryLater,
        status: None,
        message: "Could not connect to Imgur: Connection refused (os error 111).".to_owned(),
        code: None,
        retry_at: None,
        rate_limits: Box::default(),
        outcome_unknown: false,
    }
}

#[test]
fn every_layer_serializes_as_code_and_message() {
    assert_coded(&disk_full(), "disk_full");
    assert_coded(
        &FileRejected::Missing {
            path: "/pics/gone.png".into(),
        },
        "missing",
    );
    assert_coded(
        &PathsError::NoPlatformDir {
            which: "data",
            hint: "--data-dir",
        },
        "no_platform_dir",
    );
    assert_coded(&CoreError::MissingClientId, "missing_client_id");
    assert_coded(
        &WatchError::NotWatched {
            key: "7".to_owned(),
        },
        "not_watched",
    );
    assert_coded(&AuthError::NotLoggedIn, "not_logged_in");
    assert_coded(&StateRejected::Reused, "reused_state");
    assert_coded(
        &VaultError::Keychain("locked".to_owned()),
        "keychain_failed",
    );
    assert_coded(
        &ServiceError::NotFound("There is no upload abc.".to_owned()),
        "not_found",
    );
    assert_coded(&RunnerError::Task("gone".to_owned()), "internal");
}

#[test]
fn a_wrapping_error_reports_its_sources_code() {
    // The store's code through every layer that may carry it up to a face.
    assert_coded(&WatchError::Store(disk_full()), "disk_full");
    assert_coded(&AuthError::Store(disk_full()), "disk_full");
    assert_coded(&GovernorError::Store(disk_full()), "disk_full");
    assert_coded(&RunnerError::Store(disk_full()), "disk_full");
    assert_coded(
        &RunnerError::Governor(GovernorError::Store(disk_full())),
        "disk_full",
    );
    assert_coded(&ServiceError::Store(disk_full()), "disk_full");
    assert_coded(
        &ServiceError::Runner(RunnerError::Store(disk_full())),
        "disk_full",
    );
    assert_coded(
        &ServiceError::from(WatchError::Store(disk_full())),
        "disk_full",
    );
    assert_coded(
        &ServiceError::Auth(AuthError::Store(disk_full())),
        "disk_full",
    );
    // The Imgur client's code, through the service, auth and setup.
    assert_coded(&ServiceError::Imgur(unreachable()), "imgur_unreachable");
    assert_coded(&AuthError::Imgur(unreachable()), "imgur_unreachable");
    assert_coded(&CoreError::Client(unreachable()), "imgur_unreachable");
    // Setup's sources.
    let no_dir = PathsError::NoPlatformDir {
        which: "config",
        hint: "UPSHOT_CONFIG_DIR",
    };
    assert_coded(
        &ServiceError::Core(CoreError::Paths(no_dir)),
        "no_platform_dir",
    );
    assert_coded(
        &ServiceError::Core(CoreError::Secrets(VaultError::Keychain("locked".into()))),
        "keychain_failed",
    );
}

#[test]
fn an_imgur_error_keeps_its_kind_and_details_beside_code_and_message() {
    let value = serde_json::to_value(unreachable()).unwrap();
    assert_eq!(value["code"], "imgur_unreachable");
    assert_eq!(value["kind"], "retry_later");
    assert_eq!(value["message"], unreachable().message);
    assert!(value["imgur_code"].is_null(), "{value}");
    // It still reads back (the numeric code of Imgur under its own key).
    let back: ImgurError = serde_json::from_value(value).unwrap();
    assert_eq!(back, unreachable());
}

/// The string literals of every `fn code` / `fn error_code` body in `file` (and the CLI's
/// `UPLOAD_*` constants).
fn codes_in(file: &Path, codes: &mut BTreeSet<String>) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut body_indent: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        if let Some(at) = body_indent {
            if trimmed == "}" && indent == at {
                body_indent = None;
                continue;
            }
            let mut rest = trimmed;
            while let Some(start) = rest.find('"') {
                let after = &rest[start + 1..];
                let Some(end) = after.find('"') else { break };
                let literal = &after[..end];
                if !literal.is_empty()
                    && literal.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                {
                    codes.insert(literal.to_owned());
                }
                rest = &after[end + 1..];
            }
        } else if trimmed.ends_with('{')
            && (trimmed.starts_with("fn code(&self) -> &'static str")
                || trimmed.starts_with("pub fn code(&self) -> &'static str")
                || trimmed.starts_with("pub fn error_code(&self) -> &'static str"))
        {
            body_indent = Some(indent);
        } else if trimmed.starts_with("const UPLOAD_")
            && let Some(code) = trimmed.split('"').nth(1)
        {
            codes.insert(code.to_owned());
        }
    }
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn the_codes_are_the_committed_list_each_once() {
    let root = workspace();
    let mut files = Vec::new();
    for dir in [
        "crates/upshot-core/src",
        "crates/imgur-api/src",
        "crates/upshot-cli/src",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut in_source = BTreeSet::new();
    for file in &files {
        codes_in(file, &mut in_source);
    }

    let table = std::fs::read_to_string(root.join("docs/ERROR_CODES.md")).unwrap();
    let listed: Vec<String> = table
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect();
    let unique: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(listed.len(), unique.len(), "a code is listed twice");
    for code in &unique {
        assert!(
            code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "not snake_case: {code}"
        );
    }
    let unlisted: Vec<_> = in_source.difference(&unique).collect();
    let gone: Vec<_> = unique.difference(&in_source).collect();
    assert!(
        unlisted.is_empty() && gone.is_empty(),
        "docs/ERROR_CODES.md and the source disagree: not listed {unlisted:?}; listed but \
         given by nothing {gone:?} (codes never change: add a new one instead)"
    );
    // Sanity: the scan sees the layers it should.
    for code in [
        "disk_full",
        "imgur_unreachable",
        "missing",
        "not_watched",
        "budget_spent",
    ] {
        assert!(in_source.contains(code), "{code} not found by the scan");
    }
}
