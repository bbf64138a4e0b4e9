//! Upshot's benchmarks. They print figures; they never pass or fail on timing.
//!
//! Run with `scripts/bench.sh` (which builds the release binaries first). Each benchmark starts
//! the real `fake-imgur` binary on loopback and runs the real `upshot` binary against it, so what
//! is measured is what a user runs.

mod measure;
mod preflight;
mod queue;
mod simulate;
mod upload;
mod watch;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Upshot benchmarks.
#[derive(Debug, Parser)]
struct Args {
    /// Folder holding the release `upshot` and `fake-imgur` binaries (default: next to this one).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Which benchmark (default: all).
    #[command(subcommand)]
    which: Option<Which>,
}

#[derive(Debug, Subcommand)]
enum Which {
    /// 200 files of 2 MB: Upshot against curl with the same concurrency.
    Throughput {
        /// Number of files.
        #[arg(long, default_value_t = 200)]
        files: usize,
        /// Size of each file in MB.
        #[arg(long, default_value_t = 2)]
        megabytes: usize,
        /// Concurrent uploads for both tools.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Rounds of each tool (the median is reported).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Peak resident memory of `upshot upload` for one large video.
    Memory {
        /// Size of the video in MB.
        #[arg(long, default_value_t = 200)]
        megabytes: usize,
    },
    /// Queue that many tiny real files in one transaction; print the time and the database size.
    Enqueue {
        /// Number of files.
        #[arg(long, default_value_t = 10_000)]
        files: usize,
    },
    /// Days of heavy use against the in-process fake Imgur, every upload decided by the quota
    /// governor: limit hits, 429s, budget used, interactive waits.
    Simulate {
        /// Simulated days.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Files arriving a day (backlog and interactive).
        #[arg(long, default_value_t = 5_000)]
        files_per_day: u32,
        /// Of which interactive uploads.
        #[arg(long, default_value_t = 150)]
        interactive_per_day: u32,
        /// Watched-folder bursts a day.
        #[arg(long, default_value_t = 8)]
        bursts_per_day: u32,
        /// Share of the daily budget another install of the same Client ID spends.
        #[arg(long, default_value_t = 0.30)]
        others_share: f64,
        /// Simulated seconds one upload takes.
        #[arg(long, default_value_t = 2)]
        upload_secs: u64,
        /// Random seed for the arrival times.
        #[arg(long, default_value_t = 3)]
        seed: u64,
        /// Print the governor's status every simulated hour.
        #[arg(long)]
        trace: bool,
    },
    /// Preflight: checking and cleaning a camera photo, fitting a 4K screenshot, checking a
    /// 200 MB video.
    Preflight {
        /// Rounds of each measurement (the median is reported).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Watched folders: a burst of files in 10 folders against `upshot watch`; exactly-once,
    /// settle-to-queued latency, peak memory, idle CPU.
    Watch {
        /// Files in the burst.
        #[arg(long, default_value_t = 10_000)]
        files: usize,
        /// Seconds the burst is spread over.
        #[arg(long, default_value_t = 10)]
        burst_secs: u64,
        /// Seconds of idle CPU measurement.
        #[arg(long, default_value_t = 60)]
        idle_secs: u64,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let bin_dir = match args.bin_dir.or_else(measure::own_dir) {
        Some(dir) => dir,
        None => {
            eprintln!("upshot-bench: cannot tell where the binaries are; pass --bin-dir");
            return ExitCode::from(2);
        }
    };
    let result = match args.which {
        Some(Which::Throughput {
            files,
            megabytes,
            jobs,
            rounds,
        }) => upload::throughput(&bin_dir, files, megabytes, jobs, rounds),
        Some(Which::Memory { megabytes }) => upload::memory(&bin_dir, megabytes),
        Some(Which::Preflight { rounds }) => preflight::preflight(rounds),
        Some(Which::Enqueue { files }) => queue::enqueue(files),
        Some(Which::Simulate {
            days,
            files_per_day,
            interactive_per_day,
            bursts_per_day,
            others_share,
            upload_secs,
            seed,
            trace,
        }) => simulate::simulate(simulate::Scenario {
            days,
            files_per_day,
            interactive_per_day,
            bursts_per_day,
            others_share,
            upload_secs,
            seed,
            trace,
        }),
        Some(Which::Watch {
            files,
            burst_secs,
            idle_secs,
        }) => watch::watch(
            &bin_dir,
            watch::WatchScenario {
                files,
                burst_secs,
                idle_secs,
            },
        ),
        // Memory first: the peak RSS of children is a high-water mark over every child waited
        // for, and curl in the throughput run would otherwise set it.
        None => upload::memory(&bin_dir, 200)
            .and_then(|()| upload::throughput(&bin_dir, 200, 2, 2, 3))
            .and_then(|()| simulate::simulate(simulate::Scenario::default()))
            .and_then(|()| preflight::preflight(5))
            .and_then(|()| {
                watch::watch(
                    &bin_dir,
                    watch::WatchScenario {
                        files: 10_000,
                        burst_secs: 10,
                        idle_secs: 60,
                    },
                )
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("upshot-bench: {error}");
            ExitCode::from(1)
        }
    }
}
