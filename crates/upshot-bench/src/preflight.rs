//! Preflight's cost, in process (the library the CLI and the app call): what checking and
//! cleaning a camera photo adds to queueing it and to sending it, what fitting a 4K screenshot
//! takes, and what checking a 200 MB video takes (hashing it, reading its duration).
//! Every input is a real file preflight accepts; a refusal fails the benchmark.

use std::io::Cursor;
use std::time::{Duration, Instant};
use upshot_core::preflight::{self, PreflightSettings};
use upshot_core::types::Origin;

/// The inputs' sizes.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// The camera photo's width and height.
    photo: (u32, u32),
    /// The video's size in MB.
    video_mb: usize,
}

impl Sizes {
    /// A 12-megapixel photo and a 200 MB video; under `--quick` a 3-megapixel photo and a
    /// 20 MB video. The screenshot stays 4K either way: a smaller one would not need fitting.
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                photo: (2000, 1500),
                video_mb: 20,
            }
        } else {
            Self {
                photo: (4000, 3000),
                video_mb: 200,
            }
        }
    }
}

/// Runs the preflight benchmark and prints its figures.
pub fn preflight(rounds: usize, sizes: Sizes) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    println!("preflight ({rounds} rounds each, median)");

    // A camera photo with detail, as JPEG, with an Exif block carrying GPS and camera.
    let (width, height) = sizes.photo;
    let photo = textured(width, height);
    let jpeg = encode(&photo, image::ImageFormat::Jpeg)?;
    let jpeg = with_camera_exif(jpeg)?;
    let photo_path = dir.path().join("photo.jpg");
    std::fs::write(&photo_path, &jpeg).map_err(|error| error.to_string())?;
    let options = PreflightSettings::default().options_for(Origin::Drop);
    let (check, report) = median(rounds, || {
        preflight::preflight(&photo_path, &options).map(|ready| ready.report)
    })?;
    println!(
        "camera JPEG {width}×{height}, {:.1} MB: check + hash + plan cleaning {:.1} ms; removed {:?}, {} bytes less",
        mb(jpeg.len() as u64),
        ms(check),
        report.removed,
        report.original_bytes - report.final_bytes
    );
    let (send, _) = median(rounds, || {
        preflight::cleaned_for_sending(&photo_path, Some(&report))
    })?;
    println!("  cleaning it again when it is sent: {:.1} ms", ms(send));

    // A 4K screenshot that does not compress well (photos and gradients on screen).
    let shot = textured(3840, 2160);
    let png = encode(&shot, image::ImageFormat::Png)?;
    let shot_path = dir.path().join("screenshot.png");
    std::fs::write(&shot_path, &png).map_err(|error| error.to_string())?;
    let capture = PreflightSettings::default().options_for(Origin::Screenshot);
    let (fit, ready) = median(rounds.min(3), || preflight::preflight(&shot_path, &capture))?;
    let fitted = ready
        .report
        .fitted
        .clone()
        .ok_or("the screenshot was not fitted")?;
    println!(
        "4K screenshot PNG 3840×2160, {:.1} MB: fitted in {:.0} ms to a {}×{} JPEG of {:.1} MB ({} step{})",
        mb(png.len() as u64),
        ms(fit),
        fitted.to_width,
        fitted.to_height,
        mb(ready.report.final_bytes),
        fitted.steps,
        if fitted.steps == 1 { "" } else { "s" }
    );

    // A large video: hashed in full, duration from the header.
    let video_path = dir.path().join("video.mp4");
    crate::measure::make_video(&video_path, sizes.video_mb << 20)?;
    let (check, report) = median(rounds.min(3), || {
        preflight::preflight(&video_path, &options).map(|ready| ready.report)
    })?;
    println!(
        "{} MB MP4: check + BLAKE3 + duration {:.0} ms ({:.0} MB/s); duration {:?} ms",
        sizes.video_mb,
        ms(check),
        mb(report.original_bytes) / check.as_secs_f64(),
        report.duration_ms
    );
    Ok(())
}

fn textured(width: u32, height: u32) -> image::RgbImage {
    let mut state = 0x2545_F491u32;
    image::RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state & 0x3F) as u8;
        image::Rgb([
            ((x * 255 / width) as u8).wrapping_add(noise),
            ((y * 255 / height) as u8).wrapping_add(noise / 2),
            (((x + y) % 256) as u8).wrapping_add(noise),
        ])
    })
}

fn encode(picture: &image::RgbImage, format: image::ImageFormat) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    picture
        .write_to(&mut Cursor::new(&mut bytes), format)
        .map_err(|error| error.to_string())?;
    Ok(bytes)
}

/// Adds an Exif block like a phone's: GPS position, make and model, orientation.
fn with_camera_exif(jpeg: Vec<u8>) -> Result<Vec<u8>, String> {
    use img_parts::ImageEXIF;
    let tiff: &[u8] = &[
        b'M', b'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at 8
        0, 3, // three entries
        0x01, 0x0F, 0, 2, 0, 0, 0, 6, 0, 0, 0, 50, // Make, ASCII[6] at 50
        0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // Orientation = 6
        0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 56, // GPS IFD at 56
        0, 0, 0, 0, // no next IFD
        b'C', b'a', b'n', b'o', b'n', 0, // 50: "Canon"
        0, 1, // 56: GPS IFD, one entry
        0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0, // GPSLatitudeRef "N"
        0, 0, 0, 0,
    ];
    let mut parsed =
        img_parts::jpeg::Jpeg::from_bytes(jpeg.into()).map_err(|error| error.to_string())?;
    parsed.set_exif(Some(img_parts::Bytes::copy_from_slice(tiff)));
    Ok(parsed.encoder().bytes().to_vec())
}

fn median<T>(
    rounds: usize,
    mut run: impl FnMut() -> Result<T, upshot_core::media::FileRejected>,
) -> Result<(Duration, T), String> {
    let mut times = Vec::with_capacity(rounds);
    let mut last = None;
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let value = run().map_err(|error| error.to_string())?;
        times.push(start.elapsed());
        last = Some(value);
    }
    times.sort();
    let value = last.ok_or("no rounds")?;
    Ok((times[times.len() / 2], value))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
