//! `upshot delete ID...|--last`: delete uploads on Imgur and mark them deleted in the history.

use super::print_json;
use crate::cli::{DeleteArgs, GlobalOptions};
use crate::context::{Endpoint, settings};
use crate::exit::Status;
use upshot_core::service::ServiceError;

pub async fn run(global: &GlobalOptions, args: &DeleteArgs) -> Result<Status, ServiceError> {
    let settings = settings(global, None)?;
    let (endpoint, service) = Endpoint::connect(global, &settings, 1).await?;
    let asked: Vec<String> = if args.last {
        let entry = service.last_upload().await?.ok_or_else(|| {
            ServiceError::NotFound("There is no upload to delete in the history.".to_owned())
        })?;
        vec![entry.imgur_id]
    } else {
        args.ids.clone()
    };
    let mut failed = 0usize;
    for outcome in service.delete_uploads(&asked).await {
        match outcome.result {
            Ok(Some(deleted)) if args.json => print_json(&deleted),
            Ok(Some(deleted)) => eprintln!("Deleted {} ({}).", deleted.imgur_id, deleted.link),
            Ok(None) if args.json => {
                print_json(&serde_json::json!({ "imgur_id": outcome.asked, "deleted": true }))
            }
            Ok(None) => eprintln!("Deleted {} from your account.", outcome.asked),
            Err(error) => {
                failed += 1;
                if args.json {
                    print_json(&serde_json::json!({
                        "asked": outcome.asked,
                        "error": super::error_json(&error),
                    }));
                } else {
                    eprintln!("upshot: {}: {error}", outcome.asked);
                }
            }
        }
    }
    drop(service);
    endpoint.close().await;
    Ok(if failed == 0 {
        Status::Success
    } else {
        Status::SomeFailed
    })
}
