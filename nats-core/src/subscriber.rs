//! [`Subscriber`]: a stream of the messages of one subscription.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::oneshot;

use crate::error::{FlushError, FlushErrorKind, SubscribeError, SubscribeErrorKind};
use crate::inbox::Inbox;
use crate::message::Message;
use crate::outbox::PongWaiter;
use crate::proto::encoder;
use crate::shared::{Shared, State};
use crate::subject::Subject;

/// The messages of one subscription, as a [`Stream`].
///
/// The stream ends when the subscription is unsubscribed (after the messages already
/// received), when its auto-unsubscribe count is reached, or when the client closes. Dropping
/// it unsubscribes.
///
/// ```no_run
/// # async fn demo(client: nats_core::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let mut sub = client.subscribe("orders.>").await?;
/// while let Some(msg) = sub.next().await {
///     println!("{}: {:?}", msg.subject, msg.payload);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Subscriber {
    sid: u64,
    subject: Subject,
    queue: Option<String>,
    inbox: Arc<Inbox>,
    shared: Arc<Shared>,
    unsubscribed: bool,
}

impl Subscriber {
    pub(crate) fn new(
        sid: u64,
        subject: Subject,
        queue: Option<String>,
        inbox: Arc<Inbox>,
        shared: Arc<Shared>,
    ) -> Self {
        Subscriber {
            sid,
            subject,
            queue,
            inbox,
            shared,
            unsubscribed: false,
        }
    }

    /// The next message; `None` once the subscription has ended.
    pub async fn next(&mut self) -> Option<Message> {
        std::future::poll_fn(|cx| self.inbox.poll_next(cx)).await
    }

    /// A message already received, without waiting.
    pub(crate) fn next_queued(&mut self) -> Option<Message> {
        self.inbox.pop()
    }

    /// The next message, or why the subscription ended: after the messages received before,
    /// a subscription the server refused yields its error once
    /// ([`SubscribeErrorKind::PermissionDenied`], with the
    /// [`ServerError`](crate::ServerError) as source), then `Ok(None)`. A subscription that
    /// ended normally gives `Ok(None)` at once.
    ///
    /// ```no_run
    /// # async fn demo(client: nats_core::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut sub = client.subscribe("secret.>").await?;
    /// while let Some(msg) = sub.try_next().await? {
    ///     println!("{}", msg.subject);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SubscribeErrorKind::PermissionDenied`] when the server refused the subscription.
    pub async fn try_next(&mut self) -> Result<Option<Message>, SubscribeError> {
        match self.next().await {
            Some(message) => Ok(Some(message)),
            None => match self.inbox.take_error() {
                Some(err) => Err(SubscribeError::with_source(
                    SubscribeErrorKind::PermissionDenied,
                    err,
                )),
                None => Ok(None),
            },
        }
    }

    /// The subscription id the server knows it by.
    pub fn sid(&self) -> u64 {
        self.sid
    }

    /// The subject (possibly with wildcards) subscribed to.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// The queue group, when the subscription is in one.
    pub fn queue_group(&self) -> Option<&str> {
        self.queue.as_deref()
    }

    /// Messages received but not taken yet.
    pub fn pending_messages(&self) -> usize {
        self.inbox.pending_messages()
    }

    /// Bytes of messages received but not taken yet.
    pub fn pending_bytes(&self) -> usize {
        self.inbox.pending_bytes()
    }

    /// Messages dropped because this subscription was over its pending limits.
    pub fn dropped(&self) -> u64 {
        self.inbox.dropped()
    }

    /// Changes the pending limits (messages, bytes) past which messages are dropped.
    pub fn set_pending_limits(&self, msgs: usize, bytes: usize) {
        self.inbox.set_limits(msgs, bytes);
    }

    /// Unsubscribes now. Messages already received can still be read; then the stream ends.
    ///
    /// # Errors
    /// [`SubscribeErrorKind::Closed`] if the client is closed.
    pub fn unsubscribe(&mut self) -> Result<(), SubscribeError> {
        self.ensure_open()?;
        self.unsubscribed = true;
        self.shared.unsubscribe(self.sid, None);
        Ok(())
    }

    /// Unsubscribes once `max` messages in all have been received on this subscription
    /// (nats-py's `unsubscribe(limit)`); the stream ends after the last of them.
    ///
    /// # Errors
    /// [`SubscribeErrorKind::Closed`] if the client is closed.
    pub fn unsubscribe_after(&mut self, max: u64) -> Result<(), SubscribeError> {
        self.ensure_open()?;
        self.shared.unsubscribe(self.sid, Some(max));
        Ok(())
    }

    /// Unsubscribes and waits until the server confirms that nothing more will arrive.
    /// Messages received before can still be read; then the stream ends. A connection lost
    /// meanwhile ends the subscription too: nothing more can arrive for it.
    ///
    /// # Errors
    /// A [`FlushError`] if the connection closes before the server answers.
    pub async fn drain(&mut self) -> Result<(), FlushError> {
        if self.shared.state() == State::Closed {
            return Err(FlushErrorKind::Closed.into());
        }
        self.unsubscribed = true;
        let (done, confirmed) = oneshot::channel();
        let sid = self.sid;
        self.shared.outgoing.write(|out| {
            out.push_with(|b| encoder::write_unsub(b, sid, None));
            out.ping(PongWaiter::CloseSubs {
                sids: vec![sid],
                done: Some(done),
            });
        });
        confirmed
            .await
            .map_err(|_| FlushError::new(FlushErrorKind::Closed))
    }

    fn ensure_open(&self) -> Result<(), SubscribeError> {
        if self.shared.state() == State::Closed {
            return Err(SubscribeErrorKind::Closed.into());
        }
        Ok(())
    }
}

impl Stream for Subscriber {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.inbox.poll_next(cx)
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.inbox.reader_dropped();
        if !self.unsubscribed {
            self.shared.unsubscribe(self.sid, None);
        }
    }
}
