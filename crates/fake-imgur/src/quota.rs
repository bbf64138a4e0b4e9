//! Imgur's credit accounting: a daily budget per Client ID, an hourly budget per user (Client ID
//! plus remote IP) and an hourly POST budget per IP, in fixed windows on the virtual clock (the
//! day starts at UTC midnight, the hour on the hour).

use std::collections::BTreeMap;
use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::config::Limits;
use crate::records::ClientUsage;

const DAY: u64 = 86_400;
const HOUR: u64 = 3_600;

/// A counter that resets when its window changes.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Window {
    index: u64,
    used: u32,
}

impl Window {
    fn used_in(&self, index: u64) -> u32 {
        if self.index == index { self.used } else { 0 }
    }

    fn add(&mut self, index: u64, amount: u32) {
        if self.index != index {
            *self = Self { index, used: 0 };
        }
        self.used = self.used.saturating_add(amount);
    }
}

/// Lifetime counters and the daily window of one Client ID.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ClientCounters {
    day: Window,
    posts: Window,
    requests: u64,
    uploads: u64,
    rate_limited: u64,
    daily_limit_hits: u64,
    daily_refusals: u64,
    last_refused_day: Option<u64>,
}

/// Which budget a refused request ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The Client ID's daily credits.
    ClientDaily,
    /// The user's hourly credits.
    User,
    /// The IP's hourly POSTs.
    Posts,
}

/// One request to admit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Charge<'a> {
    /// The application paying, when known (OAuth calls may not name one up front).
    pub client_id: Option<&'a str>,
    /// The remote address.
    pub ip: IpAddr,
    /// Credits it costs (0 for OAuth).
    pub credits: u32,
    /// Whether it counts against the POST budget.
    pub post: bool,
}

/// All counters, saved with the rest of the state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Quota {
    clients: BTreeMap<String, ClientCounters>,
    /// Keyed by `client_id|ip`.
    users: BTreeMap<String, Window>,
    /// Keyed by IP.
    posts: BTreeMap<String, Window>,
    /// Set by every charge, cleared when the journal records the counters.
    #[serde(skip)]
    changed: bool,
}

fn user_key(client_id: &str, ip: IpAddr) -> String {
    format!("{client_id}|{ip}")
}

impl Quota {
    /// Charges the request if every budget can cover it; otherwise refuses it, charges nothing
    /// and counts the refusal.
    pub(crate) fn admit(
        &mut self,
        limits: &Limits,
        charge: Charge<'_>,
        now: u64,
    ) -> Result<(), Refusal> {
        self.changed = true;
        let (day, hour) = (now / DAY, now / HOUR);
        let ip_key = charge.ip.to_string();
        let refusal = {
            let client_used = charge
                .client_id
                .and_then(|id| self.clients.get(id))
                .map_or(0, |c| c.day.used_in(day));
            let user_used = charge
                .client_id
                .and_then(|id| self.users.get(&user_key(id, charge.ip)))
                .map_or(0, |w| w.used_in(hour));
            let posts_used = self.posts.get(&ip_key).map_or(0, |w| w.used_in(hour));
            let over = |used: u32, limit: u32| {
                charge.credits > 0 && u64::from(used) + u64::from(charge.credits) > u64::from(limit)
            };
            if charge.client_id.is_some() && over(client_used, limits.client_credits_per_day) {
                Some(Refusal::ClientDaily)
            } else if charge.client_id.is_some() && over(user_used, limits.user_credits_per_hour) {
                Some(Refusal::User)
            } else if charge.post && posts_used >= limits.posts_per_hour {
                Some(Refusal::Posts)
            } else {
                None
            }
        };

        if let Some(refusal) = refusal {
            if let Some(id) = charge.client_id {
                let counters = self.clients.entry(id.to_owned()).or_default();
                counters.rate_limited += 1;
                if refusal == Refusal::ClientDaily {
                    counters.daily_refusals += 1;
                    if counters.last_refused_day != Some(day) {
                        counters.last_refused_day = Some(day);
                        counters.daily_limit_hits += 1;
                    }
                }
            }
            return Err(refusal);
        }

        if let Some(id) = charge.client_id {
            let counters = self.clients.entry(id.to_owned()).or_default();
            counters.day.add(day, charge.credits);
            counters.requests += 1;
            if charge.post {
                counters.posts.add(hour, 1);
            }
            self.users
                .entry(user_key(id, charge.ip))
                .or_default()
                .add(hour, charge.credits);
        }
        if charge.post {
            self.posts.entry(ip_key).or_default().add(hour, 1);
        }
        Ok(())
    }

    /// Counts an accepted upload.
    pub(crate) fn note_upload(&mut self, client_id: &str) {
        self.changed = true;
        self.clients
            .entry(client_id.to_owned())
            .or_default()
            .uploads += 1;
    }

    /// Whether the counters changed since the last call (which clears the mark).
    pub(crate) fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// The budgets as the client sees them now.
    pub(crate) fn view(
        &self,
        limits: &Limits,
        client_id: Option<&str>,
        ip: IpAddr,
        now: u64,
    ) -> QuotaView {
        let (day, hour) = (now / DAY, now / HOUR);
        let client_used = client_id
            .and_then(|id| self.clients.get(id))
            .map_or(0, |c| c.day.used_in(day));
        let user_used = client_id
            .and_then(|id| self.users.get(&user_key(id, ip)))
            .map_or(0, |w| w.used_in(hour));
        let posts_used = self
            .posts
            .get(&ip.to_string())
            .map_or(0, |w| w.used_in(hour));
        QuotaView {
            user_limit: limits.user_credits_per_hour,
            user_remaining: limits.user_credits_per_hour.saturating_sub(user_used),
            user_reset_epoch: (hour + 1) * HOUR,
            client_limit: limits.client_credits_per_day,
            client_remaining: limits.client_credits_per_day.saturating_sub(client_used),
            client_reset_secs: (day + 1) * DAY - now,
            post_limit: limits.posts_per_hour,
            post_remaining: limits.posts_per_hour.saturating_sub(posts_used),
            post_reset_secs: (hour + 1) * HOUR - now,
        }
    }

    /// Usage of one Client ID for the state snapshot.
    pub(crate) fn usage(&self, limits: &Limits, client_id: &str, now: u64) -> ClientUsage {
        let (day, hour) = (now / DAY, now / HOUR);
        let counters = self.clients.get(client_id).cloned().unwrap_or_default();
        let spent = counters.day.used_in(day);
        ClientUsage {
            credits_spent_today: spent,
            client_remaining: limits.client_credits_per_day.saturating_sub(spent),
            requests: counters.requests,
            uploads: counters.uploads,
            posts_this_hour: counters.posts.used_in(hour),
            rate_limited: counters.rate_limited,
            daily_limit_hits: counters.daily_limit_hits,
            daily_refusals: counters.daily_refusals,
        }
    }
}

/// The numbers behind the `X-RateLimit-*` headers and `GET /3/credits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuotaView {
    pub user_limit: u32,
    pub user_remaining: u32,
    /// Epoch seconds of the next hour boundary.
    pub user_reset_epoch: u64,
    pub client_limit: u32,
    pub client_remaining: u32,
    /// Seconds until the next UTC midnight.
    pub client_reset_secs: u64,
    pub post_limit: u32,
    pub post_remaining: u32,
    /// Seconds until the next hour boundary.
    pub post_reset_secs: u64,
}

impl QuotaView {
    /// Writes the headers Imgur sends on every API response (the POST ones only on POSTs).
    pub(crate) fn write_headers(&self, headers: &mut HeaderMap, post: bool) {
        let mut set = |name: &'static str, value: u64| {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        };
        set("x-ratelimit-userlimit", self.user_limit.into());
        set("x-ratelimit-userremaining", self.user_remaining.into());
        set("x-ratelimit-userreset", self.user_reset_epoch);
        set("x-ratelimit-clientlimit", self.client_limit.into());
        set("x-ratelimit-clientremaining", self.client_remaining.into());
        set("x-ratelimit-clientreset", self.client_reset_secs);
        if post {
            set("x-post-rate-limit-limit", self.post_limit.into());
            set("x-post-rate-limit-remaining", self.post_remaining.into());
            set("x-post-rate-limit-reset", self.post_reset_secs);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn small() -> Limits {
        Limits {
            client_credits_per_day: 25,
            user_credits_per_hour: 100,
            posts_per_hour: 100,
            ..Limits::default()
        }
    }

    fn upload(client: &str) -> Charge<'_> {
        Charge {
            client_id: Some(client),
            ip: IP,
            credits: 10,
            post: true,
        }
    }

    #[test]
    fn daily_budget_refuses_what_it_cannot_cover_and_resets_at_midnight() {
        let mut quota = Quota::default();
        let now = 10 * DAY + 5;
        assert!(quota.admit(&small(), upload("a"), now).is_ok());
        assert!(quota.admit(&small(), upload("a"), now).is_ok());
        assert_eq!(
            quota.admit(&small(), upload("a"), now),
            Err(Refusal::ClientDaily)
        );
        assert_eq!(
            quota.admit(&small(), upload("a"), now + 1),
            Err(Refusal::ClientDaily)
        );
        let usage = quota.usage(&small(), "a", now);
        assert_eq!(usage.credits_spent_today, 20);
        assert_eq!(usage.rate_limited, 2);
        assert_eq!(usage.daily_limit_hits, 1);
        assert_eq!(usage.daily_refusals, 2);
        assert!(quota.admit(&small(), upload("a"), 11 * DAY).is_ok());
        assert_eq!(quota.usage(&small(), "a", 11 * DAY).credits_spent_today, 10);
    }

    #[test]
    fn headers_count_down_and_name_the_resets() {
        let mut quota = Quota::default();
        let now = 10 * DAY + 100;
        quota.admit(&small(), upload("a"), now).unwrap();
        let view = quota.view(&small(), Some("a"), IP, now);
        assert_eq!(view.client_remaining, 15);
        assert_eq!(view.user_remaining, 90);
        assert_eq!(view.post_remaining, 99);
        assert_eq!(view.user_reset_epoch, 10 * DAY + HOUR);
        assert_eq!(view.client_reset_secs, DAY - 100);
        assert_eq!(view.post_reset_secs, HOUR - 100);
    }
}
