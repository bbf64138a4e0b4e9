//! `upshot history`: list, search, export.

use super::print_json;
use crate::cli::{GlobalOptions, HistoryCommand};
use crate::context::{Endpoint, settings};
use crate::exit::Status;
use upshot_core::history::HistoryEntry;
use upshot_core::service::ServiceError;
use upshot_core::{CoreError, LinkFormat};

pub async fn run(global: &GlobalOptions, command: &HistoryCommand) -> Result<Status, ServiceError> {
    let settings = settings(global, None)?;
    let (endpoint, service) = Endpoint::connect(global, &settings, 1).await?;
    match command {
        HistoryCommand::List { limit, json } => {
            show(
                &service.history(*limit, 0).await?,
                *json,
                settings.link_format,
            );
        }
        HistoryCommand::Search { text, limit, json } => {
            show(
                &service.search_history(text.clone(), *limit).await?,
                *json,
                settings.link_format,
            );
        }
        HistoryCommand::Export { csv, output } => {
            let count = match output {
                Some(path) => {
                    let file = std::fs::File::create(path).map_err(|error| CoreError::Io {
                        action: "create",
                        path: path.clone(),
                        source: error,
                    })?;
                    service
                        .export_history(*csv, std::io::BufWriter::new(file))
                        .await?
                }
                None => service.export_history(*csv, std::io::stdout()).await?,
            };
            if let Some(path) = output {
                eprintln!("Exported {count} uploads to {}", path.display());
            }
        }
    }
    drop(service);
    endpoint.close().await;
    Ok(Status::Success)
}

fn show(entries: &[HistoryEntry], json: bool, format: LinkFormat) {
    for entry in entries {
        if json {
            print_json(entry);
            continue;
        }
        let deleted = if entry.deleted_at.is_some() {
            "  (deleted)"
        } else {
            ""
        };
        let source = entry
            .source_path
            .as_ref()
            .map(|path| path.display().to_string())
            .unwrap_or_default();
        println!(
            "{}  {}  {source}{deleted}",
            entry.imgur_id,
            format.render_entry(entry)
        );
    }
    if entries.is_empty() && !json {
        eprintln!("No uploads found.");
    }
}
