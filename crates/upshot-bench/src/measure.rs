//! Starting the fake server, making test files Upshot accepts, and asking the server what it
//! received.

use image::ImageEncoder;
use rand::RngCore;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
            // `/_fake/state`: what the server received, checked after every run.
            .arg("--test-controls")
            .env("TMPDIR", storage)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| {
                format!(
                    "cannot start {}: {error} (build it: cargo build -p fake-imgur)",
                    binary.display()
                )
            })?;
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

    /// How many uploads the server has accepted from the benchmark's Client ID, from its
    /// `/_fake/state`: the count a benchmark checks before it reports a figure, so a run in
    /// which uploads were refused cannot pass for a fast one.
    pub fn uploads_received(&self) -> BenchResult<u64> {
        let state = self.state()?;
        state["clients"][BENCH_CLIENT_ID]["uploads"]
            .as_u64()
            .ok_or_else(|| "fake-imgur's state has no upload count for the bench client".to_owned())
    }

    /// Fails unless the server accepted exactly `expected` uploads: every upload of a run
    /// succeeded and none was sent twice.
    pub fn expect_uploads(&self, expected: u64, what: &str) -> BenchResult<()> {
        let received = self.uploads_received()?;
        if received == expected {
            Ok(())
        } else {
            Err(format!(
                "{what}: the fake server accepted {received} uploads, expected {expected}; \
                 the figures of this run would not be of {expected} uploads"
            ))
        }
    }

    /// `GET /_fake/state` over a plain loopback connection (the bench needs no HTTP client for
    /// one request).
    fn state(&self) -> BenchResult<serde_json::Value> {
        let authority = self
            .base_url
            .strip_prefix("http://")
            .ok_or_else(|| format!("unexpected fake-imgur URL {}", self.base_url))?
            .trim_end_matches('/');
        let failed =
            |error: std::io::Error| format!("cannot ask fake-imgur for its state: {error}");
        let mut stream = TcpStream::connect(authority).map_err(failed)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(failed)?;
        write!(
            stream,
            "GET /_fake/state HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
        )
        .map_err(failed)?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).map_err(failed)?;
        let answer = String::from_utf8_lossy(&answer);
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .ok_or("fake-imgur's state answer has no body")?;
        if !head.starts_with("HTTP/1.1 200") {
            return Err(format!(
                "fake-imgur's state answer: {}",
                head.lines().next().unwrap_or_default()
            ));
        }
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)?
        } else {
            body.to_owned()
        };
        serde_json::from_str(&body).map_err(|error| format!("fake-imgur's state: {error}"))
    }
}

/// Joins the chunks of a chunked HTTP/1.1 body.
fn dechunk(mut body: &str) -> BenchResult<String> {
    let mut joined = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").ok_or("a truncated chunked body")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|error| format!("a bad chunk size: {error}"))?;
        if size == 0 {
            return Ok(joined);
        }
        joined.push_str(rest.get(..size).ok_or("a truncated chunk")?);
        body = rest
            .get(size..)
            .and_then(|rest| rest.strip_prefix("\r\n"))
            .ok_or("a chunk without its line end")?;
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `count` real PNGs of about `bytes` each: random RGB pixels (so they do not compress
/// and every file is distinct), stored with the fastest deflate so they decode as a user's
/// screenshots do and pass preflight.
pub fn make_pngs(dir: &Path, count: usize, bytes: usize) -> BenchResult<Vec<PathBuf>> {
    let mut rng = rand::rng();
    (0..count)
        .map(|index| {
            let png = random_png(&mut rng, bytes)?;
            let path = dir.join(format!("file-{index:04}.png"));
            std::fs::write(&path, &png)
                .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// A PNG of random RGB pixels, 1024 wide, about `bytes` long.
pub fn random_png(rng: &mut impl RngCore, bytes: usize) -> BenchResult<Vec<u8>> {
    let width = 1024u32;
    let height = u32::try_from(bytes / (3 * width as usize))
        .unwrap_or(1)
        .max(1);
    let mut pixels = vec![0u8; 3 * width as usize * height as usize];
    rng.fill_bytes(&mut pixels);
    let mut png = Vec::with_capacity(pixels.len() + 4096);
    image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    )
    .write_image(&pixels, width, height, image::ExtendedColorType::Rgb8)
    .map_err(|error| format!("cannot encode a PNG: {error}"))?;
    Ok(png)
}

/// A real MP4 (one second, from the test fixtures), carried in the binary so the benchmark runs
/// anywhere.
const CLIP_MP4: &[u8] = include_bytes!("../../../tests/fixtures/media/clip.mp4");

/// Writes a real MP4 of `bytes` (at least the clip's size) without holding it in memory: the
/// fixture clip followed by one `free` box of padding, so the container stays walkable and
/// preflight reads its duration as from any camera file.
pub fn make_video(path: &Path, bytes: usize) -> BenchResult<()> {
    let failed = |error: std::io::Error| format!("cannot write {}: {error}", path.display());
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(failed)?);
    file.write_all(CLIP_MP4).map_err(failed)?;
    let padding = bytes.saturating_sub(CLIP_MP4.len());
    if padding >= 8 {
        let size = u32::try_from(padding)
            .map_err(|_| format!("a video of {bytes} bytes is too large for one free box"))?;
        file.write_all(&size.to_be_bytes()).map_err(failed)?;
        file.write_all(b"free").map_err(failed)?;
        let chunk = vec![0x5Au8; 1 << 20];
        let mut left = padding - 8;
        while left > 0 {
            let take = left.min(chunk.len());
            file.write_all(&chunk[..take]).map_err(failed)?;
            left -= take;
        }
    }
    file.flush().map_err(failed)
}

/// The median of a few measurements.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
