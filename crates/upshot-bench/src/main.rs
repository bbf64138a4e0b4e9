//! Upshot's benchmarks. They print figures; they never pass or fail on timing.
//!
//! Run with `scripts/bench.sh` (which builds the release binaries first), or
//! `scripts/bench.sh --quick` for the quick form the test command runs on debug builds. Each
//! benchmark that uploads starts the real `fake-imgur` binary on loopback and runs the real
//! `upshot` binary against it, so what is measured is what a user runs; every run is checked
//! against what the server received before a figure is printed, and a failed run fails the
//! benchmark.

mod child;
mod measure;
mod preflight;
mod queue;
mod simulate;
mod upload;
mod watch;

use clap::{Parser, Subcommand};
use measure::BenchResult;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Upshot benchmarks.
#[derive(Debug, Parser)]
struct Args {
    /// Folder holding the `upshot` and `fake-imgur` binaries (default: next to this one).
    #[arg(long, global = true)]
    bin_dir: Option<PathBuf>,
    /// The quick form: a few small files, one round, seconds instead of minutes. It shows the
    /// benchmarks still run (the test command runs it on debug builds); its figures say little.
    /// Options given explicitly still win.
    #[arg(long, global = true)]
    quick: bool,
    /// Which benchmark (default: all).
    #[command(subcommand)]
    which: Option<Which>,
}

#[derive(Debug, Subcommand)]
enum Which {
    /// Files of a few MB: Upshot against curl with the same concurrency, each run against a
    /// fresh server, the tools taking turns at going first.
    Throughput {
        /// Number of files [default: 200; quick: 6].
        #[arg(long)]
        files: Option<usize>,
        /// Size of each file in MB [default: 2; quick: 1].
        #[arg(long)]
        megabytes: Option<usize>,
        /// Concurrent uploads for both tools [default: 2].
        #[arg(long)]
        jobs: Option<usize>,
        /// Rounds of each tool, the median is reported [default: 3; quick: 1].
        #[arg(long)]
        rounds: Option<usize>,
    },
    /// Peak resident memory of the `upshot upload` process sending one large video.
    Memory {
        /// Size of the video in MB [default: 200; quick: 20].
        #[arg(long)]
        megabytes: Option<usize>,
    },
    /// Queue that many tiny real files in one transaction; print the time and the database size.
    Enqueue {
        /// Number of files [default: 10000; quick: 300].
        #[arg(long)]
        files: Option<usize>,
    },
    /// Days of heavy use against the in-process fake Imgur, every upload decided by the quota
    /// governor: limit hits, 429s, budget used, interactive waits.
    Simulate {
        /// Simulated days [default: 30; quick: 1].
        #[arg(long)]
        days: Option<u32>,
        /// Files arriving a day, backlog and interactive [default: 5000; quick: 1000].
        #[arg(long)]
        files_per_day: Option<u32>,
        /// Of which interactive uploads [default: 150; quick: 30].
        #[arg(long)]
        interactive_per_day: Option<u32>,
        /// Watched-folder bursts a day [default: 8; quick: 1].
        #[arg(long)]
        bursts_per_day: Option<u32>,
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
    /// large video.
    Preflight {
        /// Rounds of each measurement, the median is reported [default: 5; quick: 1].
        #[arg(long)]
        rounds: Option<usize>,
    },
    /// Watched folders: a burst of files in 10 folders against `upshot watch`; exactly-once,
    /// settle-to-queued latency, peak memory, idle CPU.
    Watch {
        /// Files in the burst [default: 10000; quick: 200].
        #[arg(long)]
        files: Option<usize>,
        /// Seconds the burst is spread over [default: 10; quick: 2].
        #[arg(long)]
        burst_secs: Option<u64>,
        /// Seconds of idle CPU measurement [default: 60; quick: 3].
        #[arg(long)]
        idle_secs: Option<u64>,
    },
    /// Internal: runs a command as this process's only child and writes its own rusage to
    /// `--report` (how the other benchmarks measure one process; see `child.rs`).
    #[command(hide = true)]
    MeasureChild {
        /// Where to write the usage, as JSON.
        #[arg(long)]
        report: PathBuf,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<OsString>,
    },
}

/// The full value, or the quick one under `--quick`, unless given.
fn pick<T>(given: Option<T>, quick: bool, full: T, quick_value: T) -> T {
    given.unwrap_or(if quick { quick_value } else { full })
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Which::MeasureChild { report, command }) = &args.which {
        return child::measure_child(report, command);
    }
    let Some(bin_dir) = args.bin_dir.or_else(measure::own_dir) else {
        eprintln!("upshot-bench: cannot tell where the binaries are; pass --bin-dir");
        return ExitCode::from(2);
    };
    let result = match args.which {
        Some(which) => run(&bin_dir, args.quick, which),
        None => all(&bin_dir, args.quick),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("upshot-bench: {error}");
            ExitCode::from(1)
        }
    }
}

/// Every benchmark with its defaults, one after the other; the first that fails stops the run
/// (and makes the exit status non-zero).
fn all(bin_dir: &Path, quick: bool) -> BenchResult<()> {
    let every = [
        Which::Throughput {
            files: None,
            megabytes: None,
            jobs: None,
            rounds: None,
        },
        Which::Memory { megabytes: None },
        Which::Enqueue { files: None },
        Which::Simulate {
            days: None,
            files_per_day: None,
            interactive_per_day: None,
            bursts_per_day: None,
            others_share: simulate::Scenario::default().others_share,
            upload_secs: simulate::Scenario::default().upload_secs,
            seed: simulate::Scenario::default().seed,
            trace: false,
        },
        Which::Preflight { rounds: None },
        Which::Watch {
            files: None,
            burst_secs: None,
            idle_secs: None,
        },
    ];
    let started = Instant::now();
    for which in every {
        let name = which.name();
        println!("\n== {name}{}", if quick { " (quick)" } else { "" });
        let took = Instant::now();
        run(bin_dir, quick, which).map_err(|error| format!("{name}: {error}"))?;
        println!("({name} took {:.1} s)", took.elapsed().as_secs_f64());
    }
    println!(
        "\nall benchmarks ran in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

impl Which {
    fn name(&self) -> &'static str {
        match self {
            Which::Throughput { .. } => "throughput",
            Which::Memory { .. } => "memory",
            Which::Enqueue { .. } => "enqueue",
            Which::Simulate { .. } => "simulate",
            Which::Preflight { .. } => "preflight",
            Which::Watch { .. } => "watch",
            Which::MeasureChild { .. } => "measure-child",
        }
    }
}

/// One benchmark; options not given take their full or quick default.
fn run(bin_dir: &Path, q: bool, which: Which) -> BenchResult<()> {
    match which {
        Which::Throughput {
            files,
            megabytes,
            jobs,
            rounds,
        } => upload::throughput(
            bin_dir,
            pick(files, q, 200, 6),
            pick(megabytes, q, 2, 1),
            pick(jobs, q, 2, 2),
            pick(rounds, q, 3, 1),
        ),
        Which::Memory { megabytes } => upload::memory(bin_dir, pick(megabytes, q, 200, 20)),
        Which::Preflight { rounds } => {
            preflight::preflight(pick(rounds, q, 5, 1), preflight::Sizes::new(q))
        }
        Which::Enqueue { files } => queue::enqueue(pick(files, q, 10_000, 300)),
        Which::Simulate {
            days,
            files_per_day,
            interactive_per_day,
            bursts_per_day,
            others_share,
            upload_secs,
            seed,
            trace,
        } => {
            let preset = simulate::Scenario::preset(q);
            simulate::simulate(simulate::Scenario {
                days: days.unwrap_or(preset.days),
                files_per_day: files_per_day.unwrap_or(preset.files_per_day),
                interactive_per_day: interactive_per_day.unwrap_or(preset.interactive_per_day),
                bursts_per_day: bursts_per_day.unwrap_or(preset.bursts_per_day),
                others_share,
                upload_secs,
                seed,
                trace,
            })
        }
        Which::Watch {
            files,
            burst_secs,
            idle_secs,
        } => watch::watch(
            bin_dir,
            watch::WatchScenario {
                files: pick(files, q, 10_000, 200),
                burst_secs: pick(burst_secs, q, 10, 2),
                idle_secs: pick(idle_secs, q, 60, 3),
            },
        ),
        Which::MeasureChild { .. } => Err("measure-child is run by the benchmarks".to_owned()),
    }
}
