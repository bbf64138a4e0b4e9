//! `--json` reports errors in Upshot's one shape, `{"error": {"code": ..., "message": ...}}`,
//! with the code of the layer where the failure happened (not of the layers that passed it on).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, free_port, stderr, stdout};
use serde_json::Value;

fn json_lines(output: &std::process::Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The `{code, message}` object's code, after checking it has just those two keys (and `kind`
/// for an upload's error).
fn code_of(error: &Value) -> &str {
    let object = error
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {error}"));
    assert!(
        object
            .keys()
            .all(|key| ["code", "message", "kind"].contains(&key.as_str())),
        "{error}"
    );
    assert!(!error["message"].as_str().unwrap().is_empty(), "{error}");
    error["code"].as_str().unwrap()
}

#[tokio::test]
async fn a_missing_file_is_an_error_line_with_its_code_kind_and_message() {
    let env = Env::start().await;
    let gone = env.dir.path().join("gone.png");
    let output = env
        .upshot_on_server()
        .args(["upload", "--json"])
        .arg(&gone)
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["status"], "failed");
    let error = &lines[0]["error"];
    assert_eq!(code_of(error), "missing");
    assert_eq!(
        error["kind"], "permanent",
        "an upload's error keeps its kind"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{error}"
    );
}

#[tokio::test]
async fn an_unreachable_server_reports_the_clients_code_through_the_service() {
    let env = Env::start().await;
    // Nothing listens there: the connection is refused before any request is sent.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let output = env
        .upshot_on_server()
        .env("UPSHOT_API_BASE", &nowhere)
        .args([
            "album",
            "create",
            "--anonymous",
            "--json",
            "--title",
            "nowhere",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "Imgur failed: {output:?}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1, "{output:?}");
    let error = &lines[0]["error"];
    assert_eq!(code_of(error), "imgur_unreachable", "{lines:?}");
    assert!(
        error["message"].as_str().unwrap().contains("connect"),
        "{error}"
    );
}

#[tokio::test]
async fn a_damaged_database_reports_the_stores_code_not_the_services() {
    let env = Env::start().await;
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join(upshot_core::store::DATABASE_FILE),
        b"this is not an SQLite database, not even close; it is long enough to be read though",
    )
    .unwrap();

    let json = env
        .upshot_on_server()
        .args(["queue", "list", "--json"])
        .output()
        .await
        .unwrap();
    assert_eq!(json.status.code(), Some(2), "a setup problem: {json:?}");
    let lines = json_lines(&json);
    assert_eq!(lines.len(), 1, "one error line on stdout: {json:?}");
    let error = &lines[0]["error"];
    assert_eq!(code_of(error), "database_corrupt");
    assert!(
        error["message"].as_str().unwrap().contains("upshot.db"),
        "{error}"
    );
    assert!(stderr(&json).is_empty(), "nothing else: {}", stderr(&json));

    // Without --json the human message on stderr stays as it was, and stdout stays empty.
    let plain = env
        .upshot_on_server()
        .args(["queue", "list"])
        .output()
        .await
        .unwrap();
    assert_eq!(plain.status.code(), Some(2));
    assert!(stdout(&plain).is_empty(), "{}", stdout(&plain));
    assert_eq!(
        stderr(&plain).trim(),
        format!("upshot: {}", error["message"].as_str().unwrap())
    );
}
