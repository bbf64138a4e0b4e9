//! The watched-folder benchmark: 10,000 files created within 10 seconds across 10 folders (a
//! third written directly, a third under a temporary name then renamed, the rest by slow
//! writers in three chunks) while the real `upshot watch --queue-only` runs. Prints how many
//! were queued exactly once, partial files queued, the latency from a file settling to its job
//! being queued, the watcher's peak memory, and its CPU use idle with 10 folders watched.

use crate::measure::{BENCH_CLIENT_ID, BenchResult, FakeServer};
use rand::RngCore;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The settle window the benchmark runs with (the default).
const SETTLE: Duration = Duration::from_secs(1);
const FOLDERS: usize = 10;

/// What to run.
pub struct WatchScenario {
    /// Files in the burst.
    pub files: usize,
    /// Seconds the burst is spread over.
    pub burst_secs: u64,
    /// Seconds of idle measurement.
    pub idle_secs: u64,
}

struct Watching {
    child: Child,
    lines: mpsc::Receiver<(Instant, String)>,
}

impl Watching {
    fn start(
        bin_dir: &Path,
        work: &Path,
        base_url: &str,
        folders: &[PathBuf],
        queue_only: bool,
    ) -> BenchResult<Self> {
        let log = work.join(if queue_only {
            "watch-queue-only.log"
        } else {
            "watch.log"
        });
        let log_file = std::fs::File::create(&log).map_err(io("create the watcher's log"))?;
        let mut command = Command::new(bin_dir.join("upshot"));
        command
            .args([
                "watch",
                "--json",
                "--api-base",
                base_url,
                "--client-id",
                BENCH_CLIENT_ID,
            ])
            .arg("--data-dir")
            .arg(work.join("upshot-data"))
            .env("UPSHOT_CONFIG_DIR", work.join("upshot-config"))
            .env("UPSHOT_SECRET_STORE", "file")
            .args(folders)
            .stdout(Stdio::piped())
            .stderr(log_file);
        if queue_only {
            command.arg("--queue-only");
        }
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot start upshot watch: {error}"))?;
        let stdout = child.stdout.take().ok_or("upshot watch has no stdout")?;
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        let watching = Self { child, lines };
        let mut ready = 0;
        while ready < folders.len() {
            let Ok((_, line)) = watching.lines.recv_timeout(Duration::from_secs(60)) else {
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!(
                    "upshot watch did not report its {} folders watched within 60 s ({ready} \
                     reported); its standard error: {}",
                    folders.len(),
                    said.trim()
                ));
            };
            if line.contains("\"event\":\"watching\"") {
                ready += 1;
            }
        }
        Ok(watching)
    }

    fn cpu_seconds(&self) -> BenchResult<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .map_err(|error| format!("cannot read the watcher's CPU time: {error}"))?;
        let after_name = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the name.
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|index| fields.get(*index)?.parse::<f64>().ok())
            .sum();
        Ok(ticks / clock_ticks_per_second())
    }

    fn peak_rss_mb(&self) -> BenchResult<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .map_err(|error| format!("cannot read the watcher's memory: {error}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| {
                value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map(|kib| kib / 1024.0)
            .ok_or_else(|| "no VmHWM in /proc/PID/status".to_owned())
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A real PNG of about `bytes` bytes of random grey pixels (noise does not compress), so
/// every file is distinct and passes preflight as a user's screenshot would.
fn png_like(rng: &mut impl RngCore, bytes: usize) -> Vec<u8> {
    use image::ImageEncoder;
    let width = 64u32;
    let height = u32::try_from(bytes / 64).unwrap_or(64).max(1);
    let mut pixels = vec![0u8; (width * height) as usize];
    rng.fill_bytes(&mut pixels);
    let mut png = Vec::with_capacity(bytes + 256);
    let encoded = image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    )
    .write_image(&pixels, width, height, image::ExtendedColorType::L8);
    match encoded {
        Ok(()) => png,
        // Encoding raw bytes into memory cannot fail; keep the benchmark going if it does.
        Err(_) => pixels,
    }
}

fn io(what: &str) -> impl Fn(std::io::Error) -> String + '_ {
    move |error| format!("{what}: {error}")
}

/// Writes the burst; returns each final path with when it last changed.
fn burst(
    folders: &[PathBuf],
    files: usize,
    span: Duration,
) -> BenchResult<Vec<(PathBuf, Instant)>> {
    let direct = files * 2 / 5;
    let renamed = files * 2 / 5;
    let slow = files - direct - renamed;
    let paced = |kind: &'static str, count: usize, rename: bool| {
        let folders = folders.to_vec();
        let path_of = move |n: usize| folders[n % folders.len()].join(format!("{kind}-{n:05}.png"));
        std::thread::spawn(move || -> BenchResult<Vec<(PathBuf, Instant)>> {
            let mut rng = rand::rng();
            let start = Instant::now();
            let mut done = Vec::with_capacity(count);
            for n in 0..count {
                let target = start + span.mul_f64(n as f64 / count as f64);
                if let Some(wait) = target.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let path = path_of(n);
                let bytes = png_like(&mut rng, 4096);
                if rename {
                    let partial = path.with_extension("png.part");
                    std::fs::write(&partial, &bytes).map_err(io("write"))?;
                    std::fs::rename(&partial, &path).map_err(io("rename"))?;
                } else {
                    std::fs::write(&path, &bytes).map_err(io("write"))?;
                }
                done.push((path, Instant::now()));
            }
            Ok(done)
        })
    };
    let direct_writer = paced("direct", direct, false);
    let rename_writer = paced("renamed", renamed, true);
    let slow_folders = folders.to_vec();
    let slow_writer = std::thread::spawn(move || -> BenchResult<Vec<(PathBuf, Instant)>> {
        // Batches of slow writers: three chunks each, 300 ms apart (inside the settle window).
        let mut rng = rand::rng();
        let batches = (span.as_secs_f64() / 0.7).floor().max(1.0) as usize;
        let per_batch = slow.div_ceil(batches);
        let mut done = Vec::with_capacity(slow);
        let mut n = 0;
        while n < slow {
            let mut open = Vec::new();
            for _ in 0..per_batch.min(slow - n) {
                let path = slow_folders[n % slow_folders.len()].join(format!("slow-{n:05}.png"));
                let file = std::fs::File::create(&path).map_err(io("create"))?;
                open.push((path, file, png_like(&mut rng, 6144)));
                n += 1;
            }
            for chunk in 0..3 {
                for (_, file, bytes) in &mut open {
                    let third = bytes.len().div_ceil(3);
                    let start = (chunk * third).min(bytes.len());
                    let end = if chunk == 2 {
                        bytes.len()
                    } else {
                        (start + third).min(bytes.len())
                    };
                    file.write_all(&bytes[start..end]).map_err(io("write"))?;
                }
                if chunk < 2 {
                    std::thread::sleep(Duration::from_millis(300));
                }
            }
            let finished = Instant::now();
            done.extend(open.into_iter().map(|(path, _, _)| (path, finished)));
        }
        Ok(done)
    });
    let mut all = Vec::with_capacity(files);
    for writer in [direct_writer, rename_writer, slow_writer] {
        all.extend(writer.join().map_err(|_| "a writer thread panicked")??);
    }
    Ok(all)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Every job in the data directory as `upshot queue list --all --json` prints it: the source
/// path and the content hash the watcher queued it with.
fn listed_jobs(
    bin_dir: &Path,
    work: &Path,
    base_url: &str,
) -> BenchResult<Vec<(String, Option<String>)>> {
    let output = Command::new(bin_dir.join("upshot"))
        .args(["queue", "list", "--all", "--json", "--api-base", base_url])
        .args(["--client-id", BENCH_CLIENT_ID, "--data-dir"])
        .arg(work.join("upshot-data"))
        .env("UPSHOT_CONFIG_DIR", work.join("upshot-config"))
        .env("UPSHOT_SECRET_STORE", "file")
        .stdin(Stdio::null())
        .output()
        .map_err(io("upshot queue list"))?;
    if !output.status.success() {
        return Err(format!(
            "upshot queue list failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(serde_json::from_str::<serde_json::Value>)
        .filter(|parsed| !matches!(parsed, Ok(job) if job.get("worker_fault").is_some()))
        .map(|parsed| {
            let job = parsed.map_err(|error| format!("upshot queue list --json: {error}"))?;
            let path = job["source_path"]
                .as_str()
                .ok_or("a listed job has no source_path")?
                .to_owned();
            Ok((path, job["content_hash"].as_str().map(str::to_owned)))
        })
        .collect()
}

/// Runs the benchmark and prints its figures.
pub fn watch(bin_dir: &Path, scenario: WatchScenario) -> BenchResult<()> {
    let work = tempfile::tempdir().map_err(io("temp dir"))?;
    let server = FakeServer::start_in(bin_dir, work.path())?;
    let folders: Vec<PathBuf> = (0..FOLDERS)
        .map(|n| work.path().join(format!("watched-{n}")))
        .collect();
    for folder in &folders {
        std::fs::create_dir_all(folder).map_err(io("mkdir"))?;
    }

    // Idle: the whole `upshot watch` (watcher and upload workers) with 10 folders.
    {
        let idle = Watching::start(bin_dir, work.path(), &server.base_url, &folders, false)?;
        std::thread::sleep(Duration::from_secs(2));
        let before = idle.cpu_seconds()?;
        std::thread::sleep(Duration::from_secs(scenario.idle_secs));
        let used = idle.cpu_seconds()? - before;
        println!(
            "watch idle: {} folders for {} s: {:.2} s of CPU = {:.3} % of a core (goal: under 0.5 %, no polling)",
            FOLDERS,
            scenario.idle_secs,
            used,
            100.0 * used / scenario.idle_secs as f64
        );
    }

    // The burst, against the watcher alone (10,000 uploads would spend 8 days of Imgur budget).
    let watcher = Watching::start(bin_dir, work.path(), &server.base_url, &folders, true)?;
    let started = Instant::now();
    let written = burst(
        &folders,
        scenario.files,
        Duration::from_secs(scenario.burst_secs),
    )?;
    let burst_took = started.elapsed();
    let last_change: HashMap<PathBuf, Instant> = written.iter().cloned().collect();
    let mut queued_at: HashMap<PathBuf, Instant> = HashMap::new();
    let mut queued_twice = 0usize;
    let deadline = Instant::now() + Duration::from_secs(120);
    while queued_at.len() < scenario.files && Instant::now() < deadline {
        let Ok((at, line)) = watcher.lines.recv_timeout(Duration::from_millis(500)) else {
            continue;
        };
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if event["event"] == "queued" {
            let path = PathBuf::from(event["path"].as_str().unwrap_or_default());
            if queued_at.insert(path, at).is_some() {
                queued_twice += 1;
            }
        }
    }
    // Anything queued twice shows up a little later; give it the time.
    std::thread::sleep(SETTLE * 2);
    while let Ok((_, line)) = watcher.lines.try_recv() {
        if line.contains("\"event\":\"queued\"") {
            queued_twice += 1;
        }
    }
    let peak = watcher.peak_rss_mb()?;
    drop(watcher);
    let missed: Vec<&PathBuf> = written
        .iter()
        .map(|(path, _)| path)
        .filter(|path| !queued_at.contains_key(*path))
        .collect();
    if let Some(first) = missed.first() {
        return Err(format!(
            "upshot watch did not queue {} of the {} files within 120 s (the first: {}); \
             the latency and memory figures would be of a broken run",
            missed.len(),
            written.len(),
            first.display()
        ));
    }

    let mut latencies: Vec<f64> = queued_at
        .iter()
        .filter_map(|(path, at)| {
            let settled = *last_change.get(path)? + SETTLE;
            Some(at.saturating_duration_since(settled).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);

    // Every job against the final file: a job whose content hash differs queued a partial file.
    let jobs = listed_jobs(bin_dir, work.path(), &server.base_url)?;
    let mut partial = 0usize;
    let mut per_path: HashMap<&str, usize> = HashMap::new();
    for (path, hash) in &jobs {
        *per_path.entry(path.as_str()).or_default() += 1;
        let actual = upshot_core::content_hash::hash_file(Path::new(path)).ok();
        if actual.is_none() || actual != *hash {
            partial += 1;
        }
    }
    let exactly_once = written
        .iter()
        .filter(|(path, _)| per_path.get(path.to_str().unwrap_or_default()) == Some(&1))
        .count();
    println!(
        "watch burst: {} files written in {:.1} s (2/5 direct, 2/5 temporary name then rename, 1/5 slow writers); \
         {} jobs; {} files queued exactly once (goal: all), {} queued twice, {} partial files queued (goal: 0)",
        written.len(),
        burst_took.as_secs_f64(),
        jobs.len(),
        exactly_once,
        queued_twice,
        partial
    );
    println!(
        "watch latency from settling to queued: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (goal: p99 under 1000 ms)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "watch memory: peak RSS of upshot watch --queue-only during the burst {peak:.1} MB (goal: under 64 MB)"
    );
    drop(server);
    Ok(())
}
