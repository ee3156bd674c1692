//! [`Subscription`]: a subscription read by blocking calls, an [`Iterator`] of messages.

use std::fmt;
use std::time::Duration;

use tokio::runtime::Handle;

use super::runtime;
use crate::error::{Error, FlushError, SubscribeError};
use crate::message::Message;
use crate::subscriber::Subscriber;

/// Why [`Subscription::next_timeout`] returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NextErrorKind {
    /// Nothing arrived in time; the subscription is still open.
    #[error("no message within the timeout")]
    TimedOut,
    /// The subscription ended (unsubscribed, drained, the client closed) and holds nothing
    /// more.
    #[error("the subscription ended")]
    Ended,
}

/// The error of [`Subscription::next_timeout`].
pub type NextError = Error<NextErrorKind>;

/// A subscription of the [blocking client](super::Client): `next` blocks until a message
/// arrives, and the iterator ends with the subscription.
///
/// ```no_run
/// # fn demo(client: nats_core::blocking::Client) -> Result<(), Box<dyn std::error::Error>> {
/// for message in client.subscribe("orders.>")? {
///     println!("{}: {:?}", message.subject, message.payload);
/// }
/// # Ok(()) }
/// ```
pub struct Subscription {
    inner: Subscriber,
    handle: &'static Handle,
}

impl Subscription {
    pub(super) fn new(inner: Subscriber, handle: &'static Handle) -> Self {
        Subscription { inner, handle }
    }

    /// The next message, waiting at most `timeout` for it.
    ///
    /// # Errors
    /// [`NextErrorKind::TimedOut`] when nothing arrived in time, [`NextErrorKind::Ended`]
    /// when the subscription has ended.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Message, NextError> {
        match runtime::block_on_timeout(self.handle, self.inner.next(), timeout) {
            Some(Some(message)) => Ok(message),
            Some(None) => Err(NextErrorKind::Ended.into()),
            None => Err(NextErrorKind::TimedOut.into()),
        }
    }

    /// A message that already arrived, without waiting; `None` when there is none (or the
    /// subscription ended).
    pub fn try_next(&mut self) -> Option<Message> {
        runtime::poll_once(self.inner.next()).flatten()
    }

    /// The next message, or why the subscription ended (a subscription the server refused
    /// yields its permission error once).
    ///
    /// # Errors
    /// As [`Subscriber::try_next`].
    pub fn try_next_blocking(&mut self) -> Result<Option<Message>, SubscribeError> {
        runtime::block_on(self.handle, self.inner.try_next())
    }

    /// Unsubscribes now; messages already received can still be read.
    ///
    /// # Errors
    /// As [`Subscriber::unsubscribe`].
    pub fn unsubscribe(&mut self) -> Result<(), SubscribeError> {
        self.inner.unsubscribe()
    }

    /// Unsubscribes and waits until the server confirms that nothing more will arrive.
    ///
    /// # Errors
    /// As [`Subscriber::drain`].
    pub fn drain(&mut self) -> Result<(), FlushError> {
        runtime::block_on(self.handle, self.inner.drain())
    }

    /// Messages dropped because the subscription was over its pending limits.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped()
    }

    /// The async subscriber underneath.
    pub fn as_async(&mut self) -> &mut Subscriber {
        &mut self.inner
    }
}

impl Iterator for Subscription {
    type Item = Message;

    /// Blocks until the next message; `None` once the subscription has ended.
    fn next(&mut self) -> Option<Message> {
        runtime::block_on(self.handle, self.inner.next())
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Subscription")
            .field("subject", self.inner.subject())
            .field("sid", &self.inner.sid())
            .finish()
    }
}
