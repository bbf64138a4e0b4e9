//! `upshot quota`: the governor's plan and, unless `--local`, what Imgur says (`/3/credits`).

use crate::cli::{GlobalOptions, QuotaArgs};
use crate::context::{Endpoint, settings};
use crate::exit::Status;
use crate::progress::now_millis;
use upshot_core::human_time;
use upshot_core::service::ServiceError;
use upshot_core::types::UnixMillis;

pub async fn run(global: &GlobalOptions, args: &QuotaArgs) -> Result<Status, ServiceError> {
    let settings = settings(global, None)?;
    let (endpoint, service) = Endpoint::connect(global, &settings, 1).await?;
    let server = if args.local {
        None
    } else {
        Some(service.server_credits().await)
    };
    let status = service.quota().await?;
    if args.json {
        let server = match &server {
            Some(Ok(credits)) => serde_json::to_value(credits).unwrap_or_default(),
            Some(Err(error)) => serde_json::json!({ "error": super::error_json(error) }),
            None => serde_json::Value::Null,
        };
        super::print_json(&serde_json::json!({ "governor": status, "server": server }));
    } else {
        let now = UnixMillis(now_millis());
        let at = |time: Option<UnixMillis>| {
            time.map(|time| human_time::describe(time, now))
                .unwrap_or_else(|| "unknown until Imgur answers".to_owned())
        };
        println!("Client ID          {}", status.client_id);
        println!("mode               {:?}", status.mode);
        println!(
            "credits left today {} of {} (reserve {} never spent)",
            status.credits_left_today, status.daily_limit, status.reserve
        );
        println!("uploads left today {}", status.uploads_left_today);
        println!(
            "this hour          {} credits, {} POSTs left",
            status.hourly_credits_left, status.posts_left
        );
        println!("daily reset        {}", at(status.daily_reset));
        println!("hourly reset       {}", at(status.hourly_reset));
        println!(
            "next upload        {}",
            human_time::describe(status.next_interactive.at, now)
        );
        println!(
            "next backlog slot  {}",
            human_time::describe(status.next_backlog.at, now)
        );
        if let Some(until) = status.rate_limited_until {
            println!("rate limited       {}", human_time::describe(until, now));
        }
        match server {
            Some(Ok(credits)) => println!(
                "Imgur says         {} of {} client credits, {} of {} user credits left",
                credits.client_remaining,
                credits.client_limit,
                credits.user_remaining,
                credits.user_limit
            ),
            Some(Err(error)) => println!("Imgur says         (could not ask: {error})"),
            None => {}
        }
    }
    drop(service);
    endpoint.close().await;
    Ok(Status::Success)
}
