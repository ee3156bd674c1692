//! The ordered consumer (ADR-17, spec §3.5): every message of a stream (or of its filters)
//! exactly once and in order, through ephemeral consumers the client owns and replaces.
//!
//! It is pull based, as nats.go's `jetstream` package does it (the spec lists both forms):
//! it runs on the same engine as [`Consumer::messages`](super::Consumer::messages), so
//! heartbeats, reconnects and leader changes are watched the same way, no flow control is
//! needed, and nothing beyond the configured maximum is buffered.
//!
//! Each consumer is created by the client as `<random>_<serial>`: no durable, ack policy
//! none, `max_deliver` 1, memory storage, one replica, inactive threshold 5 minutes. The
//! consumer sequence of every message is checked: it must be one more than the previous.
//! On a gap, missed heartbeats, `409 Consumer Deleted`, no responders or a reconnect the
//! consumer is **reset**: the current one is deleted (best effort, only ever one this
//! stream created), a new one starts by sequence at the stream sequence after the last one
//! handed out (`opt_start_time` cleared), and its first message must have consumer
//! sequence 1. Before any message was handed out the original deliver policy is used
//! again, except that "new" resumes after the stream position the first consumer started
//! at (no message published in between is skipped). After a reset a last-per-subject
//! consumer goes on with every message after the last one it delivered.
//!
//! Creation is retried while JetStream is unavailable (1 s doubling to 10 s, without limit
//! unless [`OrderedConfig::max_reset_attempts`] says); a stream that is gone or a config
//! the server refuses ends the stream with an error.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures_core::Stream as FuturesStream;
use parking_lot::Mutex;
use time::OffsetDateTime;

use super::consumer_config::{AckPolicy, ConsumerConfig, DeliverPolicy, ReplayPolicy};
use super::context::Context;
use super::errors::{ConsumeError, ConsumeErrorKind, JetStreamError, JetStreamErrorKind};
use super::message::Message;
use super::message_info::MessageInfo;
use super::pull_loop::{PullLoop, Pulled};
use super::pull_stream::{settings, Settings, DEFAULT_MAX_MESSAGES, DEFAULT_PULL_EXPIRES};
use super::stream_handle::Stream;

/// The heartbeat of an ordered consumer's requests unless told (as nats.go).
const DEFAULT_ORDERED_HEARTBEAT: Duration = Duration::from_secs(5);

/// How long the server keeps an ordered consumer nobody pulls from (as nats.go).
const DEFAULT_INACTIVE_THRESHOLD: Duration = Duration::from_secs(300);

/// The first wait before creating a consumer again, and the longest (as nats.go).
const RESET_FIRST: Duration = Duration::from_secs(1);
const RESET_MAX: Duration = Duration::from_secs(10);

/// What an ordered consumer delivers, and how it pulls.
///
/// ```
/// use nats_core::jetstream::{DeliverPolicy, OrderedConfig};
/// let config = OrderedConfig {
///     filter_subjects: vec!["orders.eu.>".into()],
///     deliver_policy: DeliverPolicy::LastPerSubject,
///     ..OrderedConfig::default()
/// };
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderedConfig {
    /// Deliver only messages on these subjects (wildcards allowed); all when empty.
    pub filter_subjects: Vec<String>,
    /// Where delivery starts.
    pub deliver_policy: DeliverPolicy,
    /// The first sequence, with [`DeliverPolicy::ByStartSequence`].
    pub opt_start_seq: Option<u64>,
    /// The first time, with [`DeliverPolicy::ByStartTime`].
    pub opt_start_time: Option<OffsetDateTime>,
    /// Deliver as fast as possible (default) or at the original pace.
    pub replay_policy: ReplayPolicy,
    /// Deliver headers only, with `Nats-Msg-Size`.
    pub headers_only: bool,
    /// How long the server keeps a consumer nobody pulls from (default 5 minutes).
    pub inactive_threshold: Option<Duration>,
    /// Metadata of the consumers.
    pub metadata: BTreeMap<String, String>,
    /// Most messages asked for and buffered (default 500).
    pub max_messages: Option<usize>,
    /// Pull by bytes instead: most bytes asked for and buffered, whatever the number of
    /// messages (not with `max_messages`). A request goes out below half of it, so half must
    /// hold the largest message the stream can have, or that message never comes.
    pub max_bytes: Option<usize>,
    /// The expiry of each pull request (default 30 s).
    pub expires: Option<Duration>,
    /// The heartbeat of each pull request (default 5 s; at most half the expiry).
    pub idle_heartbeat: Option<Duration>,
    /// Give up after this many failed consumer creations in a row; unlimited by default.
    pub max_reset_attempts: Option<u32>,
}

impl OrderedConfig {
    fn settings(&self) -> Result<Settings, ConsumeError> {
        let expires = self.expires.unwrap_or(DEFAULT_PULL_EXPIRES);
        let heartbeat = self
            .idle_heartbeat
            .unwrap_or(DEFAULT_ORDERED_HEARTBEAT.min(expires / 2));
        let max_messages = match (self.max_messages, self.max_bytes) {
            (None, None) => Some(DEFAULT_MAX_MESSAGES),
            (messages, _) => messages,
        };
        settings(
            max_messages,
            self.max_bytes,
            expires,
            Some(heartbeat),
            (None, None),
        )
    }
}

/// Where an ordered consumer is: the last consumer and stream sequences handed out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The consumer sequence of the last message of the current consumer (0: none yet).
    pub(crate) consumer_seq: u64,
    /// The stream sequence of the last message handed out (0: none yet).
    pub(crate) stream_seq: u64,
}

/// What a delivered message means for an ordered consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// The next one: hand it out.
    Next,
    /// From a consumer replaced since: drop it.
    Stale,
    /// A gap (or a repeat): reset.
    Gap,
}

impl Cursor {
    /// Checks a message of consumer `current` and, when it is the next one, moves on.
    pub(crate) fn check(&mut self, current: &str, info: &MessageInfo<'_>) -> Check {
        if info.consumer != current {
            return Check::Stale;
        }
        if info.consumer_sequence != self.consumer_seq + 1 {
            return Check::Gap;
        }
        self.consumer_seq = info.consumer_sequence;
        self.stream_seq = info.stream_sequence;
        Check::Next
    }
}

/// The config of the consumer that continues after `cursor` (its serial's name `name`).
pub(crate) fn consumer_config(
    config: &OrderedConfig,
    cursor: Cursor,
    name: String,
) -> ConsumerConfig {
    let mut consumer = ConsumerConfig {
        name: Some(name),
        ack_policy: AckPolicy::None,
        max_deliver: Some(1),
        mem_storage: true,
        num_replicas: Some(1),
        inactive_threshold: Some(
            config
                .inactive_threshold
                .unwrap_or(DEFAULT_INACTIVE_THRESHOLD),
        ),
        headers_only: config.headers_only,
        replay_policy: config.replay_policy,
        metadata: config.metadata.clone(),
        ..ConsumerConfig::default()
    };
    match config.filter_subjects.as_slice() {
        [] => {}
        [one] => consumer.filter_subject = Some(one.clone()),
        many => consumer.filter_subjects = many.to_vec(),
    }
    if cursor.stream_seq > 0 {
        consumer.deliver_policy = DeliverPolicy::ByStartSequence;
        consumer.opt_start_seq = Some(cursor.stream_seq + 1);
        return consumer;
    }
    consumer.deliver_policy = config.deliver_policy;
    match config.deliver_policy {
        DeliverPolicy::ByStartSequence => consumer.opt_start_seq = config.opt_start_seq,
        DeliverPolicy::ByStartTime => consumer.opt_start_time = config.opt_start_time,
        DeliverPolicy::LastPerSubject if config.filter_subjects.is_empty() => {
            // The server wants a filter with this policy.
            consumer.filter_subject = Some(">".to_owned());
        }
        _ => {}
    }
    consumer
}

/// Whether a failed consumer creation is worth trying again.
fn retryable(err: &JetStreamError) -> bool {
    match err.kind() {
        JetStreamErrorKind::TimedOut
        | JetStreamErrorKind::NotEnabled
        | JetStreamErrorKind::Request => true,
        JetStreamErrorKind::Api => err.api_error().is_some_and(|e| e.code >= 500),
        _ => false,
    }
}

/// What the stream and its handle share: the current consumer's name and the resets.
#[derive(Debug, Default)]
struct Shared {
    name: Mutex<Option<String>>,
    resets: AtomicU64,
}

/// The ordered consumer's state, inside the stream.
struct Ordered {
    context: Context,
    stream: String,
    config: OrderedConfig,
    settings: Settings,
    prefix: String,
    serial: u64,
    current: Option<String>,
    pull: Option<PullLoop>,
    cursor: Cursor,
    shared: Arc<Shared>,
    ended: bool,
}

impl Ordered {
    async fn next(&mut self) -> Option<Result<Message, ConsumeError>> {
        while !self.ended {
            let Some(pull) = self.pull.as_mut() else {
                if let Err(err) = self.reset().await {
                    return self.fail(err);
                }
                continue;
            };
            match pull.next().await {
                Some(Ok(Pulled::Message(message))) => {
                    if let Some(message) = self.accept(message) {
                        return Some(message);
                    }
                }
                Some(Ok(Pulled::Lost(loss))) => {
                    tracing::debug!(?loss, stream = %self.stream, "ordered consumer resets");
                    self.pull = None;
                }
                Some(Err(err)) => return self.fail(err),
                None => self.pull = None,
            }
        }
        None
    }

    /// Checks a delivered message: the next one is handed out; a gap resets.
    fn accept(&mut self, message: crate::Message) -> Option<Result<Message, ConsumeError>> {
        let current = self.current.as_deref()?;
        let reply = message.reply.as_deref().unwrap_or_default();
        let info = match MessageInfo::parse(reply) {
            Ok(info) => info,
            Err(err) => {
                return self.fail(ConsumeError::with_source(
                    ConsumeErrorKind::InvalidMessage,
                    err,
                ))
            }
        };
        match self.cursor.check(current, &info) {
            Check::Next => Some(Ok(Message::new(self.context.clone(), message))),
            Check::Stale => None,
            Check::Gap => {
                tracing::debug!(
                    expected = self.cursor.consumer_seq + 1,
                    got = info.consumer_sequence,
                    "ordered consumer gap"
                );
                self.pull = None;
                None
            }
        }
    }

    /// Replaces the consumer (or makes the first one) and starts pulling from it.
    async fn reset(&mut self) -> Result<(), ConsumeError> {
        if let Some(old) = self.current.take() {
            self.shared.resets.fetch_add(1, Ordering::Relaxed);
            delete_in_background(&self.context, &self.stream, old);
        }
        let first = self.serial == 0;
        let mut delay = RESET_FIRST;
        let mut failures = 0u32;
        let info = loop {
            self.serial += 1;
            let name = format!("{}_{}", self.prefix, self.serial);
            let config = consumer_config(&self.config, self.cursor, name);
            match self.context.create_consumer(&self.stream, &config).await {
                Ok(info) => break info,
                Err(err) => {
                    failures += 1;
                    let exhausted = self
                        .config
                        .max_reset_attempts
                        .is_some_and(|max| failures >= max);
                    if first || !retryable(&err) || exhausted {
                        return Err(ConsumeError::with_source(ConsumeErrorKind::Api, err));
                    }
                    tracing::debug!(error = %err, "ordered consumer not created; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RESET_MAX);
                }
            }
        };
        self.cursor.consumer_seq = 0;
        if self.cursor.stream_seq == 0 && self.config.deliver_policy == DeliverPolicy::New {
            // Resume after where "new" started, should this consumer be replaced early.
            self.cursor.stream_seq = info.delivered.stream_sequence;
        }
        let pull = PullLoop::start(
            self.context.clone(),
            &self.stream,
            &info.name,
            self.settings.clone(),
            true,
        )
        .await?;
        *self.shared.name.lock() = Some(info.name.clone());
        self.current = Some(info.name);
        self.pull = Some(pull);
        Ok(())
    }

    fn fail(&mut self, err: ConsumeError) -> Option<Result<Message, ConsumeError>> {
        self.ended = true;
        Some(Err(err))
    }
}

impl Drop for Ordered {
    fn drop(&mut self) {
        if let Some(name) = self.current.take() {
            delete_in_background(&self.context, &self.stream, name);
        }
    }
}

/// Deletes consumer `name` on a task of its own, when there is a runtime to run it;
/// failures are left to the consumer's inactive threshold.
fn delete_in_background(context: &Context, stream: &str, name: String) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let context = context.clone();
    let stream = stream.to_owned();
    runtime.spawn(async move {
        if let Err(err) = context.delete_consumer(&stream, &name).await {
            tracing::debug!(error = %err, consumer = %name, "ordered consumer not deleted");
        }
    });
}

/// The messages of an ordered consumer, each exactly once and in order. Every error ends
/// it. Dropping it deletes its current consumer (in the background).
///
/// ```no_run
/// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), Box<dyn std::error::Error>> {
/// use nats_core::jetstream::OrderedConfig;
/// let stream = js.stream("ORDERS").await?;
/// let mut messages = stream.ordered_consumer(OrderedConfig::default()).await?;
/// while let Some(message) = messages.try_next().await? {
///     println!("#{}: {:?}", message.info()?.stream_sequence, message.payload);
/// }
/// # Ok(()) }
/// ```
pub struct OrderedMessages {
    inner: Pin<Box<dyn FuturesStream<Item = Result<Message, ConsumeError>> + Send>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for OrderedMessages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderedMessages")
            .field("consumer", &self.consumer_name())
            .field("resets", &self.resets())
            .finish_non_exhaustive()
    }
}

impl OrderedMessages {
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

    /// The name of the consumer it reads through now.
    pub fn consumer_name(&self) -> Option<String> {
        self.shared.name.lock().clone()
    }

    /// How often the consumer was replaced.
    pub fn resets(&self) -> u64 {
        self.shared.resets.load(Ordering::Relaxed)
    }
}

impl FuturesStream for OrderedMessages {
    type Item = Result<Message, ConsumeError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl Context {
    /// An ordered consumer on `stream`; see [`OrderedMessages`].
    ///
    /// # Errors
    /// [`ConsumeErrorKind::InvalidOptions`] for pull options that cannot work;
    /// [`ConsumeErrorKind::Api`] when the first consumer cannot be created (the source is
    /// the [`JetStreamError`], such as `StreamNotFound`).
    pub async fn ordered_consumer(
        &self,
        stream: &str,
        config: OrderedConfig,
    ) -> Result<OrderedMessages, ConsumeError> {
        let settings = config.settings()?;
        let shared = Arc::new(Shared::default());
        let mut ordered = Ordered {
            context: self.clone(),
            stream: stream.to_owned(),
            config,
            settings,
            prefix: nuid::next().to_string(),
            serial: 0,
            current: None,
            pull: None,
            cursor: Cursor::default(),
            shared: Arc::clone(&shared),
            ended: false,
        };
        ordered.reset().await?;
        // The state is boxed: `unfold` moves it into each step's future and back out, and a
        // pointer is cheaper to move than the consumer's whole state, for every message.
        let inner = futures_util::stream::unfold(Box::new(ordered), |mut ordered| async move {
            let item = ordered.next().await?;
            Some((item, ordered))
        });
        Ok(OrderedMessages {
            inner: Box::pin(inner),
            shared,
        })
    }
}

impl Stream {
    /// An ordered consumer on this stream; see [`Context::ordered_consumer`].
    ///
    /// # Errors
    /// As [`Context::ordered_consumer`].
    pub async fn ordered_consumer(
        &self,
        config: OrderedConfig,
    ) -> Result<OrderedMessages, ConsumeError> {
        self.context().ordered_consumer(self.name(), config).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(consumer: &str, consumer_seq: u64, stream_seq: u64) -> String {
        format!("$JS.ACK.S.{consumer}.1.{stream_seq}.{consumer_seq}.0.0")
    }

    #[test]
    fn the_cursor_accepts_the_next_drops_stale_and_sees_gaps() {
        let mut cursor = Cursor::default();
        let subject = info("c_1", 1, 10);
        let first = MessageInfo::parse(&subject).expect("subject");
        assert_eq!(cursor.check("c_1", &first), Check::Next);
        assert_eq!(
            cursor,
            Cursor {
                consumer_seq: 1,
                stream_seq: 10
            }
        );
        let again = MessageInfo::parse(&subject).expect("subject");
        assert_eq!(
            cursor.check("c_1", &again),
            Check::Gap,
            "a repeat is not the next"
        );
        let skip = info("c_1", 3, 12);
        assert_eq!(
            cursor.check("c_1", &MessageInfo::parse(&skip).expect("s")),
            Check::Gap
        );
        let stale = info("c_0", 2, 11);
        assert_eq!(
            cursor.check("c_1", &MessageInfo::parse(&stale).expect("s")),
            Check::Stale
        );
        let next = info("c_1", 2, 15);
        assert_eq!(
            cursor.check("c_1", &MessageInfo::parse(&next).expect("s")),
            Check::Next
        );
        assert_eq!(
            cursor,
            Cursor {
                consumer_seq: 2,
                stream_seq: 15
            }
        );
    }

    #[test]
    fn the_first_consumer_keeps_the_policy_and_a_reset_starts_after_the_last() {
        let config = OrderedConfig {
            filter_subjects: vec!["a.>".into()],
            deliver_policy: DeliverPolicy::ByStartTime,
            opt_start_time: Some(OffsetDateTime::UNIX_EPOCH),
            headers_only: true,
            ..OrderedConfig::default()
        };
        let first = consumer_config(&config, Cursor::default(), "p_1".into());
        assert_eq!(first.name.as_deref(), Some("p_1"));
        assert_eq!(first.durable_name, None);
        assert_eq!(first.ack_policy, AckPolicy::None);
        assert_eq!(first.max_deliver, Some(1));
        assert!(first.mem_storage && first.headers_only);
        assert_eq!(first.num_replicas, Some(1));
        assert_eq!(first.inactive_threshold, Some(DEFAULT_INACTIVE_THRESHOLD));
        assert_eq!(first.deliver_policy, DeliverPolicy::ByStartTime);
        assert_eq!(first.opt_start_time, Some(OffsetDateTime::UNIX_EPOCH));
        assert_eq!(first.filter_subject.as_deref(), Some("a.>"));

        let cursor = Cursor {
            consumer_seq: 7,
            stream_seq: 41,
        };
        let reset = consumer_config(&config, cursor, "p_2".into());
        assert_eq!(reset.deliver_policy, DeliverPolicy::ByStartSequence);
        assert_eq!(reset.opt_start_seq, Some(42));
        assert_eq!(reset.opt_start_time, None, "the start time is cleared");
        assert_eq!(reset.filter_subject.as_deref(), Some("a.>"));
    }

    #[test]
    fn filters_and_last_per_subject() {
        let many = OrderedConfig {
            filter_subjects: vec!["a".into(), "b".into()],
            ..OrderedConfig::default()
        };
        let config = consumer_config(&many, Cursor::default(), "n".into());
        assert_eq!(
            (config.filter_subject, config.filter_subjects.len()),
            (None, 2)
        );
        let last = OrderedConfig {
            deliver_policy: DeliverPolicy::LastPerSubject,
            ..OrderedConfig::default()
        };
        let config = consumer_config(&last, Cursor::default(), "n".into());
        assert_eq!(config.filter_subject.as_deref(), Some(">"));
        let by_seq = OrderedConfig {
            deliver_policy: DeliverPolicy::ByStartSequence,
            opt_start_seq: Some(5),
            ..OrderedConfig::default()
        };
        assert_eq!(
            consumer_config(&by_seq, Cursor::default(), "n".into()).opt_start_seq,
            Some(5)
        );
    }

    #[test]
    fn pull_settings_default_to_a_five_second_heartbeat() {
        let settings = OrderedConfig::default().settings().expect("valid");
        assert_eq!(settings.heartbeat, DEFAULT_ORDERED_HEARTBEAT);
        assert_eq!(settings.max_messages, DEFAULT_MAX_MESSAGES);
        let short = OrderedConfig {
            expires: Some(Duration::from_secs(2)),
            ..OrderedConfig::default()
        };
        assert_eq!(
            short.settings().expect("valid").heartbeat,
            Duration::from_secs(1)
        );
        let bad = OrderedConfig {
            idle_heartbeat: Some(Duration::from_secs(20)),
            ..OrderedConfig::default()
        };
        assert!(bad.settings().is_err());
    }

    #[test]
    fn pulls_by_bytes_when_asked_and_never_by_both() {
        let by_bytes = OrderedConfig {
            max_bytes: Some(4 << 20),
            ..OrderedConfig::default()
        };
        let settings = by_bytes.settings().expect("valid");
        assert!(settings.by_bytes());
        assert_eq!(settings.max_bytes, 4 << 20);
        let both = OrderedConfig {
            max_messages: Some(10),
            ..by_bytes
        };
        assert!(both.settings().is_err());
    }

    #[test]
    fn only_unavailability_is_retried() {
        let api = |code: u16| {
            JetStreamError::from_api(super::super::ApiError {
                code,
                err_code: super::super::ErrorCode::new(10008),
                description: String::new(),
            })
        };
        assert!(retryable(&JetStreamError::new(
            JetStreamErrorKind::TimedOut
        )));
        assert!(retryable(&JetStreamError::new(
            JetStreamErrorKind::NotEnabled
        )));
        assert!(retryable(&api(503)));
        assert!(!retryable(&api(400)));
        assert!(!retryable(&JetStreamError::new(
            JetStreamErrorKind::StreamNotFound
        )));
    }
}
