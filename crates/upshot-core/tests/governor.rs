//! The quota governor on a real SQLite file with a hand-moved clock: the reserve, restarts,
//! other installs seen through the headers, 429s of every shape (against the fake server),
//! races between connections, interactive uploads beside a pacing backlog, and pacing over a day.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Barrier};
use std::time::Duration;

use upshot_core::clock::{Clock, ManualClock};

use upshot_core::governor::{
    Admission, GovernorConfig, GovernorMode, Pending, Priority, QuotaGovernor, RequestCost,
    WaitReason,
};
use upshot_core::store::Database;
use upshot_core::types::UnixMillis;
use upshot_imgur::RateLimitSnapshot;

const CLIENT: &str = "client-a";
const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// A UTC midnight.
const MIDNIGHT: i64 = 1_900_022_400_000;
const UPLOAD: RequestCost = RequestCost::UPLOAD;

struct Setup {
    dir: tempfile::TempDir,
    db: Database,
    clock: Arc<ManualClock>,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path().join("upshot.db")).unwrap();
        Self {
            dir,
            db,
            clock: Arc::new(ManualClock::new(UnixMillis(MIDNIGHT))),
        }
    }

    fn governor(&self, config: GovernorConfig) -> QuotaGovernor {
        QuotaGovernor::open(&self.db, self.clock.clone(), config).unwrap()
    }

    fn now(&self) -> i64 {
        self.clock.now().as_millis()
    }
}

/// Imgur's three budgets in fixed windows (UTC day, clock hour), as the fake server and Imgur
/// count them, producing the headers a real answer would carry. The governor never sees it
/// except through those headers.
struct Imgur {
    daily_limit: u64,
    hourly_limit: u64,
    post_limit: u64,
    day: (i64, u64),
    hour: (i64, u64),
    posts: (i64, u64),
    refused: u64,
}

impl Imgur {
    fn new(daily_limit: u64, hourly_limit: u64, post_limit: u64) -> Self {
        Self {
            daily_limit,
            hourly_limit,
            post_limit,
            day: (0, 0),
            hour: (0, 0),
            posts: (0, 0),
            refused: 0,
        }
    }

    fn used(window: (i64, u64), index: i64) -> u64 {
        if window.0 == index { window.1 } else { 0 }
    }

    /// Charges our request at `now` and answers with its headers; `None` is a 429 (nothing
    /// charged).
    fn charge(&mut self, now: i64, cost: RequestCost) -> Option<RateLimitSnapshot> {
        let (day, hour) = (now.div_euclid(DAY), now.div_euclid(HOUR));
        let credits = u64::from(cost.credits);
        if Self::used(self.day, day) + credits > self.daily_limit
            || Self::used(self.hour, hour) + credits > self.hourly_limit
            || (cost.is_post && Self::used(self.posts, hour) >= self.post_limit)
        {
            self.refused += 1;
            return None;
        }
        self.day = (day, Self::used(self.day, day) + credits);
        self.hour = (hour, Self::used(self.hour, hour) + credits);
        if cost.is_post {
            self.posts = (hour, Self::used(self.posts, hour) + 1);
        }
        Some(self.snapshot(now, cost.is_post))
    }

    /// Another install (another IP) spends from the shared daily budget.
    fn others_spend(&mut self, now: i64, credits: u64) {
        let day = now.div_euclid(DAY);
        self.day = (day, Self::used(self.day, day) + credits);
    }

    fn snapshot(&self, now: i64, post: bool) -> RateLimitSnapshot {
        let (day, hour) = (now.div_euclid(DAY), now.div_euclid(HOUR));
        let secs = (now / 1000) as u64;
        let next_hour = ((hour + 1) * HOUR / 1000) as u64;
        RateLimitSnapshot {
            observed_at: secs,
            user_limit: Some(self.hourly_limit),
            user_remaining: Some(
                self.hourly_limit
                    .saturating_sub(Self::used(self.hour, hour)),
            ),
            // An epoch, as Imgur documents it.
            user_reset: Some(next_hour),
            client_limit: Some(self.daily_limit),
            client_remaining: Some(self.daily_limit.saturating_sub(Self::used(self.day, day))),
            // Seconds to midnight, turned into a Unix time by the client.
            client_reset: Some(((day + 1) * DAY / 1000) as u64),
            post_limit: post.then_some(self.post_limit),
            post_remaining: post
                .then_some(self.post_limit.saturating_sub(Self::used(self.posts, hour))),
            post_reset: post.then_some(next_hour),
            retry_after: None,
        }
    }

    fn daily_left(&self, now: i64) -> u64 {
        self.daily_limit
            .saturating_sub(Self::used(self.day, now.div_euclid(DAY)))
    }
}

/// Asks the governor, and when admitted sends the request to `imgur` and shows it the headers.
/// Returns the admission; panics on a 429 (the governor must never cause one).
fn send(governor: &QuotaGovernor, imgur: &mut Imgur, now: i64, priority: Priority) -> Admission {
    let admission = governor.try_spend(CLIENT, priority, UPLOAD).unwrap();
    if admission == Admission::Now {
        let snapshot = imgur
            .charge(now, UPLOAD)
            .unwrap_or_else(|| panic!("429 at {now} for {priority:?}"));
        governor.observe(CLIENT, &snapshot).unwrap();
    }
    admission
}

#[test]
fn the_reserve_holds_against_the_backlog_and_interactive_uploads() {
    let setup = Setup::new();
    let config = GovernorConfig {
        daily_credits: 1_000,
        ..GovernorConfig::default()
    };
    let governor = setup.governor(config);
    let mut imgur = Imgur::new(1_000, 100_000, 100_000);
    // The backlog alone, over a whole day, taking every slot it is given.
    let mut backlog = 0;
    while setup.now() < MIDNIGHT + DAY - 1 {
        let now = setup.now();
        match send(&governor, &mut imgur, now, Priority::Backlog) {
            Admission::Now => backlog += 1,
            Admission::Wait { until, .. } => {
                assert!(until.as_millis() > now);
                setup.clock.set(until.min(UnixMillis(MIDNIGHT + DAY - 1)));
            }
        }
        assert!(
            imgur.daily_left(setup.now()) >= 50,
            "the backlog ate the reserve"
        );
    }
    // Down to the reserve (50 credits) plus the floor of the interactive hold (three uploads):
    // the pacing releases all the rest before the reset.
    assert_eq!(backlog, 92, "backlog uploads");
    // Interactive uploads on top get what is left above the reserve, and no more.
    let mut interactive = 0;
    while let Admission::Now = send(&governor, &mut imgur, setup.now(), Priority::Interactive) {
        interactive += 1;
    }
    assert_eq!(backlog + interactive, 95);
    assert!(imgur.daily_left(setup.now()) >= 50);
    let status = governor.status(CLIENT).unwrap();
    assert_eq!(status.reserve, 50);
    assert_eq!(status.uploads_left_today, 0);
    assert_eq!(
        status.next_interactive.reason,
        Some(WaitReason::DailyBudget)
    );
    assert_eq!(status.next_interactive.at, UnixMillis(MIDNIGHT + DAY));
    assert_eq!(imgur.refused, 0);
}

#[test]
fn a_restart_keeps_the_ledger_the_headers_and_the_hold() {
    let setup = Setup::new();
    let config = GovernorConfig {
        daily_credits: 200,
        ..GovernorConfig::default()
    };
    let mut imgur = Imgur::new(200, 100_000, 100_000);
    {
        let governor = setup.governor(config);
        for _ in 0..15 {
            assert_eq!(
                send(&governor, &mut imgur, setup.now(), Priority::Interactive),
                Admission::Now
            );
        }
        governor
            .rate_limited(CLIENT, Some(UnixMillis(MIDNIGHT + 60_000)))
            .unwrap();
    }
    // A new process: a new governor on the same file.
    let governor = setup.governor(config);
    let status = governor.status(CLIENT).unwrap();
    assert_eq!(status.credits_left_today, 50);
    assert_eq!(status.daily_reset, Some(UnixMillis(MIDNIGHT + DAY)));
    assert_eq!(
        status.rate_limited_until,
        Some(UnixMillis(MIDNIGHT + 60_000))
    );
    assert_eq!(status.mode, GovernorMode::RateLimited);
    assert_eq!(
        governor
            .try_spend(CLIENT, Priority::Interactive, UPLOAD)
            .unwrap(),
        Admission::Wait {
            until: UnixMillis(MIDNIGHT + 60_000),
            reason: WaitReason::RateLimited
        }
    );
    setup.clock.set(UnixMillis(MIDNIGHT + 60_000));
    // 50 left, reserve 10: four more uploads, then the budget is spent until midnight.
    for _ in 0..4 {
        assert_eq!(
            send(&governor, &mut imgur, setup.now(), Priority::Interactive),
            Admission::Now
        );
    }
    assert_eq!(
        governor
            .try_spend(CLIENT, Priority::Interactive, UPLOAD)
            .unwrap(),
        Admission::Wait {
            until: UnixMillis(MIDNIGHT + DAY),
            reason: WaitReason::DailyBudget
        }
    );
    drop(setup.dir);
}

#[test]
fn headers_showing_another_installs_spend_lower_the_estimate() {
    let setup = Setup::new();
    let governor = setup.governor(GovernorConfig::default());
    let mut imgur = Imgur::new(12_500, 100_000, 100_000);
    setup.clock.set(UnixMillis(MIDNIGHT + 6 * HOUR));
    assert_eq!(
        send(&governor, &mut imgur, setup.now(), Priority::Interactive),
        Admission::Now
    );
    assert_eq!(governor.status(CLIENT).unwrap().credits_left_today, 12_490);
    // Another install spends 6,000 credits; our next answer shows it.
    imgur.others_spend(setup.now(), 6_000);
    setup.clock.advance(Duration::from_secs(60));
    assert_eq!(
        send(&governor, &mut imgur, setup.now(), Priority::Interactive),
        Admission::Now
    );
    let status = governor.status(CLIENT).unwrap();
    assert_eq!(status.credits_left_today, 6_480);
    // 6,000 credits in the first six hours: 1,000 an hour expected until midnight.
    assert!(
        (status.other_installs_per_hour - 6_000.0 / (6.0 + 1.0 / 60.0)).abs() < 1.0,
        "{}",
        status.other_installs_per_hour
    );
    // Our own spend since the reading comes off it too.
    assert_eq!(
        governor
            .try_spend(CLIENT, Priority::Interactive, UPLOAD)
            .unwrap(),
        Admission::Now
    );
    setup.clock.advance(Duration::from_secs(3_600));
    let later = governor.status(CLIENT).unwrap();
    assert_eq!(later.credits_left_today, 6_470);
    // The backlog keeps what the other install is expected to spend until midnight (about
    // 1,000 an hour): with 6,470 left it waits until late in the day, exactly as announced.
    assert_eq!(later.next_backlog.reason, Some(WaitReason::Pacing));
    assert_eq!(later.mode, GovernorMode::Pacing);
    let at = later.next_backlog.at;
    assert!(at.as_millis() > MIDNIGHT + 17 * HOUR && at.as_millis() < MIDNIGHT + DAY);
    setup.clock.set(at - Duration::from_secs(60));
    assert!(matches!(
        governor.try_spend(CLIENT, Priority::Backlog, UPLOAD).unwrap(),
        Admission::Wait { reason: WaitReason::Pacing, until } if until == at
    ));
    setup.clock.set(at);
    assert_eq!(
        governor
            .try_spend(CLIENT, Priority::Backlog, UPLOAD)
            .unwrap(),
        Admission::Now
    );
    // Interactive uploads still go.
    assert_eq!(later.next_interactive.reason, None);
}

#[test]
fn interactive_goes_at_once_while_a_big_backlog_is_pacing() {
    let setup = Setup::new();
    let governor = setup.governor(GovernorConfig::default());
    let mut imgur = Imgur::new(12_500, 100_000, 100_000);
    // Run a large backlog until it is being paced.
    let mut backlog = 0;
    loop {
        match send(&governor, &mut imgur, setup.now(), Priority::Backlog) {
            Admission::Now => backlog += 1,
            Admission::Wait { reason, until } => {
                assert_eq!(reason, WaitReason::Pacing);
                assert!(until.as_millis() < MIDNIGHT + DAY);
                break;
            }
        }
    }
    // Full speed first: everything above the reserve and the interactive hold (10 % of the day,
    // 1,250, plus two standard deviations of bursty demand, 2·√(1,250·20) ≈ 316).
    assert_eq!(backlog, (12_500 - 625 - 1_250 - 316) / 10);
    assert_eq!(governor.status(CLIENT).unwrap().mode, GovernorMode::Pacing);
    // A person drops twenty files: all go now.
    for _ in 0..20 {
        assert_eq!(
            send(&governor, &mut imgur, setup.now(), Priority::Interactive),
            Admission::Now
        );
    }
    let status = governor.status(CLIENT).unwrap();
    assert_eq!(status.next_interactive.reason, None);
    assert_eq!(status.next_backlog.reason, Some(WaitReason::Pacing));
}

#[test]
fn pacing_releases_the_budget_over_the_day_and_uses_it_all() {
    let setup = Setup::new();
    let governor = setup.governor(GovernorConfig::default());
    let mut imgur = Imgur::new(12_500, 2_000, 1_250);
    // Another install spends 300 credits every two hours, from 01:00.
    let mut next_other = MIDNIGHT + HOUR;
    let mut uploads_by_quarter = [0u32; 4];
    let end = MIDNIGHT + DAY - 1;
    while setup.now() < end {
        let now = setup.now();
        if now >= next_other {
            imgur.others_spend(now, 300);
            next_other += 2 * HOUR;
        }
        match send(&governor, &mut imgur, now, Priority::Backlog) {
            Admission::Now => {
                assert!(
                    imgur.daily_left(now) >= 625 - 300,
                    "only unseen spend of the other install can reach into the reserve"
                );
                uploads_by_quarter[((now - MIDNIGHT) / (6 * HOUR)) as usize] += 1;
                // An upload takes two seconds.
                setup.clock.advance(Duration::from_secs(2));
            }
            Admission::Wait { until, .. } => {
                setup
                    .clock
                    .set(until.min(UnixMillis(next_other)).min(UnixMillis(end)));
            }
        }
    }
    let others = 12 * 300;
    let ours: u32 = uploads_by_quarter.iter().sum();
    let available = 12_500 - 625 - others;
    let used = f64::from(ours * 10) / f64::from(available);
    assert!(
        used >= 0.97,
        "used {used:.3} of the budget: {uploads_by_quarter:?}"
    );
    eprintln!(
        "used {used:.4}: {uploads_by_quarter:?}, left {}",
        imgur.daily_left(end)
    );
    // The other install's last burst (300 at 23:00, against an expected 150 an hour) may eat
    // into the reserve: that is what it is for. The limit itself is never reached.
    assert!(
        imgur.daily_left(end) >= 625 - 300,
        "the reserve absorbed the burst"
    );
    assert!(
        uploads_by_quarter.iter().all(|n| *n > 0),
        "budget released in every quarter of the day: {uploads_by_quarter:?}"
    );
    assert_eq!(
        imgur.refused, 0,
        "never a 429: the hourly budget was respected too"
    );
}

#[test]
fn the_hourly_budget_is_paced_like_the_daily_one() {
    let setup = Setup::new();
    let governor = setup.governor(GovernorConfig::default());
    let mut imgur = Imgur::new(1_000_000, 2_000, 1_250);
    let mut backlog = 0;
    loop {
        match send(&governor, &mut imgur, setup.now(), Priority::Backlog) {
            Admission::Now => backlog += 1,
            Admission::Wait { reason, until } => {
                assert_eq!(reason, WaitReason::Pacing);
                assert!(until.as_millis() < MIDNIGHT + HOUR);
                break;
            }
        }
    }
    // 2,000 an hour; held for interactive uploads at the top of the hour: 10 % (200) plus two
    // standard deviations of bursty demand (2·√(200·20) ≈ 126).
    assert_eq!(backlog, (2_000 - 200 - 126) / 10);
    // Interactive uploads may spend the hour to the last credit, never beyond.
    let mut interactive = 0;
    while send(&governor, &mut imgur, setup.now(), Priority::Interactive) == Admission::Now {
        interactive += 1;
    }
    assert_eq!(backlog + interactive, 200);
    assert_eq!(
        governor
            .try_spend(CLIENT, Priority::Interactive, UPLOAD)
            .unwrap(),
        Admission::Wait {
            until: UnixMillis(MIDNIGHT + HOUR),
            reason: WaitReason::HourlyBudget
        }
    );
    assert_eq!(imgur.refused, 0);
}

#[test]
fn two_connections_racing_for_the_last_slot_only_one_wins() {
    let setup = Setup::new();
    let config = GovernorConfig {
        daily_credits: 1_000,
        ..GovernorConfig::default()
    };
    // Two processes' worth: two governors, two connections, one file.
    let first = setup.governor(config);
    let second = setup.governor(config);
    let mut imgur = Imgur::new(1_000, 100_000, 100_000);
    // Leave room for exactly one more upload above the reserve of 50: 940 spent.
    for _ in 0..94 {
        assert_eq!(
            send(&first, &mut imgur, setup.now(), Priority::Interactive),
            Admission::Now
        );
    }
    let barrier = Barrier::new(2);
    let results: Vec<Admission> = std::thread::scope(|scope| {
        let racers: Vec<_> = [&first, &second]
            .into_iter()
            .map(|governor| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    governor
                        .try_spend(CLIENT, Priority::Interactive, UPLOAD)
                        .unwrap()
                })
            })
            .collect();
        racers
            .into_iter()
            .map(|racer| racer.join().unwrap())
            .collect()
    });
    let winners = results.iter().filter(|a| **a == Admission::Now).count();
    assert_eq!(winners, 1, "{results:?}");
    // Many threads on one shared governor: the same.
    let shared = Arc::new(setup.governor(config));
    let admitted: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let shared = shared.clone();
                scope.spawn(move || {
                    usize::from(
                        shared
                            .try_spend(CLIENT, Priority::Interactive, UPLOAD)
                            .unwrap()
                            == Admission::Now,
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(admitted, 0, "the budget above the reserve is spent");
}

#[test]
fn expected_starts_follow_priority_budgets_and_pacing() {
    let setup = Setup::new();
    let config = GovernorConfig {
        daily_credits: 1_000,
        ..GovernorConfig::default()
    };
    let governor = setup.governor(config);
    let mut imgur = Imgur::new(1_000, 100_000, 100_000);
    send(&governor, &mut imgur, setup.now(), Priority::Interactive);
    // 200 backlog jobs and 3 interactive ones queued after them.
    let mut queued: Vec<Pending<i64>> = (0..200)
        .map(|id| Pending::new(id, Priority::Backlog))
        .collect();
    queued.extend((200..203).map(|id| Pending::new(id, Priority::Interactive)));
    let starts = governor.expected_starts(CLIENT, &queued).unwrap();
    assert_eq!(starts.len(), 203);
    let at = |id: i64| {
        starts
            .iter()
            .find(|(job, _)| *job == id)
            .unwrap()
            .1
            .as_millis()
    };
    let now = setup.now();
    for id in 200..203 {
        assert_eq!(at(id), now, "interactive jobs start at once");
    }
    // The backlog: full speed first, then paced through the day, then the next day.
    assert_eq!(at(0), now);
    // 990 left; the interactive jobs take 30; the backlog goes at full speed down to the reserve
    // (50) + the interactive hold (100 for the day + 2·√(100·20) ≈ 89): 72 jobs; then it is
    // paced as the hold shrinks to its floor of three uploads (30): 16 more.
    let today = (0..200).filter(|id| at(*id) < MIDNIGHT + DAY).count();
    assert_eq!(today, 88, "backlog jobs today");
    let paced = (0..200)
        .filter(|id| at(*id) > now && at(*id) < MIDNIGHT + DAY)
        .count();
    assert!(paced > 5, "{paced} paced jobs");
    assert!(at(199) > MIDNIGHT + DAY && at(199) < MIDNIGHT + 3 * DAY);
    let ordered: Vec<i64> = (0..200).map(at).collect();
    assert!(ordered.windows(2).all(|w| w[0] <= w[1]), "in queue order");
    // The projection changed nothing.
    assert_eq!(governor.status(CLIENT).unwrap().credits_left_today, 990);
}

#[test]
fn before_any_header_a_rolling_window_and_the_configured_limits_apply() {
    let setup = Setup::new();
    let config = GovernorConfig {
        daily_credits: 300,
        ..GovernorConfig::default()
    };
    let governor = setup.governor(config);
    let mut admitted = 0;
    while governor
        .try_spend(CLIENT, Priority::Interactive, UPLOAD)
        .unwrap()
        == Admission::Now
    {
        admitted += 1;
        setup.clock.advance(Duration::from_secs(60));
    }
    // 300 credits, 15 in reserve: 28 uploads of 10.
    assert_eq!(admitted, 28);
    let status = governor.status(CLIENT).unwrap();
    assert_eq!(status.daily_reset, None);
    // The first spend leaves the rolling day 24 h after it was made.
    assert_eq!(status.next_interactive.at, UnixMillis(MIDNIGHT + DAY));
    assert_eq!(
        status.next_interactive.reason,
        Some(WaitReason::DailyBudget)
    );
}

/// Each governor keeps its own copy of the ledger and reads only the rows added since it last
/// looked: spends made through another connection (another process) must count all the same,
/// also after the clock is set back and once they leave the window.
#[test]
fn spends_through_any_connection_count_everywhere_also_after_a_clock_set_back() {
    let setup = Setup::new();
    let config = GovernorConfig {
        daily_credits: 10_000,
        ..GovernorConfig::default()
    };
    let first = setup.governor(config);
    let second = setup.governor(config);
    let credits_left =
        |governor: &QuotaGovernor| governor.status(CLIENT).unwrap().credits_left_today;
    for round in 0..10 {
        let governor = if round % 2 == 0 { &first } else { &second };
        assert_eq!(
            governor
                .try_spend(CLIENT, Priority::Interactive, UPLOAD)
                .unwrap(),
            Admission::Now
        );
        assert_eq!(credits_left(&first), 10_000 - 10 * (round + 1));
        assert_eq!(credits_left(&second), 10_000 - 10 * (round + 1));
        setup.clock.advance(Duration::from_secs(60));
    }
    // A clock set back: the spends now look as if made later; they still count.
    setup.clock.set(UnixMillis(MIDNIGHT - HOUR));
    assert_eq!(credits_left(&first), 9_900);
    assert_eq!(credits_left(&second), 9_900);
    // A governor opened afresh (a restart) agrees.
    assert_eq!(credits_left(&setup.governor(config)), 9_900);
    // A day after the last spend, the rolling window has let them all go.
    setup.clock.set(UnixMillis(MIDNIGHT + DAY + HOUR));
    assert_eq!(credits_left(&first), 10_000);
    assert_eq!(credits_left(&second), 10_000);
}

/// Against the fake server: every shape of 429 it can produce holds the Client ID until the
/// reset, across a restart, and uploads resume after it.
#[tokio::test]
async fn a_429_of_any_shape_defers_until_the_reset_and_resumes_after_it() {
    use fake_imgur::{Fault, ServerConfig, samples};
    use upshot_imgur::{Auth, ClientConfig, ErrorKind, ImgurClient, MediaKind, UploadRequest};

    let mut config = ServerConfig::with_app(CLIENT, "secret");
    config.limits.user_credits_per_hour = 60;
    let server = fake_imgur::start(config).await.unwrap();
    let controls = server.controls();
    let client = ImgurClient::new(ClientConfig::new(server.base_url().parse().unwrap())).unwrap();
    let setup = Setup::new();
    let sync = |clock: &ManualClock| clock.set(UnixMillis::from_system_time(controls.now()));
    let file = setup.dir.path().join("tiny.png");
    std::fs::write(&file, samples::png(2, 2, 7)).unwrap();
    let request = UploadRequest::file(&file, MediaKind::Image, "image/png");
    let auth = Auth::client_id(CLIENT);

    let faults = [
        Some(Fault::Html429),
        Some(Fault::Gateway429),
        Some(Fault::UploadTooFast { minutes: 5 }),
        // The real thing: the hourly budget of 60 credits runs out on the 7th upload, which
        // the governor would never send: this one is sent behind its back.
        None,
    ];
    for fault in faults {
        // Start each case at the top of an hour on the fake's clock.
        let now = controls
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        controls.advance_clock(Duration::from_millis(3_600_000 - now % 3_600_000));
        sync(&setup.clock);
        let governor = setup.governor(GovernorConfig::default());
        let error = match fault.clone() {
            Some(fault) => {
                controls.inject(fault, 1, Some("/3/image".into()));
                client.upload(&auth, &request, None).await.unwrap_err()
            }
            None => {
                for _ in 0..6 {
                    let done = client.upload(&auth, &request, None).await.unwrap();
                    governor.observe(CLIENT, &done.rate_limits).unwrap();
                }
                client.upload(&auth, &request, None).await.unwrap_err()
            }
        };
        assert_eq!(error.kind, ErrorKind::RateLimited, "{fault:?}: {error:?}");
        sync(&setup.clock);
        let until = governor.rate_limited_by(CLIENT, &error).unwrap();
        let next_hour = (setup.now() / HOUR + 1) * HOUR;
        assert!(
            (until.as_millis() - next_hour).abs() < 2_000,
            "{fault:?}: held until {until}, the hour resets at {next_hour}"
        );
        // Persisted: another governor on the file sees the hold.
        let other = setup.governor(GovernorConfig::default());
        for priority in [Priority::Interactive, Priority::Backlog] {
            assert_eq!(
                other.try_spend(CLIENT, priority, UPLOAD).unwrap(),
                Admission::Wait {
                    until,
                    reason: WaitReason::RateLimited
                },
                "{fault:?}"
            );
        }
        // At the reset, uploads resume.
        let wait = Duration::from_millis((until.as_millis() - setup.now()) as u64);
        controls.advance_clock(wait);
        sync(&setup.clock);
        assert_eq!(
            other
                .try_spend(CLIENT, Priority::Interactive, UPLOAD)
                .unwrap(),
            Admission::Now,
            "{fault:?}"
        );
        let done = client.upload(&auth, &request, None).await.unwrap();
        other.observe(CLIENT, &done.rate_limits).unwrap();
    }
    server.shutdown().await;
}
