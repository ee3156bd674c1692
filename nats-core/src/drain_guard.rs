//! [`DrainGuard`]: work in flight that a [`Client::drain`](crate::Client::drain) waits for
//! before it closes the connection, such as the handlers of a service still answering
//! requests received before the drain.

use std::fmt;
use std::sync::Arc;

use tokio::sync::watch;

use crate::shared::Shared;

/// How many guards of one client are alive.
#[derive(Debug)]
pub(crate) struct DrainHolds {
    count: watch::Sender<usize>,
}

impl DrainHolds {
    pub(crate) fn new() -> Self {
        DrainHolds {
            count: watch::Sender::new(0),
        }
    }

    fn take(&self) {
        self.count.send_modify(|count| *count += 1);
    }

    fn release(&self) {
        self.count
            .send_modify(|count| *count = count.saturating_sub(1));
    }

    /// How many guards are alive.
    pub(crate) fn count(&self) -> usize {
        *self.count.borrow()
    }

    /// Waits until no guard is alive.
    pub(crate) async fn released(&self) {
        let mut count = self.count.subscribe();
        // The sender lives as long as `self`: this only ends when the count is zero.
        let _ = count.wait_for(|count| *count == 0).await;
    }
}

/// Holds a drain of its client back: while a guard is alive,
/// [`Client::drain`](crate::Client::drain) waits, once its subscriptions are drained and
/// their messages taken, before it writes what was published and closes; publishing and
/// requests keep working meanwhile. The drain waits for guards only within its
/// `drain_timeout`, then closes anyway (and reports the timeout).
///
/// Take one before reading a message whose answer must go out, and drop it once answered:
/// nats-micro's services hold one while an endpoint has requests in flight, so a drain of
/// their client answers every request received before it.
///
/// ```no_run
/// # async fn demo(client: nats_core::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let mut requests = client.subscribe("work").await?;
/// let guard = client.drain_guard();
/// let worker = tokio::spawn({
///     let client = client.clone();
///     async move {
///         let _guard = guard;
///         while let Some(request) = requests.next().await {
///             if let Some(reply) = request.reply {
///                 let _ = client.publish(reply, "done").await;
///             }
///         }
///     }
/// });
/// client.drain().await?; // every request received before is answered
/// # Ok(()) }
/// ```
#[must_use = "a guard holds a drain back only while it is alive"]
pub struct DrainGuard {
    shared: Arc<Shared>,
}

impl DrainGuard {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        shared.drain_holds.take();
        DrainGuard { shared }
    }
}

impl Clone for DrainGuard {
    /// Another guard on the same client.
    fn clone(&self) -> Self {
        DrainGuard::new(Arc::clone(&self.shared))
    }
}

impl Drop for DrainGuard {
    fn drop(&mut self) {
        self.shared.drain_holds.release();
    }
}

impl fmt::Debug for DrainGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DrainGuard")
            .field("held", &self.shared.drain_holds.count())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn released_once_every_guard_is_gone() {
        let holds = Arc::new(DrainHolds::new());
        holds.take();
        holds.take();
        let waiter = tokio::spawn({
            let holds = Arc::clone(&holds);
            async move { holds.released().await }
        });
        holds.release();
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "one guard is still alive");
        holds.release();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("released")
            .expect("joined");
        assert_eq!(holds.count(), 0);
        holds.release();
        assert_eq!(holds.count(), 0, "never below zero");
        holds.released().await;
    }
}
