//! `upshot watch`: watch folders in the foreground and upload what lands in them, or manage
//! the saved folders the desktop app watches too.

use super::print_json;
use crate::cli::{FolderArgs, GlobalOptions, WatchArgs, WatchCommand};
use crate::context::{Endpoint, settings, shutdown_on_signal, tell};
use crate::exit::Status;
use crate::progress::now_millis;
use std::path::{Path, PathBuf};
use upshot_core::LinkFormat;
use upshot_core::events::QueueEvent;
use upshot_core::human_time;
use upshot_core::service::StopWhen;
use upshot_core::service::{ServiceError, UploadService};
use upshot_core::types::UnixMillis;
use upshot_core::watch::{
    AfterUpload, FolderSource, WATCH_FILE, WatchEvent, WatchList, WatchOptions, WatchedFolder,
    Watcher, config::absolute,
};

pub async fn run(global: &GlobalOptions, args: &WatchArgs) -> Result<Status, ServiceError> {
    let settings = settings(global, None)?;
    let list_file = settings.paths.config_dir.join(WATCH_FILE);
    let (saved, notice) = WatchList::load_or_set_aside(&list_file)?;
    notice.iter().for_each(tell);
    if let Some(command) = &args.command {
        return manage(&list_file, command);
    }
    let source = if args.dirs.is_empty() {
        if saved.folders.is_empty() {
            eprintln!(
                "upshot: no folder is saved. Name one (`upshot watch ~/Pictures/Screenshots`) or \
                 save one with `upshot watch add DIR`."
            );
            return Ok(Status::Setup);
        }
        match args.settle {
            Some(settle) => FolderSource::Given {
                folders: saved.folders,
                settle,
            },
            None => FolderSource::Saved(list_file),
        }
    } else {
        let mut folders = Vec::new();
        for (index, dir) in args.dirs.iter().enumerate() {
            folders.push(folder_from_args(
                &(index + 1).to_string(),
                dir,
                &args.folder,
            )?);
        }
        FolderSource::Given {
            folders,
            settle: args.settle.unwrap_or(saved.settle()),
        }
    };
    let (endpoint, service) = Endpoint::connect(global, &settings, args.jobs).await?;
    let watcher = Watcher::start(&service, source, WatchOptions::default())?;
    let printer = tokio::spawn(print_events(
        watcher.subscribe(),
        service.subscribe(),
        args.json,
        settings.link_format,
        service.clone(),
    ));
    let mut shutdown = shutdown_on_signal();
    if args.queue_only {
        let _ = shutdown.wait_for(|stop| *stop).await;
    } else {
        service.run_workers(StopWhen::Never, shutdown).await?;
    }
    watcher.stop().await;
    printer.abort();
    drop(service);
    endpoint.close().await;
    Ok(Status::Success)
}

fn folder_from_args(
    id: &str,
    dir: &Path,
    args: &FolderArgs,
) -> Result<WatchedFolder, ServiceError> {
    let mut folder = WatchedFolder::new(id, absolute(dir)?);
    folder.recursive = args.recursive;
    if !args.include.is_empty() {
        folder.include = args.include.clone();
    }
    if !args.ignore.is_empty() {
        folder.ignore.extend(args.ignore.iter().cloned());
    }
    folder.album = args.album.clone();
    folder.after_upload = AfterUpload::parse(&args.after)?;
    folder.upload_copies = args.upload_copies;
    upshot_core::watch::patterns::FolderFilter::new(&folder)?;
    Ok(folder)
}

fn manage(list_file: &Path, command: &WatchCommand) -> Result<Status, ServiceError> {
    match command {
        WatchCommand::Add {
            dir,
            folder,
            paused,
        } => {
            let mut new = folder_from_args("", dir, folder)?;
            new.enabled = !paused;
            let added = WatchList::update(list_file, |list| list.add(new).cloned())?;
            if !added.path.is_dir() {
                eprintln!(
                    "upshot: {} does not exist yet; it is watched once it appears.",
                    added.path.display()
                );
            }
            eprintln!(
                "Saved folder {}: {}{}. The desktop app and `upshot watch` watch it now.",
                added.id,
                added.path.display(),
                if added.enabled { "" } else { " (paused)" }
            );
        }
        WatchCommand::Remove { folder } => {
            let removed = WatchList::update(list_file, |list| list.remove(folder))?;
            eprintln!(
                "No longer watching {} (its files are left as they are).",
                removed.path.display()
            );
        }
        WatchCommand::Pause { folder } => {
            let path = set_enabled(list_file, folder, false)?;
            eprintln!(
                "Paused {}: nothing is queued from it until `upshot watch resume`.",
                path.display()
            );
        }
        WatchCommand::Resume { folder } => {
            let path = set_enabled(list_file, folder, true)?;
            eprintln!(
                "Resumed {}: what landed meanwhile is caught up.",
                path.display()
            );
        }
        WatchCommand::List(args) => {
            let list = WatchList::load(list_file)?;
            for folder in &list.folders {
                if args.json {
                    print_json(folder);
                } else {
                    println!("{}", describe_folder(folder));
                }
            }
            if list.folders.is_empty() && !args.json {
                eprintln!("No folder is saved; add one with `upshot watch add DIR`.");
            }
        }
        WatchCommand::Settle { duration } => {
            let settle = WatchList::update(list_file, |list| {
                if let Some(duration) = duration {
                    list.settle_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
                }
                Ok(list.settle())
            })?;
            println!("{}", humantime::format_duration(settle));
        }
    }
    Ok(Status::Success)
}

fn set_enabled(list_file: &Path, key: &str, enabled: bool) -> Result<PathBuf, ServiceError> {
    Ok(WatchList::update(list_file, |list| {
        let folder = list.find_mut(key)?;
        folder.enabled = enabled;
        Ok(folder.path.clone())
    })?)
}

fn describe_folder(folder: &WatchedFolder) -> String {
    let state = if !folder.enabled {
        "paused"
    } else if folder.path.is_dir() {
        "enabled"
    } else {
        "missing"
    };
    let mut details = Vec::new();
    if folder.recursive {
        details.push("recursive".to_owned());
    }
    if let Some(album) = &folder.album {
        details.push(format!("album {album}"));
    }
    if folder.after_upload != AfterUpload::Keep {
        details.push(format!("then {}", folder.after_upload));
    }
    if folder.upload_copies {
        details.push("uploads copies".to_owned());
    }
    format!(
        "{:>3}  {:<8} {}{}",
        folder.id,
        state,
        folder.path.display(),
        if details.is_empty() {
            String::new()
        } else {
            format!("  ({})", details.join(", "))
        }
    )
}

/// Prints what the watcher and the workers do, one line each (or JSON lines).
async fn print_events(
    mut watch_events: tokio::sync::broadcast::Receiver<WatchEvent>,
    mut queue_events: tokio::sync::broadcast::Receiver<QueueEvent>,
    json: bool,
    format: LinkFormat,
    service: UploadService,
) {
    loop {
        tokio::select! {
            event = watch_events.recv() => match event {
                Ok(event) => print_watch_event(&event, json),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    eprintln!("upshot: {missed} watch events were not shown (too many at once)");
                }
                Err(_) => return,
            },
            event = queue_events.recv() => match event {
                Ok(event) => print_queue_event(&event, json, format, &service).await,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            },
        }
    }
}

fn print_watch_event(event: &WatchEvent, json: bool) {
    if json {
        print_json(event);
        return;
    }
    match event {
        WatchEvent::Watching { folder, files, new } => {
            println!(
                "watching   {} ({files} files, {new} to look at)",
                folder.display()
            )
        }
        WatchEvent::Queued { path, job } => println!("queued     {} (job {job})", path.display()),
        WatchEvent::Duplicate { path, link, job } => match (link, job) {
            (Some(link), _) => println!(
                "duplicate  {}  {link} (uploaded before; not sent again)",
                path.display()
            ),
            (None, Some(job)) => println!(
                "duplicate  {} (same content as job {job}, already queued)",
                path.display()
            ),
            (None, None) => println!(
                "duplicate  {} (uploaded before; not sent again)",
                path.display()
            ),
        },
        WatchEvent::Cancelled { path, reason, .. } => {
            println!("cancelled  {}: {reason}", path.display())
        }
        WatchEvent::Repointed { path, to, job } => println!(
            "removed    {} (job {job} now sends its copy {})",
            path.display(),
            to.display()
        ),
        WatchEvent::Moved { path, to } => {
            println!("moved      {} → {}", path.display(), to.display())
        }
        WatchEvent::Reuploading { path, link } => println!(
            "uploading  {} again ({} was deleted on Imgur)",
            path.display(),
            link.as_deref().unwrap_or("its earlier upload")
        ),
        WatchEvent::Deleted { path } => println!("deleted    {} (uploaded)", path.display()),
        WatchEvent::Skipped { path, reason } => println!("skipped    {}: {reason}", path.display()),
        WatchEvent::Overflowed { folder } => {
            println!("rescanning {} (events came too fast)", folder.display())
        }
        WatchEvent::FolderFault { folder, message } => {
            eprintln!("upshot: {}: {message}", folder.display())
        }
        WatchEvent::FolderWarning { folder, message } => {
            eprintln!("upshot: in {}: {message}", folder.display())
        }
    }
}

async fn print_queue_event(
    event: &QueueEvent,
    json: bool,
    format: LinkFormat,
    service: &UploadService,
) {
    let job = match event {
        QueueEvent::Done { job, .. }
        | QueueEvent::Failed { job, .. }
        | QueueEvent::Waiting { job, .. } => *job,
        _ => return,
    };
    let path = match service.job(job).await {
        Ok(Some(found)) => found.source_path,
        _ => PathBuf::new(),
    };
    if json {
        #[derive(serde::Serialize)]
        struct WithPath<'a> {
            #[serde(flatten)]
            event: &'a QueueEvent,
            path: &'a Path,
        }
        print_json(&WithPath { event, path: &path });
        return;
    }
    match event {
        QueueEvent::Done { image, .. } => {
            println!("uploaded   {}  {}", path.display(), format.render(image))
        }
        QueueEvent::Failed { message, .. } => println!("failed     {}: {message}", path.display()),
        QueueEvent::Waiting {
            reason,
            until,
            error,
            ..
        } => {
            let until = until
                .map(|until| {
                    format!(
                        " until {}",
                        human_time::describe(UnixMillis(until), UnixMillis(now_millis()))
                    )
                })
                .unwrap_or_default();
            let error = error
                .as_deref()
                .map(|error| format!(" ({error})"))
                .unwrap_or_default();
            println!(
                "waiting    {}: {}{until}{error}",
                path.display(),
                reason.as_str()
            )
        }
        _ => {}
    }
}
