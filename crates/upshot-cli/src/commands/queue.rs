//! `upshot queue`: list, pause, resume, cancel, retry, run.

use super::print_json;
use crate::cli::{GlobalOptions, QueueCommand};
use crate::context::{Endpoint, settings, shutdown_on_signal};
use crate::exit::Status;
use crate::progress::{Mode, ProgressView, now_millis};
use serde::Serialize;
use std::collections::HashMap;
use upshot_core::human_time;
use upshot_core::service::ServiceError;
use upshot_core::service::StopWhen;
use upshot_core::service::{Job, JobFilter, JobState};
use upshot_core::types::JobId;
use upshot_core::types::UnixMillis;

/// A job as `upshot queue list --json` prints it: the job plus when it is expected to start.
#[derive(Debug, Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    job: &'a Job,
    expected_start: Option<i64>,
}

/// A worker fault as `upshot queue list --json` prints it: one line `{"worker_fault": {...}}`
/// before the jobs.
#[derive(Debug, Serialize)]
struct WorkerFaultLine<'a> {
    worker_fault: &'a upshot_core::service::WorkerFault,
}

pub async fn run(global: &GlobalOptions, command: &QueueCommand) -> Result<Status, ServiceError> {
    let settings = settings(global, None)?;
    let workers = match command {
        QueueCommand::Run { jobs, .. } => *jobs,
        _ => 2,
    };
    let (endpoint, service) = Endpoint::connect(global, &settings, workers).await?;
    let status = match command {
        QueueCommand::List { all, json } => {
            let filter = if *all {
                JobFilter::default()
            } else {
                JobFilter::states(&[
                    JobState::Queued,
                    JobState::Deferred,
                    JobState::Uploading,
                    JobState::Failed,
                ])
            };
            let jobs = service.jobs(filter).await?;
            // Workers that cannot work (a full, busy or read-only database) in any process:
            // shown first, as their jobs will not move until it is fixed.
            for fault in service.worker_faults().await? {
                if *json {
                    print_json(&WorkerFaultLine {
                        worker_fault: &fault,
                    });
                } else {
                    let seconds = (now_millis() - fault.since).max(0) / 1000;
                    eprintln!(
                        "Worker fault: the uploads of process {} have been failing for {seconds} s: {}",
                        fault.pid, fault.message
                    );
                }
            }
            let starts: HashMap<JobId, i64> =
                service.expected_starts().await?.into_iter().collect();
            for job in &jobs {
                let expected_start = starts.get(&job.id).copied();
                if *json {
                    print_json(&Listed {
                        job,
                        expected_start,
                    });
                } else {
                    println!("{}", describe(job, expected_start));
                }
            }
            if jobs.is_empty() && !*json {
                eprintln!("The queue is empty.");
            }
            Status::Success
        }
        QueueCommand::Pause => {
            service.pause().await?;
            eprintln!("Paused: no new uploads start until `upshot queue resume`.");
            Status::Success
        }
        QueueCommand::Resume => {
            service.resume().await?;
            eprintln!("Resumed.");
            Status::Success
        }
        QueueCommand::Cancel { id } => {
            let job = service.cancel(JobId(*id)).await?;
            eprintln!("Cancelled job {}: {}", job.id, job.source_path.display());
            Status::Success
        }
        QueueCommand::Retry { id } => {
            let job = service.retry(JobId(*id)).await?;
            eprintln!("Queued job {} again: {}", job.id, job.source_path.display());
            Status::Success
        }
        QueueCommand::Run { follow, json, .. } => {
            let mode = if *json {
                Mode::JsonEvents
            } else {
                Mode::for_terminal(false)
            };
            let view =
                ProgressView::start(service.subscribe(), mode, service.clone(), HashMap::new());
            service.recover_spool().await?;
            let stop = if *follow {
                StopWhen::Never
            } else {
                StopWhen::Empty
            };
            let result = service.run_workers(stop, shutdown_on_signal()).await;
            view.finish().await;
            result?;
            Status::Success
        }
    };
    drop(service);
    endpoint.close().await;
    Ok(status)
}

/// One line per job: number, state, file, and why it waits and until when.
fn describe(job: &Job, expected_start: Option<i64>) -> String {
    let now = UnixMillis(now_millis());
    let detail = match job.state {
        JobState::Failed => job.error_message.clone().unwrap_or_default(),
        JobState::Uploading => format!("{} of {} bytes", job.bytes_sent, job.bytes_total),
        JobState::Queued | JobState::Deferred => {
            let reason = job
                .waiting
                .map(|waiting| waiting.reason.as_str())
                .unwrap_or("in_line");
            let until = job
                .waiting
                .and_then(|waiting| waiting.until)
                .or(expected_start)
                .map(|until| {
                    format!(
                        ", expected {}",
                        human_time::describe(UnixMillis(until), now)
                    )
                })
                .unwrap_or_default();
            format!("{reason}{until}")
        }
        _ => String::new(),
    };
    format!(
        "{:>6}  {:<9}  {}  {}",
        job.id.0,
        job.state.as_str(),
        job.source_path.display(),
        detail
    )
}
