//! The publish path: the outbox every publisher encodes into, the wake-up of the writer, and
//! back-pressure when the outbox is full.

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::error::PublishError;
use crate::header::HeaderMap;
use crate::outbox::{Outbox, PongWaiter};

/// What publishers share with the writer.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) outbox: Mutex<Outbox>,
    /// Wakes the writer when the outbox goes from empty to non-empty.
    pub(crate) writer_wake: Notify,
    /// Wakes publishers waiting for room in the outbox.
    pub(crate) space: Notify,
    /// Bytes past which the outbox counts as full.
    pending_size: usize,
}

impl Outgoing {
    pub(crate) fn new(pending_size: usize) -> Self {
        Outgoing {
            outbox: Mutex::new(Outbox::default()),
            writer_wake: Notify::new(),
            space: Notify::new(),
            pending_size,
        }
    }

    /// Bytes waiting to be written.
    pub(crate) fn len(&self) -> usize {
        self.outbox.lock().len()
    }

    /// Appends to the outbox with `write` and wakes the writer if it was idle.
    pub(crate) fn write(&self, write: impl FnOnce(&mut Outbox)) {
        let mut outbox = self.outbox.lock();
        let was_empty = outbox.is_empty();
        write(&mut outbox);
        drop(outbox);
        if was_empty {
            self.writer_wake.notify_one();
        }
    }

    /// Writes a `PING` whose `PONG` completes `waiter` (dropped at once on a closed client).
    pub(crate) fn ping(&self, waiter: PongWaiter) {
        self.write(|out| out.ping(waiter));
    }

    /// Queues a message. `gate(full)` says whether the message may be queued now
    /// (`full == false`, asked after every wake-up) and, when the outbox is full, whether to
    /// wait for room (`full == true`); an error fails the publish.
    pub(crate) async fn publish(
        &self,
        message: OutMessage<'_>,
        gate: impl Fn(bool) -> Result<(), PublishError>,
    ) -> Result<(), PublishError> {
        if self.try_publish(&message) {
            return Ok(());
        }
        // Waiting lives in a future of its own, boxed: this one stays small, which matters
        // because callers move it on every publish.
        Box::pin(self.publish_when_room(&message, &gate)).await
    }

    async fn publish_when_room(
        &self,
        message: &OutMessage<'_>,
        gate: &impl Fn(bool) -> Result<(), PublishError>,
    ) -> Result<(), PublishError> {
        loop {
            let notified = self.space.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // A wake-up may come from the close: never queue after it.
            gate(false)?;
            if self.try_publish(message) {
                return Ok(());
            }
            gate(true)?;
            notified.await;
        }
    }

    /// Queues the message if the outbox has room; false if it is full.
    fn try_publish(&self, message: &OutMessage<'_>) -> bool {
        let mut outbox = self.outbox.lock();
        let was_empty = outbox.is_empty();
        if !was_empty && outbox.len() >= self.pending_size {
            return false;
        }
        outbox.publish(
            message.subject,
            message.reply,
            message.headers,
            message.payload,
        );
        drop(outbox);
        if was_empty {
            self.writer_wake.notify_one();
        }
        true
    }
}

/// The parts of a message to publish, validated by the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutMessage<'a> {
    pub(crate) subject: &'a str,
    pub(crate) reply: Option<&'a str>,
    pub(crate) headers: Option<&'a HeaderMap>,
    pub(crate) payload: &'a Bytes,
}
