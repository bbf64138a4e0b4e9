//! `upshot upload`: send files now and print their links.

use crate::cli::{GlobalOptions, UploadArgs};
use crate::context::{Connection, settings};
use crate::exit::Status;
use futures_util::StreamExt;
use serde::Serialize;
use std::io::Write;
use upshot_core::{CoreError, FileUpload, LinkFormat, UploadError};
use upshot_imgur::Image;

/// One line of `--json` output.
#[derive(Debug, Serialize)]
struct UploadLine<'a> {
    file: String,
    status: &'static str,
    id: Option<&'a str>,
    link: Option<&'a str>,
    deletehash: Option<&'a str>,
    error: Option<&'a UploadError>,
}

pub async fn run(global: &GlobalOptions, args: &UploadArgs) -> Result<Status, CoreError> {
    let settings = settings(global, args.format)?;
    let connection = Connection::open(global, &settings).await?;
    let uploader = &connection.uploader;

    // Files go out `jobs` at a time; results are printed in the order the files were given so
    // `upshot upload *.png > links.txt` lines up with the arguments.
    let mut results = futures_util::stream::iter(args.files.iter().map(|path| {
        let upload = FileUpload {
            path: path.clone(),
            title: args.title.clone(),
            description: args.description.clone(),
            album: args.album.clone(),
        };
        async move {
            let result = uploader.upload_file(&upload, None).await;
            (upload.path, result)
        }
    }))
    .buffered(usize::from(args.jobs));

    let mut failed = 0usize;
    while let Some((path, result)) = results.next().await {
        if result.is_err() {
            failed += 1;
        }
        report(&path, &result, args.json, settings.link_format);
    }
    drop(results);
    connection.close().await;
    Ok(if failed == 0 {
        Status::Success
    } else {
        Status::SomeFailed
    })
}

fn report(
    path: &std::path::Path,
    result: &Result<Image, UploadError>,
    json: bool,
    format: LinkFormat,
) {
    let file = path.display().to_string();
    let mut stdout = std::io::stdout().lock();
    if json {
        let line = match result {
            Ok(image) => UploadLine {
                file,
                status: "uploaded",
                id: Some(&image.id),
                link: Some(&image.link),
                deletehash: image.deletehash.as_deref(),
                error: None,
            },
            Err(error) => UploadLine {
                file,
                status: "failed",
                id: None,
                link: None,
                deletehash: None,
                error: Some(error),
            },
        };
        if let Ok(text) = serde_json::to_string(&line) {
            let _ = writeln!(stdout, "{text}");
        }
        return;
    }
    match result {
        Ok(image) => {
            let _ = writeln!(stdout, "{}", format.render(image));
        }
        Err(UploadError::Imgur(error)) => {
            eprintln!("upshot: {file}: {error} {}", error.advice());
        }
        Err(error) => eprintln!("upshot: {error}"),
    }
}
