//! The quota governor: decides when each request to Imgur may go, so that Upshot never runs
//! into Imgur's limits, yet uploads at full speed whenever the budget allows.
//!
//! # What it knows
//!
//! - The **ledger** (`ledger` table): every request Upshot made, its credits and whether it was
//!   a POST, written in the same transaction as the decision to send it.
//! - Per Client ID, in `rate_headers` (see `readings.rs`): the latest reading of each of Imgur's
//!   three budgets with when it was observed and the ledger's highest row id at that moment,
//!   other installs' spend (only the headers reveal it), and the user's interactive demand.
//! - A **429 hold** per Client ID (`rate_limit_holds`): the governor alone writes it and decides
//!   by it; the queue only reads it, to leave the held Client ID's jobs alone and say why.
//!
//! # The estimates
//!
//! For each budget (daily credits per Client ID, hourly credits per user, hourly POSTs per IP),
//! what is left is the lower of: the limit minus our own spend in the window; and the header's
//! remaining minus our own spend since the reading (ledger rows above its mark). Windows are
//! fixed, aligned on the resets the headers announce; until a reset has been seen a rolling
//! window is assumed (a spend counts for a full window after it), which can only under-estimate.
//! Other installs' unseen spend since the reading is not guessed here: the backlog's hold covers
//! their expected spend, and every admitted request brings fresh headers.
//!
//! Other installs' rate is their spend so far in today's window (limit − remaining − our own
//! spend before the reading) over the time elapsed since the window began (at least an hour),
//! and never less than their rate over the previous day's window.
//!
//! # Admission
//!
//! - **Interactive** (priority 0) goes at once if every budget minus its cost stays at or above
//!   its floor: the reserve (5 % of the daily credits) for the daily budget, 0 for the hourly
//!   ones. Otherwise it waits for the reset of the budget that is spent.
//! - **Backlog** (priority 1) must leave, in addition, holds for what the rest of the window
//!   owes to others, with τ the time to the reset: for interactive uploads, rate × τ plus two
//!   standard deviations of bursty demand (never less than three uploads), the rate being the
//!   larger of the configured share (10 % of the limit per window) and 1.25 × the user's
//!   measured interactive rate; and for other installs (daily budget), their rate × τ plus two
//!   standard deviations. The buffers matter because the backlog takes any surplus the moment
//!   it appears, so nothing else would cover a busy hour. Above that line the backlog goes at
//!   full speed; at the line it is paced, each upload admitted as the shrinking holds free its
//!   cost. The holds reach their floors at the reset, so a waiting backlog uses the whole budget
//!   above the reserve by the end of the day while interactive uploads always find their share.
//!   The hourly budgets are paced the same way, so the backlog never meets a 429 either.
//! - A Client ID held by a 429 waits until the hold ends, whatever its priority.
//!
//! Within a window the estimates are level and the holds only shrink, so whether a request fits
//! is monotone in time and the earliest admissible moment is found by bisection (`budget.rs`):
//! a `Wait { until }` is exact. [`QuotaGovernor::expected_starts`] projects a whole queue by
//! admitting it job after job on a copy of the model.
//!
//! Decisions and the ledger row they create happen in one `BEGIN IMMEDIATE` transaction, so two
//! workers, or two processes on the same database, can never both take the last slot.

mod budget;
mod ledger;
mod readings;
mod types;

pub use types::{
    Admission, GovernorConfig, GovernorError, GovernorMode, GovernorStatus, Pending, Priority,
    RequestCost, Slot, WaitReason,
};

use crate::clock::Clock;
use crate::store::{Database, SqlContext, StoreError};
use crate::types::UnixMillis;
use budget::{DAY_MS, HOUR_MS, Model, SpentAfter};
use ledger::{LedgerCache, record_spend};
use readings::HeaderState;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use upshot_imgur::{ImgurError, RateLimitSnapshot};

/// Imgur's quota governor over Upshot's database. Share it between workers through an `Arc`;
/// several governors (processes) on the same file coordinate through SQLite.
///
/// Every call blocks on SQLite: async callers use `tokio::task::spawn_blocking`.
#[derive(Debug)]
pub struct QuotaGovernor {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
    config: GovernorConfig,
}

impl QuotaGovernor {
    /// A governor over a connection to Upshot's database (from [`Database::connect`]: the tables
    /// `ledger`, `rate_headers` and `rate_limit_holds` must exist).
    pub fn new(
        conn: Connection,
        clock: Arc<dyn Clock>,
        config: GovernorConfig,
    ) -> Result<Self, GovernorError> {
        config.validate()?;
        Ok(Self {
            inner: Mutex::new(Inner {
                conn,
                ledger: LedgerCache::default(),
            }),
            clock,
            config,
        })
    }

    /// A governor with its own connection to `db`.
    pub fn open(
        db: &Database,
        clock: Arc<dyn Clock>,
        config: GovernorConfig,
    ) -> Result<Self, GovernorError> {
        Self::new(db.connect()?, clock, config)
    }

    /// The configuration.
    pub fn config(&self) -> &GovernorConfig {
        &self.config
    }

    /// The clock it reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Decides whether a request of `priority` costing `cost` may go now for `client_id`, and
    /// if so records it in the ledger, in one transaction: an [`Admission::Now`] is a promise
    /// that the budget is reserved for it.
    pub fn try_spend(
        &self,
        client_id: &str,
        priority: Priority,
        cost: RequestCost,
    ) -> Result<Admission, GovernorError> {
        let now = self.clock.now();
        self.write(|tx, ledger| {
            end_past_holds(tx, now)?;
            let model = load_model(tx, ledger, &self.config, client_id, now)?;
            let (at, reason) = model.earliest(priority, cost, now.as_millis());
            match reason {
                Some(reason) if at > now.as_millis() => Ok(Admission::Wait {
                    until: UnixMillis(at),
                    reason,
                }),
                _ => {
                    record_spend(tx, client_id, now, cost)?;
                    if priority == Priority::Interactive
                        && cost.credits > 0
                        && let Some(window_end) = model.daily.reset_after(now.as_millis())
                    {
                        // Learn the user's interactive demand (see `Model::build`).
                        let mut state = read_headers(tx, client_id)?;
                        state.note_interactive(i64::from(cost.credits), UnixMillis(window_end));
                        write_headers(tx, client_id, now, &state)?;
                    }
                    Ok(Admission::Now)
                }
            }
        })
    }

    /// Learns from the rate-limit headers of an answer (success or error): call it after every
    /// exchange with Imgur. Budgets the answer has no headers for keep their last reading.
    pub fn observe(
        &self,
        client_id: &str,
        snapshot: &RateLimitSnapshot,
    ) -> Result<(), GovernorError> {
        if snapshot.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        self.write(|tx, ledger| {
            ledger.refresh(tx, now.as_millis())?;
            let mut state = read_headers(tx, client_id)?;
            let mark: i64 = tx
                .query_row("SELECT COALESCE(MAX(id), 0) FROM ledger", [], |row| {
                    row.get(0)
                })
                .ctx(tx)?;
            // The closure cannot return an error: a failed sum reads as 0 (others' spend then
            // looks higher, which is the safe side) and is logged.
            state.merge(snapshot, now, mark, |start| {
                own_spent_up_to(tx, ledger, client_id, start, mark).unwrap_or_else(|error| {
                    tracing::warn!("could not sum the ledger: {error}");
                    0
                })
            });
            write_headers(tx, client_id, now, &state)
        })
    }

    /// Holds every request of `client_id` after Imgur answered 429 (any shape), until `until`
    /// or, when the caller does not know, until the reset the governor expects: the latest
    /// reset of a budget the headers show spent, else the next hourly reset (a limit the
    /// headers do not show is most likely a per-IP one). An earlier time never shortens a hold
    /// already in place. Returns the time the hold ends.
    pub fn rate_limited(
        &self,
        client_id: &str,
        until: Option<UnixMillis>,
    ) -> Result<UnixMillis, GovernorError> {
        let now = self.clock.now();
        self.write(|tx, ledger| {
            let until = match until {
                Some(until) => until,
                None => expected_reset(tx, ledger, &self.config, client_id, now)?,
            };
            let held = read_rate_limited(tx, client_id)?.filter(|held| *held > until);
            let until = held.unwrap_or(until);
            tx.prepare_cached(
                "INSERT OR REPLACE INTO rate_limit_holds (client_id, until) VALUES (?1, ?2)",
            )
            .and_then(|mut stmt| stmt.execute(params![client_id, until.as_millis()]))
            .ctx(tx)?;
            Ok(until)
        })
    }

    /// [`observe`](Self::observe) and [`rate_limited`](Self::rate_limited) for a rate-limited
    /// error from the client: holds until the later of the error's `retry_at` (moved onto the
    /// governor's clock) and the reset the governor expects.
    pub fn rate_limited_by(
        &self,
        client_id: &str,
        error: &ImgurError,
    ) -> Result<UnixMillis, GovernorError> {
        self.observe(client_id, &error.rate_limits)?;
        let now = self.clock.now();
        // Absolute first: the client builds `retry_at` from an epoch header when a budget is
        // spent, and from its own clock otherwise (which, on another clock, is implausible).
        let told = readings::normalize_reset(
            error.retry_at,
            error.rate_limits.observed_at,
            now,
            DAY_MS,
            true,
        );
        let expected =
            self.read(|tx, ledger| expected_reset(tx, ledger, &self.config, client_id, now))?;
        self.rate_limited(client_id, Some(told.map_or(expected, |t| t.max(expected))))
    }

    /// What the governor sees and plans for `client_id` now.
    pub fn status(&self, client_id: &str) -> Result<GovernorStatus, GovernorError> {
        let now = self.clock.now();
        let t = now.as_millis();
        let model = self.read(|tx, ledger| load_model(tx, ledger, &self.config, client_id, now))?;
        let upload = self.config.upload_request();
        let slot = |priority| {
            let (at, reason) = model.earliest(priority, upload, t);
            Slot {
                at: UnixMillis(at),
                reason: reason.filter(|_| at > t),
            }
        };
        let next_interactive = slot(Priority::Interactive);
        let next_backlog = slot(Priority::Backlog);
        let rate_limited_until = model
            .rate_limited_until
            .filter(|until| *until > t)
            .map(UnixMillis);
        let mode = match next_backlog.reason {
            _ if rate_limited_until.is_some() => GovernorMode::RateLimited,
            None => GovernorMode::FullSpeed,
            Some(WaitReason::Pacing) => GovernorMode::Pacing,
            Some(WaitReason::RateLimited) => GovernorMode::RateLimited,
            Some(_) => GovernorMode::BudgetSpent,
        };
        let credits_left = model.daily.remaining(t).floor() as i64;
        let (held_for_interactive, held_for_others) = model.daily.held(t);
        let reserve = model.daily.floor;
        Ok(GovernorStatus {
            client_id: client_id.to_owned(),
            at: now,
            mode,
            daily_limit: model.daily.limit,
            credits_left_today: credits_left,
            reserve,
            uploads_left_today: (credits_left - reserve).max(0)
                / i64::from(self.config.upload_cost),
            hourly_credits_left: model.hourly.remaining(t).floor() as i64,
            posts_left: model.posts.remaining(t).floor() as i64,
            other_installs_per_hour: model.daily.others_rate * HOUR_MS as f64,
            held_for_interactive: held_for_interactive.ceil() as i64,
            held_for_others: held_for_others.ceil() as i64,
            daily_reset: model.daily.reset_after(t).map(UnixMillis),
            hourly_reset: model.hourly.reset_after(t).map(UnixMillis),
            post_reset: model.posts.reset_after(t).map(UnixMillis),
            next_interactive,
            next_backlog,
            rate_limited_until,
        })
    }

    /// When each queued upload of `client_id` is expected to start: the jobs are admitted one
    /// after another, in claim order (priority, then not-before time, then the order given), on
    /// a copy of the governor's model, each as early as the budgets and the pacing allow.
    /// Uploads are taken as instantaneous and no new interactive upload is assumed to arrive
    /// (their share is still held). Returned in the order given.
    pub fn expected_starts<Id: Copy>(
        &self,
        client_id: &str,
        queued: &[Pending<Id>],
    ) -> Result<Vec<(Id, UnixMillis)>, GovernorError> {
        let now = self.clock.now().as_millis();
        let mut model = self
            .read(|tx, ledger| load_model(tx, ledger, &self.config, client_id, UnixMillis(now)))?;
        let upload = self.config.upload_request();
        let mut order: Vec<usize> = (0..queued.len()).collect();
        let not_before = |job: &Pending<Id>| job.not_before.map_or(now, |t| t.as_millis().max(now));
        order.sort_by_key(|&i| (queued[i].priority, not_before(&queued[i]), i));
        let mut starts = vec![UnixMillis(now); queued.len()];
        // A job does not start before the one ahead of it in the queue.
        let mut previous = now;
        for i in order {
            let job = &queued[i];
            let (at, _) = model.earliest(job.priority, upload, previous.max(not_before(job)));
            model.spend(upload, at);
            starts[i] = UnixMillis(at);
            previous = at;
        }
        Ok(queued
            .iter()
            .zip(starts)
            .map(|(job, at)| (job.id, at))
            .collect())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken before anything is
    /// read, so what was read is still true when the decision is written.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>, &mut LedgerCache) -> Result<T, StoreError>,
    ) -> Result<T, GovernorError> {
        self.transaction(TransactionBehavior::Immediate, f)
    }

    /// Runs `f` in a read transaction: one consistent snapshot of the tables.
    fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>, &mut LedgerCache) -> Result<T, StoreError>,
    ) -> Result<T, GovernorError> {
        self.transaction(TransactionBehavior::Deferred, f)
    }

    fn transaction<T>(
        &self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Transaction<'_>, &mut LedgerCache) -> Result<T, StoreError>,
    ) -> Result<T, GovernorError> {
        let mut inner = self.lock();
        let Inner { conn, ledger } = &mut *inner;
        // `new_unchecked` borrows the connection shared, so errors can still name its file.
        let tx = Transaction::new_unchecked(conn, behavior).ctx(conn)?;
        let value = f(&tx, ledger)?;
        tx.commit().ctx(conn)?;
        Ok(value)
    }
}

/// The connection and what the governor keeps from it, under one lock.
#[derive(Debug)]
struct Inner {
    conn: Connection,
    ledger: LedgerCache,
}

/// Reads everything the model needs for `client_id` at `now`.
fn load_model(
    conn: &Connection,
    ledger: &mut LedgerCache,
    config: &GovernorConfig,
    client_id: &str,
    now: UnixMillis,
) -> Result<Model, StoreError> {
    let headers = read_headers(conn, client_id)?;
    let rate_limited_until = read_rate_limited(conn, client_id)?.map(UnixMillis::as_millis);
    let t = now.as_millis();
    ledger.refresh(conn, t)?;
    let own = ledger.own_after(client_id, t - DAY_MS);
    let posts = ledger.posts_after(t - HOUR_MS);
    let credits_after = |reading: Option<readings::Reading>| {
        reading.map_or(0, |reading| {
            ledger.credits_above(client_id, reading.ledger_mark)
        })
    };
    let after = SpentAfter {
        daily: credits_after(headers.daily),
        hourly: credits_after(headers.hourly),
        posts: headers
            .posts
            .map_or(0, |reading| ledger.posts_above(reading.ledger_mark)),
    };
    Ok(Model::build(
        config,
        &headers,
        &own,
        &posts,
        after,
        rate_limited_until,
        t,
    ))
}

fn read_headers(conn: &Connection, client_id: &str) -> Result<HeaderState, StoreError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT snapshot FROM rate_headers WHERE client_id = ?1")
        .and_then(|mut stmt| stmt.query_row([client_id], |row| row.get(0)).optional())
        .ctx(conn)?;
    Ok(text
        .map(|text| HeaderState::parse(&text))
        .unwrap_or_default())
}

/// Stores the per-client state; `observed_at` is when it last changed.
fn write_headers(
    conn: &Connection,
    client_id: &str,
    now: UnixMillis,
    state: &HeaderState,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO rate_headers (client_id, observed_at, snapshot) VALUES (?1, ?2, ?3) \
         ON CONFLICT(client_id) DO UPDATE SET observed_at = excluded.observed_at, \
         snapshot = excluded.snapshot",
    )
    .and_then(|mut stmt| stmt.execute(params![client_id, now.as_millis(), state.to_json()]))
    .ctx(conn)
    .map(drop)
}

fn read_rate_limited(conn: &Connection, client_id: &str) -> Result<Option<UnixMillis>, StoreError> {
    conn.prepare_cached("SELECT until FROM rate_limit_holds WHERE client_id = ?1")
        .and_then(|mut stmt| stmt.query_row([client_id], |row| row.get(0)).optional())
        .ctx(conn)
        .map(|until| until.map(UnixMillis))
}

/// Removes the 429 holds that have ended (every admission does, so the queue, which reads the
/// holds to say why jobs wait, never shows one long past).
fn end_past_holds(conn: &Connection, now: UnixMillis) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM rate_limit_holds WHERE until <= ?1")
        .and_then(|mut stmt| stmt.execute([now.as_millis()]))
        .ctx(conn)
        .map(drop)
}

/// Credits `client_id` spent from `start` in rows up to id `mark`: from the governor's copy of
/// the ledger, or from the table when `start` is older than the copy keeps.
fn own_spent_up_to(
    conn: &Connection,
    ledger: &LedgerCache,
    client_id: &str,
    start: UnixMillis,
    mark: i64,
) -> Result<i64, StoreError> {
    if let Some(spent) = ledger.credits_from_up_to(client_id, start.as_millis(), mark) {
        return Ok(spent);
    }
    conn.prepare_cached(
        "SELECT COALESCE(SUM(credits), 0) FROM ledger WHERE client_id = ?1 AND at >= ?2 AND id <= ?3",
    )
    .and_then(|mut stmt| {
        stmt.query_row(params![client_id, start.as_millis(), mark], |row| {
            row.get(0)
        })
    })
    .ctx(conn)
}

/// The reset a 429 waits for when nobody said: the latest reset among budgets the headers show
/// spent (or `Retry-After`), else the next hourly reset (an hour from now if unknown).
fn expected_reset(
    conn: &Connection,
    ledger: &mut LedgerCache,
    config: &GovernorConfig,
    client_id: &str,
    now: UnixMillis,
) -> Result<UnixMillis, StoreError> {
    let headers = read_headers(conn, client_id)?;
    let t = now.as_millis();
    let model = load_model(conn, ledger, config, client_id, now)?;
    let spent = [
        (headers.daily, &model.daily),
        (headers.hourly, &model.hourly),
        (headers.posts, &model.posts),
    ]
    .into_iter()
    .filter(|(reading, budget)| {
        reading.is_some_and(|r| r.remaining <= 0) || budget.remaining(t) < 1.0
    })
    .filter_map(|(_, budget)| budget.reset_after(t))
    .chain(headers.retry_after.map(UnixMillis::as_millis))
    .filter(|at| *at > t)
    .max();
    let hourly = model
        .hourly
        .reset_after(t)
        .or(model.posts.reset_after(t))
        .unwrap_or(t + HOUR_MS);
    Ok(UnixMillis(spent.unwrap_or(hourly)))
}
