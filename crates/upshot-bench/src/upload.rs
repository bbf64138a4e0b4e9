//! The upload benchmarks: throughput against curl, and the peak memory of one large upload.
//! Every run is checked against what the fake server received before a figure is printed.

use crate::child::{Usage, log_path, run_measured};
use crate::measure::{BENCH_CLIENT_ID, BenchResult, FakeServer, make_pngs, make_video, median};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Upshot against curl: the same files, the same concurrency, each run against a fresh server.
///
/// The server keeps what it receives in RAM (`/dev/shm` when there is one) and is thrown away
/// after each run: otherwise the hundreds of megabytes each run leaves on disk are written back
/// while the next run goes, and the disk's throttling, not the clients, sets the times.
pub fn throughput(
    bin_dir: &Path,
    files: usize,
    megabytes: usize,
    jobs: usize,
    rounds: usize,
) -> BenchResult<()> {
    let work = tempfile::tempdir().map_err(|error| error.to_string())?;
    let paths = make_pngs(work.path(), files, megabytes << 20)?;
    let server_storage = server_storage()?;
    println!(
        "throughput: {files} files of {megabytes} MB, {jobs} at a time, {rounds} rounds, loopback, server storage in {}",
        server_storage.path().display()
    );
    let fresh_server = |name: &str| -> BenchResult<(FakeServer, PathBuf)> {
        let dir = server_storage.path().join(name);
        std::fs::create_dir_all(&dir).map_err(|error| error.to_string())?;
        Ok((FakeServer::start_in(bin_dir, &dir)?, dir))
    };
    let finish = |server: FakeServer, dir: PathBuf| {
        drop(server);
        std::fs::remove_dir_all(&dir).map_err(|error| error.to_string())
    };
    let run_curl = |round: usize| -> BenchResult<Usage> {
        let (server, dir) = fresh_server(&format!("curl-{round}"))?;
        let upload_url = format!("{}/3/image", server.base_url);
        let curl_config = write_curl_config(work.path(), &upload_url, &paths)?;
        let mut curl = Command::new("curl");
        curl.args([
            "--silent",
            "--no-progress-meter",
            "--show-error",
            "--fail",
            "--parallel",
            "--parallel-max",
        ])
        .arg(jobs.to_string())
        .arg("--config")
        .arg(&curl_config);
        let usage = run_measured(&curl, &log_path(work.path(), &format!("curl-{round}")))?;
        server.expect_uploads(files as u64, &format!("curl, round {round}"))?;
        finish(server, dir)?;
        Ok(usage)
    };
    // Upshot keeps one data directory across rounds, as a user does: its queue, history and
    // ledger grow from round to round. `--force`: the files were uploaded in the round before,
    // and without it Upshot would rightly print their links instead of sending them again.
    let run_upshot = |round: usize| -> BenchResult<Usage> {
        let (server, dir) = fresh_server(&format!("upshot-{round}"))?;
        let mut upshot = Command::new(bin_dir.join("upshot"));
        upshot
            .args([
                "upload",
                "--force",
                "--jobs",
                &jobs.to_string(),
                "--api-base",
                &server.base_url,
            ])
            .args(["--client-id", BENCH_CLIENT_ID, "--data-dir"])
            .arg(work.path().join("upshot-data"))
            .env("UPSHOT_CONFIG_DIR", work.path().join("upshot-config"))
            .args(&paths);
        let usage = run_measured(&upshot, &log_path(work.path(), &format!("upshot-{round}")))?;
        server.expect_uploads(files as u64, &format!("upshot, round {round}"))?;
        finish(server, dir)?;
        Ok(usage)
    };
    let mut curl_secs = Vec::new();
    let mut upshot_secs = Vec::new();
    let mut curl_cpu = Vec::new();
    let mut upshot_cpu = Vec::new();
    for round in 1..=rounds {
        // Taking turns at going first: whatever warms up favours neither tool.
        let (curl, upshot) = if round % 2 == 1 {
            let curl = run_curl(round)?;
            (curl, run_upshot(round)?)
        } else {
            let upshot = run_upshot(round)?;
            (run_curl(round)?, upshot)
        };
        println!(
            "  round {round}: curl {:.2} s ({:.2} s CPU, peak RSS {:.1} MB), upshot {:.2} s ({:.2} s CPU, peak RSS {:.1} MB); \
             the server received all {files} uploads of each",
            curl.wall_secs,
            curl.cpu_secs,
            curl.max_rss_mb,
            upshot.wall_secs,
            upshot.cpu_secs,
            upshot.max_rss_mb
        );
        curl_secs.push(curl.wall_secs);
        upshot_secs.push(upshot.wall_secs);
        curl_cpu.push(curl.cpu_secs);
        upshot_cpu.push(upshot.cpu_secs);
    }
    // Each round's own ratio as well: the machine's speed drifts between rounds, and both tools
    // of a round ran back to back.
    let mut round_ratios: Vec<f64> = upshot_secs
        .iter()
        .zip(&curl_secs)
        .map(|(upshot, curl)| upshot / curl)
        .collect();
    let round_ratio = median(&mut round_ratios);
    let curl = median(&mut curl_secs);
    let upshot = median(&mut upshot_secs);
    let total_mb = (files * megabytes) as f64;
    println!(
        "  curl   median {curl:.2} s ({:.0} MB/s), {:.2} s CPU",
        total_mb / curl,
        median(&mut curl_cpu)
    );
    println!(
        "  upshot median {upshot:.2} s ({:.0} MB/s), {:.2} s CPU",
        total_mb / upshot,
        median(&mut upshot_cpu)
    );
    println!(
        "  ratio upshot/curl {:.3} of the medians, {round_ratio:.3} median of the rounds (goal: at most 1.10)",
        upshot / curl
    );
    Ok(())
}

/// Where the benchmark's servers keep uploads: RAM when the machine has `/dev/shm`.
fn server_storage() -> BenchResult<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    let builder = tempfile::Builder::new()
        .prefix("upshot-bench-")
        .tempdir_in(shm);
    match builder {
        Ok(dir) if shm.is_dir() => Ok(dir),
        _ => tempfile::tempdir().map_err(|error| error.to_string()),
    }
}

/// Peak resident memory of `upshot upload` sending one large video, measured on that process
/// alone.
pub fn memory(bin_dir: &Path, megabytes: usize) -> BenchResult<()> {
    let work = tempfile::tempdir().map_err(|error| error.to_string())?;
    let video = work.path().join("big.mp4");
    make_video(&video, megabytes << 20)?;
    let server = FakeServer::start_in(bin_dir, work.path())?;
    let mut upshot = Command::new(bin_dir.join("upshot"));
    upshot
        .args([
            "upload",
            "--api-base",
            &server.base_url,
            "--client-id",
            BENCH_CLIENT_ID,
        ])
        .arg("--data-dir")
        .arg(work.path().join("upshot-data"))
        .env("UPSHOT_CONFIG_DIR", work.path().join("upshot-config"))
        .arg(&video);
    let usage = run_measured(&upshot, &log_path(work.path(), "upshot-video"))?;
    server.expect_uploads(1, "upshot upload of the video")?;
    println!(
        "memory: upshot upload of one {megabytes} MB MP4 took {:.2} s and {:.2} s of CPU; \
         peak RSS of that process {:.1} MB (goal: under 40 MB)",
        usage.wall_secs, usage.cpu_secs, usage.max_rss_mb,
    );
    Ok(())
}

/// One curl process doing every upload, `next` separating the transfers, as a careful shell
/// user would run it.
fn write_curl_config(dir: &Path, url: &str, files: &[PathBuf]) -> BenchResult<PathBuf> {
    let path = dir.join("curl.config");
    let mut config =
        std::io::BufWriter::new(std::fs::File::create(&path).map_err(|error| error.to_string())?);
    for (index, file) in files.iter().enumerate() {
        if index > 0 {
            writeln!(config, "next").map_err(|error| error.to_string())?;
        }
        writeln!(
            config,
            "url = \"{url}\"\nheader = \"Authorization: Client-ID {BENCH_CLIENT_ID}\"\nform = \"image=@{}\"\noutput = \"/dev/null\"",
            file.display()
        )
        .map_err(|error| error.to_string())?;
    }
    config.flush().map_err(|error| error.to_string())?;
    Ok(path)
}
