//! What a request carries besides its subject: [`RequestOptions`] for one reply,
//! [`RequestMany`] for many.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::error::{RequestError, RequestErrorKind};
use crate::header::HeaderMap;
use crate::message::Message;
use crate::subscriber::Subscriber;

/// Payload, headers and timeout of a request.
///
/// ```
/// use std::time::Duration;
/// use nats_core::{HeaderMap, RequestOptions};
/// let mut headers = HeaderMap::new();
/// headers.insert("Trace-Id", "42");
/// let request = RequestOptions::new()
///     .payload("ping")
///     .headers(headers)
///     .timeout(Duration::from_millis(500));
/// ```
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    pub(crate) payload: Bytes,
    pub(crate) headers: Option<HeaderMap>,
    pub(crate) timeout: Option<Duration>,
}

impl RequestOptions {
    /// An empty request with the client's default timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// The payload.
    pub fn payload(mut self, payload: impl Into<Bytes>) -> Self {
        self.payload = payload.into();
        self
    }

    /// Headers to send.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        self.headers = Some(headers);
        self
    }

    /// The headers to send, to add to; `None` when there are none.
    pub fn headers_mut(&mut self) -> Option<&mut HeaderMap> {
        self.headers.as_mut()
    }

    /// How long to wait for the reply, instead of the client's request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// When to stop collecting the replies of [`Client::request_many`](crate::Client::request_many).
///
/// Collection stops at whichever comes first: `max_messages` replies, the `timeout` since the
/// request, or `stall` without a reply once the first one came.
#[derive(Debug, Clone)]
pub struct RequestMany {
    pub(crate) max_messages: Option<usize>,
    pub(crate) timeout: Duration,
    pub(crate) stall: Option<Duration>,
    pub(crate) headers: Option<HeaderMap>,
}

impl Default for RequestMany {
    fn default() -> Self {
        RequestMany {
            max_messages: None,
            timeout: Duration::from_secs(1),
            stall: None,
            headers: None,
        }
    }
}

impl RequestMany {
    /// Collect for one second, with no count and no stall limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stop after this many replies.
    pub fn max_messages(mut self, max: usize) -> Self {
        self.max_messages = Some(max);
        self
    }

    /// Stop this long after sending the request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Stop when no reply came for this long after the first one.
    pub fn stall(mut self, stall: Duration) -> Self {
        self.stall = Some(stall);
        self
    }

    /// Headers to send with the request.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        self.headers = Some(headers);
        self
    }

    /// Reads replies from `replies` until a limit is reached, `deadline` at the latest.
    pub(crate) async fn collect(
        &self,
        replies: &mut Subscriber,
        deadline: Instant,
    ) -> Result<Vec<Message>, RequestError> {
        let mut collected = Vec::new();
        loop {
            if self.max_messages.is_some_and(|max| collected.len() >= max) {
                break;
            }
            let mut until = deadline;
            if let (Some(stall), false) = (self.stall, collected.is_empty()) {
                until = until.min(Instant::now() + stall);
            }
            match tokio::time::timeout_at(until, replies.next()).await {
                Ok(Some(message)) if message.is_no_responders() => {
                    if collected.is_empty() {
                        return Err(RequestErrorKind::NoResponders.into());
                    }
                    break;
                }
                Ok(Some(message)) => collected.push(message),
                Ok(None) | Err(_) => break,
            }
        }
        Ok(collected)
    }
}
