//! Why something waits: the one reason shared by the governor (which decides budget waits)
//! and the queue (which stores them in `jobs.wait_reason` and shows them beside every job).

use serde::{Deserialize, Serialize};

/// Why a job is not running yet: the UI and `upshot queue` show it next to every waiting job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// Waiting its turn for a free worker (and, for the backlog, behind interactive jobs). Never
    /// stored: it is what a queued job shows when nothing else holds it.
    InLine,
    /// A passing failure; retried at `run_after` (exponential back-off with jitter).
    Backoff,
    /// Imgur said to slow down; the client id is paused until `run_after`.
    RateLimited,
    /// The day's credits (above the reserve) are spent; runs after the daily reset.
    DailyBudget,
    /// The hour's user credits are spent (and, as the queue shows it, the hour's POSTs too);
    /// runs after the hourly reset.
    HourlyBudget,
    /// The hour's POSTs from this IP are spent: runs after the hourly reset. The governor says
    /// so; the queue stores and shows it as [`HourlyBudget`](Self::HourlyBudget) (see
    /// [`as_queued`](Self::as_queued)), which is what the user sees reset.
    PostBudget,
    /// The backlog is spread over the day so interactive uploads keep a share.
    Pacing,
    /// The whole queue is paused. Never stored: it comes from the queue's flag.
    Paused,
    /// The account's login expired or was revoked; the job runs once the user logs in again.
    LogInAgain,
    /// The upload's body was sent and Imgur's answer never came: it may already be on Imgur.
    /// A logged-in job looks for it before sending again; an anonymous one is sent again once.
    MayBeOnImgur,
}

impl WaitReason {
    /// Every reason.
    pub const ALL: [WaitReason; 10] = [
        Self::InLine,
        Self::Backoff,
        Self::RateLimited,
        Self::DailyBudget,
        Self::HourlyBudget,
        Self::PostBudget,
        Self::Pacing,
        Self::Paused,
        Self::LogInAgain,
        Self::MayBeOnImgur,
    ];

    /// The word stored in `jobs.wait_reason` and shown in `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InLine => "in_line",
            Self::Backoff => "backoff",
            Self::RateLimited => "rate_limited",
            Self::DailyBudget => "daily_budget",
            Self::HourlyBudget => "hourly_budget",
            Self::PostBudget => "post_budget",
            Self::Pacing => "pacing",
            Self::Paused => "paused",
            Self::LogInAgain => "log_in_again",
            Self::MayBeOnImgur => "may_be_on_imgur",
        }
    }

    /// The reason in words, as the window shows it beside a waiting file.
    pub fn explain(self) -> &'static str {
        match self {
            Self::InLine => "Waiting for a free upload slot.",
            Self::Backoff => "Sending failed for a passing reason; it will be tried again.",
            Self::RateLimited => "Imgur asked Upshot to slow down.",
            Self::DailyBudget => {
                "Today's Imgur upload budget is spent; it goes after the daily reset."
            }
            Self::HourlyBudget | Self::PostBudget => {
                "This hour's Imgur upload budget is spent; it goes after the hourly reset."
            }
            Self::Pacing => "Spread over the day so your own uploads keep a share of the budget.",
            Self::Paused => "The queue is paused.",
            Self::LogInAgain => "Your Imgur login expired: log in again to send it.",
            Self::MayBeOnImgur => {
                "Imgur never answered its last upload; checking whether it arrived."
            }
        }
    }

    /// The reason a stored word names.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == word)
    }

    /// The reason as the queue keeps it: one reason for both hourly budgets, so a spent POST
    /// budget is stored and shown as the hourly budget, which is what the user sees reset.
    pub fn as_queued(self) -> Self {
        match self {
            Self::PostBudget => Self::HourlyBudget,
            other => other,
        }
    }
}
