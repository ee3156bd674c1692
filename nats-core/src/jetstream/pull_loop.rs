//! The engine of a continuous pull: one inbox for all its requests (ADR-37), pull requests
//! topped up by [`Accounting`], status messages handled as ADR-37 and the spec say, and
//! recovery:
//!
//! - two missed heartbeats, or a reconnect (the server may have restarted and forgotten the
//!   requests, or kept them for an inbox whose interest came back): the consumer's info is
//!   read (not found ends the stream), then the loop moves to a **new inbox** and pulls
//!   anew. Requests still open for the old inbox then deliver nowhere (the server drops
//!   requests without interest), so nothing beyond the maximum is ever buffered; what the
//!   old inbox had already received is handed out first, in order;
//! - `409 Leadership Change`: every request is void, pull anew;
//! - `503` on the pull subject: the consumer's info is read; not found ends the stream,
//!   otherwise pulling is retried with a growing delay (a restarting server, an election).
//!
//! While the client is disconnected the heartbeat timer is paused and nothing is sent.
//!
//! An ordered consumer runs the same engine but is told of losses instead
//! ([`Pulled::Lost`]): it resets its consumer rather than recovering in place.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

use super::context::Context;
use super::errors::{ConsumeError, ConsumeErrorKind};
use super::pull::{deleted_error, publish_pull, terminal_error, PullRequest};
use super::pull_stream::{Accounting, Settings};
use super::status::{classify, wire_size, Delivery, Ended, PIN_ID};
use crate::lifecycle::State;
use crate::message::Message;
use crate::subscriber::Subscriber;

/// The first wait before pulling again after a `503` or `409 Exceeded MaxWaiting`.
const RETRY_FIRST: Duration = Duration::from_millis(250);

/// The longest such wait.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// What the engine hands out.
#[derive(Debug)]
pub(crate) enum Pulled {
    /// A message of the stream.
    Message(Message),
    /// Messages may have been lost (reported only when asked to, for ordered consumers).
    Lost(Loss),
}

/// Why messages may have been lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loss {
    Reconnected,
    NoHeartbeat,
    NoResponders,
    ConsumerDeleted,
}

/// What woke the engine.
enum Wake {
    /// A message on an inbox left behind by recovery (`None`: it is drained).
    Old(Option<Message>),
    /// A message on the current inbox (`None`: the client closed).
    Current(Option<Message>),
    /// Two heartbeat intervals without anything.
    HeartbeatMissed,
    /// The connection state changed (`false`: the client is gone).
    State(bool),
    /// Time to pull again after a refusal.
    Retry,
}

/// A continuous pull on one consumer.
pub(crate) struct PullLoop {
    context: Context,
    stream: String,
    consumer: String,
    subject: String,
    settings: Settings,
    inbox: String,
    sub: Subscriber,
    /// Inboxes left behind by recovery, drained first, oldest first.
    olds: VecDeque<Subscriber>,
    pending: Accounting,
    heartbeat_due: Option<Instant>,
    state: watch::Receiver<State>,
    reconnects: u64,
    retry_at: Option<Instant>,
    retry_delay: Duration,
    /// Report losses ([`Pulled::Lost`]) instead of recovering: for ordered consumers.
    report_losses: bool,
    pin_id: Option<String>,
    ended: bool,
}

impl PullLoop {
    /// Subscribes an inbox and sends the first request.
    pub(crate) async fn start(
        context: Context,
        stream: &str,
        consumer: &str,
        settings: Settings,
        report_losses: bool,
    ) -> Result<Self, ConsumeError> {
        let subject = context.api_subject(&format!("CONSUMER.MSG.NEXT.{stream}.{consumer}"));
        let (inbox, sub) = subscribe(&context, &settings).await?;
        let shared = context.client().shared();
        let mut state = shared.lifecycle.watch_state();
        let connected = *state.borrow_and_update() == State::Connected;
        let reconnects = shared.reconnects.load(Ordering::Relaxed);
        let mut pull = PullLoop {
            stream: stream.to_owned(),
            consumer: consumer.to_owned(),
            subject,
            inbox,
            sub,
            olds: VecDeque::new(),
            pending: Accounting::default(),
            // Watched only while connected; the first connection starts it.
            heartbeat_due: connected.then(|| Instant::now() + settings.heartbeat * 2),
            state,
            reconnects,
            retry_at: None,
            retry_delay: RETRY_FIRST,
            report_losses,
            pin_id: None,
            ended: false,
            settings,
            context,
        };
        pull.top_up().await?;
        Ok(pull)
    }

    /// The next message or loss; an error ends the loop (then `None`).
    pub(crate) async fn next(&mut self) -> Option<Result<Pulled, ConsumeError>> {
        while !self.ended {
            if let Err(err) = self.top_up().await {
                return self.fail(err);
            }
            // A message already received is handled at once: waiting on the inbox, the
            // connection state and the timers together costs more than the message itself.
            let queued = if self.olds.is_empty() {
                self.sub.next_queued()
            } else {
                None
            };
            let wake = match queued {
                Some(message) => Wake::Current(Some(message)),
                None => self.wait().await,
            };
            if let Some(out) = self.handle(wake).await {
                if matches!(out, Ok(Pulled::Message(_))) {
                    // Top up now, while the user works on this one; a failure shows on
                    // the next call.
                    if let Err(err) = self.top_up().await {
                        tracing::debug!(error = %err, "pull request not sent");
                    }
                }
                return Some(out);
            }
        }
        None
    }

    /// Sends a request when a total fell below its threshold, unless disconnected or
    /// waiting to retry.
    async fn top_up(&mut self) -> Result<(), ConsumeError> {
        if self.retry_at.is_some()
            || *self.state.borrow() != State::Connected
            || !self.pending.needs_pull(&self.settings)
        {
            return Ok(());
        }
        let (batch, max_bytes) = self.pending.top_up(&self.settings);
        let request = PullRequest {
            batch,
            max_bytes,
            expires: Some(self.settings.expires),
            no_wait: false,
            heartbeat: Some(self.settings.heartbeat),
            group: self.settings.group.clone(),
            min_pending: self.settings.min_pending,
            min_ack_pending: self.settings.min_ack_pending,
            pin_id: self.pin_id.clone(),
            priority: self.settings.priority,
        };
        request.validate()?;
        publish_pull(&self.context, &self.subject, &self.inbox, &request).await?;
        self.pending.requested(batch, max_bytes);
        Ok(())
    }

    async fn wait(&mut self) -> Wake {
        let heartbeat_due = self.heartbeat_due;
        let retry_at = self.retry_at;
        tokio::select! {
            biased;
            message = next_old(&mut self.olds), if !self.olds.is_empty() => Wake::Old(message),
            message = self.sub.next() => Wake::Current(message),
            changed = self.state.changed() => Wake::State(changed.is_ok()),
            () = sleep_until_some(heartbeat_due) => Wake::HeartbeatMissed,
            () = sleep_until_some(retry_at) => Wake::Retry,
        }
    }

    async fn handle(&mut self, wake: Wake) -> Option<Result<Pulled, ConsumeError>> {
        match wake {
            Wake::Old(Some(message)) => self.on_old(message),
            Wake::Old(None) => {
                self.olds.pop_front();
                None
            }
            Wake::Current(Some(message)) => self.on_message(message).await,
            Wake::Current(None) => self.fail(ConsumeErrorKind::Closed.into()),
            Wake::HeartbeatMissed => self.on_heartbeat_missed().await,
            Wake::State(true) => self.on_state().await,
            Wake::State(false) => self.fail(ConsumeErrorKind::Closed.into()),
            Wake::Retry => {
                self.retry_at = None;
                None
            }
        }
    }

    /// A message the previous inbox had received before recovery: user messages are
    /// handed out, terminal statuses still end the loop, the rest only counted off.
    fn on_old(&mut self, message: Message) -> Option<Result<Pulled, ConsumeError>> {
        // Counted into the totals at recovery as the inbox counts them.
        self.pending.delivered(message.length);
        match classify(&message) {
            Delivery::Message => Some(Ok(Pulled::Message(message))),
            delivery => terminal_error(&delivery).and_then(|err| self.fail(err)),
        }
    }

    async fn on_message(&mut self, message: Message) -> Option<Result<Pulled, ConsumeError>> {
        self.heartbeat_due = Some(Instant::now() + self.settings.heartbeat * 2);
        let delivery = classify(&message);
        match delivery {
            Delivery::Message => {
                self.pending.delivered(wire_size(&message));
                self.retry_delay = RETRY_FIRST;
                if let Some(pin) = message.headers.as_ref().and_then(|h| h.get(PIN_ID)) {
                    self.pin_id = Some(pin.to_owned());
                }
                Some(Ok(Pulled::Message(message)))
            }
            Delivery::Heartbeat { .. } | Delivery::FlowControl => None,
            Delivery::Ended { why, pending } => self.on_ended(why, pending),
            Delivery::LeadershipChange => {
                self.pending.void(Accounting::default());
                None
            }
            Delivery::PinMismatch { .. } => {
                self.pin_id = None;
                self.pending.void(Accounting::default());
                None
            }
            Delivery::MaxWaiting => {
                tracing::warn!(consumer = %self.consumer, "pull request refused: exceeded max waiting");
                self.pending.void(Accounting::default());
                self.retry_later();
                None
            }
            Delivery::ConsumerDeleted if self.report_losses => self.lost(Loss::ConsumerDeleted),
            Delivery::NoResponders if self.report_losses => self.lost(Loss::NoResponders),
            Delivery::NoResponders => self.on_no_responders().await,
            Delivery::Unknown { code, description } => {
                tracing::debug!(code, %description, "unknown status on a pull inbox");
                None
            }
            terminal => terminal_error(&terminal).and_then(|err| self.fail(err)),
        }
    }

    fn on_ended(
        &mut self,
        why: Ended,
        pending: Option<super::status::Pending>,
    ) -> Option<Result<Pulled, ConsumeError>> {
        let Some(pending) = pending else {
            // No counts (a 404 the loop never asks for): nothing to take off.
            return None;
        };
        let whole_request = usize::try_from(pending.bytes).ok() == Some(self.settings.max_bytes);
        if why == Ended::MaxBytes && self.settings.by_bytes() && whole_request {
            // A request of the full size could not carry the next message: none ever will.
            return self.fail(ConsumeError::with_source(
                ConsumeErrorKind::MessageTooLarge,
                format!(
                    "the next message is larger than {} bytes",
                    self.settings.max_bytes
                ),
            ));
        }
        self.pending.ended(pending);
        None
    }

    async fn on_no_responders(&mut self) -> Option<Result<Pulled, ConsumeError>> {
        if let Some(err) = deleted_error(&self.context, &self.stream, &self.consumer).await {
            return self.fail(err);
        }
        tracing::debug!(consumer = %self.consumer, "no responders for a pull; retrying");
        self.pending.void(Accounting::default());
        self.retry_later();
        None
    }

    async fn on_heartbeat_missed(&mut self) -> Option<Result<Pulled, ConsumeError>> {
        self.heartbeat_due = None;
        if self.report_losses {
            return self.lost(Loss::NoHeartbeat);
        }
        tracing::debug!(consumer = %self.consumer, "missed heartbeats; pulling anew");
        if let Some(err) = deleted_error(&self.context, &self.stream, &self.consumer).await {
            return self.fail(err);
        }
        self.recover().await
    }

    async fn on_state(&mut self) -> Option<Result<Pulled, ConsumeError>> {
        let state = *self.state.borrow_and_update();
        match state {
            State::Closed => self.fail(ConsumeErrorKind::Closed.into()),
            State::Connected => {
                let reconnects = self
                    .context
                    .client()
                    .shared()
                    .reconnects
                    .load(Ordering::Relaxed);
                if reconnects != self.reconnects {
                    self.reconnects = reconnects;
                    if self.report_losses {
                        return self.lost(Loss::Reconnected);
                    }
                    return self.recover().await;
                }
                if self.heartbeat_due.is_none() {
                    self.heartbeat_due = Some(Instant::now() + self.settings.heartbeat * 2);
                }
                None
            }
            // Paused while disconnected (ADR-37); a drain ends the inbox soon.
            _ => {
                self.heartbeat_due = None;
                None
            }
        }
    }

    /// Moves to a new inbox and pulls anew; the old inbox's messages come first.
    async fn recover(&mut self) -> Option<Result<Pulled, ConsumeError>> {
        let (inbox, sub) = match subscribe(&self.context, &self.settings).await {
            Ok(fresh) => fresh,
            Err(err) => return self.fail(err),
        };
        self.inbox = inbox;
        let mut old = std::mem::replace(&mut self.sub, sub);
        // Nothing more is read into it; what it holds is handed out first.
        let _ = old.unsubscribe();
        self.olds.push_back(old);
        let buffered = self
            .olds
            .iter()
            .fold(Accounting::default(), |sum, sub| Accounting {
                messages: sum.messages + i64::try_from(sub.pending_messages()).unwrap_or(i64::MAX),
                bytes: sum.bytes + i64::try_from(sub.pending_bytes()).unwrap_or(i64::MAX),
            });
        self.pending.void(buffered);
        self.retry_at = None;
        self.heartbeat_due = Some(Instant::now() + self.settings.heartbeat * 2);
        None
    }

    fn retry_later(&mut self) {
        self.retry_at = Some(Instant::now() + self.retry_delay);
        self.retry_delay = (self.retry_delay * 2).min(RETRY_MAX);
    }

    fn lost(&mut self, loss: Loss) -> Option<Result<Pulled, ConsumeError>> {
        self.ended = true;
        Some(Ok(Pulled::Lost(loss)))
    }

    fn fail(&mut self, err: ConsumeError) -> Option<Result<Pulled, ConsumeError>> {
        self.ended = true;
        Some(Err(err))
    }
}

/// A new inbox, subscribed with limits that never drop what the settings may buffer.
async fn subscribe(
    context: &Context,
    settings: &Settings,
) -> Result<(String, Subscriber), ConsumeError> {
    let client = context.client();
    let inbox = client.new_inbox();
    let sub = client
        .subscribe(&inbox)
        .await
        .map_err(|e| ConsumeError::with_source(ConsumeErrorKind::Subscribe, e))?;
    let options = &client.shared().options;
    let messages = options
        .pending_msgs_limit
        .max(settings.max_messages.min(1 << 24).saturating_mul(2));
    let bytes = options
        .pending_bytes_limit
        .max(settings.max_bytes.saturating_mul(2));
    sub.set_pending_limits(messages, bytes);
    Ok((inbox, sub))
}

async fn next_old(olds: &mut VecDeque<Subscriber>) -> Option<Message> {
    match olds.front_mut() {
        Some(sub) => sub.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}
