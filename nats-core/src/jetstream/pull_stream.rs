//! [`Consumer::messages`]: a continuous stream of a pull consumer's messages (ADR-37's
//! `consume()`), and the arithmetic that keeps its pull requests topped up.
//!
//! The stream keeps running totals of what it asked for and has not handed out yet
//! (messages and bytes, [`Accounting`]): each pull request adds its batch and bytes, each
//! message handed out takes one message and its size, each request that ends early takes
//! what it still owed (`Nats-Pending-Messages`, `Nats-Pending-Bytes`). When a total falls
//! below its threshold (half the maximum by default) a request for the difference goes
//! out. So the messages buffered plus those still asked for never exceed the configured
//! maximum: memory stays bounded whatever the consumer holds.
//!
//! What the engine does on heartbeats, reconnects, leader changes and deletion is in
//! [`pull_loop`](super::pull_loop).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures_core::Stream as FuturesStream;

use super::consumer::Consumer;
use super::errors::{ConsumeError, ConsumeErrorKind};
use super::message::Message;
use super::pull::BYTES_ONLY_BATCH;
use super::pull_loop::{PullLoop, Pulled};
use super::status::Pending;

/// How many messages [`Consumer::messages`] keeps asked for and buffered, unless told.
pub const DEFAULT_MAX_MESSAGES: usize = 500;

/// How long each pull request of [`Consumer::messages`] lives, unless told (ADR-37).
pub const DEFAULT_PULL_EXPIRES: Duration = Duration::from_secs(30);

/// The shortest expiry ADR-37 allows.
const MIN_EXPIRES: Duration = Duration::from_secs(1);

/// The default heartbeat is half the expiry, within these bounds (ADR-37).
const MAX_DEFAULT_HEARTBEAT: Duration = Duration::from_secs(30);
const MIN_DEFAULT_HEARTBEAT: Duration = Duration::from_millis(500);

/// How a continuous pull runs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Most messages asked for and buffered ([`BYTES_ONLY_BATCH`] when pulling by bytes).
    pub(crate) max_messages: usize,
    /// Most bytes asked for and buffered; 0 when pulling by messages.
    pub(crate) max_bytes: usize,
    pub(crate) expires: Duration,
    pub(crate) heartbeat: Duration,
    /// Pull again below this many messages (0 when pulling by bytes).
    pub(crate) threshold_messages: usize,
    /// Pull again below this many bytes (when pulling by bytes).
    pub(crate) threshold_bytes: usize,
    pub(crate) group: Option<String>,
    pub(crate) min_pending: Option<i64>,
    pub(crate) min_ack_pending: Option<i64>,
    pub(crate) priority: Option<u8>,
}

impl Settings {
    /// Whether requests are sized by bytes.
    pub(crate) fn by_bytes(&self) -> bool {
        self.max_bytes > 0
    }
}

/// What a continuous pull has asked for and not handed out yet. Signed: the server's
/// pending counts are, and stray statuses must not wrap it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Accounting {
    pub(crate) messages: i64,
    pub(crate) bytes: i64,
}

fn signed(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Accounting {
    /// Whether a total fell below its threshold.
    pub(crate) fn needs_pull(&self, settings: &Settings) -> bool {
        if settings.by_bytes() {
            self.bytes < signed(settings.threshold_bytes)
        } else {
            self.messages < signed(settings.threshold_messages)
        }
    }

    /// The batch and bytes of the request that tops the totals up to the maxima.
    pub(crate) fn top_up(&self, settings: &Settings) -> (usize, usize) {
        let missing = |max: usize, have: i64| {
            let have = usize::try_from(have.max(0)).unwrap_or(usize::MAX);
            max.saturating_sub(have)
        };
        let batch = missing(settings.max_messages, self.messages).max(1);
        let bytes = if settings.by_bytes() {
            missing(settings.max_bytes, self.bytes).max(1)
        } else {
            0
        };
        (batch, bytes)
    }

    /// A request for `batch` messages and `bytes` bytes went out.
    pub(crate) fn requested(&mut self, batch: usize, bytes: usize) {
        self.messages = self.messages.saturating_add(signed(batch));
        self.bytes = self.bytes.saturating_add(signed(bytes));
    }

    /// A message of `size` bytes was handed out.
    pub(crate) fn delivered(&mut self, size: usize) {
        self.messages = (self.messages - 1).max(0);
        self.bytes = (self.bytes.saturating_sub(signed(size))).max(0);
    }

    /// A request ended owing `pending` (negative counts, which `409 Batch Completed` may
    /// carry, owe nothing).
    pub(crate) fn ended(&mut self, pending: Pending) {
        self.messages = (self.messages - pending.messages.max(0)).max(0);
        self.bytes = (self.bytes.saturating_sub(pending.bytes.max(0))).max(0);
    }

    /// Every outstanding request is void (`409 Leadership Change`, a pin mismatch, a
    /// `503`): only what is buffered, `buffered`, is still owed.
    pub(crate) fn void(&mut self, buffered: Accounting) {
        *self = buffered;
    }
}

/// A continuous pull being set up: [`Consumer::messages`], then options, then `.await`.
///
/// Pull by messages ([`max_messages`](Self::max_messages), default 500) or by bytes
/// ([`max_bytes`](Self::max_bytes)), not both; a new request goes out once the totals fall
/// below the thresholds (half the maximum by default).
///
/// ```no_run
/// # async fn demo(consumer: nats_core::jetstream::Consumer) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// let mut messages = consumer
///     .messages()
///     .max_messages(100)
///     .expires(Duration::from_secs(10))
///     .await?;
/// while let Some(message) = messages.try_next().await? {
///     message.ack().await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a continuous pull does nothing until awaited"]
pub struct MessagesBuilder<'a> {
    consumer: &'a Consumer,
    max_messages: Option<usize>,
    max_bytes: Option<usize>,
    expires: Duration,
    heartbeat: Option<Duration>,
    threshold_messages: Option<usize>,
    threshold_bytes: Option<usize>,
    group: Option<String>,
    min_pending: Option<i64>,
    min_ack_pending: Option<i64>,
    priority: Option<u8>,
}

impl<'a> MessagesBuilder<'a> {
    /// Keep at most `n` messages asked for and buffered (default 500).
    pub fn max_messages(mut self, n: usize) -> Self {
        self.max_messages = Some(n);
        self
    }

    /// Keep at most `n` bytes asked for and buffered, instead of a number of messages.
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = Some(n);
        self
    }

    /// How long each pull request lives on the server (default 30 s, at least 1 s).
    pub fn expires(mut self, expires: Duration) -> Self {
        self.expires = expires;
        self
    }

    /// The idle heartbeat asked for (default half the expiry, 0.5 s to 30 s; at most half
    /// the expiry). Two missed in a row make the stream check its consumer and pull anew.
    pub fn idle_heartbeat(mut self, heartbeat: Duration) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// Pull again when fewer than `n` messages are asked for and buffered (default half
    /// of the maximum, rounded up).
    pub fn threshold_messages(mut self, n: usize) -> Self {
        self.threshold_messages = Some(n);
        self
    }

    /// Pull again when fewer than `n` bytes are asked for and buffered (default half).
    pub fn threshold_bytes(mut self, n: usize) -> Self {
        self.threshold_bytes = Some(n);
        self
    }

    /// Pull as a member of priority group `group` (2.11).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// With an overflow priority policy: only while more than `n` messages are pending.
    pub fn min_pending(mut self, n: i64) -> Self {
        self.min_pending = Some(n);
        self
    }

    /// With an overflow priority policy: only while more than `n` await acknowledgement.
    pub fn min_ack_pending(mut self, n: i64) -> Self {
        self.min_ack_pending = Some(n);
        self
    }

    /// With a prioritized policy: the requests' priority, 0 (first) to 9.
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = Some(priority);
        self
    }

    pub(crate) fn settings(&self) -> Result<Settings, ConsumeError> {
        settings(
            self.max_messages,
            self.max_bytes,
            self.expires,
            self.heartbeat,
            (self.threshold_messages, self.threshold_bytes),
        )
        .map(|settings| Settings {
            group: self.group.clone(),
            min_pending: self.min_pending,
            min_ack_pending: self.min_ack_pending,
            priority: self.priority,
            ..settings
        })
    }
}

/// Validates the options of a continuous pull and fills in the defaults.
pub(crate) fn settings(
    max_messages: Option<usize>,
    max_bytes: Option<usize>,
    expires: Duration,
    heartbeat: Option<Duration>,
    (threshold_messages, threshold_bytes): (Option<usize>, Option<usize>),
) -> Result<Settings, ConsumeError> {
    let invalid = |why: &'static str| {
        Err(ConsumeError::with_source(
            ConsumeErrorKind::InvalidOptions,
            why,
        ))
    };
    if max_messages.is_some() && max_bytes.is_some() {
        return invalid("pull by messages or by bytes, not both");
    }
    if expires < MIN_EXPIRES {
        return invalid("the expiry must be at least 1 s");
    }
    let heartbeat = heartbeat
        .unwrap_or_else(|| (expires / 2).clamp(MIN_DEFAULT_HEARTBEAT, MAX_DEFAULT_HEARTBEAT));
    if heartbeat.is_zero() || heartbeat.saturating_mul(2) > expires {
        return invalid("the idle heartbeat must be more than 0 and at most half the expiry");
    }
    let (max_messages, max_bytes) = match (max_messages, max_bytes) {
        (_, Some(0)) | (Some(0), _) => return invalid("a maximum of 0"),
        (_, Some(bytes)) => (BYTES_ONLY_BATCH, bytes),
        (messages, None) => (messages.unwrap_or(DEFAULT_MAX_MESSAGES), 0),
    };
    let half = |n: usize| n.div_ceil(2);
    let (threshold_messages, threshold_bytes) = if max_bytes > 0 {
        (0, threshold_bytes.unwrap_or(half(max_bytes)))
    } else {
        (threshold_messages.unwrap_or(half(max_messages)), 0)
    };
    if threshold_messages > max_messages || threshold_bytes > max_bytes {
        return invalid("a threshold above its maximum");
    }
    Ok(Settings {
        max_messages,
        max_bytes,
        expires,
        heartbeat,
        threshold_messages,
        threshold_bytes,
        group: None,
        min_pending: None,
        min_ack_pending: None,
        priority: None,
    })
}

impl<'a> IntoFuture for MessagesBuilder<'a> {
    type Output = Result<Messages, ConsumeError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    /// Subscribes an inbox and sends the first pull request.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let settings = self.settings()?;
            let consumer = self.consumer;
            let context = consumer.context.clone();
            let pull = PullLoop::start(
                context.clone(),
                consumer.stream_name(),
                consumer.name(),
                settings,
                false,
            )
            .await?;
            // Boxed: `unfold` moves its state into each step's future and back out, and a
            // pointer is cheaper to move than the pull loop, for every message.
            let inner = futures_util::stream::unfold(Box::new(pull), move |mut pull| {
                let context = context.clone();
                async move {
                    loop {
                        match pull.next().await? {
                            Ok(Pulled::Message(message)) => {
                                return Some((Ok(Message::new(context, message)), pull))
                            }
                            // Only ordered consumers are told of losses.
                            Ok(Pulled::Lost(_)) => continue,
                            Err(err) => return Some((Err(err), pull)),
                        }
                    }
                }
            });
            Ok(Messages {
                inner: Box::pin(inner),
            })
        })
    }
}

impl Consumer {
    /// Sets up a continuous pull; see [`MessagesBuilder`] and [`Messages`].
    pub fn messages(&self) -> MessagesBuilder<'_> {
        MessagesBuilder {
            consumer: self,
            max_messages: None,
            max_bytes: None,
            expires: DEFAULT_PULL_EXPIRES,
            heartbeat: None,
            threshold_messages: None,
            threshold_bytes: None,
            group: None,
            min_pending: None,
            min_ack_pending: None,
            priority: None,
        }
    }
}

/// The messages of a pull consumer, pulled continuously.
///
/// The stream survives reconnects, server restarts and leader changes: it pulls anew after
/// a reconnect, after a `409 Leadership Change` and after two missed heartbeats. It ends,
/// with an error as its last item, when the consumer is deleted (`409 Consumer Deleted`, or
/// its info says not found once nobody answers the pull subject), when the consumer
/// refuses the requests (push based, `400`, the `409 Exceeded ...` limits), when a message
/// can never fit `max_bytes`, and when the client closes. Every error ends it. Dropping it
/// unsubscribes; requests still open on the server expire.
pub struct Messages {
    inner: Pin<Box<dyn FuturesStream<Item = Result<Message, ConsumeError>> + Send>>,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages").finish_non_exhaustive()
    }
}

impl Messages {
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

impl FuturesStream for Messages {
    type Item = Result<Message, ConsumeError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_messages(max: usize) -> Settings {
        settings(Some(max), None, DEFAULT_PULL_EXPIRES, None, (None, None)).expect("valid")
    }

    #[test]
    fn defaults_follow_adr_37() {
        let s = settings(None, None, DEFAULT_PULL_EXPIRES, None, (None, None)).expect("valid");
        assert_eq!((s.max_messages, s.max_bytes), (500, 0));
        assert_eq!(s.threshold_messages, 250);
        assert_eq!(s.heartbeat, Duration::from_secs(15), "half the expiry");
        let long = settings(None, None, Duration::from_secs(120), None, (None, None)).expect("ok");
        assert_eq!(long.heartbeat, Duration::from_secs(30), "capped");
        let short = settings(None, None, Duration::from_secs(1), None, (None, None)).expect("ok");
        assert_eq!(short.heartbeat, Duration::from_millis(500));
        let bytes =
            settings(None, Some(1000), DEFAULT_PULL_EXPIRES, None, (None, None)).expect("ok");
        assert_eq!(
            (bytes.max_messages, bytes.max_bytes),
            (BYTES_ONLY_BATCH, 1000)
        );
        assert_eq!((bytes.threshold_messages, bytes.threshold_bytes), (0, 500));
        assert_eq!(by_messages(1).threshold_messages, 1, "rounded up");
        assert_eq!(by_messages(7).threshold_messages, 4);
    }

    #[test]
    fn impossible_options_are_refused() {
        let kind = |r: Result<Settings, ConsumeError>| r.map(|_| ()).map_err(|e| e.kind());
        let invalid = Err(ConsumeErrorKind::InvalidOptions);
        let e = DEFAULT_PULL_EXPIRES;
        assert_eq!(
            kind(settings(Some(1), Some(1), e, None, (None, None))),
            invalid
        );
        assert_eq!(
            kind(settings(Some(0), None, e, None, (None, None))),
            invalid
        );
        assert_eq!(
            kind(settings(None, Some(0), e, None, (None, None))),
            invalid
        );
        let tiny = Duration::from_millis(999);
        assert_eq!(
            kind(settings(None, None, tiny, None, (None, None))),
            invalid
        );
        let hb = Some(Duration::from_secs(16));
        assert_eq!(kind(settings(None, None, e, hb, (None, None))), invalid);
        assert_eq!(
            kind(settings(None, None, e, Some(Duration::ZERO), (None, None))),
            invalid
        );
        assert_eq!(
            kind(settings(Some(10), None, e, None, (Some(11), None))),
            invalid
        );
        assert_eq!(
            kind(settings(None, Some(10), e, None, (None, Some(11)))),
            invalid
        );
        assert_eq!(
            kind(settings(Some(10), None, e, None, (Some(10), None))),
            Ok(())
        );
    }

    #[test]
    fn requests_top_up_below_half_and_never_exceed_the_maximum() {
        let s = by_messages(10);
        let mut a = Accounting::default();
        assert!(a.needs_pull(&s));
        assert_eq!(a.top_up(&s), (10, 0));
        a.requested(10, 0);
        for _ in 0..5 {
            a.delivered(100);
            assert!(!a.needs_pull(&s), "{a:?}");
        }
        a.delivered(100);
        assert!(a.needs_pull(&s), "4 left is below 5");
        assert_eq!(a.top_up(&s), (6, 0), "back to 10, not more");
        a.requested(6, 0);
        assert_eq!(a.messages, 10);
        // The request expired owing 7: 3 remain, below the threshold, so 7 are asked again.
        a.ended(Pending {
            messages: 7,
            bytes: 0,
        });
        assert_eq!(a.messages, 3);
        assert_eq!(a.top_up(&s), (7, 0));
    }

    #[test]
    fn a_maximum_of_one_does_not_get_stuck() {
        let s = by_messages(1);
        let mut a = Accounting::default();
        a.requested(1, 0);
        assert!(!a.needs_pull(&s));
        a.delivered(10);
        assert!(a.needs_pull(&s));
        assert_eq!(a.top_up(&s), (1, 0));
    }

    #[test]
    fn pulling_by_bytes_tracks_bytes() {
        let s = settings(None, Some(1000), DEFAULT_PULL_EXPIRES, None, (None, None)).expect("ok");
        let mut a = Accounting::default();
        assert_eq!(a.top_up(&s), (BYTES_ONLY_BATCH, 1000));
        a.requested(BYTES_ONLY_BATCH, 1000);
        a.delivered(400);
        assert!(!a.needs_pull(&s));
        a.delivered(200);
        assert!(a.needs_pull(&s), "400 bytes left is below 500");
        assert_eq!(a.top_up(&s), (2, 600));
        // Batch Completed with -1 messages owes nothing; its bytes are taken off.
        a.ended(Pending {
            messages: -1,
            bytes: 300,
        });
        assert_eq!((a.messages, a.bytes), (BYTES_ONLY_BATCH as i64 - 2, 100));
    }

    #[test]
    fn stray_statuses_never_make_totals_negative() {
        let s = by_messages(4);
        let mut a = Accounting::default();
        a.ended(Pending {
            messages: 50,
            bytes: 50,
        });
        a.delivered(10);
        assert_eq!(a, Accounting::default());
        assert_eq!(a.top_up(&s), (4, 0));
        a.requested(4, 0);
        a.void(Accounting {
            messages: 1,
            bytes: 0,
        });
        assert_eq!(
            a.top_up(&s),
            (3, 0),
            "only the buffered message still counts"
        );
    }
}
