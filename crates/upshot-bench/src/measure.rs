//! Starting the fake server, making test files, and measuring child processes.

use nix::sys::resource::{UsageWho, getrusage};
use rand::RngCore;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A failed benchmark step, in words.
pub type BenchResult<T> = Result<T, String>;

/// The folder of the running executable, where cargo puts the sibling binaries.
pub fn own_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()?
        .parent()
        .map(Path::to_path_buf)
}

/// A `fake-imgur` process, killed when dropped.
pub struct FakeServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

/// The Client ID the benchmarks register with the fake server.
pub const BENCH_CLIENT_ID: &str = "bench-client";

impl FakeServer {
    /// Starts the binary with limits high enough that the benchmark never meets them, its
    /// state in memory (a data directory would add a journal write per upload, measured with
    /// the clients) and the uploaded bytes in a temporary folder under `storage`.
    pub fn start_in(bin_dir: &Path, storage: &Path) -> BenchResult<Self> {
        let binary = bin_dir.join("fake-imgur");
        let mut child = Command::new(&binary)
            .args([
                "--port",
                "0",
                "--client-id",
                BENCH_CLIENT_ID,
                "--client-secret",
                "bench-secret",
            ])
            .args([
                "--client-credits",
                "100000000",
                "--user-credits",
                "100000000",
            ])
            .args(["--post-limit", "100000000", "--json-style", "modern"])
            .env("TMPDIR", storage)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("fake-imgur has no stdout")?;
        let mut first_line = String::new();
        BufReader::new(stdout)
            .read_line(&mut first_line)
            .map_err(|error| format!("fake-imgur did not print its URL: {error}"))?;
        Ok(Self {
            child,
            base_url: first_line.trim().to_owned(),
        })
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `count` files of `bytes` each: a PNG signature and header followed by random bytes, so
/// they sniff as PNG and do not compress.
pub fn make_pngs(dir: &Path, count: usize, bytes: usize) -> BenchResult<Vec<PathBuf>> {
    let mut rng = rand::rng();
    let mut body = vec![0u8; bytes];
    (0..count)
        .map(|index| {
            rng.fill_bytes(&mut body);
            let header = png_header(640, 480);
            body[..header.len()].copy_from_slice(&header);
            let path = dir.join(format!("file-{index:04}.png"));
            std::fs::write(&path, &body)
                .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// Writes a large file that sniffs as MP4, without holding it in memory.
pub fn make_video(path: &Path, bytes: usize) -> BenchResult<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).map_err(|error| format!("cannot create video: {error}"))?,
    );
    let mut rng = rand::rng();
    let mut chunk = vec![0u8; 1 << 20];
    let mut written = 0usize;
    while written < bytes {
        rng.fill_bytes(&mut chunk);
        if written == 0 {
            chunk[..12].copy_from_slice(b"\0\0\0\x18ftypisom");
        }
        let take = chunk.len().min(bytes - written);
        file.write_all(&chunk[..take])
            .map_err(|error| format!("cannot write video: {error}"))?;
        written += take;
    }
    file.flush()
        .map_err(|error| format!("cannot write video: {error}"))
}

fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut header = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    header
}

/// The largest resident set (in KiB) of any child this process has waited for so far.
pub fn children_peak_rss_kib() -> BenchResult<i64> {
    getrusage(UsageWho::RUSAGE_CHILDREN)
        .map(|usage| usage.max_rss())
        .map_err(|error| format!("getrusage failed: {error}"))
}

/// The median of a few measurements.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
