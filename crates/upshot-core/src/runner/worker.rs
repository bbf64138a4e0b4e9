//! The worker loop: claim the next job, check its file and login, ask the governor, and hand
//! an admitted job to sending; prepare the next job while an answer is awaited.

use super::sending::BodySent;
use super::*;
use crate::auth::TokenAnswer;
use crate::governor::{Admission, Priority, RequestCost};
use crate::media::{CheckedFile, check_file, inspect};
use crate::queue::{Job, JobQueue, LeaseCheck};
use crate::store::StoreError;
use crate::types::UnixMillis;
use crate::types::WaitReason;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use upshot_imgur::Auth;

impl Runner {
    /// Worker `index`'s loop: process the next job (and the one prepared ahead meanwhile) until
    /// its stop condition is met or `cancel` is cancelled; then give back a job claimed ahead.
    /// An upload already sent is never cut off: the token is looked at between jobs only.
    pub(super) async fn worker(
        &self,
        index: usize,
        stop: &StopWhen,
        cancel: CancellationToken,
    ) -> Result<(), RunnerError> {
        let owner = self.worker_owner(index);
        let mut ahead: Option<Box<Prepared>> = None;
        loop {
            if cancel.is_cancelled() {
                if let Some(prepared) = ahead.take() {
                    self.release(&owner, &prepared.job).await?;
                }
                return Ok(());
            }
            // Listening before looking: a job that finishes or arrives after the look wakes
            // this worker even if it is still on its way to sleep.
            let woken = self.shared.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let next = match ahead.take() {
                // Claimed while the last job's answer was awaited, which may have taken longer
                // than the lease: sent only if it is still ours.
                Some(prepared) => match self.renew(&owner, prepared.job.id).await? {
                    LeaseCheck::Held => Next::Job(prepared),
                    LeaseCheck::Cancelled | LeaseCheck::Lost => {
                        tracing::info!(job = %prepared.job.id, "a job claimed ahead was cancelled or taken over meanwhile; not sent");
                        continue;
                    }
                },
                None => self.next(&owner, stop).await?,
            };
            // The database answered this worker: a fault it recorded is over.
            self.clear_fault(&owner).await;
            match next {
                Next::Stop => return Ok(()),
                Next::Job(prepared) => {
                    ahead = self.process_preparing_next(&owner, *prepared, stop).await?;
                }
                Next::Idle => {
                    // `--no-wait`: nothing can go now, so each job is as settled as it gets now:
                    // waiting with a reason, or held behind the governor's answer.
                    if matches!(stop, StopWhen::Settled(_)) {
                        return Ok(());
                    }
                    self.prune_if_due().await;
                    let pause = self.idle_wait().await?;
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = woken => {}
                        _ = cancel.cancelled() => {}
                    }
                }
            }
        }
    }

    /// Processes `prepared` and, once its body has been handed to the connection and only
    /// Imgur's answer is awaited, prepares the worker's next job meanwhile: the bookkeeping
    /// between two uploads (claim, checks, admission) then costs no time on the wire. Returns
    /// the job prepared ahead, if any.
    pub(super) async fn process_preparing_next(
        &self,
        owner: &str,
        prepared: Prepared,
        stop: &StopWhen,
    ) -> Result<Option<Box<Prepared>>, RunnerError> {
        let body_sent = Arc::new(BodySent::default());
        let process = self.process(owner, prepared, Some(body_sent.clone()));
        let prepare = async {
            body_sent.notify.notified().await;
            self.next(owner, stop).await
        };
        tokio::pin!(process, prepare);
        let mut prepared_next = None;
        let processed = loop {
            tokio::select! {
                result = &mut process => break result,
                next = &mut prepare, if prepared_next.is_none() => prepared_next = Some(next),
            }
        };
        // A preparation under way must finish: it may have claimed a job.
        if prepared_next.is_none() && body_sent.sent.load(Ordering::Acquire) {
            prepared_next = Some(prepare.await);
        }
        let ahead = match prepared_next {
            Some(Ok(Next::Job(prepared))) => Some(prepared),
            // Stopping or idling was decided while this job was still running: decide again.
            Some(Ok(Next::Stop | Next::Idle)) | None => None,
            Some(Err(error)) => {
                processed?;
                return Err(error);
            }
        };
        if let Err(error) = processed {
            if let Some(prepared) = ahead {
                let _ = self.release(owner, &prepared.job).await;
            }
            return Err(error);
        }
        Ok(ahead)
    }

    /// How long an idle worker sleeps: until the next deferred job or governor slot is due,
    /// but no longer than the poll interval (another process may queue work meanwhile).
    pub(super) async fn idle_wait(&self) -> Result<Duration, RunnerError> {
        let now = self.now();
        let next_due = self
            .shared
            .pool
            .run(move |conn| JobQueue::new(conn).next_run_after(now))
            .await??;
        let held_until = self.held_until_min();
        let due = [next_due, held_until.map(UnixMillis::as_millis)]
            .into_iter()
            .flatten()
            .min();
        let poll = self.shared.config.poll_interval;
        Ok(match due {
            Some(due) => Duration::from_millis(u64::try_from(due - now).unwrap_or(0)).min(poll),
            None => poll,
        })
    }

    /// Everything a worker does between two uploads, in one trip to the blocking pool (each
    /// trip costs two thread wake-ups, which on a busy machine cost more than the SQL): whether
    /// to stop, which job is next, whether its file and login are usable, and whether the
    /// governor lets it go now.
    pub(super) async fn next(&self, owner: &str, stop: &StopWhen) -> Result<Next, RunnerError> {
        let now = self.now();
        let lease = duration_ms(self.shared.config.lease);
        let held = self.held_snapshot(now);
        let owner = owner.to_owned();
        let stop = stop.clone();
        let governor = self.shared.governor.clone();
        self.shared
            .pool
            .run(move |conn| -> Result<Next, RunnerError> {
                let queue = JobQueue::new(conn);
                if stop_now(&queue, &stop)? {
                    return Ok(Next::Stop);
                }
                let skip_all: Vec<&str> = held
                    .iter()
                    .filter(|(_, priority)| *priority == Priority::Interactive)
                    .map(|(client, _)| client.as_str())
                    .collect();
                let skip_backlog: Vec<&str> = held
                    .iter()
                    .filter(|(_, priority)| *priority == Priority::Backlog)
                    .map(|(client, _)| client.as_str())
                    .collect();
                let Some(job) =
                    queue.claim_filtered(&owner, now, lease, &skip_all, &skip_backlog)?
                else {
                    return Ok(Next::Idle);
                };
                // Preflight applied the user's limits when the job was queued; a job from
                // before preflight gets Imgur's.
                let path = job.upload_path.as_ref().unwrap_or(&job.source_path);
                let checked = match &job.preflight {
                    Some(_) => inspect(path),
                    None => check_file(path),
                };
                let mut prepared = Prepared {
                    checked,
                    auth: None,
                    admission: None,
                    job,
                };
                if prepared.checked.is_err() {
                    return Ok(Next::Job(Box::new(prepared)));
                }
                // A logged-in job's token may need a refresh (a request): `process` gets it.
                if prepared.job.account.is_none() {
                    prepared.auth = Some(Auth::client_id(&prepared.job.client_id));
                    let priority = Priority::from_level(prepared.job.priority);
                    let cost = governor.config().upload_request();
                    prepared.admission =
                        Some(governor.try_spend(&prepared.job.client_id, priority, cost)?);
                }
                Ok(Next::Job(Box::new(prepared)))
            })
            .await?
    }

    /// Acts on what [`next`](Self::next) found: a file that cannot be sent fails, a job whose
    /// login is gone waits for one, a job the governor holds back waits for its slot (none of
    /// these cost a request), and an admitted job is sent.
    pub(super) async fn process(
        &self,
        owner: &str,
        prepared: Prepared,
        body_sent: Option<Arc<BodySent>>,
    ) -> Result<(), RunnerError> {
        let Prepared {
            job,
            checked,
            auth,
            admission,
        } = prepared;
        let checked = match checked {
            Ok(checked) => checked,
            Err(rejected) => return self.finish_rejected(owner, &job, &rejected).await,
        };
        let (auth, admission) = match (auth, &job.account) {
            (Some(auth), _) => (auth, admission),
            (None, None) => return self.hold_for_login(owner, &job, None).await,
            (None, Some(account)) => match self.shared.credentials.access_token(account).await {
                TokenAnswer::Token(token) => {
                    let admission = self.admit(&job).await?;
                    (Auth::bearer(token), Some(admission))
                }
                TokenAnswer::LoggedOut => return self.hold_for_login(owner, &job, None).await,
                TokenAnswer::TryLater(reason) => {
                    let message = format!("Could not refresh the login: {reason}");
                    return self
                        .back_off(owner, &job, REFRESH_FAILED, &message, false)
                        .await;
                }
            },
        };
        if let Some(Admission::Wait { until, reason }) = admission {
            let priority = Priority::from_level(job.priority);
            self.hold(&job.client_id, priority, until);
            let reason = reason.as_queued();
            self.put_back(owner, &job, Some(until.as_millis()), reason, None, false)
                .await?;
            return Ok(());
        }
        // Admitted ahead of time, then Imgur said 429 to the upload before it: wait with the rest.
        if let Some(until) = self.held_for_all(&job.client_id) {
            let until = Some(until.as_millis());
            self.put_back(owner, &job, until, WaitReason::RateLimited, None, false)
                .await?;
            return Ok(());
        }
        self.send(owner, job, checked, auth, body_sent, false).await
    }

    /// Asks the governor whether `job`'s upload may go now (recording it when it may).
    pub(super) async fn admit(&self, job: &Job) -> Result<Admission, RunnerError> {
        let cost = self.shared.governor.config().upload_request();
        self.admit_as(job, Priority::from_level(job.priority), cost)
            .await
    }

    /// Asks the governor whether a request of `cost` for `job`'s Client ID may go now.
    pub(super) async fn admit_as(
        &self,
        job: &Job,
        priority: Priority,
        cost: RequestCost,
    ) -> Result<Admission, RunnerError> {
        let governor = self.shared.governor.clone();
        let client_id = job.client_id.clone();
        Ok(
            tokio::task::spawn_blocking(move || governor.try_spend(&client_id, priority, cost))
                .await
                .map_err(|error| RunnerError::Task(error.to_string()))??,
        )
    }

    pub(super) fn hold(&self, client_id: &str, priority: Priority, until: UnixMillis) {
        let mut held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = held
            .entry(client_id.to_owned())
            .or_insert((priority, until));
        // Interactive held means everything is held; keep the stricter, later hold.
        entry.0 = entry.0.min(priority);
        entry.1 = entry.1.max(until);
    }

    /// The holds still in force, as (client id, lowest held priority).
    pub(super) fn held_snapshot(&self, now: i64) -> Vec<(String, Priority)> {
        let mut held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.retain(|_, (_, until)| until.as_millis() > now);
        held.iter()
            .map(|(client, (priority, _))| (client.clone(), *priority))
            .collect()
    }

    /// Until when every job of `client_id` is held (a 429), if it is now.
    pub(super) fn held_for_all(&self, client_id: &str) -> Option<UnixMillis> {
        let now = self.now();
        let held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.get(client_id)
            .filter(|(priority, until)| {
                *priority == Priority::Interactive && until.as_millis() > now
            })
            .map(|(_, until)| *until)
    }

    pub(super) fn held_until_min(&self) -> Option<UnixMillis> {
        let held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.values().map(|(_, until)| *until).min()
    }
}

/// What a worker does next.
pub(super) enum Next {
    /// Its stop condition is met.
    Stop,
    /// Nothing can be claimed now.
    Idle,
    /// A claimed job, prepared.
    Job(Box<Prepared>),
}

/// A claimed job and what was found out about it before anything is sent.
pub(super) struct Prepared {
    pub(super) job: Job,
    /// The file's check (type, size); an `Err` is not worth a request.
    pub(super) checked: Result<CheckedFile, crate::media::FileRejected>,
    /// How to authenticate; `None` when the job's account is logged out.
    pub(super) auth: Option<Auth>,
    /// The governor's answer; `None` when it was not asked (bad file, no login).
    pub(super) admission: Option<Admission>,
}

/// Whether a worker with this stop condition is done.
pub(super) fn stop_now(queue: &JobQueue<'_>, stop: &StopWhen) -> Result<bool, StoreError> {
    match stop {
        StopWhen::Never => Ok(false),
        StopWhen::Empty => Ok(queue.counts()?.pending() == 0),
        StopWhen::Finished(ids) => Ok(queue.unfinished_among(ids, false)? == 0),
        StopWhen::Settled(ids) => Ok(queue.unfinished_among(ids, true)? == 0),
    }
}
