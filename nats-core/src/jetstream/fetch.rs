//! One pull request: [`Consumer::fetch`] asks the consumer for a batch (by count, by bytes,
//! with an expiry, an idle heartbeat, or no wait) on an inbox of its own and returns the
//! messages of that request, in a `Vec` or as a [`Batch`] stream.
//!
//! Status messages end the request as ADR-37 says and never reach the user: `404 No
//! Messages`, `408 Request Timeout`, `409 Message Size Exceeds MaxBytes`, `409 Batch
//! Completed`, `409 Leadership Change` and `409 Server Shutdown` end it normally; `409
//! Consumer Deleted`, `409 Consumer is push based`, `400 Bad Request` and the `409
//! Exceeded ...` family end it with a [`ConsumeError`]. A `503` (nobody serves the pull
//! subject), and a fetch that outlives its deadline or its heartbeats, are told apart by
//! reading the consumer's info: `ConsumerDeleted` when it is gone.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures_core::Stream as FuturesStream;
use tokio::time::{sleep_until, Instant};

use super::consumer::Consumer;
use super::context::Context;
use super::errors::{ConsumeError, ConsumeErrorKind};
use super::message::Message;
use super::pull::{deleted_error, send_pull, terminal_error, PullRequest, BYTES_ONLY_BATCH};
use super::status::{classify, wire_size, Delivery};
use crate::subscriber::Subscriber;

/// How long a fetch waits for its batch unless told (as nats-py's `fetch` timeout).
pub const DEFAULT_FETCH_EXPIRES: Duration = Duration::from_secs(5);

/// A fetch of at least this expiry gets idle heartbeats unless told otherwise (as nats.go).
const HEARTBEAT_FROM_EXPIRES: Duration = Duration::from_secs(10);

/// The heartbeat such a fetch asks for.
const DEFAULT_FETCH_HEARTBEAT: Duration = Duration::from_secs(5);

/// A fetch being set up: [`Consumer::fetch`], then options, then `.await` for a `Vec` or
/// [`messages`](Self::messages) for a [`Batch`] stream.
///
/// ```no_run
/// # async fn demo(consumer: nats_core::jetstream::Consumer) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// // Up to 100 messages, waiting at most 2 s for them.
/// let messages = consumer.fetch().batch(100).expires(Duration::from_secs(2)).await?;
/// // Whatever is there now, at most 1 MiB of it.
/// let now = consumer.fetch().max_bytes(1 << 20).no_wait().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a fetch does nothing until awaited"]
pub struct FetchBuilder<'a> {
    consumer: &'a Consumer,
    batch: Option<usize>,
    max_bytes: usize,
    expires: Option<Duration>,
    heartbeat: Option<Option<Duration>>,
    no_wait: bool,
    group: Option<String>,
    min_pending: Option<i64>,
    min_ack_pending: Option<i64>,
    priority: Option<u8>,
}

impl<'a> FetchBuilder<'a> {
    /// At most `n` messages (default 1; with only [`max_bytes`](Self::max_bytes), as many
    /// as fit).
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = Some(n);
        self
    }

    /// At most `n` bytes, counted as the server does: subject, reply, headers and payload.
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    /// How long the server keeps the request open waiting for messages (default 5 s).
    pub fn expires(mut self, expires: Duration) -> Self {
        self.expires = Some(expires);
        self
    }

    /// Ask for idle heartbeats at this interval (at most half the expiry); two missed end
    /// the fetch with [`ConsumeErrorKind::NoHeartbeat`] (or `ConsumerDeleted` when the
    /// consumer's info says it is gone). `None` asks for none. By default
    /// fetches of 10 s or more get a 5 s heartbeat.
    pub fn idle_heartbeat(mut self, heartbeat: Option<Duration>) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// Return at once with what is there (nothing: an empty result) instead of waiting;
    /// with an explicit [`expires`](Self::expires), wait for the first message at most that
    /// long.
    pub fn no_wait(mut self) -> Self {
        self.no_wait = true;
        self
    }

    /// Pull as a member of priority group `group` (2.11).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// With an overflow priority policy: get messages only while the consumer has more
    /// than `n` pending.
    pub fn min_pending(mut self, n: i64) -> Self {
        self.min_pending = Some(n);
        self
    }

    /// With an overflow priority policy: get messages only while more than `n` await
    /// acknowledgement.
    pub fn min_ack_pending(mut self, n: i64) -> Self {
        self.min_ack_pending = Some(n);
        self
    }

    /// With a prioritized policy: this request's priority, 0 (first) to 9.
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = Some(priority);
        self
    }

    fn request(&self) -> PullRequest {
        let batch = match (self.batch, self.max_bytes) {
            (Some(n), _) => n,
            (None, 0) => 1,
            (None, _) => BYTES_ONLY_BATCH,
        };
        let expires = match (self.expires, self.no_wait) {
            (Some(expires), _) => Some(expires),
            (None, true) => None,
            (None, false) => Some(DEFAULT_FETCH_EXPIRES),
        };
        let heartbeat = match self.heartbeat {
            Some(choice) => choice,
            None => expires
                .filter(|e| *e >= HEARTBEAT_FROM_EXPIRES)
                .map(|_| DEFAULT_FETCH_HEARTBEAT),
        };
        PullRequest {
            batch,
            max_bytes: self.max_bytes,
            expires,
            no_wait: self.no_wait,
            heartbeat,
            group: self.group.clone(),
            min_pending: self.min_pending,
            min_ack_pending: self.min_ack_pending,
            pin_id: None,
            priority: self.priority,
        }
    }

    /// Sends the request and returns its messages as a stream, each as it arrives.
    ///
    /// # Errors
    /// [`ConsumeErrorKind::InvalidOptions`] before sending, [`ConsumeErrorKind::Subscribe`]
    /// or [`ConsumeErrorKind::Publish`] when the request cannot be made.
    pub async fn messages(self) -> Result<Batch, ConsumeError> {
        let request = self.request();
        Batch::start(self.consumer, request).await
    }
}

impl<'a> IntoFuture for FetchBuilder<'a> {
    type Output = Result<Vec<Message>, ConsumeError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    /// Sends the request and collects its messages: all of them once it ends. An error
    /// after some messages arrived is not reported (the messages are returned; the next
    /// fetch meets the error again); an error before any is.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let mut batch = self.messages().await?;
            let mut messages = Vec::new();
            while let Some(next) = batch.next().await {
                match next {
                    Ok(message) => messages.push(message),
                    Err(err) if messages.is_empty() => return Err(err),
                    Err(err) => {
                        tracing::debug!(error = %err, "fetch ended after some messages");
                        break;
                    }
                }
            }
            Ok(messages)
        })
    }
}
impl Consumer {
    /// Sets up one pull request; see [`FetchBuilder`].
    pub fn fetch(&self) -> FetchBuilder<'_> {
        FetchBuilder {
            consumer: self,
            batch: None,
            max_bytes: 0,
            expires: None,
            heartbeat: None,
            no_wait: false,
            group: None,
            min_pending: None,
            min_ack_pending: None,
            priority: None,
        }
    }

    /// The next message, waiting up to 5 s for one; `None` when none came.
    ///
    /// # Errors
    /// As a fetch: [`ConsumeErrorKind::ConsumerDeleted`] and the others of
    /// [`ConsumeError`].
    pub async fn next(&self) -> Result<Option<Message>, ConsumeError> {
        let mut messages = self.fetch().batch(1).await?;
        Ok(messages.pop())
    }
}

/// The messages of one pull request, as a stream that ends with the request. An error is
/// the last item.
///
/// ```no_run
/// # async fn demo(consumer: nats_core::jetstream::Consumer) -> Result<(), Box<dyn std::error::Error>> {
/// let mut batch = consumer.fetch().batch(10).messages().await?;
/// while let Some(message) = batch.try_next().await? {
///     message.ack().await?;
/// }
/// # Ok(()) }
/// ```
pub struct Batch {
    inner: Pin<Box<dyn FuturesStream<Item = Result<Message, ConsumeError>> + Send>>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").finish_non_exhaustive()
    }
}

/// Where a fetch is.
struct FetchState {
    context: Context,
    stream: String,
    consumer: String,
    sub: Subscriber,
    /// Messages the request may still deliver.
    remaining: usize,
    /// Bytes it may still deliver, when it asked for a number of bytes.
    bytes_left: Option<usize>,
    /// When the client gives up: the expiry (or the context's timeout) plus the timeout.
    deadline: Instant,
    heartbeat: Option<Duration>,
    heartbeat_deadline: Option<Instant>,
    done: bool,
}

/// What woke a fetch.
enum Wake {
    Message(Option<crate::Message>),
    Deadline,
    Heartbeat,
}

impl Batch {
    async fn start(consumer: &Consumer, request: PullRequest) -> Result<Self, ConsumeError> {
        request.validate()?;
        let context = consumer.context.clone();
        let (sub, _inbox) = send_pull(&context, &consumer.next_subject(), &request).await?;
        let now = Instant::now();
        let wait = request.expires.unwrap_or(Duration::ZERO) + context.timeout();
        let state = FetchState {
            stream: consumer.info.stream_name.clone(),
            consumer: consumer.info.name.clone(),
            context,
            sub,
            remaining: request.batch,
            bytes_left: (request.max_bytes > 0).then_some(request.max_bytes),
            deadline: now + wait,
            heartbeat: request.heartbeat,
            heartbeat_deadline: request.heartbeat.map(|hb| now + hb * 2),
            done: false,
        };
        let inner = futures_util::stream::unfold(state, |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        });
        Ok(Batch {
            inner: Box::pin(inner),
        })
    }

    /// The next message; `None` once the request has ended.
    pub async fn next(&mut self) -> Option<Result<Message, ConsumeError>> {
        std::future::poll_fn(|cx| self.inner.as_mut().poll_next(cx)).await
    }

    /// The next message, `Ok(None)` once the request has ended normally.
    ///
    /// # Errors
    /// The error that ended the request.
    pub async fn try_next(&mut self) -> Result<Option<Message>, ConsumeError> {
        self.next().await.transpose()
    }
}

impl FuturesStream for Batch {
    type Item = Result<Message, ConsumeError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl FetchState {
    async fn next(&mut self) -> Option<Result<Message, ConsumeError>> {
        while !self.done {
            let wake = self.wait().await;
            if let Some(item) = self.handle(wake).await {
                return Some(item);
            }
        }
        None
    }

    async fn wait(&mut self) -> Wake {
        let heartbeat = self.heartbeat_deadline;
        let heartbeat_due = async move {
            match heartbeat {
                Some(at) => sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            message = self.sub.next() => Wake::Message(message),
            () = heartbeat_due => Wake::Heartbeat,
            () = sleep_until(self.deadline) => Wake::Deadline,
        }
    }

    /// What `wake` means for the fetch: an item to yield, or `None` to wait on.
    async fn handle(&mut self, wake: Wake) -> Option<Result<Message, ConsumeError>> {
        let message = match wake {
            Wake::Message(Some(message)) => message,
            Wake::Message(None) => return self.fail(ConsumeErrorKind::Closed.into()),
            // Silence can mean the consumer is gone: servers before 2.10 answer a pull on
            // a deleted consumer with nothing at all.
            Wake::Deadline => return self.fail_or_deleted(ConsumeErrorKind::TimedOut).await,
            Wake::Heartbeat => return self.fail_or_deleted(ConsumeErrorKind::NoHeartbeat).await,
        };
        if let Some(hb) = self.heartbeat {
            self.heartbeat_deadline = Some(Instant::now() + hb * 2);
        }
        let delivery = classify(&message);
        match delivery {
            Delivery::Message => {
                self.remaining = self.remaining.saturating_sub(1);
                if let Some(left) = self.bytes_left.as_mut() {
                    *left = left.saturating_sub(wire_size(&message));
                }
                self.done = self.remaining == 0 || self.bytes_left == Some(0);
                Some(Ok(Message::new(self.context.clone(), message)))
            }
            Delivery::Heartbeat { .. } | Delivery::FlowControl => None,
            Delivery::Ended { .. } | Delivery::LeadershipChange | Delivery::PinMismatch { .. } => {
                self.done = true;
                None
            }
            Delivery::MaxWaiting => self.fail(ConsumeError::with_source(
                ConsumeErrorKind::RequestRejected,
                "Exceeded MaxWaiting",
            )),
            Delivery::NoResponders => {
                let deleted = deleted_error(&self.context, &self.stream, &self.consumer).await;
                self.fail(deleted.unwrap_or_else(|| ConsumeErrorKind::NoResponders.into()))
            }
            Delivery::Unknown { code, description } => {
                tracing::debug!(code, %description, "fetch ended by an unknown status");
                self.done = true;
                None
            }
            terminal => match terminal_error(&terminal) {
                Some(err) => self.fail(err),
                None => None,
            },
        }
    }

    fn fail(&mut self, err: ConsumeError) -> Option<Result<Message, ConsumeError>> {
        self.done = true;
        Some(Err(err))
    }

    /// Ends the fetch with `ConsumerDeleted` when the consumer's info says it is gone,
    /// else with `kind`.
    async fn fail_or_deleted(
        &mut self,
        kind: ConsumeErrorKind,
    ) -> Option<Result<Message, ConsumeError>> {
        let deleted = deleted_error(&self.context, &self.stream, &self.consumer).await;
        self.fail(deleted.unwrap_or_else(|| kind.into()))
    }
}
