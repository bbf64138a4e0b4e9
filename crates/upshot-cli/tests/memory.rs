//! A 100 MB upload streams: the `upshot` process's peak memory stays flat, about what a tiny
//! upload needs, instead of growing with the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, sha256_hex, stderr};
use nix::sys::resource::{UsageWho, getrusage};
use std::io::Write;

/// The highest resident set (KiB) among the children this process has waited for.
fn children_peak_kib() -> i64 {
    getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_100_mb_upload_keeps_memory_flat() {
    let env = Env::start().await;
    let small = env.dir.path().join("small.mp4");
    let big = env.dir.path().join("big.mp4");
    write_video(&small, 64 * 1024);
    write_video(&big, 100 * 1024 * 1024);

    let output = env
        .upshot_on_server()
        .arg("upload")
        .arg(&small)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let small_peak = children_peak_kib();

    let output = env
        .upshot_on_server()
        .arg("upload")
        .arg(&big)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let big_peak = children_peak_kib();

    let state = env.server.controls().state();
    let stored = state
        .uploads
        .iter()
        .find(|u| u.size == 100 * 1024 * 1024)
        .unwrap();
    assert_eq!(stored.sha256, sha256_hex(&big), "every byte arrived");

    let growth_mib = (big_peak - small_peak) as f64 / 1024.0;
    eprintln!("peak RSS: small upload {small_peak} KiB, 100 MB upload {big_peak} KiB");
    assert!(
        growth_mib < 16.0,
        "sending 100 MB grew peak memory by {growth_mib:.1} MiB: the file is being buffered"
    );
}

fn write_video(path: &std::path::Path, size: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut chunk = vec![0u8; 1 << 20];
    let mut written = 0;
    let mut counter = 0u8;
    while written < size {
        for byte in chunk.iter_mut() {
            counter = counter.wrapping_add(31);
            *byte = counter;
        }
        if written == 0 {
            chunk[..12].copy_from_slice(b"\0\0\0\x18ftypisom");
        }
        let take = chunk.len().min(size - written);
        file.write_all(&chunk[..take]).unwrap();
        written += take;
    }
    file.flush().unwrap();
}
