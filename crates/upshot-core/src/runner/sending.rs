//! Sending: one admitted upload over the wire, a refreshed token on a rejected one, and the
//! look-up of an earlier attempt that may have reached Imgur.

use super::*;
use crate::auth::TokenAnswer;
use crate::error::ErrorCode;
use crate::governor::{Admission, Priority, RequestCost};
use crate::media::CheckedFile;
use crate::preflight::cleaned_for_sending;
use crate::queue::{Job, LeaseCheck};
use crate::types::UnixMillis;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::Notify;
use upshot_imgur::{Auth, ErrorKind, Image, ImgurError, ProgressFn, UploadProgress, UploadRequest};

impl Runner {
    /// Sends an admitted job and records the outcome.
    pub(super) async fn send(
        &self,
        owner: &str,
        job: Job,
        checked: CheckedFile,
        auth: Auth,
        body_sent: Option<Arc<BodySent>>,
        refreshed: bool,
    ) -> Result<(), RunnerError> {
        if job.account.is_some() && Self::may_have_arrived_before(&job) {
            match self.find_earlier_upload(&auth, &job).await? {
                Lookup::Found(image) => return self.finish_done(owner, &job, *image, None).await,
                Lookup::NotThere => {}
                // Not known whether an earlier attempt arrived: never send blindly, wait.
                Lookup::Deferred { until, reason } => {
                    self.hold(&job.client_id, Priority::Interactive, until);
                    let until = Some(until.as_millis());
                    return self
                        .put_back(owner, &job, until, reason.as_queued(), None, false)
                        .await;
                }
                Lookup::Failed(error)
                    if error.kind == ErrorKind::RetryLater
                        || error.kind == ErrorKind::Permanent =>
                {
                    let message = format!(
                        "Could not check whether an earlier attempt already reached Imgur \
                         ({error}); it is not sent again until Upshot can check."
                    );
                    return self
                        .back_off(owner, &job, error.code(), &message, true)
                        .await;
                }
                Lookup::Failed(error) => return self.handle_failure(owner, &job, *error).await,
            }
        }

        let cleaned = {
            let path = checked.path.clone();
            let report = job.preflight.clone();
            tokio::task::spawn_blocking(move || cleaned_for_sending(&path, report.as_ref()))
                .await
                .map_err(|error| RunnerError::Task(error.to_string()))?
        };
        let mut request = match cleaned {
            Ok(None) => UploadRequest::file(&checked.path, checked.kind, checked.mime_type),
            Ok(Some(bytes)) => {
                // A camera's file name (`IMG_20240501_143022.jpg`, `passport_jane.jpg`) says as
                // much as its Exif: a cleaned picture goes under the job's neutral name.
                let extension = checked.mime_type.rsplit('/').next().unwrap_or("bin");
                let file_name =
                    format!("{}.{}", job.upload_name(), extension.replace("jpeg", "jpg"));
                UploadRequest::bytes(bytes, file_name, checked.kind, checked.mime_type)
            }
            Err(rejected) => return self.finish_rejected(owner, &job, &rejected).await,
        };
        request.title = job.title.clone();
        request.description = job.description.clone();
        request.album = job.album.clone();
        request.name = Some(job.upload_name());
        let total = match &request.source {
            upshot_imgur::UploadSource::Bytes { bytes, .. } => bytes.len() as u64,
            _ => checked.size,
        };
        self.emit(QueueEvent::Started {
            job: job.id,
            attempt: job.attempts,
            total,
        });

        let sent = Arc::new(AtomicU64::new(0));
        // Once the whole body is handed over, Imgur may be storing the upload: from then on its
        // answer is awaited and recorded whatever happens to the job meanwhile.
        let all_sent = Arc::new(AtomicBool::new(false));
        let progress: ProgressFn = {
            let sent = sent.clone();
            let all_sent = all_sent.clone();
            let events = self.shared.events.clone();
            let id = job.id;
            let last_reported = Arc::new(AtomicU64::new(0));
            Arc::new(move |progress: UploadProgress| {
                sent.store(progress.sent, Ordering::Relaxed);
                if progress.sent == progress.total {
                    all_sent.store(true, Ordering::Release);
                }
                if progress.sent == progress.total
                    && let Some(body_sent) = &body_sent
                    && !body_sent.sent.swap(true, Ordering::AcqRel)
                {
                    body_sent.notify.notify_one();
                }
                // Report every 64 KiB step and the end, not every chunk.
                let previous = last_reported.load(Ordering::Relaxed);
                if progress.sent >= previous + 65_536 || progress.sent == progress.total {
                    last_reported.store(progress.sent, Ordering::Relaxed);
                    let _ = events.send(QueueEvent::Progress {
                        job: id,
                        sent: progress.sent,
                        total: progress.total,
                    });
                }
            })
        };

        let upload = self.shared.client.upload(&auth, &request, Some(progress));
        let watch_lease = self.watch_lease(owner, job.id, sent, total);
        tokio::pin!(upload);
        let result = tokio::select! {
            result = &mut upload => result,
            check = watch_lease => {
                if !all_sent.load(Ordering::Acquire) {
                    // Dropping a request whose body is not all sent: Imgur never stores it.
                    if check == LeaseCheck::Cancelled {
                        self.remove_fitted(&job);
                        self.emit(QueueEvent::Cancelled { job: job.id });
                    }
                    return Ok(());
                }
                // Cancelled or taken over with the body on the wire: the image may exist now,
                // and its deletehash is only in the answer. Await it (the client bounds the
                // wait by its answer deadline) and record it.
                tracing::info!(job = %job.id, ?check,
                    "the job changed hands after its body was sent; awaiting Imgur's answer");
                upload.await
            }
        };
        let body_sent = all_sent.load(Ordering::Acquire);
        match result {
            Ok(response) => {
                self.finish_done(owner, &job, response.data, Some(response.rate_limits))
                    .await
            }
            Err(error) if answer_lost(&error, body_sent) => {
                self.answer_lost(owner, &job, &auth, error).await
            }
            Err(error) if error.kind == ErrorKind::Reauth && !refreshed => {
                self.retry_with_fresh_token(owner, job, checked, auth.clone(), error)
                    .await
            }
            Err(error) => self.handle_failure(owner, &job, error).await,
        }
    }

    /// Imgur refused the login's token (`403 The access token provided is invalid.`): refresh
    /// it once and send again once. A login Imgur no longer accepts holds the account's jobs.
    pub(super) async fn retry_with_fresh_token(
        &self,
        owner: &str,
        job: Job,
        checked: CheckedFile,
        auth: Auth,
        error: ImgurError,
    ) -> Result<(), RunnerError> {
        let (Some(account), Auth::Bearer { access_token }) = (job.account.clone(), &auth) else {
            return self.handle_failure(owner, &job, error).await;
        };
        match self
            .shared
            .credentials
            .token_rejected(&account, access_token)
            .await
        {
            TokenAnswer::Token(token) => match self.admit(&job).await? {
                Admission::Now => {
                    tracing::info!(job = %job.id, "login refreshed after Imgur refused its token; sending again");
                    Box::pin(self.send(owner, job, checked, Auth::bearer(token), None, true)).await
                }
                Admission::Wait { until, reason } => {
                    self.hold(&job.client_id, Priority::from_level(job.priority), until);
                    self.put_back(
                        owner,
                        &job,
                        Some(until.as_millis()),
                        reason.as_queued(),
                        None,
                        true,
                    )
                    .await
                }
            },
            TokenAnswer::LoggedOut => self.handle_failure(owner, &job, error).await,
            TokenAnswer::TryLater(reason) => {
                let message = format!("{error} Could not refresh the login: {reason}");
                self.back_off(owner, &job, REFRESH_FAILED, &message, true)
                    .await
            }
        }
    }

    /// A logged-in retry: did an earlier attempt reach Imgur (before a crash, or when its
    /// answer never came)? The upload carried the job's marker as its name; look for it among
    /// the account's newest images. When the governor defers the look-up or the network fails,
    /// the answer is "not known", never "not there".
    pub(super) async fn find_earlier_upload(
        &self,
        auth: &Auth,
        job: &Job,
    ) -> Result<Lookup, RunnerError> {
        let name = job.upload_name();
        for page in 0..3 {
            if let Admission::Wait { until, reason } = self
                .admit_as(job, Priority::Interactive, RequestCost::CALL)
                .await?
            {
                return Ok(Lookup::Deferred { until, reason });
            }
            let images = match self.shared.client.account_images(auth, page, 100).await {
                Ok(images) => images,
                Err(error) => {
                    self.observe(&job.client_id, &error.rate_limits).await;
                    return Ok(Lookup::Failed(Box::new(error)));
                }
            };
            self.observe(&job.client_id, &images.rate_limits).await;
            if let Some(found) = images
                .data
                .iter()
                .find(|image| image.name.as_deref() == Some(name.as_str()))
            {
                tracing::info!(job = %job.id, image = %found.id, "found the upload an earlier attempt made");
                return Ok(Lookup::Found(Box::new(found.clone())));
            }
            if images.data.len() < 100 {
                return Ok(Lookup::NotThere);
            }
        }
        Ok(Lookup::NotThere)
    }

    /// Whether an earlier send of `job` may have reached Imgur: it was sent before in this run
    /// of attempts, or an answer was ever lost (which `queue retry` does not forget: it resets
    /// the attempts, and skipping the look-up then sent a second copy to the account).
    pub(super) fn may_have_arrived_before(job: &Job) -> bool {
        job.attempts > 1 || job.unknown_sends > 0
    }
}

/// Signalled once an upload's whole body has been handed to the connection.
#[derive(Debug, Default)]
pub(super) struct BodySent {
    pub(super) sent: AtomicBool,
    pub(super) notify: Notify,
}

/// Whether a failed upload's answer was lost after its body was sent: the client says so
/// (`outcome_unknown`), or the body was all handed over and what came back was no answer (the
/// connection failed or timed out) or an unreadable success.
pub(super) fn answer_lost(error: &ImgurError, body_sent: bool) -> bool {
    error.outcome_unknown
        || (body_sent
            && error.kind == ErrorKind::RetryLater
            && error
                .status
                .is_none_or(|status| (200..300).contains(&status)))
}

/// Whether an earlier attempt of a logged-in job is on Imgur.
pub(super) enum Lookup {
    /// It is: this image.
    Found(Box<Image>),
    /// It is not (the account's newest images were searched).
    NotThere,
    /// Not known: the governor holds the look-up back until then.
    Deferred {
        until: UnixMillis,
        reason: crate::governor::WaitReason,
    },
    /// Not known: the look-up failed.
    Failed(Box<ImgurError>),
}
