//! Push consumers: the server delivers to the consumer's `deliver_subject`, and
//! [`PushConsumer::messages`] subscribes to it (in `deliver_group` when there is one).
//!
//! Status messages on the deliver subject never reach the user (spec §3.4, ADR-9):
//!
//! - `100 FlowControl Request` is answered with an empty message to its reply subject when
//!   the stream reaches it: every message before it has been handed out, which is when the
//!   spec asks for the answer (not on receipt), so a slow reader slows the server down
//!   instead of piling messages up in the client;
//! - `100 Idle Heartbeat` proves the consumer alive; when it carries
//!   `Nats-Consumer-Stalled: <subject>` (a flow control answer the server missed) an empty
//!   message goes to that subject, once per distinct subject.
//!
//! With an `idle_heartbeat`, two intervals without anything make the stream read the
//! consumer's info: when it is gone the stream ends with
//! [`ConsumeErrorKind::ConsumerDeleted`]; otherwise it waits on. While the client is
//! disconnected the timer is paused; the core client subscribes again after a reconnect
//! and the server resumes pushing.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream as FuturesStream;
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

use super::consumer_config::ConsumerConfig;
use super::consumer_info::ConsumerInfo;
use super::context::Context;
use super::errors::{ConsumeError, ConsumeErrorKind, JetStreamError, JetStreamErrorKind};
use super::message::Message;
use super::message_info::MessageInfo;
use super::pull::{deleted_error, terminal_error};
use super::status::{classify, Delivery};
use super::stream_handle::Stream;
use crate::client::SubscribeOptions;
use crate::lifecycle::State;
use crate::subscriber::Subscriber;

/// A push consumer: its messages go to its deliver subject. Cheap to clone.
///
/// ```no_run
/// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use nats_core::jetstream::ConsumerConfig;
/// let stream = js.stream("ORDERS").await?;
/// let consumer = stream
///     .create_push_consumer(&ConsumerConfig {
///         deliver_subject: Some("deliver.orders".into()),
///         flow_control: true,
///         idle_heartbeat: Some(Duration::from_secs(5)),
///         ..ConsumerConfig::durable("pusher")
///     })
///     .await?;
/// let mut messages = consumer.messages().await?;
/// while let Some(message) = messages.try_next().await? {
///     message.ack().await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PushConsumer {
    context: Context,
    info: ConsumerInfo,
}

impl PushConsumer {
    fn from_info(context: Context, info: ConsumerInfo) -> Result<Self, JetStreamError> {
        if !info.config.is_push() {
            return Err(JetStreamError::with_source(
                JetStreamErrorKind::InvalidRequest,
                format!("consumer {:?} is a pull consumer", info.name),
            ));
        }
        Ok(PushConsumer { context, info })
    }

    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The stream it reads.
    pub fn stream_name(&self) -> &str {
        &self.info.stream_name
    }

    /// The info it was made with (or last refreshed with [`info`](Self::info)).
    pub fn cached_info(&self) -> &ConsumerInfo {
        &self.info
    }

    /// The consumer's info as it is now; the cached info is refreshed too.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::ConsumerNotFound`] and the others of [`JetStreamError`].
    pub async fn info(&mut self) -> Result<&ConsumerInfo, JetStreamError> {
        self.info = self
            .context
            .consumer_info(&self.info.stream_name, &self.info.name)
            .await?;
        Ok(&self.info)
    }

    /// Subscribes to the deliver subject and streams what the server pushes.
    ///
    /// # Errors
    /// [`ConsumeErrorKind::Subscribe`] when the subscription is refused.
    pub async fn messages(&self) -> Result<PushMessages, ConsumeError> {
        let config = &self.info.config;
        let deliver = config.deliver_subject.as_deref().unwrap_or_default();
        let options = SubscribeOptions {
            queue_group: config.deliver_group.clone(),
            ..SubscribeOptions::default()
        };
        let client = self.context.client();
        let sub = client
            .subscribe_with(deliver, options)
            .await
            .map_err(|e| ConsumeError::with_source(ConsumeErrorKind::Subscribe, e))?;
        let mut state = client.shared().lifecycle.watch_state();
        let connected = *state.borrow_and_update() == State::Connected;
        let heartbeat = config.idle_heartbeat.filter(|hb| !hb.is_zero());
        let push = Push {
            context: self.context.clone(),
            stream: self.info.stream_name.clone(),
            consumer: self.info.name.clone(),
            sub,
            heartbeat,
            heartbeat_due: heartbeat
                .filter(|_| connected)
                .map(|hb| Instant::now() + hb * 2),
            state,
            last_stalled: None,
            last_consumer_seq: 0,
            ended: false,
        };
        let inner = futures_util::stream::unfold(push, |mut push| async move {
            let item = push.next().await?;
            Some((item, push))
        });
        Ok(PushMessages {
            inner: Box::pin(inner),
        })
    }
}

impl Context {
    /// The push consumer `name` of `stream`.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::ConsumerNotFound`]; [`JetStreamErrorKind::InvalidRequest`] for
    /// a pull consumer; the others of [`JetStreamError`].
    pub async fn push_consumer(
        &self,
        stream: &str,
        name: &str,
    ) -> Result<PushConsumer, JetStreamError> {
        let info = self.consumer_info(stream, name).await?;
        PushConsumer::from_info(self.clone(), info)
    }
}

impl Stream {
    /// Creates (or finds, with the same config) a push consumer and returns its handle.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::InvalidRequest`] without a deliver subject; the errors of
    /// [`Context::create_consumer`].
    pub async fn create_push_consumer(
        &self,
        config: &ConsumerConfig,
    ) -> Result<PushConsumer, JetStreamError> {
        if !config.is_push() {
            return Err(JetStreamError::with_source(
                JetStreamErrorKind::InvalidRequest,
                "a push consumer needs a deliver subject",
            ));
        }
        let info = self.context().create_consumer(self.name(), config).await?;
        PushConsumer::from_info(self.context().clone(), info)
    }

    /// The push consumer `name` of this stream.
    ///
    /// # Errors
    /// As [`Context::push_consumer`].
    pub async fn push_consumer(&self, name: &str) -> Result<PushConsumer, JetStreamError> {
        self.context().push_consumer(self.name(), name).await
    }
}

/// What woke a push stream.
enum Wake {
    Message(Option<crate::Message>),
    HeartbeatMissed,
    State(bool),
}

struct Push {
    context: Context,
    stream: String,
    consumer: String,
    sub: Subscriber,
    heartbeat: Option<Duration>,
    heartbeat_due: Option<Instant>,
    state: watch::Receiver<State>,
    /// The stalled flow control subject answered last.
    last_stalled: Option<String>,
    /// The consumer sequence of the last message handed out.
    last_consumer_seq: u64,
    ended: bool,
}

impl Push {
    async fn next(&mut self) -> Option<Result<Message, ConsumeError>> {
        while !self.ended {
            let wake = self.wait().await;
            if let Some(item) = self.handle(wake).await {
                return Some(item);
            }
        }
        None
    }

    async fn wait(&mut self) -> Wake {
        let due = self.heartbeat_due;
        let heartbeat_due = async move {
            match due {
                Some(at) => sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            message = self.sub.next() => Wake::Message(message),
            changed = self.state.changed() => Wake::State(changed.is_ok()),
            () = heartbeat_due => Wake::HeartbeatMissed,
        }
    }

    async fn handle(&mut self, wake: Wake) -> Option<Result<Message, ConsumeError>> {
        match wake {
            Wake::Message(Some(message)) => self.on_message(message).await,
            Wake::Message(None) | Wake::State(false) => self.fail(ConsumeErrorKind::Closed.into()),
            Wake::HeartbeatMissed => {
                self.heartbeat_due = None;
                if let Some(err) = deleted_error(&self.context, &self.stream, &self.consumer).await
                {
                    return self.fail(err);
                }
                tracing::debug!(consumer = %self.consumer, "push consumer missed heartbeats");
                self.restart_heartbeat();
                None
            }
            Wake::State(true) => {
                let state = *self.state.borrow_and_update();
                match state {
                    State::Closed => return self.fail(ConsumeErrorKind::Closed.into()),
                    State::Connected => self.restart_heartbeat(),
                    _ => self.heartbeat_due = None,
                }
                None
            }
        }
    }

    async fn on_message(
        &mut self,
        message: crate::Message,
    ) -> Option<Result<Message, ConsumeError>> {
        self.restart_heartbeat();
        match classify(&message) {
            Delivery::Message => {
                if let Some(info) = message
                    .reply
                    .as_deref()
                    .and_then(|r| MessageInfo::parse(r).ok())
                {
                    self.last_consumer_seq = info.consumer_sequence;
                }
                Some(Ok(Message::new(self.context.clone(), message)))
            }
            Delivery::FlowControl => {
                let reply = message.reply.as_deref().unwrap_or_default();
                self.answer(reply).await
            }
            Delivery::Heartbeat {
                stalled,
                last_consumer,
                ..
            } => {
                if last_consumer.is_some_and(|seq| seq > self.last_consumer_seq) {
                    tracing::debug!(
                        consumer = %self.consumer,
                        seen = self.last_consumer_seq,
                        delivered = ?last_consumer,
                        "push consumer delivered more than this subscription saw"
                    );
                }
                match stalled {
                    Some(subject) if self.last_stalled.as_deref() != Some(subject.as_str()) => {
                        let answered = self.answer(&subject).await;
                        self.last_stalled = Some(subject);
                        answered
                    }
                    _ => None,
                }
            }
            delivery => match terminal_error(&delivery) {
                Some(err) => self.fail(err),
                None => {
                    tracing::debug!(?delivery, "status on a deliver subject ignored");
                    None
                }
            },
        }
    }

    /// Publishes the empty answer to a flow control subject.
    async fn answer(&mut self, subject: &str) -> Option<Result<Message, ConsumeError>> {
        if subject.is_empty() {
            return None;
        }
        let sent = self.context.client().publish(subject, Bytes::new()).await;
        match sent {
            Ok(()) => None,
            Err(err) => self.fail(ConsumeError::with_source(ConsumeErrorKind::Publish, err)),
        }
    }

    fn restart_heartbeat(&mut self) {
        self.heartbeat_due = self.heartbeat.map(|hb| Instant::now() + hb * 2);
    }

    fn fail(&mut self, err: ConsumeError) -> Option<Result<Message, ConsumeError>> {
        self.ended = true;
        Some(Err(err))
    }
}

/// The messages a push consumer delivers. Every error ends it; dropping it unsubscribes
/// (the consumer stays; the server stops pushing once nothing listens).
pub struct PushMessages {
    inner: Pin<Box<dyn FuturesStream<Item = Result<Message, ConsumeError>> + Send>>,
}

impl std::fmt::Debug for PushMessages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushMessages").finish_non_exhaustive()
    }
}

impl PushMessages {
    /// The next message; `None` after the error that ended the stream.
    pub async fn next(&mut self) -> Option<Result<Message, ConsumeError>> {
        std::future::poll_fn(|cx| self.inner.as_mut().poll_next(cx)).await
    }

    /// The next message.
    ///
    /// # Errors
    /// The error that ends the stream (then `Ok(None)`).
    pub async fn try_next(&mut self) -> Result<Option<Message>, ConsumeError> {
        self.next().await.transpose()
    }
}

impl FuturesStream for PushMessages {
    type Item = Result<Message, ConsumeError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
