//! `upshot delete ID|--last`: delete an upload on Imgur and mark it deleted in the history.

use super::print_json;
use crate::cli::{DeleteArgs, GlobalOptions};
use crate::context::{Connection, settings};
use crate::exit::Status;
use upshot_core::service::ServiceError;

pub async fn run(global: &GlobalOptions, args: &DeleteArgs) -> Result<Status, ServiceError> {
    let settings = settings(global, None)?;
    let connection = Connection::open(global, &settings).await?;
    let service = connection.service(&settings, 1)?;
    let entry = match &args.id {
        Some(id) => service.find_upload(id).await?,
        None => service.last_upload().await?.ok_or_else(|| {
            ServiceError::NotFound("There is no upload to delete in the history.".to_owned())
        })?,
    };
    if entry.deleted_at.is_some() {
        eprintln!("{} was already deleted.", entry.imgur_id);
    } else {
        let deleted = service.delete_upload(&entry).await?;
        if args.json {
            print_json(&deleted);
        } else {
            eprintln!("Deleted {} ({}).", deleted.imgur_id, deleted.link);
        }
    }
    drop(service);
    connection.close().await;
    Ok(Status::Success)
}
