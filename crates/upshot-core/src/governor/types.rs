//! The governor's vocabulary: what a request costs, who asks, what the answer is, how the
//! governor is tuned, and the status it reports.

use crate::store::StoreError;
use crate::types::UnixMillis;
use serde::{Deserialize, Serialize};

/// Whose turn it is: the queue's two priorities, as the governor treats them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Someone is waiting for the link (drop, file, clipboard, screenshot, cli): admitted at once
    /// while the budgets above the reserve cover it.
    Interactive,
    /// A watched folder's backlog: runs at full speed while it fits, paced when it does not.
    Backlog,
}

impl Priority {
    /// The priority of a `jobs.priority` value: 0 is interactive, anything higher is backlog.
    pub fn from_level(level: i64) -> Self {
        if level <= 0 {
            Self::Interactive
        } else {
            Self::Backlog
        }
    }

    /// The `jobs.priority` value.
    pub fn level(self) -> i64 {
        match self {
            Self::Interactive => 0,
            Self::Backlog => 1,
        }
    }
}

/// What one request costs in Imgur's three budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RequestCost {
    /// Credits: counted against the daily Client ID budget and the hourly user budget.
    pub credits: u32,
    /// Whether it is a POST: counted against the hourly POST budget of the IP.
    pub is_post: bool,
    /// Whether it is an upload (kept in the ledger so status can count uploads).
    pub is_upload: bool,
}

impl RequestCost {
    /// An upload at Imgur's price: 10 credits and one POST.
    pub const UPLOAD: Self = Self {
        credits: 10,
        is_post: true,
        is_upload: true,
    };
    /// Any other GET or DELETE: 1 credit.
    pub const CALL: Self = Self {
        credits: 1,
        is_post: false,
        is_upload: false,
    };
    /// A POST that is not an upload (album create or add): 1 credit and one POST.
    pub const POST: Self = Self {
        credits: 1,
        is_post: true,
        is_upload: false,
    };
    /// An OAuth token refresh: free in credits but still a POST from this IP.
    pub const OAUTH_POST: Self = Self {
        credits: 0,
        is_post: true,
        is_upload: false,
    };

    /// An upload costing `credits` (the configured price, normally 10).
    pub const fn upload(credits: u32) -> Self {
        Self {
            credits,
            is_post: true,
            is_upload: true,
        }
    }
}

/// Why the governor says wait: the one reason of the core, shared with the queue (which
/// stores a spent POST budget as the hourly budget, [`WaitReason::as_queued`]).
pub use crate::types::WaitReason;

/// The governor's answer to [`QuotaGovernor::try_spend`](super::QuotaGovernor::try_spend).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "admission", rename_all = "snake_case")]
pub enum Admission {
    /// Send it now: its cost is already in the ledger.
    Now,
    /// Not yet: nothing was recorded. Ask again at `until` (earlier is pointless unless new
    /// headers arrived or the priority changed).
    Wait {
        /// The earliest time it may be admitted, as far as the governor can tell now.
        until: UnixMillis,
        /// Why it waits.
        reason: WaitReason,
    },
}

/// How the governor spends. `Default` is Imgur's documented limits, a 5 % reserve, a 10 %
/// interactive share and room for three interactive uploads at any time; limits are replaced by
/// what the headers say once they have been seen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GovernorConfig {
    /// Share of the daily credits never spent, so the daily limit (five hits a month ban the
    /// application) is never reached even when other installs spend unseen between our requests.
    pub reserve_fraction: f64,
    /// Credits per day per Client ID until `X-RateLimit-ClientLimit` says otherwise.
    pub daily_credits: u32,
    /// Credits per hour per user (IP) until `X-RateLimit-UserLimit` says otherwise.
    pub hourly_user_credits: u32,
    /// POSTs per hour per IP until `X-Post-Rate-Limit-Limit` says otherwise.
    pub hourly_posts: u32,
    /// Credits an upload costs.
    pub upload_cost: u32,
    /// Share of each budget held back from the backlog for interactive uploads at the start of
    /// its window (more when the user's measured interactive demand is higher); the hold shrinks
    /// linearly to the floor below as the reset approaches, so the whole budget is used by the
    /// end of the window.
    pub interactive_share: f64,
    /// Interactive uploads the backlog always leaves room for, however near the reset: the hold
    /// never shrinks below this many uploads (or POSTs).
    pub interactive_floor_uploads: u32,
}

impl Default for GovernorConfig {
    fn default() -> Self {
        Self {
            reserve_fraction: 0.05,
            daily_credits: 12_500,
            hourly_user_credits: 2_000,
            hourly_posts: 1_250,
            upload_cost: 10,
            interactive_share: 0.10,
            interactive_floor_uploads: 3,
        }
    }
}

impl GovernorConfig {
    /// Checks the values make sense together (a reserve of 90 % would stop everything).
    pub fn validate(&self) -> Result<(), GovernorError> {
        let bad = |field: &'static str, reason: &str| {
            Err(GovernorError::InvalidConfig {
                field,
                reason: reason.to_owned(),
            })
        };
        if !(0.0..=0.5).contains(&self.reserve_fraction) {
            return bad("reserve_fraction", "must be between 0 and 0.5");
        }
        if !(0.0..=0.5).contains(&self.interactive_share) {
            return bad("interactive_share", "must be between 0 and 0.5");
        }
        if self.daily_credits == 0 || self.hourly_user_credits == 0 || self.hourly_posts == 0 {
            return bad("limits", "must be positive");
        }
        if self.upload_cost == 0 {
            return bad("upload_cost", "must be positive");
        }
        Ok(())
    }

    /// What an upload costs with this configuration.
    pub fn upload_request(&self) -> RequestCost {
        RequestCost::upload(self.upload_cost)
    }
}

/// A queued job for [`QuotaGovernor::expected_starts`](super::QuotaGovernor::expected_starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending<Id> {
    /// The caller's id for it (a `JobId`, a row id…), handed back with its start time.
    pub id: Id,
    /// Its priority.
    pub priority: Priority,
    /// It may not start before this (a deferred job's `run_after`).
    pub not_before: Option<UnixMillis>,
}

impl<Id> Pending<Id> {
    /// A job that may start whenever the budgets allow.
    pub fn new(id: Id, priority: Priority) -> Self {
        Self {
            id,
            priority,
            not_before: None,
        }
    }
}

/// When the next request of one priority would be admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Now, or when it may go.
    pub at: UnixMillis,
    /// Why it waits (`None`: it would go now).
    pub reason: Option<WaitReason>,
}

/// What the governor is doing with the backlog, in one word for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GovernorMode {
    /// The backlog would be admitted now: uploads go at full speed.
    FullSpeed,
    /// The backlog is spread over the rest of the window.
    Pacing,
    /// The budget above the reserve is spent until a reset; interactive uploads may still fit.
    BudgetSpent,
    /// Imgur answered 429: nothing goes until `rate_limited_until`.
    RateLimited,
}

/// The governor's view of one Client ID, for `upshot queue status` and the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GovernorStatus {
    /// The Client ID.
    pub client_id: String,
    /// When this was computed.
    pub at: UnixMillis,
    /// What it is doing with the backlog.
    pub mode: GovernorMode,
    /// The daily credits of the Client ID (from the headers once seen).
    pub daily_limit: i64,
    /// Estimated credits left today, shared with every other install (may be below the
    /// reserve when others spent it).
    pub credits_left_today: i64,
    /// Credits never spent.
    pub reserve: i64,
    /// Uploads the credits above the reserve still cover today.
    pub uploads_left_today: i64,
    /// Estimated user credits left this hour.
    pub hourly_credits_left: i64,
    /// Estimated POSTs left this hour.
    pub posts_left: i64,
    /// How fast other installs of the same Client ID are estimated to spend (credits an hour).
    pub other_installs_per_hour: f64,
    /// Credits of today's budget the backlog leaves for interactive uploads until the reset.
    pub held_for_interactive: i64,
    /// Credits of today's budget the backlog leaves for other installs' expected spend until
    /// the reset.
    pub held_for_others: i64,
    /// When the daily budget resets (`None` until headers told us; a rolling 24 h is assumed).
    pub daily_reset: Option<UnixMillis>,
    /// When the hourly user budget resets (`None`: unknown, a rolling hour is assumed).
    pub hourly_reset: Option<UnixMillis>,
    /// When the POST budget resets (`None`: unknown).
    pub post_reset: Option<UnixMillis>,
    /// When an interactive upload would be admitted.
    pub next_interactive: Slot,
    /// When a backlog upload would be admitted.
    pub next_backlog: Slot,
    /// Set while a 429 holds the Client ID.
    pub rate_limited_until: Option<UnixMillis>,
}

/// Why the governor could not answer.
#[derive(Debug, thiserror::Error)]
pub enum GovernorError {
    /// The database failed (its message names the file and what to do).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A configuration value is out of range.
    #[error("The quota governor's {field} {reason}.")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl GovernorError {
    /// A stable machine-readable code for the UI and `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Store(error) => error.code(),
            Self::InvalidConfig { .. } => "invalid_governor_config",
        }
    }
}

impl crate::error::ErrorCode for GovernorError {
    fn code(&self) -> &'static str {
        GovernorError::code(self)
    }
}

crate::error::serialize_as_coded!(GovernorError);
