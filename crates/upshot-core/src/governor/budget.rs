//! The arithmetic of the governor, free of SQL: one [`Budget`] per Imgur limit, and a
//! [`Model`] of the three for one Client ID at one instant. `earliest` answers "when may a
//! request of this priority go", `spend` records a (real or projected) request.
//!
//! Within a window what is left stays level until our next spend or reading, and what a request
//! must leave above it only shrinks as the reset nears, so whether a request fits is monotone in
//! time: the earliest admissible moment is found by bisection, never by polling.

use super::readings::{HeaderState, Reading};
use super::types::{GovernorConfig, Priority, RequestCost, WaitReason};
/// The windows' lengths live in the bottom layer, so budgets and readings share them without
/// importing each other.
pub(crate) use crate::types::{DAY_MS, HOUR_MS};

/// How much more than the user's measured interactive demand the backlog leaves for it.
const INTERACTIVE_MARGIN: f64 = 1.25;

/// Interactive uploads come a few at a time (a drop of several files): the lump size, in
/// uploads, their hold's buffer assumes.
const INTERACTIVE_GRAIN: f64 = 2.0;

/// How many windows ahead `earliest` looks before giving up (a fresh window always admits
/// unless one request costs more than the whole budget).
const WINDOWS_AHEAD: usize = 3;

/// Which of Imgur's limits a budget is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Credits per Client ID per day, shared with every install.
    Daily,
    /// Credits per user (IP) per hour.
    Hourly,
    /// POSTs per IP per hour.
    Posts,
}

impl Kind {
    fn spent_reason(self) -> WaitReason {
        match self {
            Self::Daily => WaitReason::DailyBudget,
            Self::Hourly => WaitReason::HourlyBudget,
            Self::Posts => WaitReason::PostBudget,
        }
    }

    /// What a request costs in this budget.
    pub fn cost_of(self, cost: RequestCost) -> i64 {
        match self {
            Self::Daily | Self::Hourly => i64::from(cost.credits),
            Self::Posts => i64::from(cost.is_post),
        }
    }
}

/// Our own spends in time order, with running totals: "spent since t" is a binary search.
#[derive(Debug, Clone, Default)]
pub(crate) struct Spends {
    at: Vec<i64>,
    amount: Vec<i64>,
    running: Vec<i64>,
}

impl Spends {
    /// Adds a spend, kept in time order (an out-of-order time only comes from a clock set back,
    /// and costs a re-total).
    pub fn push(&mut self, at: i64, amount: i64) {
        let index = self.at.partition_point(|&t| t <= at);
        self.at.insert(index, at);
        self.amount.insert(index, amount);
        self.running.insert(index, 0);
        let mut total = self.before_index(index);
        for i in index..self.at.len() {
            total += self.amount[i];
            self.running[i] = total;
        }
    }

    fn total(&self) -> i64 {
        self.running.last().copied().unwrap_or(0)
    }

    fn before_index(&self, index: usize) -> i64 {
        if index == 0 {
            0
        } else {
            self.running[index - 1]
        }
    }

    /// Spent at or after `from` (later times included: they are spent all the same).
    pub fn since(&self, from: i64) -> i64 {
        self.total() - self.before_index(self.at.partition_point(|&t| t < from))
    }

    /// Spent strictly after `after`.
    fn after(&self, after: i64) -> i64 {
        self.total() - self.before_index(self.at.partition_point(|&t| t <= after))
    }

    fn times(&self) -> &[i64] {
        &self.at
    }
}

/// How many standard deviations of random variation a hold covers on top of the expected spend:
/// demand comes in bursts, and the backlog takes any surplus the moment it appears, so only a
/// buffer keeps a busy hour from eating into what others need.
const SPREAD_SDS: f64 = 2.0;

/// What must be held for a demand arriving at `rate` (units per ms) in lumps of about `grain`
/// units over the next `left` ms: its expected total plus [`SPREAD_SDS`] standard deviations of
/// a Poisson stream of lumps.
fn hold(rate: f64, left: f64, grain: f64) -> f64 {
    let expected = (rate * left).max(0.0);
    expected + SPREAD_SDS * (expected * grain).sqrt()
}

/// One of Imgur's limits as the governor sees it.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    pub kind: Kind,
    /// The limit per window.
    pub limit: i64,
    /// The window's length.
    pub window: i64,
    /// Never spent (the reserve for the daily budget, 0 for the hourly ones).
    pub floor: i64,
    /// Interactive demand held for, per ms of window left (the configured share of the limit
    /// or the user's measured demand, whichever is larger).
    pub interactive_rate: f64,
    /// Interactive requests come a few at a time: the lump size of their demand.
    pub interactive_grain: f64,
    /// The interactive hold never shrinks below this.
    pub min_hold: i64,
    /// Other installs' expected spend, per ms (daily only).
    pub others_rate: f64,
    /// Other installs' lump size (one upload).
    pub others_grain: f64,
    /// A known window end: windows are `[anchor + kW − W, anchor + kW)`. `None`: rolling.
    pub anchor: Option<i64>,
    /// The latest header reading: when it was observed, and what it said was left minus our
    /// spends recorded after it.
    pub reading: Option<(i64, i64)>,
    /// Our spends that count against this budget.
    pub spends: Spends,
    /// Spent since the model was built (admitted or projected): after any reading.
    pub added: i64,
}

impl Budget {
    /// The end of the fixed window holding `t`.
    fn window_end(&self, anchor: i64, t: i64) -> i64 {
        anchor + ((t - anchor).div_euclid(self.window) + 1) * self.window
    }

    /// What is left in the fixed window starting at `start`: the lower of the limit minus our
    /// spend in it, and the headers (if read in it) minus our spend since. Other installs'
    /// unseen spend is not guessed here: the backlog's threshold holds their expected spend,
    /// and every admitted request brings fresh headers.
    fn left_in_window(&self, start: i64) -> f64 {
        let ledger = (self.limit - self.spends.since(start)) as f64;
        match self.reading.filter(|(observed, _)| *observed >= start) {
            Some((_, remaining)) => ledger.min((remaining - self.added) as f64),
            None => ledger,
        }
    }

    /// Estimated credits (or POSTs) left at `t`.
    pub fn remaining(&self, t: i64) -> f64 {
        match self.anchor {
            Some(anchor) => self.left_in_window(self.window_end(anchor, t) - self.window),
            None => self.remaining_rolling(t),
        }
    }

    fn remaining_rolling(&self, t: i64) -> f64 {
        let ledger = (self.limit - self.spends.after(t - self.window)) as f64;
        match self.reading {
            Some((observed, remaining)) if t < observed + self.window => {
                ledger.min((remaining - self.added) as f64)
            }
            _ => ledger,
        }
    }

    /// When the current window resets, if known.
    pub fn reset_after(&self, t: i64) -> Option<i64> {
        self.anchor.map(|anchor| self.window_end(anchor, t))
    }

    /// What the backlog leaves above the floor with `left` ms to the reset: (for interactive
    /// requests, for other installs).
    fn holds(&self, left: i64) -> (f64, f64) {
        let left = left.max(0) as f64;
        (
            hold(self.interactive_rate, left, self.interactive_grain).max(self.min_hold as f64),
            hold(self.others_rate, left, self.others_grain),
        )
    }

    /// [`Self::holds`] at `t` (a full window when the reset is unknown).
    pub fn held(&self, t: i64) -> (f64, f64) {
        self.holds(self.reset_after(t).map_or(self.window, |end| end - t))
    }

    /// What a request of `priority` must leave above it with `left` ms to the reset: the floor
    /// for interactive requests; for the backlog, also the holds.
    fn threshold(&self, priority: Priority, left: i64) -> f64 {
        let floor = self.floor as f64;
        match priority {
            Priority::Interactive => floor,
            Priority::Backlog => {
                let (interactive, others) = self.holds(left);
                floor + interactive + others
            }
        }
    }

    /// The earliest time at or after `from` when a request of `priority` costing `cost` (in this
    /// budget's unit) may go, and why it waits if it does.
    pub fn earliest(&self, priority: Priority, cost: i64, from: i64) -> (i64, Option<WaitReason>) {
        match self.anchor {
            Some(anchor) => self.earliest_fixed(anchor, priority, cost, from),
            None => self.earliest_rolling(priority, cost, from),
        }
    }

    fn earliest_fixed(
        &self,
        anchor: i64,
        priority: Priority,
        cost: i64,
        from: i64,
    ) -> (i64, Option<WaitReason>) {
        let first_end = self.window_end(anchor, from);
        let mut start_at = from;
        for _ in 0..WINDOWS_AHEAD {
            let end = self.window_end(anchor, start_at);
            let left = self.left_in_window(end - self.window) - cost as f64;
            // Level `left`, a threshold that only falls: fitting is monotone in time.
            let fits = |t: i64| left >= self.threshold(priority, end - t) - 1e-9;
            if fits(start_at) {
                let reason = (start_at > from).then(|| self.kind.spent_reason());
                return (start_at, reason);
            }
            if fits(end - 1) {
                let (mut no, mut yes) = (start_at, end - 1);
                while yes - no > 1 {
                    let mid = no + (yes - no) / 2;
                    if fits(mid) {
                        yes = mid;
                    } else {
                        no = mid;
                    }
                }
                let reason = if end == first_end {
                    WaitReason::Pacing
                } else {
                    self.kind.spent_reason()
                };
                return (yes, Some(reason));
            }
            start_at = end;
        }
        (start_at, Some(self.kind.spent_reason()))
    }

    fn earliest_rolling(
        &self,
        priority: Priority,
        cost: i64,
        from: i64,
    ) -> (i64, Option<WaitReason>) {
        // No reset known: the holds do not shrink.
        let threshold = self.threshold(priority, self.window);
        let fits = |t: i64| self.remaining_rolling(t) - cost as f64 >= threshold - 1e-9;
        if fits(from) {
            return (from, None);
        }
        // What is left only changes when a spend leaves the window or the reading expires.
        let mut changes: Vec<i64> = self
            .spends
            .times()
            .iter()
            .map(|at| at + self.window)
            .filter(|t| *t > from)
            .collect();
        if let Some((observed, _)) = self.reading {
            changes.push(observed + self.window);
        }
        changes.sort_unstable();
        for t in changes.into_iter().filter(|t| *t > from) {
            if fits(t) {
                return (t, Some(self.kind.spent_reason()));
            }
        }
        (from + self.window, Some(self.kind.spent_reason()))
    }
}

/// The three budgets of one Client ID at one instant, plus a 429 hold.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub daily: Budget,
    pub hourly: Budget,
    pub posts: Budget,
    /// A 429 holds the whole Client ID until then.
    pub rate_limited_until: Option<i64>,
}

/// Our spends recorded after each budget's reading (ledger rows above its mark): credits of this
/// Client ID for the daily and hourly readings, POSTs of any Client ID for the POST reading.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SpentAfter {
    pub daily: i64,
    pub hourly: i64,
    pub posts: i64,
}

/// Our spends as read from the ledger.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LedgerRow {
    pub at: i64,
    pub credits: i64,
}

impl Model {
    /// Builds the model from the stored headers and the ledger: `own` are this Client ID's
    /// credit rows of the last day, `posts` every POST from this machine in the last hour, and
    /// `after` our spends recorded after each reading (see [`SpentAfter`]).
    pub fn build(
        config: &GovernorConfig,
        headers: &HeaderState,
        own: &[LedgerRow],
        posts: &[i64],
        after: SpentAfter,
        rate_limited_until: Option<i64>,
        now: i64,
    ) -> Self {
        let share = config.interactive_share;
        // The user's own interactive demand, with a margin for its ups and downs: the backlog
        // holds whichever is larger, this or the configured share.
        let anchor = headers.daily.and_then(|r| r.reset).map(|r| r.as_millis());
        let window_end =
            anchor.map(|anchor| anchor + ((now - anchor).div_euclid(DAY_MS) + 1) * DAY_MS);
        let demand = INTERACTIVE_MARGIN * headers.interactive_rate(window_end, now);
        let upload = i64::from(config.upload_cost);
        let floor_uploads = i64::from(config.interactive_floor_uploads);
        let limit_of = |reading: Option<Reading>, default: u32| {
            reading
                .and_then(|r| r.limit)
                .filter(|limit| *limit > 0)
                .unwrap_or_else(|| i64::from(default))
        };
        let reading_of = |reading: Option<Reading>, spent_after: i64| {
            reading.map(|r| (r.observed_at.as_millis(), r.remaining - spent_after))
        };
        let anchor_of =
            |reading: Option<Reading>| reading.and_then(|r| r.reset).map(|r| r.as_millis());
        let mut credit_spends = Spends::default();
        for row in own.iter().filter(|row| row.credits > 0) {
            credit_spends.push(row.at, row.credits);
        }
        let mut post_spends = Spends::default();
        for at in posts {
            post_spends.push(*at, 1);
        }

        let daily_limit = limit_of(headers.daily, config.daily_credits);
        let daily_anchor = anchor_of(headers.daily);
        let others_today = headers.daily.and_then(|reading| {
            let anchor = daily_anchor?;
            let start = anchor + ((now - anchor).div_euclid(DAY_MS)) * DAY_MS;
            (reading.observed_at.as_millis() >= start)
                .then(|| reading.others_rate(DAY_MS))
                .flatten()
        });
        let others_before = headers
            .others_per_hour_previous
            .map(|per_hour| per_hour / HOUR_MS as f64);
        let others_rate = others_today
            .unwrap_or(0.0)
            .max(others_before.unwrap_or(0.0));
        let daily = Budget {
            kind: Kind::Daily,
            limit: daily_limit,
            window: DAY_MS,
            floor: (config.reserve_fraction * daily_limit as f64).ceil() as i64,
            interactive_rate: (share * daily_limit as f64 / DAY_MS as f64).max(demand),
            interactive_grain: INTERACTIVE_GRAIN * upload as f64,
            others_grain: upload as f64,
            min_hold: floor_uploads * upload,
            others_rate,
            anchor: daily_anchor,
            reading: reading_of(headers.daily, after.daily),
            spends: credit_spends.clone(),
            added: 0,
        };
        let hourly_limit = limit_of(headers.hourly, config.hourly_user_credits);
        let hourly = Budget {
            kind: Kind::Hourly,
            limit: hourly_limit,
            window: HOUR_MS,
            floor: 0,
            interactive_rate: (share * hourly_limit as f64 / HOUR_MS as f64).max(demand),
            interactive_grain: INTERACTIVE_GRAIN * upload as f64,
            others_grain: upload as f64,
            min_hold: floor_uploads * upload,
            others_rate: 0.0,
            anchor: anchor_of(headers.hourly),
            reading: reading_of(headers.hourly, after.hourly),
            spends: credit_spends,
            added: 0,
        };
        let post_limit = limit_of(headers.posts, config.hourly_posts);
        let posts = Budget {
            kind: Kind::Posts,
            limit: post_limit,
            window: HOUR_MS,
            floor: 0,
            interactive_rate: (share * post_limit as f64 / HOUR_MS as f64)
                .max(demand / upload.max(1) as f64),
            interactive_grain: INTERACTIVE_GRAIN,
            others_grain: 1.0,
            min_hold: floor_uploads,
            others_rate: 0.0,
            anchor: anchor_of(headers.posts),
            reading: reading_of(headers.posts, after.posts),
            spends: post_spends,
            added: 0,
        };
        Self {
            daily,
            hourly,
            posts,
            rate_limited_until,
        }
    }

    fn budgets(&self) -> [&Budget; 3] {
        [&self.daily, &self.hourly, &self.posts]
    }

    /// The earliest time at or after `from` when a request may go, and why it waits if it
    /// does: the latest of what each budget (and a 429 hold) allows, iterated because waiting
    /// for one budget may cross another's reset.
    pub fn earliest(
        &self,
        priority: Priority,
        cost: RequestCost,
        from: i64,
    ) -> (i64, Option<WaitReason>) {
        let mut t = from;
        let mut reason = None;
        if let Some(until) = self.rate_limited_until.filter(|until| *until > from) {
            t = until;
            reason = Some(WaitReason::RateLimited);
        }
        for _ in 0..8 {
            let mut latest = t;
            let mut why = None;
            for budget in self.budgets() {
                let units = budget.kind.cost_of(cost);
                if units == 0 {
                    continue;
                }
                let (at, because) = budget.earliest(priority, units, t);
                if at > latest {
                    latest = at;
                    why = because;
                }
            }
            if latest == t {
                break;
            }
            t = latest;
            reason = why;
        }
        (t, reason)
    }

    /// Records a spend at `at` (a real one just admitted, or a projected one).
    pub fn spend(&mut self, cost: RequestCost, at: i64) {
        let credits = i64::from(cost.credits);
        if credits > 0 {
            for budget in [&mut self.daily, &mut self.hourly] {
                budget.spends.push(at, credits);
                budget.added += credits;
            }
        }
        if cost.is_post {
            self.posts.spends.push(at, 1);
            self.posts.added += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(anchor: Option<i64>) -> Budget {
        Budget {
            kind: Kind::Daily,
            limit: 1_000,
            window: DAY_MS,
            floor: 50,
            interactive_rate: 100.0 / DAY_MS as f64,
            interactive_grain: 0.0,
            min_hold: 10,
            others_rate: 0.0,
            others_grain: 0.0,
            anchor,
            reading: None,
            spends: Spends::default(),
            added: 0,
        }
    }

    #[test]
    fn spends_sum_from_any_time_even_out_of_order() {
        let mut spends = Spends::default();
        spends.push(10, 5);
        spends.push(30, 7);
        spends.push(20, 1);
        assert_eq!(spends.since(0), 13);
        assert_eq!(spends.since(20), 8);
        assert_eq!(spends.after(20), 7);
        assert_eq!(spends.since(31), 0);
    }

    #[test]
    fn the_backlog_waits_for_the_hold_to_shrink_and_interactive_does_not() {
        let mut b = budget(Some(DAY_MS));
        // 890 spent: 110 left. Interactive needs 10 + floor 50: fits.
        b.spends.push(0, 890);
        assert_eq!(b.earliest(Priority::Interactive, 10, 0), (0, None));
        // Backlog needs 10 + 50 + hold; the hold (100 at the start, shrinking to 10) must fall
        // to 50: when 100 × τ/day = 50, i.e. half way through the day.
        let (at, reason) = b.earliest(Priority::Backlog, 10, 0);
        assert_eq!(reason, Some(WaitReason::Pacing));
        assert!((at - DAY_MS / 2).abs() <= 1, "{at}");
        // Nothing above the floor: both wait for the reset.
        b.spends.push(1, 60);
        let (at, reason) = b.earliest(Priority::Interactive, 10, 2);
        assert_eq!((at, reason), (DAY_MS, Some(WaitReason::DailyBudget)));
    }

    #[test]
    fn without_a_known_reset_spends_must_leave_the_rolling_window() {
        let mut b = budget(None);
        b.spends.push(1_000, 600);
        b.spends.push(2_000, 340);
        // 60 left, floor 50: an interactive 10 fits, a second one does not until the first
        // spend is a day old.
        assert_eq!(b.earliest(Priority::Interactive, 10, 5_000), (5_000, None));
        let (at, reason) = b.earliest(Priority::Interactive, 11, 5_000);
        assert_eq!(at, 1_000 + DAY_MS);
        assert_eq!(reason, Some(WaitReason::DailyBudget));
    }
}
