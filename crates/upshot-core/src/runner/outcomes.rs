//! Outcomes: what a finished attempt leaves behind: done, failed, backed off, held for a
//! login or for the governor, or an answer that may have been lost.

use super::sending::Lookup;
use super::*;
use crate::error::ErrorCode;
use crate::governor::Priority;
use crate::history::NewHistoryEntry;
use crate::queue::{Job, JobFailure, JobQueue, LeaseCheck};
use crate::types::WaitReason;
use rand::Rng;
use std::time::Duration;
use upshot_imgur::{Auth, ErrorKind, Image, ImgurError};

impl Runner {
    /// Removes a job's fitted copy once the job has ended (done, failed or cancelled): it is
    /// derived from the user's file, and a retry makes it again.
    pub(super) fn remove_fitted(&self, job: &Job) {
        if let Some(copy) = &job.upload_path
            && let Err(error) = self.shared.prepared.remove(copy)
        {
            tracing::warn!(job = %job.id, "could not remove the fitted copy: {error}");
        }
    }

    /// The body was sent and no usable answer came: the upload may already be on Imgur. The
    /// job waits ("may already be on Imgur") and is retried after a back-off: a logged-in job
    /// looks its marker up first; an anonymous job, which cannot be looked up, is sent again
    /// at most once, then fails with a reason that says to check before retrying.
    pub(super) async fn answer_lost(
        &self,
        owner: &str,
        job: &Job,
        auth: &Auth,
        error: ImgurError,
    ) -> Result<(), RunnerError> {
        self.observe(&job.client_id, &error.rate_limits).await;
        let id = job.id;
        // Read when the job was claimed; only this worker changes it while the lease holds.
        if job.account.is_none() && job.unknown_sends >= 1 {
            let message = format!(
                "{error} Imgur's answer never came, twice, so this upload may already be on \
                 Imgur (up to two copies; anonymous uploads cannot be looked up). Check before \
                 sending it again with `upshot queue retry {id}`."
            );
            let failure = JobFailure {
                kind: ErrorKind::RetryLater,
                code: error.code(),
                message: &message,
            };
            let check = self.fail_job(owner, job, failure).await?;
            if check == LeaseCheck::Cancelled {
                return self.cancelled_answer_lost(owner, job, auth, &error).await;
            }
            return Ok(());
        }
        let until = self.now() + duration_ms(self.backoff(job.attempts));
        let message = if job.account.is_some() {
            format!(
                "{error} The upload may already be on Imgur; Upshot looks for it in the account \
                 before sending it again."
            )
        } else {
            format!(
                "{error} The upload may already be on Imgur; Upshot sends it again once (an \
                 anonymous upload cannot be looked up)."
            )
        };
        let owner_name = owner.to_owned();
        let text = message.clone();
        let code = error.code();
        let now = self.now();
        let check = self
            .durably(
                "record an upload whose answer never came",
                (owner, id),
                move |conn| {
                    JobQueue::new(conn).defer_unknown(id, &owner_name, now, until, code, &text)
                },
            )
            .await?;
        match check {
            LeaseCheck::Held => self.emit(QueueEvent::Waiting {
                job: id,
                reason: WaitReason::MayBeOnImgur,
                until: Some(until),
                error: Some(message),
            }),
            // Nothing was written: the job is the user's cancelled one, still under our lease.
            LeaseCheck::Cancelled => {
                return self.cancelled_answer_lost(owner, job, auth, &error).await;
            }
            LeaseCheck::Lost => {}
        }
        Ok(())
    }

    /// The user cancelled `job` once its body was on the wire, and Imgur's answer never came:
    /// the image may be public on Imgur with nothing to say so. A logged-in job's marker is
    /// looked up once (found: recorded as uploaded, deletehash kept, as an answer would have
    /// been); otherwise the job stays cancelled, one more unknown send is counted (a retry looks
    /// the marker up before sending again) and its reason says where to check.
    pub(super) async fn cancelled_answer_lost(
        &self,
        owner: &str,
        job: &Job,
        auth: &Auth,
        error: &ImgurError,
    ) -> Result<(), RunnerError> {
        let id = job.id;
        let message = match &job.account {
            Some(account) => {
                let looked = match self.find_earlier_upload(auth, job).await? {
                    Lookup::Found(image) => {
                        return self.finish_done(owner, job, *image, None).await;
                    }
                    Lookup::NotThere => "Upshot looked for it in the account and did not find \
                                         it yet"
                        .to_owned(),
                    Lookup::Deferred { .. } => "Upshot could not look for it in the account \
                                                now (the request budget is spent)"
                        .to_owned(),
                    Lookup::Failed(lookup) => {
                        format!("Upshot could not look for it in the account ({lookup})")
                    }
                };
                format!(
                    "{error} You cancelled this upload after it was sent and Imgur's answer never \
                     came, so it may already be on Imgur. {looked}: check the images of account \
                     {account} on imgur.com. `upshot queue retry {id}` looks for it in the \
                     account before sending it again."
                )
            }
            None => format!(
                "{error} You cancelled this upload after it was sent and Imgur's answer never \
                 came, so it may already be on Imgur, public, without a deletehash Upshot could \
                 remove it with (anonymous uploads cannot be looked up). `upshot queue retry \
                 {id}` sends it again."
            ),
        };
        let owner_name = owner.to_owned();
        let code = error.code();
        let now = self.now();
        let recorded = self
            .durably(
                "record a cancelled upload whose answer never came",
                (owner, id),
                move |conn| {
                    JobQueue::new(conn).cancelled_unknown(id, &owner_name, now, code, &message)
                },
            )
            .await?;
        if recorded {
            self.remove_fitted(job);
            self.emit(QueueEvent::Cancelled { job: id });
        }
        Ok(())
    }

    pub(super) async fn handle_failure(
        &self,
        owner: &str,
        job: &Job,
        error: ImgurError,
    ) -> Result<(), RunnerError> {
        let message = format!("{error} {}", error.advice());
        let failure = JobFailure {
            kind: error.kind,
            code: error.code(),
            message: &message,
        };
        match error.kind {
            ErrorKind::RetryLater => {
                self.observe(&job.client_id, &error.rate_limits).await;
                self.back_off(owner, job, failure.code, &message, true)
                    .await
            }
            ErrorKind::RateLimited => {
                let governor = self.shared.governor.clone();
                let client_id = job.client_id.clone();
                let held = error.clone();
                let until = tokio::task::spawn_blocking(move || {
                    governor.rate_limited_by(&client_id, &held)
                })
                .await
                .map_err(|error| RunnerError::Task(error.to_string()))??;
                self.hold(&job.client_id, Priority::Interactive, until);
                self.put_back(
                    owner,
                    job,
                    Some(until.as_millis()),
                    WaitReason::RateLimited,
                    Some(failure),
                    true,
                )
                .await
            }
            ErrorKind::Reauth if job.account.is_some() => {
                self.observe(&job.client_id, &error.rate_limits).await;
                self.hold_for_login(owner, job, Some(failure)).await
            }
            ErrorKind::Reauth | ErrorKind::Permanent => {
                self.observe(&job.client_id, &error.rate_limits).await;
                // The kind recorded is the classification (an anonymous `reauth` stays one):
                // the message and its advice say what fits.
                self.finish_failed(owner, job, failure).await
            }
        }
    }

    /// Full jitter: a random wait between zero and the capped exponential back-off, so many
    /// clients failing together do not come back together.
    pub(super) fn backoff(&self, attempts: u32) -> Duration {
        let ceiling = backoff_ceiling(&self.shared.config, attempts);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis.max(1)))
    }

    /// Puts `job` back to wait its back-off (by its attempts) as `retry_later`, saying why
    /// (`code`: the failure's stable code).
    pub(super) async fn back_off(
        &self,
        owner: &str,
        job: &Job,
        code: &str,
        message: &str,
        attempted: bool,
    ) -> Result<(), RunnerError> {
        let until = self.now() + duration_ms(self.backoff(job.attempts));
        let error = Some(JobFailure {
            kind: ErrorKind::RetryLater,
            code,
            message,
        });
        self.put_back(
            owner,
            job,
            Some(until),
            WaitReason::Backoff,
            error,
            attempted,
        )
        .await
    }

    pub(super) async fn put_back(
        &self,
        owner: &str,
        job: &Job,
        until: Option<i64>,
        reason: WaitReason,
        error: Option<JobFailure<'_>>,
        attempted: bool,
    ) -> Result<(), RunnerError> {
        let now = self.now();
        let owner = owner.to_owned();
        let id = job.id;
        let stored_error =
            error.map(|error| (error.kind, error.code.to_owned(), error.message.to_owned()));
        let error_text = error.map(|error| error.message.to_owned());
        let check = self
            .shared
            .pool
            .run(move |conn| {
                let queue = JobQueue::new(conn);
                let error = stored_error
                    .as_ref()
                    .map(|(kind, code, message)| JobFailure {
                        kind: *kind,
                        code,
                        message,
                    });
                if attempted {
                    queue.defer(id, &owner, now, until, reason, error)
                } else {
                    queue.postpone(id, &owner, now, until, reason)
                }
            })
            .await??;
        if check == LeaseCheck::Held {
            self.emit(QueueEvent::Waiting {
                job: id,
                reason,
                until,
                error: error_text,
            });
        }
        Ok(())
    }

    pub(super) async fn hold_for_login(
        &self,
        owner: &str,
        job: &Job,
        failure: Option<JobFailure<'_>>,
    ) -> Result<(), RunnerError> {
        let account = job.account.clone().unwrap_or_default();
        let now = self.now();
        self.put_back(
            owner,
            job,
            None,
            WaitReason::LogInAgain,
            failure.map(|failure| JobFailure {
                kind: ErrorKind::Reauth,
                ..failure
            }),
            failure.is_some(),
        )
        .await?;
        self.shared
            .pool
            .run(move |conn| JobQueue::new(conn).hold_for_login(&account, now))
            .await??;
        Ok(())
    }

    /// Records a job as uploaded (and, in the same trip to the blocking pool, what the answer's
    /// rate-limit headers say, when there was an answer).
    pub(super) async fn finish_done(
        &self,
        owner: &str,
        job: &Job,
        image: Image,
        rate_limits: Option<upshot_imgur::RateLimitSnapshot>,
    ) -> Result<(), RunnerError> {
        let now = self.now();
        let mut entry = NewHistoryEntry::from_image(
            &image,
            job.origin,
            self.shared.client.api_base().as_str(),
            now,
        );
        entry.album = job.album.clone();
        entry.account = job.account.clone();
        entry.source_path = Some(job.source_path.clone());
        entry.preflight = job.preflight.clone();
        if entry.title.is_none() {
            entry.title = job.title.clone();
        }
        let owner_name = owner.to_owned();
        let id = job.id;
        let parked_entry = entry.clone();
        // Imgur's answer first, and until it holds: the deletehash exists nowhere else.
        let written = self
            .durably("record the uploaded image", (owner, id), move |conn| {
                JobQueue::new(conn).complete(id, &owner_name, now, &entry)
            })
            .await;
        let history = match written {
            Ok(history) => history,
            // Stopping with a database that does not take it: parked where the next start
            // finds it.
            Err(RunnerError::Store(error)) => {
                let answer = parked::Answer {
                    job: id,
                    owner: owner.to_owned(),
                    entry: parked_entry,
                };
                parked::park(&self.shared.parked_dir, &answer).map_err(|park| {
                    tracing::error!(job = %id, "could not park Imgur's answer: {park}");
                    RunnerError::Store(error)
                })?;
                tracing::warn!(job = %id, "stopping: Imgur's answer is parked until the next start");
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        if let Some(snapshot) = rate_limits {
            self.observe(&job.client_id, &snapshot).await;
        }
        if job.spooled
            && let Err(error) = self.shared.spool.remove(&job.source_path)
        {
            tracing::warn!(job = %job.id, "could not remove the spooled file: {error}");
        }
        self.remove_fitted(job);
        self.emit(QueueEvent::Done {
            job: job.id,
            history,
            image: Box::new(image),
        });
        Ok(())
    }

    pub(super) async fn finish_failed(
        &self,
        owner: &str,
        job: &Job,
        failure: JobFailure<'_>,
    ) -> Result<(), RunnerError> {
        self.fail_job(owner, job, failure).await.map(drop)
    }

    /// Fails a job whose file was refused at send time (gone, changed type, grown past a
    /// limit): a permanent failure with the refusal's own code.
    pub(super) async fn finish_rejected(
        &self,
        owner: &str,
        job: &Job,
        rejected: &crate::media::FileRejected,
    ) -> Result<(), RunnerError> {
        let message = rejected.to_string();
        let failure = JobFailure {
            kind: ErrorKind::Permanent,
            code: rejected.code(),
            message: &message,
        };
        self.finish_failed(owner, job, failure).await
    }

    /// Fails the job, saying where its lease stood (a cancelled job stays cancelled).
    pub(super) async fn fail_job(
        &self,
        owner: &str,
        job: &Job,
        failure: JobFailure<'_>,
    ) -> Result<LeaseCheck, RunnerError> {
        let now = self.now();
        let owner = owner.to_owned();
        let id = job.id;
        let kind = failure.kind;
        let code = failure.code.to_owned();
        let text = failure.message.to_owned();
        let stored = (code.clone(), text.clone());
        let check = self
            .shared
            .pool
            .run(move |conn| {
                let (code, message) = &stored;
                let failure = JobFailure {
                    kind,
                    code,
                    message,
                };
                JobQueue::new(conn).fail(id, &owner, now, failure)
            })
            .await??;
        if check != LeaseCheck::Lost {
            self.remove_fitted(job);
        }
        if check == LeaseCheck::Held {
            self.emit(QueueEvent::Failed {
                job: job.id,
                kind,
                code,
                message: text,
            });
        }
        Ok(check)
    }

    pub(super) async fn observe(
        &self,
        client_id: &str,
        snapshot: &upshot_imgur::RateLimitSnapshot,
    ) {
        let governor = self.shared.governor.clone();
        let client_id = client_id.to_owned();
        let snapshot = snapshot.clone();
        let result =
            tokio::task::spawn_blocking(move || governor.observe(&client_id, &snapshot)).await;
        if let Ok(Err(error)) = result {
            tracing::warn!("could not record the rate-limit headers: {error}");
        }
    }
}

/// The capped exponential ceiling of the `attempts`-th back-off: base, 2·base, 4·base, … up to
/// the cap. The wait itself is drawn uniformly below it.
pub(super) fn backoff_ceiling(config: &RunnerConfig, attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(20);
    config
        .backoff_base
        .saturating_mul(1u32 << exponent)
        .min(config.backoff_cap)
}
