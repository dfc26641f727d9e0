//! Stopping a handler: its cancellation token (the polite way) and the switch that
//! drops its future (when it is out of time).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use tokio_util::sync::CancellationToken;

/// Why a job's cancellation token fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelReason {
    /// The worker is shutting down: the token fires a grace period before the shutdown
    /// deadline (at once when the handle is dropped). A handler that then returns an
    /// error has its job returned to the queue without using an attempt.
    Shutdown,
    /// The handler ran past [`Worker::handler_timeout`](super::Worker::handler_timeout).
    /// The attempt fails with the timeout error unless the handler still returns `Ok`
    /// within the grace period.
    Timeout,
    /// The worker could not renew the job's lease in time; the handler is dropped
    /// shortly, before anyone else can claim the job. A handler that returns an error
    /// first has its job returned to the queue without using an attempt.
    LeaseLost,
    /// Someone asked for this job to be cancelled ([`Queue::cancel`](crate::Queue::cancel)
    /// on the running job). Unless the handler still returns `Ok`, the job ends
    /// `cancelled`; a handler still running after the grace period is dropped.
    Requested,
}

/// A job's cancellation token and the reason it fired, shared by the handler's
/// [`JobContext`](super::JobContext) and the worker's table of held jobs; also the
/// switch that stops the handler's future (see [`Stoppable`]).
#[derive(Clone, Default)]
pub(crate) struct Cancel(Arc<CancelInner>);

/// The token is made when first asked for: most handlers never look at it, and making
/// and dropping one per job is a measurable share of a no-op job's cost. For the same
/// reason the stop switch lives here rather than in an abort handle of its own.
#[derive(Default)]
struct CancelInner {
    token: OnceLock<CancellationToken>,
    reason: OnceLock<CancelReason>,
    stopped: AtomicBool,
    waker: AtomicWaker,
}

impl Cancel {
    /// Fires the token; the first reason given is the one kept.
    pub fn fire(&self, reason: CancelReason) {
        // The reason is set before the token fires, so a handler woken by the token
        // always finds it.
        let _ = self.0.reason.set(reason);
        // Paired with the fence in `token`: of a token made meanwhile and this firing,
        // at least one sees the other.
        fence(Ordering::SeqCst);
        if let Some(token) = self.0.token.get() {
            token.cancel();
        }
    }

    /// The token, made on first use (already fired when the reason is set).
    pub fn token(&self) -> &CancellationToken {
        let token = self.0.token.get_or_init(CancellationToken::new);
        fence(Ordering::SeqCst);
        if self.is_fired() {
            token.cancel();
        }
        token
    }

    pub fn reason(&self) -> Option<CancelReason> {
        self.0.reason.get().copied()
    }

    pub fn is_fired(&self) -> bool {
        self.0.reason.get().is_some()
    }

    /// Stops the handler's future at its next poll (it yields [`Stopped`]).
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::Release);
        self.0.waker.wake();
    }

    fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::Acquire)
    }
}

/// A handler's future that was stopped before it finished.
#[derive(Debug)]
pub(crate) struct Stopped;

/// Runs `fut` until it finishes or its job's [`Cancel::stop`] is called.
pub(crate) struct Stoppable<F> {
    fut: F,
    cancel: Cancel,
}

impl<F: Future + Unpin> Stoppable<F> {
    pub fn new(fut: F, cancel: Cancel) -> Self {
        Stoppable { fut, cancel }
    }
}

impl<F: Future + Unpin> Future for Stoppable<F> {
    type Output = Result<F::Output, Stopped>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.cancel.is_stopped() {
            return Poll::Ready(Err(Stopped));
        }
        if let Poll::Ready(out) = Pin::new(&mut self.fut).poll(cx) {
            return Poll::Ready(Ok(out));
        }
        self.cancel.0.waker.register(cx.waker());
        // A stop between the first look and the registration woke nobody.
        if self.cancel.is_stopped() {
            return Poll::Ready(Err(Stopped));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_is_kept() {
        let cancel = Cancel::default();
        assert!(!cancel.is_fired() && cancel.reason().is_none());
        cancel.fire(CancelReason::Timeout);
        cancel.fire(CancelReason::Shutdown);
        assert_eq!(cancel.reason(), Some(CancelReason::Timeout));
        assert!(cancel.token().is_cancelled());
    }

    #[tokio::test]
    async fn stop_ends_a_pending_future() {
        let cancel = Cancel::default();
        let mut fut = Stoppable::new(Box::pin(std::future::pending::<()>()), cancel.clone());
        let pending =
            std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut fut).poll(cx).is_pending())).await;
        assert!(pending);
        cancel.stop();
        assert!(matches!(fut.await, Err(Stopped)));
    }
}
