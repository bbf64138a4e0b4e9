//! Thirty simulated days of a heavy user against the fake Imgur, every upload decided by the
//! quota governor: does it ever run into Imgur's limits, how much of the budget does it use, and
//! how long do interactive uploads wait?
//!
//! The fake server runs in process with Imgur's real limits (12,500 credits a day per Client ID,
//! 2,000 credits an hour per IP, 1,250 POSTs an hour) and real HTTP on loopback. Its virtual
//! clock and the governor's [`ManualClock`] move in lockstep: the governor's clock is set to the
//! server's after every step, and time jumps straight to the next thing that can happen (an
//! arrival, the other install's next spend, the governor's "wait until").
//!
//! The loop is the runner's in miniature: take the oldest interactive upload, else the oldest
//! backlog one; ask the governor; if it says wait, jump to the earlier of its time and the next
//! event; else upload a tiny PNG through [`ImgurClient::upload`], show the governor the answer's
//! headers, and let the upload take `upload_secs` of simulated time.

use crate::measure::BenchResult;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use upshot_core::clock::{Clock, ManualClock};
use upshot_core::governor::{Admission, GovernorConfig, Priority, QuotaGovernor, WaitReason};
use upshot_core::store::Database;
use upshot_core::types::UnixMillis;
use upshot_imgur::{Auth, ClientConfig, ErrorKind, ImgurClient, MediaKind, UploadRequest};

const CLIENT_ID: &str = "simulated-client";
const DAY_MS: i64 = 86_400_000;
/// Distinct tiny files the uploads cycle through.
const FILES: usize = 16;

/// What to simulate.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Simulated days.
    pub days: u32,
    /// Files arriving a day, backlog and interactive together.
    pub files_per_day: u32,
    /// Of which interactive (priority 0), spread through the day in clusters of 1–3.
    pub interactive_per_day: u32,
    /// Watched-folder bursts a day the backlog arrives in.
    pub bursts_per_day: u32,
    /// Share of the daily budget another install of the same Client ID spends, in uploads of 10
    /// credits at random times through the day.
    pub others_share: f64,
    /// Simulated time one upload takes.
    pub upload_secs: u64,
    /// Random seed (arrival times).
    pub seed: u64,
    /// Print the governor's status every simulated hour (stderr).
    pub trace: bool,
}

/// The defaults of `upshot-bench simulate`: a month of 5,000 files a day beside another install
/// spending 30 % of the budget.
impl Default for Scenario {
    fn default() -> Self {
        Self {
            days: 30,
            files_per_day: 5_000,
            interactive_per_day: 150,
            bursts_per_day: 8,
            others_share: 0.30,
            upload_secs: 2,
            seed: 3,
            trace: false,
        }
    }
}

impl Scenario {
    /// The full scenario, or under `--quick` one day of 1,000 files in one burst: enough to
    /// spend the hourly budgets and run the governor through a day's turn, in seconds.
    pub fn preset(quick: bool) -> Self {
        if quick {
            Self {
                days: 1,
                files_per_day: 1_000,
                interactive_per_day: 30,
                bursts_per_day: 1,
                ..Self::default()
            }
        } else {
            Self::default()
        }
    }
}

/// One thing that happens at a set time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// `n` interactive files arrive.
    Interactive(u32),
    /// A watched folder receives `n` files.
    Backlog(u32),
    /// The other install uploads once (10 credits).
    Others,
}

/// An interactive upload waiting its turn.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    arrived: i64,
    /// When it first reached the front and the governor was asked.
    first_asked: Option<i64>,
    /// The spent budget the governor named while it waited, if any.
    budget_spent: Option<WaitReason>,
}

/// Tallies of one simulated day.
#[derive(Debug, Default, Clone, Copy)]
struct Day {
    uploads: u64,
    interactive: u64,
    our_credits: u64,
    others_charged: u64,
    others_refused: u64,
    backlog_ran_dry: bool,
    interactive_max_wait_ms: i64,
}

/// Runs the simulation and prints its figures.
pub fn simulate(scenario: Scenario) -> BenchResult<()> {
    if scenario.days == 0 {
        return Err("simulate at least one day".to_owned());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| format!("no tokio runtime: {error}"))?;
    // The database's fsyncs (synchronous = FULL, one per admission and per answer) would be
    // most of the run time on a disk, and disk latency is not what this measures: work in
    // memory when the system has a tmpfs.
    let shm = std::path::Path::new("/dev/shm");
    let work = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .map_err(|error| format!("no temporary directory: {error}"))?;
    let files: Vec<PathBuf> = (0..FILES)
        .map(|n| {
            let path = work.path().join(format!("shot-{n}.png"));
            let seed = u8::try_from(n).unwrap_or(0);
            std::fs::write(&path, fake_imgur::samples::png(4, 4, seed))
                .map(|()| path)
                .map_err(|error| format!("write a sample: {error}"))
        })
        .collect::<Result<_, _>>()?;

    let mut server_config = fake_imgur::ServerConfig::with_app(CLIENT_ID, "secret");
    // Its ~25,000 stored uploads too: on a disk mounted with `discard`, removing them at the end
    // can take longer than the simulation.
    server_config.temp_parent = Some(work.path().to_owned());
    let server = runtime
        .block_on(fake_imgur::start(server_config))
        .map_err(|error| format!("the fake server did not start: {error}"))?;
    let controls = server.controls();
    let limits = fake_imgur::Limits::default();
    let base = server
        .base_url()
        .parse()
        .map_err(|error| format!("bad base URL: {error}"))?;
    let client = ImgurClient::new(ClientConfig::new(base)).map_err(|error| error.to_string())?;
    let auth = Auth::client_id(CLIENT_ID);

    // Start on a UTC midnight, more than a day ahead of real time: the governor must cope with
    // headers stamped by the client's real clock while its own runs weeks ahead.
    let fake_now = || UnixMillis::from_system_time(controls.now());
    let start = (fake_now().as_millis() / DAY_MS + 2) * DAY_MS;
    controls.advance_clock(Duration::from_millis(
        u64::try_from(start - fake_now().as_millis()).unwrap_or(0),
    ));
    let clock = Arc::new(ManualClock::new(fake_now()));
    let sync = || clock.set(fake_now());
    let advance_to = |target: i64| {
        let now = fake_now().as_millis();
        if target > now {
            controls.advance_clock(Duration::from_millis(
                u64::try_from(target - now).unwrap_or(0),
            ));
        }
        clock.set(fake_now());
    };

    let db = Database::open_in(work.path()).map_err(|error| error.to_string())?;
    let config = GovernorConfig::default();
    let governor = QuotaGovernor::open(&db, clock.clone(), config).map_err(|e| e.to_string())?;
    let cost = config.upload_request();
    let reserve =
        (config.reserve_fraction * f64::from(limits.client_credits_per_day)).ceil() as u64;

    let end = start + i64::from(scenario.days) * DAY_MS;
    let mut rng = StdRng::seed_from_u64(scenario.seed);
    let events = schedule(&scenario, &limits, start, &mut rng);
    let mut next_event = 0usize;
    // Interactive jobs, oldest first.
    let mut interactive: VecDeque<Waiting> = VecDeque::new();
    let mut backlog: u64 = 0;
    let mut backlog_until = start;
    let mut days = vec![Day::default(); scenario.days as usize];
    let mut our_429 = 0u64;
    let mut waits_for_spent_budget = std::collections::BTreeMap::new();
    // The governor's own wait: from the job's first question to its admission.
    let mut max_governor_wait = 0i64;
    // Arrival to start, including the uploads ahead of it on the one simulated worker.
    let mut max_start_budget_left = 0i64;
    // Arrival to start of those that waited for a spent budget.
    let mut max_start_spent = 0i64;
    let mut interactive_waits_total = 0i64;
    let mut interactive_done = 0u64;
    let mut file_index = 0usize;
    let wall = Instant::now();

    println!(
        "simulate: {} days against fake-imgur with Imgur's limits ({} credits/day, {} credits/hour per IP, {} POSTs/hour)",
        scenario.days,
        limits.client_credits_per_day,
        limits.user_credits_per_hour,
        limits.posts_per_hour
    );
    println!(
        "  demand {} files/day ({} interactive in clusters of 1-3, the rest in {} watched-folder bursts); \
         another install spends {:.0} % of the daily budget through the day; an upload takes {} s",
        scenario.files_per_day,
        scenario.interactive_per_day,
        scenario.bursts_per_day,
        scenario.others_share * 100.0,
        scenario.upload_secs
    );
    println!(
        "  database and server files in {} (fsync latency is not what this measures)",
        work.path().display()
    );

    sync();
    let mut last_trace = start;
    loop {
        let now = clock.now().as_millis();
        if now >= end {
            break;
        }
        if scenario.trace && now - last_trace >= 3_600_000 {
            last_trace = now;
            let status = governor.status(CLIENT_ID).map_err(|e| e.to_string())?;
            eprintln!(
                "  {:7.2} h: governor: {} credits left (reserve {}, held for interactive {}, for \
                 the other install {} at {:.0}/h), {:?}; backlog {backlog}",
                (now - start) as f64 / 3_600_000.0,
                status.credits_left_today,
                status.reserve,
                status.held_for_interactive,
                status.held_for_others,
                status.other_installs_per_hour,
                status.mode,
            );
        }
        let day = usize::try_from((now - start) / DAY_MS).unwrap_or(0);
        // Everything due by now happens.
        while let Some((at, event)) = events.get(next_event).copied() {
            if at > now {
                break;
            }
            next_event += 1;
            let event_day = usize::try_from((at - start) / DAY_MS).unwrap_or(0);
            match event {
                Event::Interactive(n) => interactive.extend((0..n).map(|_| Waiting {
                    arrived: at,
                    first_asked: None,
                    budget_spent: None,
                })),
                Event::Backlog(n) => {
                    backlog += u64::from(n);
                    backlog_until = backlog_until.min(now);
                }
                Event::Others => {
                    let last = days.len() - 1;
                    let tally = &mut days[event_day.min(last)];
                    match controls.spend_client_credits(CLIENT_ID, 10) {
                        Some(true) => tally.others_charged += 10,
                        _ => tally.others_refused += 1,
                    }
                }
            }
        }
        if backlog == 0 {
            days[day].backlog_ran_dry = true;
        }
        let next_at = events.get(next_event).map_or(end, |(at, _)| *at).min(end);

        let priority = if !interactive.is_empty() {
            Priority::Interactive
        } else if backlog > 0 && now >= backlog_until {
            Priority::Backlog
        } else {
            // Nothing to ask: jump to the next event or the backlog's time.
            let target = if backlog > 0 {
                next_at.min(backlog_until)
            } else {
                next_at
            };
            advance_to(target.max(now + 1));
            continue;
        };

        if priority == Priority::Interactive
            && let Some(front) = interactive.front_mut()
        {
            front.first_asked.get_or_insert(now);
        }
        let admission = governor
            .try_spend(CLIENT_ID, priority, cost)
            .map_err(|error| error.to_string())?;
        match admission {
            Admission::Wait { until, reason } => {
                let until = until.as_millis();
                if priority == Priority::Interactive {
                    // Every interactive job queued now waits for that budget too.
                    if matches!(
                        reason,
                        WaitReason::DailyBudget | WaitReason::HourlyBudget | WaitReason::PostBudget
                    ) {
                        for job in &mut interactive {
                            job.budget_spent.get_or_insert(reason);
                        }
                    }
                } else {
                    backlog_until = until;
                }
                advance_to(until.min(next_at).max(now + 1));
            }
            Admission::Now => {
                let path = &files[file_index % FILES];
                file_index += 1;
                let request = UploadRequest::file(path, MediaKind::Image, "image/png");
                let answer = runtime.block_on(client.upload(&auth, &request, None));
                sync();
                let snapshot = match &answer {
                    Ok(done) => done.rate_limits.clone(),
                    Err(error) => (*error.rate_limits).clone(),
                };
                governor
                    .observe(CLIENT_ID, &snapshot)
                    .map_err(|error| error.to_string())?;
                // New headers: the backlog may ask again at once.
                backlog_until = backlog_until.min(clock.now().as_millis());
                match answer {
                    Ok(_) => {
                        let tally = &mut days[day];
                        tally.uploads += 1;
                        tally.our_credits += u64::from(cost.credits);
                        if priority == Priority::Interactive {
                            let Some(job) = interactive.pop_front() else {
                                return Err("an interactive upload vanished".to_owned());
                            };
                            let wait = now - job.arrived;
                            let governor_wait = now - job.first_asked.unwrap_or(now);
                            tally.interactive += 1;
                            tally.interactive_max_wait_ms = tally.interactive_max_wait_ms.max(wait);
                            interactive_done += 1;
                            interactive_waits_total += wait;
                            if let Some(reason) = job.budget_spent {
                                *waits_for_spent_budget
                                    .entry(reason.as_str())
                                    .or_insert(0u64) += 1;
                                max_start_spent = max_start_spent.max(wait);
                            } else {
                                max_start_budget_left = max_start_budget_left.max(wait);
                                max_governor_wait = max_governor_wait.max(governor_wait);
                            }
                        } else {
                            backlog -= 1;
                        }
                    }
                    Err(error) if error.kind == ErrorKind::RateLimited => {
                        our_429 += 1;
                        governor
                            .rate_limited_by(CLIENT_ID, &error)
                            .map_err(|error| error.to_string())?;
                    }
                    Err(error) => {
                        // Nothing but a budget should refuse these tiny PNGs on loopback: a
                        // failure means the simulation no longer measures what it claims to.
                        return Err(format!(
                            "an upload failed for a reason other than a budget: {error}"
                        ));
                    }
                }
                let target = clock.now().as_millis()
                    + i64::try_from(scenario.upload_secs * 1000).unwrap_or(0);
                advance_to(target);
            }
        }
    }
    let elapsed = wall.elapsed();

    let state = controls.state();
    let usage = state
        .clients
        .get(CLIENT_ID)
        .cloned()
        .ok_or("the fake server does not know the simulated Client ID")?;
    let daily_limit = u64::from(limits.client_credits_per_day);
    let mut used_total = 0u64;
    let mut available_total = 0u64;
    let mut lowest_share = f64::INFINITY;
    for (index, tally) in days.iter().enumerate() {
        let available = daily_limit.saturating_sub(reserve + tally.others_charged);
        let share = tally.our_credits as f64 / available.max(1) as f64;
        if !tally.backlog_ran_dry {
            used_total += tally.our_credits;
            available_total += available;
            lowest_share = lowest_share.min(share);
        }
        println!(
            "  day {:>2}: {:>4} uploads ({:>3} interactive, longest wait {:>4.1} s), other install {:>5} credits{}, \
             available {:>5}, used {:>5.1} %{}",
            index + 1,
            tally.uploads,
            tally.interactive,
            tally.interactive_max_wait_ms as f64 / 1000.0,
            tally.others_charged,
            if tally.others_refused > 0 {
                format!(" ({} refused)", tally.others_refused)
            } else {
                String::new()
            },
            available,
            share * 100.0,
            if tally.backlog_ran_dry {
                " (backlog ran dry)"
            } else {
                ""
            }
        );
    }
    let total_uploads: u64 = days.iter().map(|d| d.uploads).sum();
    if usage.uploads != total_uploads {
        return Err(format!(
            "the fake server accepted {} uploads, the simulation counted {total_uploads}",
            usage.uploads
        ));
    }
    println!(
        "  daily-limit hits (fake server's count): {} (goal 0)",
        usage.daily_limit_hits
    );
    println!(
        "  429 answers to our uploads: {our_429} (goal 0); requests the server refused for any budget, \
         the other install's included: {}",
        usage.rate_limited
    );
    println!(
        "  budget used while the backlog waited: {:.2} % overall, lowest day {:.2} % (goal >= 97 %; \
         available = daily limit - {reserve} reserve - credits the other install was charged that day)",
        used_total as f64 / available_total.max(1) as f64 * 100.0,
        if lowest_share.is_finite() {
            lowest_share * 100.0
        } else {
            0.0
        }
    );
    println!(
        "  interactive uploads: {interactive_done}; while the budget remained, the longest wait the governor \
         imposed was {:.1} s (goal < 5 s) and the longest from arrival to start {:.1} s (behind the uploads \
         ahead of it on the one simulated worker, {} s each); mean arrival to start {:.2} s",
        max_governor_wait as f64 / 1000.0,
        max_start_budget_left as f64 / 1000.0,
        scenario.upload_secs,
        interactive_waits_total as f64 / interactive_done.max(1) as f64 / 1000.0,
    );
    let spent: u64 = waits_for_spent_budget.values().sum();
    println!(
        "  interactive uploads that waited for a spent budget: {spent} {waits_for_spent_budget:?}, \
         the longest {:.1} s",
        max_start_spent as f64 / 1000.0
    );
    println!(
        "  uploads: {total_uploads} ({:.0} a day; the server accepted every one), backlog still waiting {backlog}",
        total_uploads as f64 / f64::from(scenario.days.max(1)),
    );
    println!("  wall time {:.1} s", elapsed.as_secs_f64());
    runtime.block_on(server.shutdown());
    Ok(())
}

/// Every arrival and every spend of the other install, in time order.
fn schedule(
    scenario: &Scenario,
    limits: &fake_imgur::Limits,
    start: i64,
    rng: &mut StdRng,
) -> Vec<(i64, Event)> {
    let mut events = Vec::new();
    let others_per_day =
        (scenario.others_share * f64::from(limits.client_credits_per_day) / 10.0).round() as u32;
    let backlog_per_day = scenario
        .files_per_day
        .saturating_sub(scenario.interactive_per_day);
    for day in 0..i64::from(scenario.days) {
        let day_start = start + day * DAY_MS;
        let mut at = || day_start + rng.random_range(0..DAY_MS);
        let bursts = scenario.bursts_per_day.max(1);
        for burst in 0..bursts {
            let size = backlog_per_day / bursts + u32::from(burst < backlog_per_day % bursts);
            // The simulation starts as a watched folder is added with files already in it.
            let when = if day == 0 && burst == 0 { start } else { at() };
            events.push((when, Event::Backlog(size)));
        }
        for _ in 0..others_per_day {
            events.push((at(), Event::Others));
        }
        let mut left = scenario.interactive_per_day;
        while left > 0 {
            let cluster = rng.random_range(1..=3).min(left);
            left -= cluster;
            let when = day_start + rng.random_range(0..DAY_MS);
            events.push((when, Event::Interactive(cluster)));
        }
    }
    events.sort_unstable();
    events
}
