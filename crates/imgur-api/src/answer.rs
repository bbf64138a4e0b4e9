//! Waiting for an answer: when the request body has left (so the answer deadline can start
//! then, not at request start), whether it is still moving while it is sent (so a server that
//! stops reading is caught), and reading an answer body up to a bound.

use futures_util::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;

/// The largest answer body read. Imgur's JSON answers are a few KiB; 1 MiB is generous, and
/// anything bigger comes from something that is not Imgur (and must not fill memory).
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Where a streamed request body stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    /// Bytes are still being handed to the connection.
    Sending,
    /// The last byte was handed over.
    Sent,
    /// The connection stopped taking it before the end (an early answer or a broken link).
    Abandoned,
}

/// Where a streamed request body stands and how far it has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BodyProgress {
    state: BodyState,
    /// Bytes of the body handed to the connection so far.
    taken: u64,
}

/// How far a body got before the connection stopped taking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stalled {
    /// Bytes handed to the connection.
    pub(crate) taken: u64,
    /// The body's size.
    pub(crate) total: u64,
}

/// Tells when a request's body is no longer being sent (the moment the answer deadline starts)
/// and whether it stopped moving while it was being sent.
#[derive(Debug, Clone)]
pub(crate) struct BodyWatch {
    state: watch::Receiver<BodyProgress>,
    total: u64,
}

impl BodyWatch {
    /// For a body held in memory (a form, or no body): it goes out with the request head, so
    /// it counts as sent from the start.
    pub(crate) fn in_memory() -> Self {
        let (_sender, state) = watch::channel(BodyProgress {
            state: BodyState::Sent,
            taken: 0,
        });
        Self { state, total: 0 }
    }

    /// Resolves once the body is no longer being sent, whether it ended or was dropped.
    pub(crate) async fn done(&self) {
        let mut state = self.state.clone();
        // A closed channel means the body was dropped, which its `Drop` records first.
        let _ = state
            .wait_for(|progress| progress.state != BodyState::Sending)
            .await;
    }

    /// Whether every byte of the body was handed to the connection.
    pub(crate) fn all_sent(&self) -> bool {
        self.state.borrow().state == BodyState::Sent
    }

    /// Resolves if the connection takes no byte of the body for `limit` while it is being
    /// sent: the peer stopped reading (socket buffers full), which no read timeout sees
    /// because nothing is being read. Never resolves once the body has left or was dropped:
    /// from then on the answer deadline is in charge.
    pub(crate) async fn stalled(&self, limit: Duration) -> Stalled {
        let mut state = self.state.clone();
        loop {
            let progress = *state.borrow_and_update();
            if progress.state != BodyState::Sending {
                return std::future::pending().await;
            }
            match tokio::time::timeout(limit, state.changed()).await {
                Ok(Ok(())) => {}
                // The body is gone without a word (its `Drop` records that first).
                Ok(Err(_)) => return std::future::pending().await,
                Err(_elapsed) => {
                    return Stalled {
                        taken: progress.taken,
                        total: self.total,
                    };
                }
            }
        }
    }
}

/// A request body stream that records how much of it was taken and when its last chunk was.
pub(crate) struct WatchedBody<S> {
    inner: S,
    state: watch::Sender<BodyProgress>,
}

/// Wraps a body stream of `total` bytes so that a [`BodyWatch`] sees its progress and when it
/// has been sent.
pub(crate) fn watch_body<S>(inner: S, total: u64) -> (WatchedBody<S>, BodyWatch) {
    let (state, receiver) = watch::channel(BodyProgress {
        state: BodyState::Sending,
        taken: 0,
    });
    (
        WatchedBody { inner, state },
        BodyWatch {
            state: receiver,
            total,
        },
    )
}

impl<S, T, E> Stream for WatchedBody<S>
where
    S: Stream<Item = Result<T, E>> + Unpin,
    T: AsRef<[u8]>,
{
    type Item = Result<T, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        match &polled {
            Poll::Ready(None) => {
                self.state
                    .send_modify(|progress| progress.state = BodyState::Sent);
            }
            Poll::Ready(Some(Err(_))) => {
                self.state
                    .send_modify(|progress| progress.state = BodyState::Abandoned);
            }
            Poll::Ready(Some(Ok(chunk))) => {
                let length = chunk.as_ref().len() as u64;
                self.state.send_modify(|progress| progress.taken += length);
            }
            Poll::Pending => {}
        }
        polled
    }
}

impl<S> Drop for WatchedBody<S> {
    fn drop(&mut self) {
        self.state.send_if_modified(|progress| {
            let sending = progress.state == BodyState::Sending;
            if sending {
                progress.state = BodyState::Abandoned;
            }
            sending
        });
    }
}

/// Why an answer body could not be read whole.
#[derive(Debug)]
pub(crate) enum ReadFault {
    /// It is (or says it is) larger than [`MAX_ANSWER_BYTES`].
    TooLarge,
    /// The connection failed part-way.
    Network(reqwest::Error),
}

/// Reads an answer body, refusing it as soon as it is known to be larger than `limit`: from
/// its `Content-Length` before a byte is read, else as the chunks arrive. Never holds more
/// than `limit` plus one chunk.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ReadFault> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(ReadFault::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadFault::Network)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadFault::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn the_watch_sees_the_end_of_the_body_or_its_drop() {
        let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>([1u8]), Ok([2])]);
        let (mut body, watch) = watch_body(chunks, 2);
        assert_eq!(body.next().await.map(Result::ok), Some(Some([1])));
        assert!(!watch.all_sent());
        assert_eq!(body.next().await.map(Result::ok), Some(Some([2])));
        assert!(body.next().await.is_none());
        watch.done().await;
        assert!(watch.all_sent());

        let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>([1u8])]);
        let (body, watch) = watch_body(chunks, 1);
        drop(body);
        watch.done().await;
        assert!(!watch.all_sent(), "dropped before the end");

        let memory = BodyWatch::in_memory();
        memory.done().await;
        assert!(memory.all_sent());
    }
}
