//! `upshot login`, `logout`, `whoami`, `images`, `albums` and `album create|add`.

use super::print_json;
use crate::cli::{AlbumCommand, GlobalOptions, ImagesArgs, JsonArgs, LoginArgs};
use crate::context::{Endpoint, settings};
use crate::exit::Status;
use crate::progress::now_millis;
use std::io::{BufRead, IsTerminal};
use upshot_core::auth::loopback::LoopbackListener;
use upshot_core::auth::{AuthError, AuthSession};
use upshot_core::human_time;
use upshot_core::service::{ServiceError, UploadService};
use upshot_core::types::UnixMillis;

/// Opens the service with its login session.
async fn open(global: &GlobalOptions) -> Result<(Endpoint, UploadService), ServiceError> {
    let settings = settings(global, None)?;
    let (endpoint, service) = Endpoint::connect(global, &settings, 1).await?;
    Ok((endpoint, service))
}

fn session(service: &UploadService) -> Result<&AuthSession, ServiceError> {
    service
        .auth()
        .map(AsRef::as_ref)
        .ok_or(ServiceError::Auth(AuthError::NotLoggedIn))
}

async fn close(endpoint: Endpoint, service: UploadService) {
    drop(service);
    endpoint.close().await;
}

pub async fn login(global: &GlobalOptions, args: &LoginArgs) -> Result<Status, ServiceError> {
    let (endpoint, service) = open(global).await?;
    let auth = session(&service)?;
    if let Some(secret) = &endpoint.client_secret
        && endpoint.sandbox.is_none()
    {
        auth.remember_client_secret(secret.clone()).await?;
    }
    let callback = match &args.callback {
        Some(callback) => callback.clone(),
        None => {
            let start = auth.start_login().await?;
            if args.json {
                print_json(&start);
                close(endpoint, service).await;
                return Ok(Status::Success);
            }
            println!("{}", start.url);
            // An application registered with a loopback callback: listen for it.
            if let Some(registered) = auth.callbacks().iter().find(|url| url.scheme() == "http") {
                let listener = LoopbackListener::bind(registered)
                    .await
                    .map_err(AuthError::from)?;
                if !args.no_browser && open::that_detached(start.url.as_str()).is_err() {
                    eprintln!("upshot: could not open a browser; open the address above by hand.");
                }
                eprintln!(
                    "upshot: approve Upshot in the browser; waiting for it to come back to {} (10 minutes).",
                    listener.callback()
                );
                let callback = listener
                    .receive(std::time::Duration::from_secs(600))
                    .await
                    .map_err(AuthError::from)?;
                return finish(endpoint, service, &callback).await;
            }
            eprintln!(
                "upshot: open the address above and approve Upshot. The browser then goes to \
                 upshot://oauth/callback: the desktop app completes the login from there; \
                 without it, copy that address and run `upshot login --callback 'ADDRESS'`."
            );
            let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
            if interactive && !args.no_browser && open::that_detached(start.url.as_str()).is_err() {
                eprintln!("upshot: could not open a browser; open the address by hand.");
            }
            if !interactive {
                close(endpoint, service).await;
                return Ok(Status::Success);
            }
            eprint!("Paste the address here (or press Enter to stop): ");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|error| ServiceError::Task(format!("cannot read the address: {error}")))?;
            if line.trim().is_empty() {
                close(endpoint, service).await;
                return Ok(Status::Success);
            }
            line
        }
    };
    finish(endpoint, service, &callback).await
}

async fn finish(
    endpoint: Endpoint,
    service: UploadService,
    callback: &str,
) -> Result<Status, ServiceError> {
    let account = session(&service)?.complete_login(callback).await?;
    eprintln!(
        "Logged in as {} (login kept in the {}). Uploads now go to this account; --anonymous uploads without it.",
        account.username,
        match account.secret_store {
            upshot_core::auth::VaultKind::Keychain => "system keychain",
            upshot_core::auth::VaultKind::File => "private secrets file",
        }
    );
    close(endpoint, service).await;
    Ok(Status::Success)
}

pub async fn logout(global: &GlobalOptions) -> Result<Status, ServiceError> {
    let (endpoint, service) = open(global).await?;
    match session(&service)?.logout().await? {
        Some(username) => eprintln!(
            "Logged out of {username}. Its queued uploads wait until it logs in again (`upshot queue cancel` drops them)."
        ),
        None => eprintln!("Nobody was logged in."),
    }
    close(endpoint, service).await;
    Ok(Status::Success)
}

pub async fn whoami(global: &GlobalOptions, args: &JsonArgs) -> Result<Status, ServiceError> {
    let (endpoint, service) = open(global).await?;
    let account = service.whoami().await?;
    let status = match &account {
        None => {
            if args.json {
                print_json(&serde_json::json!({ "logged_in": false }));
            } else {
                eprintln!("Not logged in; uploads are anonymous. `upshot login` logs in.");
            }
            Status::Success
        }
        Some(account) if args.json => {
            print_json(&serde_json::json!({
                "logged_in": account.is_active(),
                "account": account,
            }));
            Status::Success
        }
        Some(account) => {
            println!("{}", account.username);
            match &account.logged_out_reason {
                Some(reason) => eprintln!("upshot: {reason}"),
                None => eprintln!(
                    "Logged in; the token is renewed by itself (it would expire {}).",
                    human_time::describe(account.expires_at, UnixMillis(now_millis()))
                ),
            }
            Status::Success
        }
    };
    close(endpoint, service).await;
    Ok(status)
}

pub async fn images(global: &GlobalOptions, args: &ImagesArgs) -> Result<Status, ServiceError> {
    let (endpoint, service) = open(global).await?;
    let images = service.my_images(args.page).await?;
    for image in &images {
        if args.json {
            print_json(image);
        } else {
            println!("{}\t{}", image.id, image.link);
        }
    }
    if images.is_empty() && !args.json {
        eprintln!("No images on page {}.", args.page);
    }
    close(endpoint, service).await;
    Ok(Status::Success)
}

pub async fn albums(global: &GlobalOptions, args: &JsonArgs) -> Result<Status, ServiceError> {
    let (endpoint, service) = open(global).await?;
    let albums = service.albums().await?;
    for album in &albums {
        if args.json {
            print_json(album);
        } else {
            println!(
                "{}\t{}\t{} image(s)\t{}",
                album.id,
                album.title.as_deref().unwrap_or("(untitled)"),
                album.images_count,
                album.link
            );
        }
    }
    if albums.is_empty() && !args.json {
        eprintln!("No albums yet; `upshot album create` makes one.");
    }
    close(endpoint, service).await;
    Ok(Status::Success)
}

pub async fn album(global: &GlobalOptions, command: &AlbumCommand) -> Result<Status, ServiceError> {
    let (endpoint, service) = open(global).await?;
    match command {
        AlbumCommand::Create {
            title,
            description,
            anonymous,
            json,
            images,
        } => {
            let created = service
                .create_album(title.clone(), description.clone(), images, *anonymous)
                .await?;
            if *json {
                print_json(&created);
            } else {
                println!("{}", created.id);
                match &created.deletehash {
                    Some(hash) => eprintln!(
                        "Album {} made; its deletehash {hash} adds images to it anonymously (`upshot album add {hash} IMAGE --anonymous`).",
                        created.id
                    ),
                    None => eprintln!("Album {} made.", created.id),
                }
            }
        }
        AlbumCommand::Add {
            album,
            images,
            anonymous,
        } => {
            service.add_to_album(album, images, *anonymous).await?;
            eprintln!("Added {} image(s) to {album}.", images.len());
        }
    }
    close(endpoint, service).await;
    Ok(Status::Success)
}
