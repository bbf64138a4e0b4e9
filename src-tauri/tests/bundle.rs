//! The Linux bundle declares the `upshot://` scheme: its `.desktop` entry passes the URL to the
//! app (`%u`) and claims the scheme's MIME type, and the configuration uses that entry and
//! registers the scheme with the deep-link plugin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).unwrap()
}

#[test]
fn the_desktop_entry_hands_the_url_to_the_app_and_claims_the_scheme() {
    let entry = read("upshot.desktop");
    let exec = entry
        .lines()
        .find(|line| line.starts_with("Exec="))
        .expect("an Exec line");
    assert!(exec.ends_with(" %u"), "{exec}");
    assert!(
        entry
            .lines()
            .any(|line| line.starts_with("MimeType=") && line.contains("x-scheme-handler/upshot;")),
        "{entry}"
    );
}

#[test]
fn the_configuration_uses_the_entry_and_registers_the_scheme() {
    let config: serde_json::Value = serde_json::from_str(&read("tauri.conf.json")).unwrap();
    assert_eq!(
        config["plugins"]["deep-link"]["desktop"]["schemes"],
        serde_json::json!(["upshot"])
    );
    for package in ["deb", "rpm"] {
        assert_eq!(
            config["bundle"]["linux"][package]["desktopTemplate"], "upshot.desktop",
            "{package}"
        );
    }
}
